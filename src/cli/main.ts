import {runStart} from './start'

const USAGE = `Usage: proofgap <command> [options]

Commands:
  start        run the whole stack (PostgreSQL, processor, prober, GraphQL API); devnet by default
  processor    run the chain processor alone (environment: NETWORK, RPC_URL, DB_*)
  prober       run one prober worker alone (environment: NETWORK, DB_*, PROBER_PRIVATE_KEY)
  api          run the GraphQL API alone (environment: DB_*, GQL_PORT)
  scorecard    print operator scorecards for an ISO week or a time range
  evidence     build or verify a dispute evidence bundle
  gaps         list the gap between claims and proofs

Run "proofgap <command> --help" for the options of a command.
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

async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv
    switch (command) {
        case 'start':
            return runStart(rest)
        case 'processor':
            require('../main')
            return new Promise<number>(() => undefined)
        case 'prober': {
            // The prober module starts itself only as a main module, so run it as one.
            const {spawnSync} = await import('node:child_process')
            return spawnSync(process.execPath, [require.resolve('./prober'), ...rest], {stdio: 'inherit'}).status ?? 1
        }
        case 'api': {
            const {spawnSync} = await import('node:child_process')
            const {binPath} = await import('../stack/children')
            return spawnSync(binPath('squid-graphql-server'), rest, {stdio: 'inherit'}).status ?? 1
        }
        case undefined:
        case '--help':
        case '-h':
        case 'help':
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
