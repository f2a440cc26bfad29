import {spawn, type ChildProcess} from 'node:child_process'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type pg from 'pg'
import {createPublicClient, http, type Hex} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {demoFleetSpecs, demoLiveTradeTxHashes, demoScenarioOptions} from '../src/cli/demo'
import {runProber, type RunningProber} from '../src/cli/prober'
import {loadNetworkConfig} from '../src/config/load'
import {HOSTILE_URL_OPERATORS, OPERATORS} from '../src/devnet/actors'
import {freePort} from '../src/db/embedded'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {startOperatorFleet, type OperatorFleet} from '../src/devnet/operators'
import {buildScenario, runScenario, scenarioDurationSeconds, LEAKED_SIDECAR_TOKEN, SANDBOX_CREATE_INPUT} from '../src/devnet/scenario'
import {PROOF_KINDS, type ProofKind} from '../src/proofs/kinds'
import {verifyRecord, type ProofRecordFields} from '../src/proofs/record'
import {DEFAULT_PROBER_SETTINGS, type ProberLogger} from '../src/proofs/worker'
import {binPath, PROJECT_ROOT, type RunResult} from '../src/stack/children'
import {SIMULATED_MRTD_HEX} from '../src/devnet/operators/tee-fixture'
import {emitProofWorld, PROOF_WORLD_OPERATORS, proofWorldFleetSpecs, type ProofWorldChain, type ProofWorldRole} from './helpers/proof-world'
import {compileProject, runProcessorInBuild} from './helpers/private-build'
import {startTestDatabase} from './helpers/stack'
import {intervalWithTimeLeft} from './helpers/rounds'

/*
 * The whole pipeline on a devnet: anvil with the demo scenario, the demo fleet of simulated operators, the compiled
 * processor, one prober round in-process and the GraphQL API over the result.
 */

const PROBER_KEY: Hex = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a'
/** Compiled sources of this file; inside node_modules so that the packages resolve and git ignores it. */
const BUILD_DIR = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'proofgap-tests', 'prober-e2e')
const PROBE_TIMEOUT_MS = 2_000
const ROUND_WAIT_MS = 60_000
const SERVER_START_TIMEOUT_MS = 30_000
const QUERY_TIMEOUT_MS = 10_000
/** Seconds between the chain's last block and the wall clock, so attestations and heartbeats count as recent. */
const CHAIN_END_MARGIN_S = 30

interface Row {
    [column: string]: unknown
}

let anvil: AnvilInstance
let fleet: OperatorFleet
let db: Awaited<ReturnType<typeof startTestDatabase>>
let processorRun: RunResult
let prober: RunningProber | undefined
let api: ChildProcess | undefined
let apiOutput = ''
let endpoint = ''
const logLines: string[] = []
let records: Row[] = []

beforeAll(async () => {
    await compileProject(BUILD_DIR)
    const liveTradeTxHashes: string[] = []
    fleet = await startOperatorFleet(demoFleetSpecs(liveTradeTxHashes))
    const demoOptions = demoScenarioOptions(fleet, Math.floor(Date.now() / 1000))
    const duration = scenarioDurationSeconds(buildScenario(demoOptions))
    const genesisTimestamp = Math.floor(Date.now() / 1000) - duration - CHAIN_END_MARGIN_S
    ;[anvil, db] = await Promise.all([startAnvil({genesisTimestamp}), startTestDatabase()])
    liveTradeTxHashes.push(...demoLiveTradeTxHashes(await runScenario(anvil.rpcUrl, buildScenario({...demoOptions, genesisTimestamp}))))

    const head = Number(await createPublicClient({transport: http(anvil.rpcUrl)}).getBlockNumber())
    processorRun = await runProcessorInBuild(BUILD_DIR, 
        {...db.env, NETWORK: 'devnet', RPC_URL: anvil.rpcUrl, PROCESSOR_TO_BLOCK: String(head), PROMETHEUS_PORT: '0'},
    )
    if (processorRun.code !== 0) throw new Error(`processor failed (exit ${processorRun.code}):\n${processorRun.stderr.slice(-4000)}`)

    const capture = (level: string) => (attributes: object, message: string) => {
        logLines.push(`${level} ${message} ${JSON.stringify(attributes)}`)
    }
    const logger: ProberLogger = {info: capture('info'), warn: capture('warn'), error: capture('error')}
    prober = await runProber({
        config: loadNetworkConfig({env: {NETWORK: 'devnet', RPC_URL: anvil.rpcUrl}}),
        dbEnv: db.env,
        privateKey: PROBER_KEY.slice(2),
        devMode: false,
        settings: {...DEFAULT_PROBER_SETTINGS, intervalMs: intervalWithTimeLeft(), jitterMs: 0, timeoutMs: PROBE_TIMEOUT_MS, pollIntervalMs: 500, concurrency: 8, maxConcurrentPerHost: 8},
        logger,
    })
    await waitForRound(db.client)
    records = (await db.client.query(`SELECT * FROM proof_record ORDER BY target_id, kind`)).rows

    const port = await freePort()
    endpoint = `http://127.0.0.1:${port}/graphql`
    api = spawn(binPath('squid-graphql-server'), [], {
        cwd: BUILD_DIR,
        env: {...process.env, ...db.env, GQL_PORT: String(port)},
        stdio: ['ignore', 'pipe', 'pipe'],
    })
    const keep = (chunk: Buffer) => (apiOutput = (apiOutput + chunk.toString()).slice(-20_000))
    api.stdout?.on('data', keep)
    api.stderr?.on('data', keep)
    await waitForServer(api)
}, 300_000)

