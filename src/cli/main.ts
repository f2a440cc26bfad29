import path from 'node:path'
import {runStart} from './start'

const USAGE = `Usage: proofgap <command> [options]

Commands:
  start        run the whole stack (PostgreSQL, processor, prober, GraphQL API); devnet by default
  processor    run the chain processor alone (environment: NETWORK, RPC_URL, DB_*)
  prober       run one prober worker alone (environment: NETWORK, DB_*, PROBER_PRIVATE_KEY)
  api          run the GraphQL API alone (environment: DB_*, GQL_PORT, GQL_HOST)
  scorecard    print operator scorecards for an ISO week or a time range
  evidence     build or verify a dispute evidence bundle
  gaps         list the gap between claims and proofs
  version      print the version

Run "proofgap <command> --help" (or "proofgap help <command>") for the options of a command.
`

type CommandModule = {run(argv: string[]): Promise<number>}

/** Commands contributed by their own modules; a missing module is reported, not a crash. */
function loadCommand(name: string): CommandModule | undefined {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(`./commands/${name}`) as CommandModule
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined
        throw err
    }
}

/** Usage texts of the services that take their settings from the environment only. */
const SERVICE_USAGE: Record<string, string> = {
    processor: 'usage: proofgap processor\n\nIndexes the chain into PostgreSQL. It takes no arguments: set NETWORK, RPC_URL and DB_URL (or DB_*), and the\nother settings in the README\'s Configuration table, in the environment.\n',
    prober: 'usage: proofgap prober\n\nRuns one prober worker. It takes no arguments: set NETWORK, DB_URL (or DB_*) and PROBER_PRIVATE_KEY (or\nPROBER_DEV_MODE=1), and the other settings in the README\'s Configuration table, in the environment.\n',
}

/** Checks the arguments of `processor` and `prober`: returns an exit code for help or an invalid argument, else undefined. */
function serviceArguments(command: string, args: string[]): number | undefined {
    if (args.length === 0) return undefined
    if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
        process.stdout.write(SERVICE_USAGE[command])
        return 0
    }
    process.stderr.write(`proofgap ${command}: unexpected argument ${JSON.stringify(args[0])}\n\n${SERVICE_USAGE[command]}`)
    return 2
}

/** Returns the version in the package.json next to lib/, or `unknown` for a build copied without it. */
function packageVersion(): string {
    try {
        return (require(path.join(__dirname, '..', '..', 'package.json')) as {version: string}).version
    } catch {
        return 'unknown (no package.json next to lib/)'
    }
}

async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv
    switch (command) {
        case 'start':
            return runStart(rest)
        case 'processor': {
            const exitCode = serviceArguments(command, rest)
            if (exitCode !== undefined) return exitCode
            require('../main')
            return new Promise<number>(() => undefined)
        }
        case 'prober': {
            const exitCode = serviceArguments(command, rest)
            if (exitCode !== undefined) return exitCode
            // The prober module starts itself only as a main module, so run it as one.
            const {spawnSync} = await import('node:child_process')
            return spawnSync(process.execPath, [require.resolve('./prober'), ...rest], {stdio: 'inherit'}).status ?? 1
        }
        case 'api': {
            // The same command as npm start and npm run api, so the preload (GQL_HOST, Apollo settings) and limits apply.
            const {spawnSync} = await import('node:child_process')
            const {graphqlServerCommand} = await import('../stack/children')
            const api = graphqlServerCommand(path.join(__dirname, '..'))
            return spawnSync(api.command, [...api.args, ...rest], {stdio: 'inherit'}).status ?? 1
        }
        case 'help':
            // `proofgap help gaps` is `proofgap gaps --help`.
            if (rest.length > 0) return main([rest[0], '--help'])
            process.stdout.write(USAGE)
            return 0
        case '--version':
        case '-V':
        case 'version':
            process.stdout.write(`proofgap ${packageVersion()}\n`)
            return 0
        case undefined:
        case '--help':
        case '-h':
            process.stdout.write(USAGE)
            return command === undefined ? 2 : 0
        default: {
            const module = loadCommand(command)
            if (!module) {
                process.stderr.write(`proofgap: unknown command "${command}"\n\n${USAGE}`)
                return 2
            }
            return module.run(rest)
        }
    }
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
        process.stderr.write(`proofgap: ${err instanceof Error ? err.message : String(err)}\n`)
        process.exit(1)
    },
)
