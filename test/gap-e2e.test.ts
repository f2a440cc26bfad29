import {spawn, type ChildProcess} from 'node:child_process'
import {copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {createPublicClient, http} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {operatorProduct} from '../src/cli/demo'
import {runProber, type RunningProber} from '../src/cli/prober'
import {loadNetworkConfig} from '../src/config/load'
import {freePort} from '../src/db/embedded'
import {OPERATORS} from '../src/devnet/actors'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {startOperatorFleet, type OperatorBehaviour, type OperatorFleet} from '../src/devnet/operators'
import {buildScenario, runScenario, type Scenario} from '../src/devnet/scenario'
import {DEFAULT_PROBER_SETTINGS} from '../src/proofs/worker'
import {binPath, graphqlServerCommand, PROJECT_ROOT, runToEnd, stopChild} from '../src/stack/children'
import {runProcessorTo, startTestDatabase} from './helpers/stack'

// Timing: the prober observes "now", and a heartbeat only makes an operator live for interval × maxMissed (180 s in
// service 0) after it. The scenario is therefore played with its genesis moved so that its last service-0 heartbeat
// lands HEARTBEAT_LEAD_S after the test starts, and the gaps are queried at that heartbeat + 60 s: every proof of the
// test is observed before that instant, and operator 0's last healthy heartbeat is still live at it.
const HEARTBEAT_LEAD_S = 600
const QUERY_AFTER_LAST_HEARTBEAT_MS = 60_000
/** Probe requests time out after this; a probe in flight when a behaviour switches is observed within it. */
const PROBE_TIMEOUT_MS = 2_000
const ROUND_INTERVAL_MS = 10_000
const WAIT_MS = 60_000

const CONTRADICTED = 0
/**
 * Operator 4 runs a sandbox-instance service that is active at the query instant: no token of its service is on
 * chain, the service does not require a TEE, and it deprovisioned its sidecar, so every kind it must prove can pass.
 */
const GOOD = 4
const STALE = 2
/** Operator 5 publishes a TEE sidecar in service 2; the chain stores an attestation hash but never its JSON. */
const TEE_SIDECAR = 5
/** Operator 6 is registered for the trading-cloud blueprint 4, whose advertised address gets the private-port check. */
const TRADING = 6
/** Operator 9 advertises an empty rpcAddress here, so the prober derives no target for it. */
const NEVER_PROBED = 9

const BEHAVIOURS: Record<number, OperatorBehaviour> = {[CONTRADICTED]: 'down', [GOOD]: 'healthy', [STALE]: 'healthy'}
const address = (index: number): string => (OPERATORS[index] as string).toLowerCase()

let anvil: AnvilInstance
let fleet: OperatorFleet
let db: Awaited<ReturnType<typeof startTestDatabase>>
let prober: RunningProber | undefined
let server: ChildProcess | undefined
let serverLog = ''
let apiDir: string
let endpoint: string
let at: Date

/** Seconds from genesis to the last block with a HeartbeatReceived of `operator` in service 0. */
function lastHeartbeatOffsetS(scenario: Scenario, operator: string): number {
    let time = 0
    let last = -1
    for (const step of scenario.steps) {
        time += step.advanceSeconds
        const beats = step.entries.some(
            (entry) => entry.kind === 'event' && entry.event === 'HeartbeatReceived' && entry.args.serviceId === 0n && entry.args.operator === operator,
        )
        if (beats) last = time
    }
    if (last < 0) throw new Error(`scenario has no service-0 heartbeat of ${operator}`)
    return last
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT_MS
    while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)
        await new Promise((resolve) => setTimeout(resolve, 300))
    }
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
    return Number((await db.client.query(sql, params)).rows[0].n)
}

async function compileApi(): Promise<void> {
    // The server loads <cwd>/lib/server-extension/resolvers; a private build leaves the shared lib/ alone.
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(apiDir, 'node_modules'), 'dir')
    copyFileSync(path.join(PROJECT_ROOT, 'schema.graphql'), path.join(apiDir, 'schema.graphql'))
    await runToEnd(binPath('tsc'), ['-p', 'tsconfig.json', '--outDir', path.join(apiDir, 'lib')], {}, 150_000)
    if (!existsSync(path.join(apiDir, 'lib/server-extension/resolvers/index.js'))) throw new Error('tsc emitted no resolvers')
}