afterAll(async () => {
    if (api !== undefined && api.exitCode === null) {
        const exited = new Promise((resolve) => api?.once('exit', resolve))
        api.kill('SIGTERM')
        await exited
    }
    await prober?.stop()
    await fleet?.close()
    await Promise.all([anvil?.stop(), db?.stop()])
})

/** Waits until every active target has been probed once, or the round wait runs out. */
async function waitForRound(client: pg.Client): Promise<void> {
    const deadline = Date.now() + ROUND_WAIT_MS
    while (Date.now() < deadline) {
        const pending = await client.query(
            `SELECT count(*)::int AS n, (SELECT count(*)::int FROM probe_target WHERE active) AS active
             FROM probe_target WHERE active AND last_probed_at IS NULL`,
        )
        if (pending.rows[0].active > 0 && pending.rows[0].n === 0) return
        await new Promise((resolve) => setTimeout(resolve, 500))
    }
}

/** An operator's index in the demo fleet, or the address of an operator without a server. */
const operatorAddress = (operator: number | string): string => (typeof operator === 'number' ? OPERATORS[operator] : operator).toLowerCase()

const recordOf = (operator: number | string, kind: ProofKind, source = 'RPC_ADDRESS'): Row | undefined =>
    records.find((row) => row.operator === operatorAddress(operator) && row.kind === kind && String(row.target_id).startsWith(`${source}:`))

