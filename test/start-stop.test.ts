import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {freePort} from '../src/db/embedded'
import {DEFAULT_GAP_CONFIG} from '../src/gap/config'
import {buildEvidenceBundle, EVIDENCE_SETTLE_SECONDS, serializeBundle} from '../src/gap/evidence'
import {pgRunner} from '../src/gap/sql'
import {verifyBundleText} from '../src/gap/verify'
import {PROJECT_ROOT} from '../src/stack/children'
import {listeningAddresses} from './helpers/listening'
import {descendants, isAlive, killTree} from './helpers/processes'

const READY_TIMEOUT_MS = 150_000

let child: ChildProcess
let stdout = ''
let stderr = ''
let gqlPort: number
let pgPort: number
let proberMetricsPort: number
let dataDir: string

/** Process lines whose command line mentions `needle`. */
function processesMentioning(needle: string): string[] {
    const out = execFileSync('ps', ['-eo', 'pid,args'], {encoding: 'utf8'})
    return out
        .split('\n')
        .filter((line) => line.includes(needle) && !line.includes('ps -eo'))
        .map((line) => line.trim())
}

/** Extract the example queries the ready message printed (the line after each `#` title). */
function printedQueries(): string[] {
    const lines = stdout.split('\n')
    const queries: string[] = []
    lines.forEach((line, index) => {
        if (line.trim().startsWith('# ') && lines[index + 1]?.trim().startsWith('{')) queries.push(lines[index + 1].trim())
    })
    return queries
}

async function graphql(query: string): Promise<any> {
    return post({query})
}

async function post(body: object): Promise<any> {
    const response = await fetch(`http://127.0.0.1:${gqlPort}/graphql`, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify(body),
    })
    return response.json()
}

beforeAll(async () => {
    gqlPort = await freePort()
    pgPort = await freePort()
    proberMetricsPort = await freePort()
    dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'proofgap-start-')), 'pg')
    child = spawn(
        process.execPath,
        [path.join(PROJECT_ROOT, 'lib', 'cli', 'main.js'), 'start', '--gql-port', String(gqlPort), '--pg-port', String(pgPort), '--data-dir', dataDir],
        // GQL_HOST empty, so the stack uses its default address even when the environment of the test run sets one.
        // Its own process group, so the Ctrl-C test can signal the group as a terminal does.
        // The prober serves metrics too, so that their address is checked.
        {
            cwd: PROJECT_ROOT,
            env: {...process.env, GQL_HOST: '', PROMETHEUS_HOST: '', PROBER_METRICS_HOST: '', PROBER_METRICS_PORT: String(proberMetricsPort)},
            stdio: ['ignore', 'pipe', 'pipe'],
            detached: true,
        },
    )
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-100_000)))
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (!stdout.includes('proofgap is ready') && child.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250))
    }
}, READY_TIMEOUT_MS + 10_000)

afterAll(async () => {
    if (child && child.exitCode === null) killTree(child.pid!)
    if (dataDir) rmSync(path.dirname(dataDir), {recursive: true, force: true})
})

