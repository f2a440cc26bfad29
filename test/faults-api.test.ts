import {spawn, type ChildProcess} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {concat, maxUint256, stringToHex} from 'viem'
import {DEVNET_ADDRESSES} from '../src/config/networks/presets'
import {ACTORS, OPERATORS, word} from '../src/devnet/actors'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {freePort} from '../src/db/embedded'
import {graphqlServerCommand, PROJECT_ROOT, type RunResult} from '../src/stack/children'
import {compileProject, runProcessorInBuild} from './helpers/private-build'
import {startTestDatabase} from './helpers/stack'
import {registry, restaking, startBlockEmitter, tangle} from './helpers/devnet-events'

/*
 * Hostile chain values are indexed by the processor and read back over the GraphQL API. The strings carry NUL bytes,
 * invalid UTF-8 or 1 MiB of text. The numbers are 2^256-1, 2^63 and 2^31 in id, interval, timestamp, stake, slash
 * and metric fields. Every filter, sort, count and custom resolver must return them exactly, with no error.
 */

const BUILD_DIR = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'proofgap-tests', 'faults-api')
const SERVER_START_TIMEOUT_MS = 30_000
const QUERY_TIMEOUT_MS = 20_000
const A = DEVNET_ADDRESSES
const op = OPERATORS
const TWO_POW_63 = 2n ** 63n
const TWO_POW_31 = 2n ** 31n
const MAX_UINT256 = maxUint256.toString()
/**
 * A long address that still fits the emitter's gas budget of 24 gas per calldata byte. The calldata floor price of
 * EIP-7623 is 40 gas per non-zero byte, so a transaction with more than about 2.4 kB of text is not mined.
 */
const CHAIN_LONG_RPC_ADDRESS = `http://127.0.0.1:19005/${'a'.repeat(2_000)}`
/** A 1 MiB address cannot come through anvil, so it is written to the registration table as the processor would. */
const MIB_RPC_ADDRESS = `http://127.0.0.1:19008/${'b'.repeat(1024 * 1024 - 23)}`
const NUL_RPC_ADDRESS = 'http://127.0.0.1:19006/\u0000nul'
const INVALID_UTF8_RPC_BYTES = concat([stringToHex('http://127.0.0.1:19007/'), '0xc0af', stringToHex('x')])

/** One hostile service per large number: its id, request id, call id and heartbeat interval all use that number. */
const BIG_SERVICES = [
    {label: '2^63', id: TWO_POW_63, operator: op[0]},
    {label: '2^31', id: TWO_POW_31, operator: op[1]},
] as const


let anvil: AnvilInstance
let db: Awaited<ReturnType<typeof startTestDatabase>>
let run: RunResult
let api: ChildProcess | undefined
let apiOutput = ''
let endpoint = ''
let firstBlockAt = ''
let lastBlockAt = ''