describe('prober end to end', () => {
    it('processor indexed without handler errors', async () => {
        expect(processorRun.code).toBe(0)
        const errors = await db.client.query(`SELECT id FROM unhandled_log WHERE reason = 'HANDLER_ERROR'`)
        expect(errors.rows).toEqual([])
    })

    it('every active target probed once', async () => {
        const unprobed = (await db.client.query(`SELECT id FROM probe_target WHERE active AND last_probed_at IS NULL`)).rows
        expect(unprobed).toEqual([])
        const duplicates = (await db.client.query(
            `SELECT target_id, kind FROM proof_record GROUP BY target_id, kind HAVING count(*) > 1`,
        )).rows
        expect(duplicates).toEqual([])
        expect(new Set(records.map((row) => row.round)).size).toBe(1)
    })

    // Operator (index in the demo fleet, or address), kind, target source, outcome, reason, observed value (a part).
    it.each([
        ['sandbox health pass', 1, 'SANDBOX_ENDPOINT_HEALTH', 'RPC_ADDRESS', 'PASS', 'HEALTH_OK', 'health=ok runtime=ok store=ok'],
        ['sandbox health guarded', 4, 'SANDBOX_ENDPOINT_HEALTH', 'RPC_ADDRESS', 'INCONCLUSIVE', 'AUTH_PROXY_401', 'status=401 on /health'],
        ['sandbox health down', 2, 'SANDBOX_ENDPOINT_HEALTH', 'RPC_ADDRESS', 'UNREACHABLE', 'CONNECTION_REFUSED', 'CONNECTION_REFUSED'],
        ['readiness pass', 3, 'SANDBOX_READINESS', 'RPC_ADDRESS', 'PASS', 'READY', 'readyz=ready'],
        ['readiness guarded', 4, 'SANDBOX_READINESS', 'RPC_ADDRESS', 'INCONCLUSIVE', 'AUTH_PROXY_401', 'status=401 on /readyz'],
        ['secret handling pass', 3, 'SANDBOX_SECRET_HANDLING', 'RPC_ADDRESS', 'PASS', 'PROTECTED_ROUTE_REJECTS_ANONYMOUS', 'status=401 on /api/sandboxes'],
        ['token leaked on chain', 0, 'SANDBOX_SECRET_HANDLING', 'RPC_ADDRESS', 'FAIL', 'TOKEN_LEAKED_ON_CHAIN', 'service=0 call=0 tx=0x'],
        // Operator 1 serves service 0 too, but operator 0's result leaked the token.
        ['other member not blamed', 1, 'SANDBOX_SECRET_HANDLING', 'RPC_ADDRESS', 'PASS', 'PROTECTED_ROUTE_REJECTS_ANONYMOUS', 'status=401 on /api/sandboxes'],
        ['capabilities claimed', 1, 'SANDBOX_SIDECAR_CAPABILITIES', 'RPC_ADDRESS', 'PASS', 'CAPABILITIES_CLAIMED', 'harnesses='],
        ['capabilities guarded', 4, 'SANDBOX_SIDECAR_CAPABILITIES', 'RPC_ADDRESS', 'INCONCLUSIVE', 'AUTH_PROXY_401', 'status=401'],
        ['tee placeholder rejected', 5, 'SANDBOX_TEE_ATTESTATION', 'RPC_ADDRESS', 'FAIL', 'ATTESTATION_PLACEHOLDER', 'tee_type=tdx status=pending'],
        ['tee provision ready', 5, 'SANDBOX_READINESS', 'RPC_ADDRESS', 'PASS', 'PROVISION_READY', 'call_id=0 phase=ready'],
        ['tee not required', 1, 'SANDBOX_TEE_ATTESTATION', 'RPC_ADDRESS', 'NOT_APPLICABLE', 'TEE_NOT_REQUIRED', 'no attestation on chain'],
        // Operator 0's sandbox_create output has an empty teeAttestationJson, which publishes no attestation.
        ['empty attestation json', 0, 'SANDBOX_TEE_ATTESTATION', 'RPC_ADDRESS', 'NOT_APPLICABLE', 'TEE_NOT_REQUIRED', 'no attestation on chain'],
        ['reachability pass', 1, 'ENDPOINT_REACHABILITY', 'RPC_ADDRESS', 'PASS', 'ENDPOINT_ANSWERED', 'status=200'],
        ['reachability guarded', 4, 'ENDPOINT_REACHABILITY', 'RPC_ADDRESS', 'PASS', 'ENDPOINT_GUARDED', 'status=401'],
        ['reachability down', 2, 'ENDPOINT_REACHABILITY', 'RPC_ADDRESS', 'UNREACHABLE', 'CONNECTION_REFUSED', 'CONNECTION_REFUSED'],
        ['reachability invalid utf-8 url', HOSTILE_URL_OPERATORS.invalidUtf8, 'ENDPOINT_REACHABILITY', 'VENUE', 'UNREACHABLE', 'INVALID_URL', 'not a valid URL because it contains invalid UTF-8 (U+FFFD) and a non-numeric port'],
        ['reachability nul bytes url', HOSTILE_URL_OPERATORS.nulBytes, 'ENDPOINT_REACHABILITY', 'VENUE', 'UNREACHABLE', 'INVALID_URL', 'not a valid URL because it contains NUL bytes (U+2400) and a non-numeric port'],
        ['reachability crossed-book venue', 10, 'ENDPOINT_REACHABILITY', 'VENUE', 'PASS', 'ENDPOINT_ANSWERED', 'status='],
        ['reachability slow venue', 11, 'ENDPOINT_REACHABILITY', 'VENUE', 'UNREACHABLE', 'TOTAL_TIMEOUT', 'TOTAL_TIMEOUT'],
        ['trading ports closed', 6, 'PRIVATE_PORT_EXPOSURE', 'RPC_ADDRESS', 'PASS', 'PORTS_CLOSED', 'closed=2'],
        ['tee sidecar closed', 5, 'PRIVATE_PORT_EXPOSURE', 'SIDECAR', 'PASS', 'PORTS_CLOSED', 'closed=1'],
        ['trading health pass', 6, 'TRADING_BOT_HEALTH', 'RPC_ADDRESS', 'PASS', 'BOT_ACTIVE', 'meta=200'],
        ['trading bot degraded', 8, 'TRADING_BOT_HEALTH', 'RPC_ADDRESS', 'FAIL', 'BOT_NOT_ACTIVE', 'trading_active=false'],
        ['model spend reported', 8, 'TRADING_MODEL_SPEND', 'RPC_ADDRESS', 'PASS', 'MODEL_SPEND_REPORTED', 'input_tokens='],
        // The degraded bot reports paper trading while service 3's vault has TradeExecuted logs on chain.
        ['paper bot with vault trades', 8, 'TRADING_MODE', 'RPC_ADDRESS', 'FAIL', 'PAPER_WITH_ONCHAIN_TRADES', 'paper_trade=true onchain_trades=2'],
        ['live bot with vault trades', 6, 'TRADING_MODE', 'RPC_ADDRESS', 'PASS', 'MODE_LIVE_PROVEN', 'paper_trade=false onchain_trades=2'],
        ['live trades on chain', 6, 'TRADING_TRADE_EXECUTION', 'RPC_ADDRESS', 'PASS', 'TRADES_MATCH_ONCHAIN', 'listed_live=2 matched=2'],
        ['live trades not on chain', 7, 'TRADING_TRADE_EXECUTION', 'RPC_ADDRESS', 'FAIL', 'LIVE_TRADE_NOT_ON_CHAIN', 'listed_live=3 matched=0'],
        ['vault policy consistent', 6, 'TRADING_VAULT_POLICY', 'RPC_ADDRESS', 'PASS', 'VAULT_POLICY_CONSISTENT', 'max_leverage=2<=3'],
        ['order book consistent', 9, 'MARKET_ORDER_BOOK', 'VENUE', 'PASS', 'BOOK_CONSISTENT', 'books='],
        ['order book invalid venue url', HOSTILE_URL_OPERATORS.invalidUtf8, 'MARKET_ORDER_BOOK', 'VENUE', 'UNREACHABLE', 'INVALID_URL', 'invalid UTF-8'],
        ['order book crossed', 10, 'MARKET_ORDER_BOOK', 'VENUE', 'FAIL', 'BOOK_CROSSED', 'best_bid='],
        ['order book slow venue', 11, 'MARKET_ORDER_BOOK', 'VENUE', 'UNREACHABLE', 'TOTAL_TIMEOUT', 'TOTAL_TIMEOUT'],
        ['quorum reached', 9, 'MARKET_ATTESTER_QUORUM', 'VENUE', 'PASS', 'QUORUM_REACHED', 'threshold=2'],
        ['quorum invalid venue url', HOSTILE_URL_OPERATORS.nulBytes, 'MARKET_ATTESTER_QUORUM', 'VENUE', 'UNREACHABLE', 'INVALID_URL', 'NUL bytes (U+2400)'],
        ['fills settled', 9, 'MARKET_FILL_SETTLEMENT', 'VENUE', 'PASS', 'FILLS_SETTLED_ON_CHAIN', 'onchain_fills='],
        ['fills invalid venue url', HOSTILE_URL_OPERATORS.nulBytes, 'MARKET_FILL_SETTLEMENT', 'VENUE', 'UNREACHABLE', 'INVALID_URL', 'NUL bytes (U+2400)'],
        ['sp1 proven batch', 9, 'MARKET_SP1_PROOF_PATH', 'VENUE', 'PASS', 'SP1_PROVEN_BATCH', 'proven_batches=1'],
        ['no redemptions', 9, 'MARKET_CREDIT_REDEMPTION', 'VENUE', 'NOT_APPLICABLE', 'NO_REDEMPTIONS', 'redemptions=0'],
        ['no redeem request', 9, 'MARKET_INFERENCE_DELIVERY', 'VENUE', 'INCONCLUSIVE', 'NO_REDEEM_REQUEST', 'no signed redeem request'],
    ] as const)('%s', (_name, operator, kind, source, outcome, reason, observed) => {
        const row = recordOf(operator, kind, source)
        expect(row, `${kind} record of operator ${operator}`).toBeDefined()
        expect(row?.outcome).toBe(outcome)
        expect(row?.reason).toBe(reason)
        expect(String(row?.observed)).toContain(observed)
    })

    // Each demo operator's behaviour (DEMO_BEHAVIOURS) as the gap shows it: operator, blueprint, service, kind, status, reason.
    it.each([
        ['token-leak operator 0', 0, '1', '0', 'SANDBOX_SECRET_HANDLING', 'FAILING', 'FAIL:TOKEN_LEAKED_ON_CHAIN'],
        ['healthy operator 1', 1, '1', '0', 'SANDBOX_ENDPOINT_HEALTH', 'PROVEN', 'HEALTH_OK'],
        ['down operator 2', 2, '1', null, 'ENDPOINT_REACHABILITY', 'FAILING', 'UNREACHABLE:CONNECTION_REFUSED'],
        ['healthy operator 3', 3, '2', null, 'ENDPOINT_REACHABILITY', 'PROVEN', 'ENDPOINT_ANSWERED'],
        ['guarded operator 4', 4, '2', null, 'ENDPOINT_REACHABILITY', 'PROVEN', 'ENDPOINT_GUARDED'],
        ['placeholder-tee operator 5', 5, '3', '2', 'SANDBOX_TEE_ATTESTATION', 'FAILING', 'FAIL:ATTESTATION_PLACEHOLDER'],
        ['healthy operator 6', 6, '4', '3', 'TRADING_TRADE_EXECUTION', 'PROVEN', 'TRADES_MATCH_ONCHAIN'],
        ['live-no-trades operator 7', 7, '4', '3', 'TRADING_TRADE_EXECUTION', 'CONTRADICTED', 'LIVE_TRADE_NOT_ON_CHAIN'],
        ['degraded operator 8', 8, '4', '3', 'TRADING_BOT_HEALTH', 'FAILING', 'FAIL:BOT_NOT_ACTIVE'],
        ['healthy operator 9', 9, '7', '5', 'MARKET_ORDER_BOOK', 'PROVEN', 'BOOK_CONSISTENT'],
        ['crossed-book operator 10', 10, '7', '5', 'MARKET_ORDER_BOOK', 'FAILING', 'FAIL:BOOK_CROSSED'],
        ['slow operator 11', 11, '7', '5', 'MARKET_ORDER_BOOK', 'CONTRADICTED', 'HEARTBEAT_HEALTHY_ENDPOINT_UNREACHABLE'],
        ['invalid utf-8 url operator', HOSTILE_URL_OPERATORS.invalidUtf8, '7', null, 'ENDPOINT_REACHABILITY', 'FAILING', 'UNREACHABLE:INVALID_URL'],
        ['nul bytes url operator', HOSTILE_URL_OPERATORS.nulBytes, '7', null, 'ENDPOINT_REACHABILITY', 'FAILING', 'UNREACHABLE:INVALID_URL'],
    ] as const)('gap of %s', async (_name, operator, blueprintId, serviceId, kind, status, reason) => {
        const row = (await gapRows()).find(
            (gap) => gap.operator === operatorAddress(operator) && gap.blueprintId === blueprintId && gap.serviceId === serviceId && gap.kind === kind,
        )
        expect(row, `${kind} gap of operator ${operator}`).toBeDefined()
        expect(row?.status).toBe(status)
        expect(row?.reason).toBe(reason)
    })

    it('live trading claimed for service 3', async () => {
        const row = (await gapRows()).find(
            (gap) => gap.operator === operatorAddress(7) && gap.serviceId === '3' && gap.kind === 'TRADING_TRADE_EXECUTION',
        )
        expect(row?.claims).toEqual(['TRADING_BOT_LIVE'])
    })

    it('demo operators have valid URLs', () => {
        const invalid = records.filter((row) => row.reason === 'INVALID_URL').map((row) => row.operator)
        expect(invalid).toContain(operatorAddress(HOSTILE_URL_OPERATORS.invalidUtf8))
        expect(invalid).toContain(operatorAddress(HOSTILE_URL_OPERATORS.nulBytes))
        for (const index of OPERATORS.keys()) expect(invalid, `operator ${index}`).not.toContain(operatorAddress(index))
    })

    it('slow operator gap cites timeout', async () => {
        const row = (await gapRows()).find((gap) => gap.operator === operatorAddress(11) && gap.serviceId === '5' && gap.kind === 'MARKET_ORDER_BOOK')
        const proof = records.find((record) => record.id === row?.lastProofId)
        expect(proof, 'the proof record behind the gap row').toBeDefined()
        expect(proof?.reason).toBe('TOTAL_TIMEOUT')
    })

    it('records verify against prober signer', async () => {
        const signer = privateKeyToAccount(PROBER_KEY).address.toLowerCase()
        expect(records.length).toBeGreaterThan(50)
        for (const row of records) {
            const verification = await verifyRecord(fieldsOf(row), row.signature as Hex, signer)
            expect(verification.valid, `${row.kind} of ${row.operator}`).toBe(true)
        }
    })

    it('leaked token absent from logs', () => {
        expect(logLines.length).toBeGreaterThan(0)
        expect(logLines.join('\n')).not.toContain(LEAKED_SIDECAR_TOKEN)
        expect(JSON.stringify(records)).not.toContain(LEAKED_SIDECAR_TOKEN)
    })

    it.each([
        ['proofRecords', '{ proofRecords(limit: 1000) { id url operator kind outcome reason observed excerpt evidenceDigest signature } }'],
        ['probeTargets', '{ probeTargets(limit: 1000) { id url source operator blueprintId serviceId } }'],
        ['secretExposures', '{ secretExposures(limit: 1000) { id kind callId operator txHash secretHash redacted } }'],
        ['jobResults', '{ jobResults(limit: 1000) { id outputHash output outputError txHash } }'],
        ['sandboxes', '{ sandboxes(limit: 1000) { id sandboxId sidecarUrl tokenHash tokenRedacted teeAttestationHash } }'],
        ['gaps', '{ gaps(limit: 1000) { totalCount gaps { operator kind } } }'],
    ])('leaked token absent from %s', async (name, text) => {
        const response = await postQuery(text)
        expect(response.status, response.body.slice(0, 500)).toBe(200)
        expect(response.body).not.toContain('"errors"')
        expect(response.body).toContain(`"${name}"`)
        expect(response.body).not.toContain(LEAKED_SIDECAR_TOKEN)
    })

    it('leaked token absent from operatorSummary', async () => {
        // Operator 0 published the token in its sandbox_create output.
        const response = await postQuery(
            `{ operatorSummary(operator: "${OPERATORS[0].toLowerCase()}") { operator claimsProven claims { kind } gaps { kind } } }`,
        )
        expect(response.status, response.body.slice(0, 500)).toBe(200)
        expect(response.body).not.toContain('"errors"')
        expect(response.body).toContain('"operatorSummary"')
        expect(response.body).not.toContain(LEAKED_SIDECAR_TOKEN)
    })

    it('leaks reported redacted by API', async () => {
        const response = await postQuery('{ secretExposures(orderBy: id_ASC, limit: 10) { kind redacted secretHash operator } }')
        type Exposure = {kind: string; redacted: string; operator: string | null}
        const exposures = (JSON.parse(response.body) as {data: {secretExposures: Exposure[]}}).data.secretExposures
        const token = exposures.find((exposure) => exposure.kind === 'SIDECAR_TOKEN')
        expect(token?.redacted).toMatch(/^sbx_…\[\d+ chars\]$/)
        expect(token?.operator).toMatch(/^0x[0-9a-f]{40}$/)
        // The API key that the customer put in the sandbox_create inputs: the caller's leak, so no operator.
        const input = exposures.find((exposure) => exposure.kind === 'INPUT_SECRET')
        expect(input?.redacted).toMatch(/^sk-d…\[\d+ chars\]$/)
        expect(input?.operator).toBeNull()
        const apiKey = (JSON.parse(SANDBOX_CREATE_INPUT.env_json) as {OPENAI_API_KEY: string}).OPENAI_API_KEY
        expect(response.body).not.toContain(apiKey)
        expect(response.body).not.toContain(LEAKED_SIDECAR_TOKEN)
    })
})