async function startApi(freshnessSeconds: number): Promise<void> {
    const port = await freePort()
    endpoint = `http://127.0.0.1:${port}/graphql`
    const graphql = graphqlServerCommand(path.join(apiDir, 'lib'))
    server = spawn(graphql.command, graphql.args, {
        cwd: apiDir,
        env: {
            ...process.env,
            ...db.env,
            GQL_PORT: String(port),
            GQL_HOST: '127.0.0.1',
            PROOFGAP_PROOF_FRESHNESS_SECONDS: String(freshnessSeconds),
            // The query instant lies up to HEARTBEAT_LEAD_S + 60 s ahead of the clock (see Timing above).
            PROOFGAP_FUTURE_TOLERANCE_SECONDS: String(HEARTBEAT_LEAD_S + 120),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
    })
    const keep = (chunk: Buffer) => (serverLog = (serverLog + chunk.toString()).slice(-5000))
    server.stdout?.on('data', keep)
    server.stderr?.on('data', keep)
    await until('the GraphQL server', async () => {
        if (server?.exitCode !== null) throw new Error(`graphql server exited:\n${serverLog}`)
        return fetch(endpoint, {method: 'POST', headers: {'content-type': 'application/json'}, body: '{"query":"{ __typename }"}'})
            .then((response) => response.ok)
            .catch(() => false)
    })
}

beforeAll(async () => {
    apiDir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-e2e-api-'))
    const compiled = compileApi()

    const startS = Math.floor(Date.now() / 1000)
    const offsetS = lastHeartbeatOffsetS(buildScenario(), OPERATORS[CONTRADICTED] as string)
    const genesisTimestamp = startS + HEARTBEAT_LEAD_S - offsetS
    at = new Date((genesisTimestamp + offsetS) * 1000 + QUERY_AFTER_LAST_HEARTBEAT_MS)

    fleet = await startOperatorFleet(
        OPERATORS.map((_, index) => ({product: operatorProduct(index), behaviour: BEHAVIOURS[index] ?? 'healthy', name: `operator-${index}`})),
    )
    const urls = fleet.operators.map((operator) => operator.url)
    const scenario = buildScenario({
        genesisTimestamp,
        operatorUrls: (index) => (index === NEVER_PROBED ? '' : (urls[index] ?? (urls[1] as string))),
        sidecarUrls: (index) => fleet.operators[index]?.sidecarUrl ?? (urls[0] as string),
    })
    anvil = await startAnvil({genesisTimestamp})
    await runScenario(anvil.rpcUrl, scenario)
    db = await startTestDatabase()
    const head = Number(await createPublicClient({transport: http(anvil.rpcUrl)}).getBlockNumber())
    const processed = await runProcessorTo(anvil.rpcUrl, db.env, head)
    if (processed.code !== 0) throw new Error(`processor failed with ${processed.code}:\n${processed.stderr.slice(-3000)}`)

    prober = await runProber({
        config: loadNetworkConfig({env: {NETWORK: 'devnet', RPC_URL: anvil.rpcUrl}}),
        dbEnv: db.env,
        devMode: true,
        settings: {...DEFAULT_PROBER_SETTINGS, intervalMs: ROUND_INTERVAL_MS, jitterMs: 0, timeoutMs: PROBE_TIMEOUT_MS, pollIntervalMs: 500},
        logger: {info: () => undefined, warn: () => undefined, error: () => undefined},
    })
    // First round: every active target probed while the stale operator is still healthy.
    await until('the first round', async () => {
        const active = await count('SELECT count(*) AS n FROM probe_target WHERE active')
        return active > 0 && (await count('SELECT count(*) AS n FROM probe_target WHERE active AND last_probed_at IS NOT NULL')) === active
    })
    // The stale operator puts an auth proxy in front: later probes are inconclusive, so its last PASS only ages.
    await fleet.operators[STALE]?.setBehaviour('guarded')
    const windowStart = new Date(Date.now() + 2 * PROBE_TIMEOUT_MS)
    await until('a full round after the behaviour switch', async () => {
        const active = await count('SELECT count(*) AS n FROM probe_target WHERE active')
        const probed = await count('SELECT count(DISTINCT target_id) AS n FROM proof_record WHERE observed_at >= $1', [windowStart])
        return probed === active
    })
    await prober.stop()
    prober = undefined

    const lastObserved = new Date((await db.client.query('SELECT max(observed_at) AS t FROM proof_record')).rows[0].t)
    if (lastObserved.getTime() > at.getTime()) {
        throw new Error(`setup took too long: last proof at ${lastObserved.toISOString()} is after the query instant ${at.toISOString()}`)
    }
    // The window reaches back to windowStart or less than a second later: first-round proofs fall outside it.
    const freshnessSeconds = Math.ceil((at.getTime() - windowStart.getTime()) / 1000)
    await compiled
    await startApi(freshnessSeconds)
}, 240_000)

afterAll(async () => {
    await prober?.stop()
    if (server !== undefined) await stopChild(server)
    await db?.stop()
    await anvil?.stop()
    await fleet?.close()
    if (apiDir !== undefined) rmSync(apiDir, {recursive: true, force: true})
})

type Row = {blueprintId: string; serviceId: string | null; kind: string; status: string; reason: string; claims: string[]}

async function gapsOf(operatorIndex: number): Promise<Row[]> {
    const response = await fetch(endpoint, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({
            query: `query($operator: String, $at: String) { gaps(operator: $operator, at: $at, limit: 1000) {
                gaps { blueprintId serviceId kind status reason claims } } }`,
            variables: {operator: address(operatorIndex), at: at.toISOString()},
        }),
    })
    const result = (await response.json()) as {data?: {gaps: {gaps: Row[]}}; errors?: unknown}
    expect(result.errors).toBeUndefined()
    return result.data?.gaps.gaps ?? []
}