beforeAll(async () => {
    const [, anvilInstance, database] = await Promise.all([compileProject(BUILD_DIR), startAnvil(), startTestDatabase()])
    anvil = anvilInstance
    db = database
    const {client, block} = await startBlockEmitter(anvil.rpcUrl)

    const [first] = await block(
        tangle('BlueprintCreated', {
            blueprintId: 1n,
            owner: ACTORS.blueprintOwner,
            manager: A.sandboxManager,
            metadataUri: 'ipfs://bafy-faults-api',
            metadataHash: word('faults-api-metadata'),
        }),
        restaking('OperatorRegistered', {operator: op[0], stake: maxUint256}),
        restaking('OperatorRegistered', {operator: op[1], stake: TWO_POW_63}),
        restaking('OperatorRegistered', {operator: op[2], stake: TWO_POW_31}),
    )
    firstBlockAt = new Date(first.timestamp * 1000).toISOString()
    await block(tangle('OperatorRegistered', {blueprintId: 1n, operator: op[0], ecdsaPublicKey: '0x04' + word('k0').slice(2), rpcAddress: CHAIN_LONG_RPC_ADDRESS}))
    await block(
        tangle('OperatorRegistered', {blueprintId: 1n, operator: op[1], ecdsaPublicKey: '0x04' + word('k1').slice(2), rpcAddress: NUL_RPC_ADDRESS}),
        tangle('OperatorRegistered', {blueprintId: 1n, operator: op[2], ecdsaPublicKey: '0x04' + word('k2').slice(2), rpcAddress: {raw: INVALID_UTF8_RPC_BYTES}}),
    )
    for (const service of BIG_SERVICES) {
        await block(
            tangle('ServiceRequested', {requestId: service.id, blueprintId: 1n, requester: ACTORS.customerA, confidentiality: 0}),
            tangle('ServiceApproved', {requestId: service.id, operator: service.operator}),
        )
        await block(
            tangle('ServiceActivated', {serviceId: service.id, requestId: service.id, blueprintId: 1n, confidentiality: 0}),
            tangle('JobSubmitted', {serviceId: service.id, callId: service.id, jobIndex: 0, caller: ACTORS.customerA, inputs: '0x'}),
            registry('HeartbeatConfigUpdated', {serviceId: service.id, interval: service.id, maxMissed: 3}),
        )
        await block(
            registry('HeartbeatReceived', {serviceId: service.id, blueprintId: 1n, operator: service.operator, statusCode: 0, timestamp: maxUint256}),
            registry('MetricReported', {serviceId: service.id, operator: service.operator, metricName: 'cpu', value: maxUint256}),
            tangle('SlashProposed', {
                slashId: service.id,
                serviceId: service.id,
                operator: service.operator,
                proposer: ACTORS.customerA,
                slashBps: 100,
                effectiveSlashBps: 100,
                evidence: word(`evidence-${service.label}`),
                executeAfter: service.id,
            }),
        )
        const [executed] = await block(tangle('SlashExecuted', {slashId: service.id, serviceId: service.id, operator: service.operator, actualSlashed: maxUint256}))
        lastBlockAt = new Date(executed.timestamp * 1000).toISOString()
    }

    const head = Number(await client.request({method: 'eth_blockNumber'}))
    run = await runProcessorInBuild(BUILD_DIR, {...db.env, NETWORK: 'devnet', RPC_URL: anvil.rpcUrl, PROCESSOR_TO_BLOCK: String(head), PROMETHEUS_PORT: '0'})
    if (run.code !== 0) throw new Error(`processor failed (exit ${run.code}):\n${run.stderr.slice(-4000)}`)
    await insertMibRegistration(db, firstBlockAt)

    const port = await freePort()
    endpoint = `http://127.0.0.1:${port}/graphql`
    const graphql = graphqlServerCommand(path.join(BUILD_DIR, 'lib'))
    api = spawn(graphql.command, graphql.args, {
        cwd: BUILD_DIR,
        env: {...process.env, ...db.env, GQL_PORT: String(port), GQL_HOST: '127.0.0.1'},
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
    await Promise.all([anvil?.stop(), db?.stop()])
})

interface GraphqlResponse<T> {
    data?: T
    errors?: {message: string}[]
}

/** Posts a query and returns its data; any GraphQL error fails the calling test with the message and query. */
async function query<T = Record<string, any>>(text: string): Promise<T> {
    const response = await fetch(endpoint, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({query: text}),
        signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
    })
    const body = (await response.json()) as GraphqlResponse<T>
    if (response.status !== 200 || body.errors !== undefined || body.data === undefined) {
        throw new Error(`GraphQL query failed (HTTP ${response.status}): ${JSON.stringify(body.errors ?? body).slice(0, 2_000)}\nquery: ${text}`)
    }
    return body.data
}

describe('hostile chain data at the API', () => {
    it('processor indexed without handler errors', async () => {
        expect(run.code).toBe(0)
        const unhandled = await db.client.query(`SELECT reason, event_name, detail FROM unhandled_log`)
        expect(unhandled.rows).toEqual([])
    })

    it.each([
        ['2^256-1', op[0], MAX_UINT256],
        ['2^63', op[1], TWO_POW_63.toString()],
        ['2^31', op[2], TWO_POW_31.toString()],
    ])('operator stake %s filters', async (_label, operator, stake) => {
        const id = operator.toLowerCase()
        const data = await query(`{
            eq: operators(where: {stake_eq: "${stake}"}) { id stake }
            gte: operators(where: {stake_gte: "${stake}", id_eq: "${id}"}) { id }
            gt: operators(where: {stake_gt: "${stake}", id_eq: "${id}"}) { id }
            lt: operators(where: {stake_lt: "${stake}", id_eq: "${id}"}) { id }
            in: operators(where: {stake_in: ["${stake}"]}) { id }
            count: operatorsConnection(where: {stake_eq: "${stake}"}, orderBy: stake_DESC) { totalCount }
        }`)
        expect(data.eq).toEqual([{id, stake}])
        expect(data.gte).toEqual([{id}])
        expect(data.gt).toEqual([])
        expect(data.lt).toEqual([])
        expect(data.in).toEqual([{id}])
        expect(data.count.totalCount).toBe(1)
    })

    it('operators sorted by stake exactly', async () => {
        const data = await query(`{ operators(orderBy: stake_DESC) { stake } }`)
        expect(data.operators.map((row: {stake: string}) => row.stake)).toEqual([MAX_UINT256, TWO_POW_63.toString(), TWO_POW_31.toString(), '0'])
    })

    it('rpcAddress of 2 kB exact', async () => {
        const id = `1-${op[0].toLowerCase()}`
        const data = await query(`{ registrationById(id: "${id}") { rpcAddress rpcAddressValidUtf8 } }`)
        expect(data.registrationById.rpcAddress.length).toBe(CHAIN_LONG_RPC_ADDRESS.length)
        expect(data.registrationById.rpcAddress).toBe(CHAIN_LONG_RPC_ADDRESS)
        expect(data.registrationById.rpcAddressValidUtf8).toBe(true)
    })

    it('rpcAddress of 1 MiB exact', async () => {
        const id = `1-${op[3].toLowerCase()}`
        const data = await query(`{ registrationById(id: "${id}") { rpcAddress } }`)
        expect(data.registrationById.rpcAddress.length).toBe(MIB_RPC_ADDRESS.length)
        expect(data.registrationById.rpcAddress).toBe(MIB_RPC_ADDRESS)
    })

    it('1 MiB filter rejected, server alive', async () => {
        // NOTE: the GraphQL server caps a request body below 1 MiB, so a 1 MiB filter value gets HTTP 413, not a result.
        const response = await fetch(endpoint, {
            method: 'POST',
            headers: {'content-type': 'application/json'},
            body: JSON.stringify({query: `{ registrations(where: {rpcAddress_eq: "${MIB_RPC_ADDRESS}"}) { id } }`}),
            signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
        })
        expect(response.status).toBe(413)
        const data = await query(`{ registrationsConnection(where: {rpcAddress_startsWith: "http://127.0.0.1:19008/bbbb"}, orderBy: id_ASC) { totalCount } }`)
        expect(data.registrationsConnection.totalCount).toBe(1)
    })

    it('rpcAddress with NUL readable', async () => {
        const id = `1-${op[1].toLowerCase()}`
        const data = await query(`{ registrationById(id: "${id}") { rpcAddress rpcAddressRaw } }`)
        // PostgreSQL text cannot hold NUL, so the display form shows U+2400 and the raw bytes keep the original.
        expect(data.registrationById.rpcAddress).toBe('http://127.0.0.1:19006/\u2400nul')
        expect(data.registrationById.rpcAddressRaw).toBe(stringToHex(NUL_RPC_ADDRESS))
    })

    it('rpcAddress with invalid UTF-8 readable', async () => {
        const id = `1-${op[2].toLowerCase()}`
        const data = await query(`{ registrationById(id: "${id}") { rpcAddress rpcAddressRaw rpcAddressValidUtf8 } }`)
        expect(data.registrationById.rpcAddressRaw).toBe(INVALID_UTF8_RPC_BYTES)
        expect(data.registrationById.rpcAddressValidUtf8).toBe(false)
        expect(data.registrationById.rpcAddress).toMatch(/^http:\/\/127\.0\.0\.1:19007\/\ufffd+x$/)
    })

    it('registrations filter by hostile strings', async () => {
        const data = await query(`{
            nul: registrations(where: {rpcAddress_contains: "\u2400nul"}) { id }
            long: registrationsConnection(where: {rpcAddress_startsWith: "http://127.0.0.1:19005/aaaa"}, orderBy: id_ASC) { totalCount }
            sorted: registrations(orderBy: rpcAddress_DESC) { id }
        }`)
        expect(data.nul).toEqual([{id: `1-${op[1].toLowerCase()}`}])
        expect(data.long.totalCount).toBe(1)
        expect(data.sorted).toHaveLength(4)
    })

    describe.each(BIG_SERVICES)('numbers at $label', ({id, operator}) => {
        const n = id.toString()
        const operatorId = operator.toLowerCase()

        it('service filters exact', async () => {
            const data = await query(`{
                eq: services(where: {serviceId_eq: "${n}", activationRequestId_eq: "${n}", heartbeatInterval_eq: "${n}"}) { id serviceId activationRequestId heartbeatInterval }
                gt: services(where: {serviceId_gt: "${n}"}) { serviceId }
                lt: services(where: {serviceId_lt: "${n}"}) { serviceId }
                byId: serviceById(id: "${n}") { serviceId }
                count: servicesConnection(where: {heartbeatInterval_gte: "${n}"}, orderBy: serviceId_ASC) { totalCount }
                sorted: services(orderBy: heartbeatInterval_DESC) { heartbeatInterval }
            }`)
            expect(data.eq).toEqual([{id: n, serviceId: n, activationRequestId: n, heartbeatInterval: n}])
            expect(data.byId).toEqual({serviceId: n})
            expect(data.gt.every((row: {serviceId: string}) => BigInt(row.serviceId) > id)).toBe(true)
            expect(data.lt.every((row: {serviceId: string}) => BigInt(row.serviceId) < id)).toBe(true)
            expect(data.gt.length + data.lt.length).toBe(1)
            expect(data.count.totalCount).toBe(id === TWO_POW_63 ? 1 : 2)
            expect(data.sorted.map((row: {heartbeatInterval: string}) => row.heartbeatInterval)).toEqual([TWO_POW_63.toString(), TWO_POW_31.toString()])
        })

        it('service request and job call exact', async () => {
            const data = await query(`{
                requests: serviceRequests(where: {requestId_eq: "${n}"}) { requestId }
                calls: jobCalls(where: {callId_eq: "${n}", service: {serviceId_eq: "${n}"}}) { callId service { id } }
                callCount: jobCallsConnection(where: {callId_gte: "${n}"}, orderBy: callId_ASC) { totalCount }
            }`)
            expect(data.requests).toEqual([{requestId: n}])
            expect(data.calls).toEqual([{callId: n, service: {id: n}}])
            expect(data.callCount.totalCount).toBe(id === TWO_POW_63 ? 1 : 2)
        })

        it('heartbeat values exact', async () => {
            const data = await query(`{
                beats: heartbeats(where: {service: {id_eq: "${n}"}, eventTimestamp_eq: "${MAX_UINT256}"}) { eventTimestamp blueprintId operator { id } }
                configs: heartbeatConfigChanges(where: {interval_eq: "${n}"}) { interval service { id } }
                count: heartbeatsConnection(where: {eventTimestamp_gt: "${TWO_POW_63}"}, orderBy: eventTimestamp_DESC) { totalCount }
            }`)
            expect(data.beats).toEqual([{eventTimestamp: MAX_UINT256, blueprintId: '1', operator: {id: operatorId}}])
            expect(data.configs).toEqual([{interval: n, service: {id: n}}])
            expect(data.count.totalCount).toBe(2)
        })

        it('metric value exact', async () => {
            const data = await query(`{
                metrics(where: {service: {id_eq: "${n}"}, value_eq: "${MAX_UINT256}"}) { name value }
                count: metricsConnection(where: {value_gte: "${MAX_UINT256}"}, orderBy: value_DESC) { totalCount }
            }`)
            expect(data.metrics).toEqual([{name: 'cpu', value: MAX_UINT256}])
            expect(data.count.totalCount).toBe(2)
        })

        it('slash values exact', async () => {
            const data = await query(`{
                slashes(where: {slashId_eq: "${n}", serviceId_eq: "${n}", executeAfter_eq: "${n}", actualSlashed_eq: "${MAX_UINT256}"}) { id status actualSlashed executeAfter }
                count: slashesConnection(where: {actualSlashed_gt: "${TWO_POW_63}"}, orderBy: actualSlashed_DESC) { totalCount }
            }`)
            expect(data.slashes).toEqual([{id: n, status: 'EXECUTED', actualSlashed: MAX_UINT256, executeAfter: n}])
            expect(data.count.totalCount).toBe(2)
        })

        it('gaps resolver with service id', async () => {
            const data = await query(`{ gaps(service: "${n}", limit: 1000) { totalCount gaps { operator serviceId blueprintId } } }`)
            expect(data.gaps.totalCount).toBeGreaterThan(0)
            for (const gap of data.gaps.gaps) {
                expect(gap.serviceId).toBe(n)
                expect(gap.operator).toBe(operatorId)
                expect(gap.blueprintId).toBe('1')
            }
        })

        it('operatorSummary liveness exact', async () => {
            const data = await query(`{ operatorSummary(operator: "${operatorId}", at: "${lastBlockAt}") {
                operator liveness { serviceId heartbeatIntervalSeconds heartbeatMaxMissed lastStatusCode live }
            } }`)
            expect(data.operatorSummary.operator).toBe(operatorId)
            const liveness = data.operatorSummary.liveness.find((row: {serviceId: string}) => row.serviceId === n)
            expect(liveness).toBeDefined()
            expect(liveness.heartbeatIntervalSeconds).toBe(n)
            expect(liveness.heartbeatMaxMissed).toBe(3)
            expect(liveness.lastStatusCode).toBe(0)
            expect(liveness.live).toBe(true)
        })

        it('scorecard counts the slash', async () => {
            const data = await query(`{ scorecard(operator: "${operatorId}", from: "${firstBlockAt}", to: "${new Date(Date.parse(lastBlockAt) + 1000).toISOString()}") {
                operator slashesProposed slashesExecuted jobsSubmitted heartbeatUptime
            } }`)
            expect(data.scorecard).toHaveLength(1)
            expect(data.scorecard[0].operator).toBe(operatorId)
            expect(data.scorecard[0].slashesProposed).toBe(1)
            expect(data.scorecard[0].slashesExecuted).toBe(1)
            expect(data.scorecard[0].jobsSubmitted).toBe(1)
        })

        it('evidenceBundle with service id', async () => {
            const data = await query(`{ evidenceBundle(service: "${n}", operator: "${operatorId}", from: "${firstBlockAt}", to: "${new Date(Date.parse(lastBlockAt) + 1000).toISOString()}") {
                root recordCount bundle
            } }`)
            expect(data.evidenceBundle.root).toMatch(/^0x[0-9a-f]{64}$/)
            expect(data.evidenceBundle.recordCount).toBeGreaterThan(0)
            expect(data.evidenceBundle.bundle).toContain(`"${n}"`)
            expect(data.evidenceBundle.bundle).toContain(MAX_UINT256)
        })
    })
})

describe('API and PostgreSQL', () => {
    it('survives closed idle connections', async () => {
        const scorecards = `{ scorecard(blueprint: "1", from: "${firstBlockAt}", to: "${new Date(Date.parse(lastBlockAt) + 1000).toISOString()}") { operator } }`
        // An ended period: the API stores it through its own pools, which then hold idle connections.
        const first = await query(scorecards)
        expect(first.scorecard.length).toBeGreaterThan(0)
        const ended = await db.client.query(
            `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE pid <> pg_backend_pid() AND datname = current_database() AND backend_type = 'client backend') t`,
        )
        expect(ended.rows[0].n).toBeGreaterThan(0)
        await new Promise((resolve) => setTimeout(resolve, 500))
        expect(api?.exitCode).toBeNull()
        expect(apiOutput).toContain("PostgreSQL ended an idle connection on an administrator's command (shutdown or pg_terminate_backend)")
        const again = await query(scorecards)
        expect(again.scorecard).toEqual(first.scorecard)
    })
})

describe('indexed dynamic parameters', () => {
    it('no ABI event indexes a dynamic type', () => {
        // An indexed string, bytes, array or tuple reaches a log only as its keccak-256 hash, so a handler could never
        // read its value. None of the indexed ABIs has one; a new ABI that adds one needs a handler that stores the hash.
        const abiDirectory = path.join(PROJECT_ROOT, 'abi')
        const dynamic: string[] = []
        for (const file of readdirSync(abiDirectory).filter((name) => name.endsWith('.json'))) {
            const parsed = JSON.parse(readFileSync(path.join(abiDirectory, file), 'utf8')) as unknown
            const entries = (Array.isArray(parsed) ? parsed : (parsed as {abi: unknown[]}).abi) as Array<{type: string; name?: string; inputs?: Array<{type: string; name: string; indexed?: boolean}>}>
            for (const entry of entries.filter((item) => item.type === 'event')) {
                for (const input of entry.inputs ?? []) {
                    const isDynamic = input.type === 'string' || input.type === 'bytes' || input.type.endsWith(']') || input.type.startsWith('tuple')
                    if (input.indexed === true && isDynamic) dynamic.push(`${file} ${entry.name}.${input.name}: ${input.type}`)
                }
            }
        }
        expect(readdirSync(abiDirectory).length).toBeGreaterThan(10)
        expect(dynamic).toEqual([])
    })
})

/** Writes a registration of operator 3 with a 1 MiB address, in the columns the processor fills. */
async function insertMibRegistration(database: Awaited<ReturnType<typeof startTestDatabase>>, at: string): Promise<void> {
    const operator = op[3].toLowerCase()
    await database.client.query(
        `INSERT INTO operator (id, stake, restaking_status, unstake_scheduled, first_seen_block, first_seen_at)
         VALUES ($1, 0, 'NONE', 0, 1, $2)`,
        [operator, at],
    )
    await database.client.query(
        `INSERT INTO registration (id, blueprint_id, operator_id, status, rpc_address, rpc_address_raw, rpc_address_valid_utf8,
             registration_count, registered_at_block, registered_at, updated_at)
         VALUES ($1, '1', $2, 'ACTIVE', $3, $4, true, 1, 1, $5, $5)`,
        [`1-${operator}`, operator, MIB_RPC_ADDRESS, Buffer.from(MIB_RPC_ADDRESS), at],
    )
}


/** Waits until the API returns data for a trivial query, failing with its output when it exits or times out. */
async function waitForServer(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS
    while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`squid-graphql-server exited (code ${child.exitCode}) before answering:\n${apiOutput}`)
        }
        try {
            await query('{ __typename }')
            return
        } catch {
            // Not listening yet.
        }
        await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(`squid-graphql-server did not answer within ${SERVER_START_TIMEOUT_MS} ms. Output:\n${apiOutput}`)
}