/*
 * A second, small world on its own chain, database and prober: the chain facts under which the kinds that the demo
 * cannot pass do pass (TEE attestation, vault-backed trading, redemption, inference delivery), plus an exposed sidecar
 * and a crossed book. Its chain has no proven settlement batch, so the SP1 check is not applicable there.
 */
describe('prober proof world', () => {
    /** Signature of the redeem request; distinctive, so a test can tell that it stays out of records and logs. */
    const REDEEM_SIGNATURE = `0x${'5e'.repeat(65)}`
    /** The signed redeem request the world's prober sends; the simulated venue serves any JSON object. */
    const REDEEM_REQUEST_JSON = JSON.stringify({lotId: '0x01', messages: [{role: 'user', content: 'ping'}], signature: REDEEM_SIGNATURE})
    const liveTradeTxHashes: string[] = []
    const validatorEndpoints: string[] = []
    let worldFleet: OperatorFleet
    let worldAnvil: AnvilInstance
    let worldDb: Awaited<ReturnType<typeof startTestDatabase>>
    let worldProber: RunningProber | undefined
    let worldProcessor: RunResult
    let chain: ProofWorldChain
    let worldRecords: Row[] = []

    beforeAll(async () => {
        worldFleet = await startOperatorFleet(proofWorldFleetSpecs(liveTradeTxHashes, validatorEndpoints))
        for (const role of ['trader-a', 'trader-b', 'trader-c'] as const) validatorEndpoints.push(worldFleet.byName(role).tradingApiUrl as string)
        const nowUnixSeconds = Math.floor(Date.now() / 1000)
        ;[worldAnvil, worldDb] = await Promise.all([startAnvil({genesisTimestamp: nowUnixSeconds - 3_600}), startTestDatabase()])
        chain = await emitProofWorld(
            worldAnvil.rpcUrl,
            {
                operatorUrl: (role) => worldFleet.byName(role).url,
                sidecarUrl: (role) => worldFleet.byName(role).sidecarUrl ?? worldFleet.byName(role).url,
            },
            nowUnixSeconds,
        )
        liveTradeTxHashes.push(chain.tradeTxHash)

        const head = Number(await createPublicClient({transport: http(worldAnvil.rpcUrl)}).getBlockNumber())
        worldProcessor = await runProcessorInBuild(BUILD_DIR, 
            {...worldDb.env, NETWORK: 'devnet', RPC_URL: worldAnvil.rpcUrl, PROCESSOR_TO_BLOCK: String(head), PROMETHEUS_PORT: '0'},
        )
        if (worldProcessor.code !== 0) throw new Error(`processor failed (exit ${worldProcessor.code}):\n${worldProcessor.stderr.slice(-4000)}`)

        const capture = (level: string) => (attributes: object, message: string) => {
            logLines.push(`${level} ${message} ${JSON.stringify(attributes)}`)
        }
        worldProber = await runProber({
            config: loadNetworkConfig({env: {NETWORK: 'devnet', RPC_URL: worldAnvil.rpcUrl}}),
            dbEnv: worldDb.env,
            privateKey: PROBER_KEY.slice(2),
            devMode: false,
            settings: {
                ...DEFAULT_PROBER_SETTINGS,
                intervalMs: intervalWithTimeLeft(),
                jitterMs: 0,
                timeoutMs: PROBE_TIMEOUT_MS,
                pollIntervalMs: 500,
                concurrency: 8,
                maxConcurrentPerHost: 8,
                measurementAllowlist: [SIMULATED_MRTD_HEX],
                redeemRequestBody: REDEEM_REQUEST_JSON,
            },
            logger: {info: capture('info'), warn: capture('warn'), error: capture('error')},
        })
        await waitForRound(worldDb.client)
        worldRecords = (await worldDb.client.query(`SELECT * FROM proof_record ORDER BY target_id, kind`)).rows
    }, 300_000)

    afterAll(async () => {
        await worldProber?.stop()
        await worldFleet?.close()
        await Promise.all([worldAnvil?.stop(), worldDb?.stop()])
    })

    const worldRecordOf = (role: ProofWorldRole, kind: ProofKind, source: string): Row | undefined =>
        worldRecords.find(
            (row) => row.operator === PROOF_WORLD_OPERATORS[role].toLowerCase() && row.kind === kind && String(row.target_id).startsWith(`${source}:`),
        )

    it('world indexed without unhandled logs', async () => {
        expect(worldProcessor.code).toBe(0)
        const errors = await worldDb.client.query(`SELECT id, reason, detail FROM unhandled_log`)
        expect(errors.rows).toEqual([])
    })

    it('world targets all probed', async () => {
        const unprobed = (await worldDb.client.query(`SELECT id FROM probe_target WHERE active AND last_probed_at IS NULL`)).rows
        expect(unprobed).toEqual([])
        expect(worldRecords.length).toBeGreaterThan(20)
    })

    // Role in the proof world, kind, target source, outcome, reason, observed value (a part of it).
    it.each([
        ['tee attestation matches chain', 'tee', 'SANDBOX_TEE_ATTESTATION', 'RPC_ADDRESS', 'PASS', 'ATTESTATION_MATCHES_ONCHAIN', `tee_type=tdx measurement=${SIMULATED_MRTD_HEX.slice(0, 16)}`],
        ['tee sidecar closed', 'tee', 'PRIVATE_PORT_EXPOSURE', 'SIDECAR', 'PASS', 'PORTS_CLOSED', 'closed=1'],
        ['live mode proven', 'trader-a', 'TRADING_MODE', 'RPC_ADDRESS', 'PASS', 'MODE_LIVE_PROVEN', 'paper_trade=false onchain_trades=1'],
        ['risk params within policy', 'trader-b', 'TRADING_VAULT_POLICY', 'RPC_ADDRESS', 'PASS', 'VAULT_POLICY_CONSISTENT', 'max_leverage=2<=3 max_trades_per_hour=10<=10 max_slippage_bps=50<=50'],
        ['live trades on chain', 'trader-c', 'TRADING_TRADE_EXECUTION', 'RPC_ADDRESS', 'PASS', 'TRADES_MATCH_ONCHAIN', 'listed_live=1 matched=1 onchain_trades=1'],
        ['validators healthy', 'trader-a', 'TRADING_VALIDATOR_STATUS', 'RPC_ADDRESS', 'PASS', 'VALIDATORS_HEALTHY', 'ok=3/3 signers=3'],
        ['bot active', 'trader-a', 'TRADING_BOT_HEALTH', 'RPC_ADDRESS', 'PASS', 'BOT_ACTIVE', 'lifecycle_status=active trading_active=true'],
        ['redemption served', 'venue', 'MARKET_CREDIT_REDEMPTION', 'VENUE', 'PASS', 'REDEMPTIONS_SERVED', 'served=1 pending=0 unserved=0 defaulted=0'],
        ['delivery hashes match', 'venue', 'MARKET_INFERENCE_DELIVERY', 'VENUE', 'PASS', 'DELIVERY_HASHES_MATCH', 'served_tokens=64'],
        ['sp1 without proven batch', 'venue', 'MARKET_SP1_PROOF_PATH', 'VENUE', 'NOT_APPLICABLE', 'SP1_NOT_ENABLED', 'proven_batches=0'],
        ['sidecar answers outside', 'sidecar-outside', 'PRIVATE_PORT_EXPOSURE', 'SIDECAR', 'FAIL', 'PORT_EXPOSED', 'status=200'],
        ['crossed book', 'crossed-venue', 'MARKET_ORDER_BOOK', 'VENUE', 'FAIL', 'BOOK_CROSSED', 'best_bid=2000190 best_ask=2000010'],
        ['issuer without redemptions', 'crossed-venue', 'MARKET_CREDIT_REDEMPTION', 'VENUE', 'NOT_APPLICABLE', 'NO_REDEMPTIONS', 'redemptions=0'],
    ] as const)('%s', (_name, role, kind, source, outcome, reason, observed) => {
        const row = worldRecordOf(role, kind, source)
        expect(row, `${kind} record of ${role}`).toBeDefined()
        expect(row?.outcome).toBe(outcome)
        expect(row?.reason).toBe(reason)
        expect(String(row?.observed)).toContain(observed)
    })

    it('world records verify against signer', async () => {
        const signer = privateKeyToAccount(PROBER_KEY).address.toLowerCase()
        for (const row of worldRecords) {
            const verification = await verifyRecord(fieldsOf(row), row.signature as Hex, signer)
            expect(verification.valid, `${row.kind} of ${row.operator}`).toBe(true)
        }
    })

    it('redeem request absent from records', () => {
        expect(JSON.stringify(worldRecords)).not.toContain(REDEEM_SIGNATURE.slice(2))
        expect(logLines.join('\n')).not.toContain(REDEEM_SIGNATURE.slice(2))
    })

    it('every kind has pass and non-pass', () => {
        const both = [...records, ...worldRecords]
        const missing: string[] = []
        for (const kind of PROOF_KINDS) {
            const outcomes = new Set(both.filter((row) => row.kind === kind).map((row) => row.outcome))
            if (!outcomes.has('PASS')) missing.push(`${kind}: no PASS`)
            if ([...outcomes].every((outcome) => outcome === 'PASS')) missing.push(`${kind}: no non-PASS`)
        }
        expect(missing, missing.join('\n')).toEqual([])
    })
})