describe('npm start on the devnet', () => {
    it('reaches ready and prints GraphiQL', () => {
        expect(stdout, stderr.slice(-3000)).toContain('proofgap is ready')
        expect(stdout).toContain(`http://127.0.0.1:${gqlPort}/graphql`)
    })

    it('API answers introspection, hides internals', async () => {
        const schema = await graphql('{ __schema { queryType { name } } }')
        expect(schema).toEqual({data: {__schema: {queryType: {name: 'Query'}}}})
        const failed = await graphql('{ gaps(status: "NOT_A_STATUS") { totalCount } }')
        expect(failed.errors?.length, JSON.stringify(failed)).toBeGreaterThan(0)
        expect(JSON.stringify(failed)).not.toMatch(/stacktrace|node_modules|\.js:\d+/)
        // A query that PostgreSQL rejects: its message reaches the client, the SQL text and the driver's details do not.
        const rejected = await graphql('{ heartbeats(limit: -1) { id } }')
        expect(rejected.errors?.[0], JSON.stringify(rejected)).toMatchObject({
            message: 'limit must not be negative',
            extensions: {code: 'BAD_USER_INPUT'},
        })
        expect(JSON.stringify(rejected)).not.toMatch(/SELECT|node_modules|\.js:\d+/)
    })

    it('API answers a malformed body briefly', async () => {
        const response = await fetch(`http://127.0.0.1:${gqlPort}/graphql`, {
            method: 'POST',
            headers: {'content-type': 'application/json'},
            body: '{"query": ',
        })
        expect(response.status).toBe(400)
        const text = await response.text()
        expect(text).toContain('Bad Request')
        expect(text).not.toMatch(/SyntaxError|node_modules|\.js:\d+/)
        // A client's mistake leaves no stack trace in the API's log.
        await new Promise((resolve) => setTimeout(resolve, 500))
        expect(stderr).not.toMatch(/SyntaxError|entity\.parse\.failed/)
    })

    it('API keeps no persisted queries', async () => {
        // A client that registers queries by hash could otherwise fill the server's memory: that cache has no bound.
        const registered = await post({extensions: {persistedQuery: {version: 1, sha256Hash: 'ab'.repeat(32)}}})
        expect(registered.errors?.[0]?.extensions?.code, JSON.stringify(registered)).toBe('PERSISTED_QUERY_NOT_SUPPORTED')
        expect(stderr).not.toContain('Persisted queries are enabled')
    })

    it('GraphQL, metrics and PostgreSQL listen on loopback only', () => {
        expect(listeningAddresses(gqlPort)).toEqual(['127.0.0.1'])
        expect(stderr).toContain(`GraphQL server listening on 127.0.0.1:${gqlPort}`)
        const metrics = /prometheus metrics are served at port (\d+)/.exec(stderr)
        expect(metrics, 'the processor names its metrics port').not.toBeNull()
        expect(listeningAddresses(Number(metrics![1]))).toEqual(['127.0.0.1'])
        expect(listeningAddresses(proberMetricsPort)).toEqual(['127.0.0.1'])
        const database = listeningAddresses(pgPort)
        expect(database.length).toBeGreaterThan(0)
        for (const address of database) expect(['127.0.0.1', '::1']).toContain(address)
    })

    it('example operator query returns data', async () => {
        const result = await graphql('{ operators(limit: 5, orderBy: id_ASC) { id stake registrations { blueprint { id product } status rpcAddress } } }')
        expect(result.errors).toBeUndefined()
        expect(result.data.operators.length).toBe(5)
        expect(result.data.operators.some((o: any) => o.registrations.length > 0)).toBe(true)
    })

    it('example service query returns data', async () => {
        const result = await graphql('{ services(orderBy: id_ASC) { id blueprint { id product } status memberships { operator { id } active } } }')
        expect(result.errors).toBeUndefined()
        expect(result.data.services.length).toBeGreaterThan(0)
        expect(result.data.services[0].blueprint.product).toBe('sandbox-cloud')
    })

    it('printed gap query returns rows', async () => {
        const query = printedQueries()[0]
        expect(query).toContain('gaps(')
        const result = await graphql(query)
        expect(result.errors).toBeUndefined()
        expect(result.data.gaps.totalCount).toBeGreaterThan(0)
        expect(result.data.gaps.gaps.every((row: any) => row.status === 'CONTRADICTED')).toBe(true)
    })

    it('printed scorecard query returns cards', async () => {
        const query = printedQueries()[1]
        expect(query).toContain('scorecard(')
        const result = await graphql(query)
        expect(result.errors).toBeUndefined()
        expect(result.data.scorecard.length).toBeGreaterThan(0)
        expect(result.data.scorecard.some((card: any) => card.heartbeatUptime !== null)).toBe(true)
    })

    it('printed evidence period holds proofs', async () => {
        const query = printedQueries()[2]
        expect(query).toContain('evidenceBundle(')
        const [, operator, from, to] = /operator: "(0x[0-9a-f]{40})", from: "([^"]+)", to: "([^"]+)"/.exec(query) ?? []
        const acceptedAt = new Date(Date.parse(to as string) + EVIDENCE_SETTLE_SECONDS * 1000)
        expect(stdout).toContain(`the evidence example is accepted from ${acceptedAt.toISOString()} on`)
        // The period ends after the first probe round, so it is still too recent for a bundle.
        const early = await graphql(query)
        expect(early.errors?.[0]?.message).toMatch(/is too recent: a bundle covers a period that ended at least 10 minutes ago/)

        const build = stdout.split('\n').find((line) => line.includes('npx proofgap evidence --service 0'))
        expect(build).toContain(`--operator ${operator} --from ${from} --to ${to} --out evidence.json`)
        const verify = stdout.split('\n').find((line) => line.includes('npx proofgap evidence verify'))
        const signer = /--prober (0x[0-9a-f]{40})$/.exec(verify ?? '')?.[1]
        expect(signer, verify).toBeDefined()

        // Built as if at acceptedAt, the bundle contains the first round's proof records, signed by the printed address.
        const dbUrl = /DB_URL=(\S+)/.exec(build as string)?.[1] as string
        const pool = new pg.Pool({connectionString: dbUrl, max: 2})
        vi.useFakeTimers({toFake: ['Date']})
        vi.setSystemTime(acceptedAt)
        try {
            const bundle = await buildEvidenceBundle(
                pgRunner(pool),
                {serviceId: '0', operator: operator as string, from: new Date(from as string), to: new Date(to as string)},
                DEFAULT_GAP_CONFIG,
            )
            const proofs = bundle.records.filter((entry) => entry.record.type === 'proof')
            expect(proofs.length).toBeGreaterThan(0)
            const result = await verifyBundleText(serializeBundle(bundle), {trustedSigners: [signer as string]})
            expect(result.problems).toEqual([])
            expect(result.signers).toEqual([{address: signer, records: proofs.length}])
        } finally {
            vi.useRealTimers()
            await pool.end()
        }
    })

    it('printed CLI line reads the stack', () => {
        const line = stdout.split('\n').find((l) => l.includes('npx proofgap gaps'))
        expect(line).toBeDefined()
        const dbUrl = /DB_URL=(\S+)/.exec(line!)![1]
        const output = execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'lib', 'cli', 'main.js'), 'gaps', '--status', 'CONTRADICTED'], {
            cwd: PROJECT_ROOT,
            env: {...process.env, DB_URL: dbUrl},
            encoding: 'utf8',
        })
        expect(output).toContain('CONTRADICTED')
    })

    it('killed processor is restarted', async () => {
        const processorPid = () =>
            descendants(child.pid!).find((pid) => {
                try {
                    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], {encoding: 'utf8'}).includes(path.join('lib', 'main.js'))
                } catch {
                    return false
                }
            })
        const before = processorPid()
        expect(before).toBeDefined()
        process.kill(before!, 'SIGKILL')
        const deadline = Date.now() + 20_000
        let after: number | undefined
        while (Date.now() < deadline) {
            after = processorPid()
            if (after !== undefined && after !== before) break
            await new Promise((resolve) => setTimeout(resolve, 250))
        }
        expect(after).toBeDefined()
        expect(after).not.toBe(before)
        expect(stderr).toMatch(/processor exited \(SIGKILL\); restarting in 1 s/)
    }, 30_000)

    it('Ctrl-C leaves no process behind', async () => {
        const started = descendants(child.pid!)
        // PostgreSQL, anvil, the processor, the prober and the API at least.
        expect(started.length).toBeGreaterThanOrEqual(5)
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
        // As Ctrl-C in a terminal: the signal reaches the whole group, the embedded PostgreSQL included.
        process.kill(-child.pid!, 'SIGINT')
        const code = await exited
        expect(code, stderr.slice(-3000)).toBe(0)
        const shutdown = stderr.slice(stderr.lastIndexOf('proofgap: stopping…'))
        expect(shutdown).toContain('proofgap: stopped')
        // A service that loses PostgreSQL while the stack stops logs it as information, not as an error.
        expect(shutdown).not.toMatch(/"level":[45]/)
        expect(shutdown).not.toMatch(/Node\.js v\d+|\n\s+at /)
        // The embedded PostgreSQL runs with its data folder on the command line; anvil and the services are children
        // of the start process: none may outlive it.
        expect(processesMentioning(dataDir)).toEqual([])
        expect(started.filter(isAlive)).toEqual([])
    }, 60_000)
})