describe('gaps over the devnet scenario', () => {
    it('down endpoint with healthy heartbeat CONTRADICTED', async () => {
        const rows = await gapsOf(CONTRADICTED)
        const row = rows.find((r) => r.serviceId === '0' && r.kind === 'ENDPOINT_REACHABILITY')
        expect(row?.status).toBe('CONTRADICTED')
        expect(row?.reason).toBe('HEARTBEAT_HEALTHY_ENDPOINT_UNREACHABLE')
    })

    it('healthy operator PROVEN on every applicable kind', async () => {
        const rows = await gapsOf(GOOD)
        const applicable = rows.filter((row) => row.status !== 'NOT_APPLICABLE')
        expect(applicable.map((row) => `${row.serviceId}/${row.kind}`).sort()).toEqual([
            '1/SANDBOX_ENDPOINT_HEALTH',
            '1/SANDBOX_READINESS',
            '1/SANDBOX_SECRET_HANDLING',
            '1/SANDBOX_SIDECAR_CAPABILITIES',
            'null/ENDPOINT_REACHABILITY',
        ])
        expect(applicable.filter((row) => row.status !== 'PROVEN')).toEqual([])
    })

    it('sandbox registration needs no port check', async () => {
        const row = (await gapsOf(GOOD)).find((r) => r.serviceId === null && r.kind === 'PRIVATE_PORT_EXPOSURE')
        expect(row?.status).toBe('NOT_APPLICABLE')
        expect(row?.reason).toBe('NO_CLAIM_REQUIRES_KIND')
    })

    it('published sidecar closed PROVEN', async () => {
        const row = (await gapsOf(TEE_SIDECAR)).find((r) => r.serviceId === '2' && r.kind === 'PRIVATE_PORT_EXPOSURE')
        expect(row?.claims).toEqual(['SIDECAR_PUBLISHED'])
        expect(row?.status).toBe('PROVEN')
        expect(row?.reason).toBe('PORTS_CLOSED')
    })

    it('attestation hash without JSON UNPROVEN', async () => {
        const row = (await gapsOf(TEE_SIDECAR)).find((r) => r.serviceId === '2' && r.kind === 'SANDBOX_TEE_ATTESTATION')
        expect(row?.claims).toEqual(['TEE_REQUIRED'])
        expect(row?.status).toBe('UNPROVEN')
        expect(row?.reason).toBe('ONLY_INCONCLUSIVE')
    })

    it('trading registration port check PROVEN', async () => {
        const row = (await gapsOf(TRADING)).find((r) => r.blueprintId === '4' && r.serviceId === null && r.kind === 'PRIVATE_PORT_EXPOSURE')
        expect(row?.claims).toEqual(['REGISTERED'])
        expect(row?.status).toBe('PROVEN')
    })

    it('operator never probed UNPROVEN', async () => {
        const records = await count('SELECT count(*) AS n FROM proof_record WHERE operator = $1', [address(NEVER_PROBED)])
        expect(records).toBe(0)
        const applicable = (await gapsOf(NEVER_PROBED)).filter((row) => row.status !== 'NOT_APPLICABLE')
        expect(applicable.length).toBeGreaterThan(0)
        for (const row of applicable) {
            expect(row.status, row.kind).toBe('UNPROVEN')
            expect(row.reason, row.kind).toBe('NEVER_PROBED')
        }
    })

    it('old pass then inconclusive STALE', async () => {
        const stale = (await gapsOf(STALE)).filter((row) => row.status === 'STALE')
        expect(stale.length).toBeGreaterThan(0)
        expect(stale.every((row) => row.reason === 'LAST_PASS_TOO_OLD')).toBe(true)
    })
})

