import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {freePort} from '../src/db/embedded'
import {PROJECT_ROOT, runToEnd, type RunResult} from '../src/stack/children'

const SECRET = 'TOPSECRETKEY'

const tempDirs: string[] = []

afterAll(() => {
    for (const dir of tempDirs) rmSync(dir, {recursive: true, force: true})
})

async function start(args: string[], env: Record<string, string>) {
    const tempDir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-start-err-'))
    tempDirs.push(tempDir)
    const dataDir = path.join(tempDir, 'pg')
    const pgPort = await freePort()
    const gqlPort = await freePort()
    return runToEnd(
        process.execPath,
        [path.join(PROJECT_ROOT, 'lib', 'cli', 'main.js'), 'start', '--gql-port', String(gqlPort), '--pg-port', String(pgPort), '--data-dir', dataDir, ...args],
        {RPC_URL: '', START_BLOCK: '', DB_URL: '', DB_HOST: '', ...env},
        90_000,
    )
}

describe('npm start configuration errors', () => {
    it('missing RPC_URL named before anything starts', async () => {
        const result = await start(['--network', 'base-sepolia'], {START_BLOCK: '100'})
        expect(result.code).toBe(1)
        expect(result.stderr).toContain('RPC_URL: missing; set RPC_URL')
        expect(result.stderr).not.toContain('starting embedded PostgreSQL')
    })

    it('unreachable RPC named without its secret', async () => {
        const closedPort = await freePort()
        const result = await start(['--network', 'base-sepolia'], {
            RPC_URL: `http://user:pw-${SECRET}@127.0.0.1:${closedPort}/v1?apikey=${SECRET}`,
            START_BLOCK: '100',
            PROBER_DEV_MODE: '1',
        })
        expect(result.code).toBe(1)
        expect(result.stderr).toContain('RPC_URL: eth_blockNumber failed')
        // The node is checked before any service starts.
        expect(result.stderr).not.toContain('[processor]')
        expect(result.stderr + result.stdout).not.toContain(SECRET)
    }, 120_000)

    it('missing prober key named before anything starts', async () => {
        const result = await start(['--network', 'tempo'], {RPC_URL: 'http://127.0.0.1:9/', PROBER_PRIVATE_KEY: '', PROBER_DEV_MODE: ''})
        expect(result.code).toBe(1)
        expect(result.stderr).toContain('PROBER_PRIVATE_KEY: missing')
        expect(result.stderr).not.toContain('starting embedded PostgreSQL')
    })

    it('bad GraphQL address named before anything starts', async () => {
        const flag = await start(['--gql-host', 'api.example.org'], {})
        expect(flag.code).toBe(2)
        expect(flag.stderr).toContain(
            'proofgap start: --gql-host: expected an IPv4 or IPv6 address (such as 127.0.0.1, 0.0.0.0 or ::) or localhost, received "api.example.org"',
        )
        const variable = await start([], {GQL_HOST: '127.0.0.1:4350'})
        expect(variable.code).toBe(2)
        expect(variable.stderr).toContain('proofgap start: GQL_HOST: expected an IPv4 or IPv6 address')
        expect(variable.stderr).toContain('received "127.0.0.1:4350"')
        for (const result of [flag, variable]) expect(result.stderr).not.toContain('PostgreSQL')
    })

    it('bad devnet PROBE_ALLOW named before anything starts', async () => {
        const result = await start(['--network', 'devnet'], {PROBE_ALLOW: 'loopback,10.0.0.0/33'})
        expect(result.code).toBe(1)
        expect(result.stderr).toContain('PROBE_ALLOW: invalid entry "10.0.0.0/33"')
        expect(result.stderr).not.toContain('starting embedded PostgreSQL')
    })

    it('unknown network names the presets', async () => {
        const result = await start(['--network', 'mainnet-x'], {})
        expect(result.code).toBe(1)
        expect(result.stderr).toContain('unknown network "mainnet-x"; use one of devnet')
    })

    it.each([
        {service: 'processor', env: {PROCESSOR_TO_BLOCK: 'abc'}, message: 'PROCESSOR_TO_BLOCK: expected a block number'},
        {service: 'api', env: {SCORECARD_CACHE_MAX_MB: 'abc'}, message: 'SCORECARD_CACHE_MAX_MB: expected a whole number of megabytes'},
    ])('$service rejecting a setting stops the stack', async ({service, env, message}) => {
        const result = await start(['--network', 'devnet'], env)
        const output = result.stdout + result.stderr
        expect(output).toContain(message)
        expect(output).toContain(`${service} cannot go on`)
        // A rejected setting fails the same way on every start, so the service is not restarted.
        expect(output).not.toContain('restarting in')
        expect(output).not.toContain('Unhandled')
        expect(output).toContain('proofgap: stopped')
        expect(result.code).toBe(1)
    }, 120_000)

    /** Runs the compiled processor alone on the devnet preset, its RPC_URL on a closed port, with `env` added. */
    async function runProcessorAlone(env: (closedPort: number) => Record<string, string>): Promise<RunResult> {
        const closedPort = await freePort()
        return runToEnd(
            process.execPath,
            [path.join(PROJECT_ROOT, 'lib', 'main.js')],
            {NETWORK: 'devnet', RPC_URL: `http://127.0.0.1:${closedPort}/`, ...env(closedPort)},
            30_000,
        )
    }

    it.each(['12abc', '-1', '1.5', '1e3', '0x10'])('processor rejects PROCESSOR_TO_BLOCK=%s before it connects', async (value) => {
        const result = await runProcessorAlone(() => ({PROCESSOR_TO_BLOCK: value}))
        expect(result.code).toBe(2)
        // Piped output is one JSON log record per line.
        const messages = (result.stderr + result.stdout)
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => (JSON.parse(line) as {msg?: string}).msg)
        expect(messages).toContain(`PROCESSOR_TO_BLOCK: expected a block number (an integer >= 0), received "${value}"`)
    })

    it('processor rejects a bad PROMETHEUS_HOST', async () => {
        const result = await runProcessorAlone(() => ({PROMETHEUS_HOST: 'metrics.example.org'}))
        expect(result.code).toBe(2)
        const messages = (result.stderr + result.stdout)
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => (JSON.parse(line) as {msg?: string}).msg)
        expect(messages).toContain(
            'PROMETHEUS_HOST: expected an IPv4 or IPv6 address (such as 127.0.0.1, 0.0.0.0 or ::) or localhost, received "metrics.example.org"',
        )
        // Blank is not the same as unset, as for GQL_HOST.
        const blank = await runProcessorAlone(() => ({PROMETHEUS_HOST: '  '}))
        expect(blank.code).toBe(2)
        expect(blank.stderr + blank.stdout).toContain('PROMETHEUS_HOST: empty; give an IP address such as 127.0.0.1 or 0.0.0.0')
    })

    it('processor alone names missing database settings', async () => {
        // Empty counts as unset, whatever the shell running the tests has.
        const result = await runProcessorAlone((closedPort) => ({DB_URL: '', DB_HOST: '', DB_NAME: '', DB_USER: '', DB_PORT: String(closedPort)}))
        expect(result.code).toBe(2)
        const output = result.stderr + result.stdout
        expect(output).toContain('database settings are missing: set DB_URL, or set DB_HOST, DB_NAME, DB_USER (and DB_PASS)')
        // One log record, not an unhandled rejection with a stack.
        expect(output).not.toContain('    at ')
    })

    it.each([
        {name: 'not a URL', value: 'not a url'},
        {name: 'a MySQL URL with a password', value: 'mysql://reader:s3cret-pass@127.0.0.1:3306/db'},
    ])('processor rejects DB_URL: $name', async ({value}) => {
        const result = await runProcessorAlone(() => ({DB_URL: value}))
        expect(result.code).toBe(2)
        const output = result.stderr + result.stdout
        expect(output).toContain('DB_URL is invalid: expected postgres://user:password@host:port/database')
        expect(output).not.toContain('s3cret-pass')
        expect(output).not.toContain('    at ')
    })
})