interface GapRow {
    operator: string
    blueprintId: string
    serviceId: string | null
    kind: string
    status: string
    reason: string
    claims: string[]
    lastProofId: string | null
}

let gapRowsOnce: Promise<GapRow[]> | undefined

/** Fetches every gap row once through the API, so each gap test reads the same instant. */
function gapRows(): Promise<GapRow[]> {
    gapRowsOnce ??= postQuery('{ gaps(limit: 1000) { totalCount gaps { operator blueprintId serviceId kind status reason claims lastProofId } } }').then((response) => {
        if (response.status !== 200) throw new Error(`gaps query failed with status ${response.status}: ${response.body.slice(0, 500)}`)
        const page = (JSON.parse(response.body) as {data: {gaps: {totalCount: number; gaps: GapRow[]}}}).data.gaps
        if (page.totalCount > page.gaps.length) throw new Error(`gaps query returned ${page.gaps.length} of ${page.totalCount} rows`)
        return page.gaps
    })
    return gapRowsOnce
}

async function postQuery(text: string): Promise<{status: number; body: string}> {
    const response = await fetch(endpoint, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({query: text}),
        signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
    })
    return {status: response.status, body: await response.text()}
}

/** Waits until the API returns data for a trivial query, failing with its output when it exits or times out. */
async function waitForServer(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS
    while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`squid-graphql-server exited (code ${child.exitCode}) before answering:\n${apiOutput}`)
        }
        try {
            if ((await postQuery('{ __typename }')).status === 200) return
        } catch {
            // Not listening yet.
        }
        await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(`squid-graphql-server did not answer within ${SERVER_START_TIMEOUT_MS} ms. Output:\n${apiOutput}`)
}

function fieldsOf(row: Row): ProofRecordFields {
    return {
        targetUrl: row.url as string,
        operator: row.operator as string,
        blueprintId: row.blueprint_id as string,
        serviceId: (row.service_id as string | null) ?? null,
        kind: row.kind as string,
        outcome: row.outcome as ProofRecordFields['outcome'],
        reason: row.reason as string,
        observed: row.observed as string,
        httpStatus: (row.http_status as number | null) ?? null,
        latencyMs: row.latency_ms as number,
        observedAt: (row.observed_at as Date).toISOString(),
        chainHead: String(row.chain_head),
        excerpt: (row.excerpt as string | null) ?? '',
        evidenceDigest: row.evidence_digest as Hex,
    }
}
