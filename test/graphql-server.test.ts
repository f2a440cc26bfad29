import type {ChildProcess} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createPublicClient, http, maxUint256} from 'viem'
import {HOSTILE_URL_OPERATORS, OPERATORS} from '../src/devnet/actors'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {buildScenario, runScenario, LEAKED_SIDECAR_TOKEN} from '../src/devnet/scenario'
import {expectedState, unhandledCountsByReason, type ExpectedRow, type ExpectedState} from '../src/devnet/expected'
import {freePort} from '../src/db/embedded'
import {graphqlServerCommand, startChild, stopChild, type RunResult} from '../src/stack/children'
import {listeningAddresses} from './helpers/listening'
import {runProcessorTo, startTestDatabase} from './helpers/stack'

/*
 * The squid GraphQL server over an indexed devnet: values read over HTTP must equal the scenario's expected state,
 * with every chain number as an exact decimal string.
 */

const SERVER_START_TIMEOUT_MS = 30_000
const POLL_INTERVAL_MS = 200
const QUERY_TIMEOUT_MS = 10_000
const MAX_ROWS = 1000

let anvil: AnvilInstance
let db: Awaited<ReturnType<typeof startTestDatabase>>
let expected: ExpectedState
let run: RunResult
let server: ChildProcess | undefined
let serverOutput = ''
let endpoint: string
let port: number

interface GraphqlResponse<T> {
    data?: T
    errors?: {message: string}[]
}

/** Posts `body` as it is, with the JSON content type. */
async function postRaw(body: string): Promise<Response> {
    return fetch(endpoint, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body,
        signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
    })
}

async function query<T>(text: string): Promise<T> {
    const response = await postRaw(JSON.stringify({query: text}))
    const body = (await response.json()) as GraphqlResponse<T>
    if (response.status !== 200 || body.errors || !body.data) {
        throw new Error(`GraphQL query failed (HTTP ${response.status}): ${JSON.stringify(body.errors ?? body)}\nquery: ${text}`)
    }
    return body.data
}

/** Waits until the server returns data for a trivial query, failing with its output when it exits or times out. */
async function waitForServer(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS
    let lastError = ''
    while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`squid-graphql-server exited (code ${child.exitCode}, signal ${child.signalCode}) before answering:\n${serverOutput}`)
        }
        try {
            await query<unknown>('{ __typename }')
            return
        } catch (err) {
            lastError = (err as Error).message
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
    }
    throw new Error(`squid-graphql-server timed out: no answer within ${SERVER_START_TIMEOUT_MS} ms (${lastError}). Output:\n${serverOutput}`)
}

beforeAll(async () => {
    ;[anvil, db] = await Promise.all([startAnvil(), startTestDatabase()])
    const scenario = buildScenario()
    const records = await runScenario(anvil.rpcUrl, scenario)
    expected = expectedState(scenario, records)
    const head = Number(await createPublicClient({transport: http(anvil.rpcUrl)}).getBlockNumber())
    run = await runProcessorTo(anvil.rpcUrl, db.env, head)
    if (run.code !== 0) throw new Error(`processor failed (exit ${run.code}):\n${run.stderr.slice(-4000)}`)

    port = await freePort()
    endpoint = `http://127.0.0.1:${port}/graphql`
    const command = graphqlServerCommand()
    // NODE_ENV empty, as under `npm run api`: Express and Apollo then run in development mode, where they would show
    // stack traces.
    server = startChild(command.command, command.args, {...db.env, GQL_PORT: String(port), GQL_HOST: '127.0.0.1', NODE_ENV: ''}, 'squid-graphql-server')
    const keep = (chunk: Buffer) => {
        serverOutput = (serverOutput + chunk.toString('utf8')).slice(-20_000)
    }
    server.stdout?.on('data', keep)
    server.stderr?.on('data', keep)
    await waitForServer(server)
})

afterAll(async () => {
    if (server) await stopChild(server)
    await Promise.all([anvil?.stop(), db?.stop()])
})

function compareIds(a: string, b: string): number {
    if (a === b) return 0
    return a < b ? -1 : 1
}

function expectedRows(table: string): [string, ExpectedRow][] {
    return Object.entries(expected[table] ?? {}).sort(([a], [b]) => compareIds(a, b))
}

/** Sorts rows by id in code unit order, the same order `expectedRows` uses, whatever the server's collation. */
function byId<T extends {id: string}>(rows: T[]): T[] {
    return [...rows].sort((a, b) => compareIds(a.id, b.id))
}

describe('GraphQL server over the indexed devnet', () => {
    it('listens on GQL_HOST only', () => {
        expect(listeningAddresses(port)).toEqual(['127.0.0.1'])
    })

    it('errors hide internals outside production', async () => {
        // This server runs without NODE_ENV, where Apollo would add stack traces.
        const response = await postRaw(JSON.stringify({query: '{ heartbeats(limit: -1) { id } }'}))
        const body = (await response.json()) as {errors?: {message: string; extensions?: unknown}[]}
        expect(body.errors?.[0]?.message, JSON.stringify(body)).toBe('limit must not be negative')
        expect(body.errors![0].extensions).toEqual({code: 'BAD_USER_INPUT'})
        expect(JSON.stringify(body)).not.toMatch(/stacktrace|SELECT|driverError|\.js:\d+/)
        // Logged as the client's error: a warning with the client's message, no SQL text and no stack trace.
        await expect.poll(() => serverOutput).toContain('limit must not be negative')
        expect(serverOutput).not.toMatch(/LIMIT -1|QueryFailedError|nodeLimit/)
        const line = serverOutput.split('\n').find((l) => l.includes('limit must not be negative'))
        expect(JSON.parse(line!).level).toBe(3)
    })

    it('root fields capped at 20', async () => {
        const fields = (count: number) => `{ ${Array.from({length: count}, (_, i) => `f${i}: operators(limit: 1) { id }`).join(' ')} }`
        const twenty = await query<Record<string, {id: string}[]>>(fields(20))
        expect(Object.keys(twenty)).toHaveLength(20)
        const response = await postRaw(JSON.stringify({query: fields(21)}))
        const body = (await response.json()) as {errors?: {message: string}[]}
        expect(body.errors?.[0]?.message, JSON.stringify(body)).toMatch(/20 root fields/)
        // OpenReader sends the 20 root fields' queries on one connection at once, which pg 8 warns about.
        expect(serverOutput).not.toMatch(/DeprecationWarning|already executing a query/)
    })

    it.each([
        ['empty object', '{}', 'POST body missing'],
        ['query not a string', '{"query": 5}', 'GraphQL queries must be strings.'],
    ])('%s gets a JSON error', async (_name, body, message) => {
        const response = await postRaw(body)
        expect(response.status).toBe(400)
        expect(response.headers.get('content-type')).toMatch(/^application\/json/)
        const parsed = (await response.json()) as {errors?: {message: string; extensions?: unknown}[]}
        expect(parsed.errors?.[0]?.message).toContain(message)
        expect(parsed.errors![0].extensions).toEqual({code: 'BAD_REQUEST'})
    })

    it('GET without query gets a JSON error', async () => {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {headers: {accept: 'application/json'}})
        expect(response.status).toBe(400)
        expect(await response.json()).toEqual({errors: [{message: 'GET query missing.', extensions: {code: 'BAD_REQUEST'}}]})
    })

    it('request without query is BAD_REQUEST', async () => {
        const response = await postRaw(JSON.stringify({variables: {}}))
        expect(response.status).toBe(400)
        const body = (await response.json()) as {errors?: {message: string; extensions?: unknown}[]}
        expect(body.errors?.[0]?.message, JSON.stringify(body)).toMatch(/must contain a non-empty `query`/)
        expect(body.errors![0].extensions).toEqual({code: 'BAD_REQUEST'})
    })

    it('NUL argument is client error', async () => {
        const response = await postRaw(JSON.stringify({query: '{ operators(where: {id_eq: "a\\u0000b"}) { id } }'}))
        const body = (await response.json()) as {errors?: {message: string; extensions?: unknown}[]}
        expect(body.errors?.[0]?.message, JSON.stringify(body)).toBe('string arguments must not contain the NUL character (U+0000)')
        expect(body.errors![0].extensions).toEqual({code: 'BAD_USER_INPUT'})
    })

    it('negative offset is the client error', async () => {
        const response = await postRaw(JSON.stringify({query: '{ operators(offset: -3) { id } }'}))
        const body = (await response.json()) as {errors?: {message: string; extensions?: unknown}[]}
        expect(body.errors?.[0], JSON.stringify(body)).toEqual({
            message: 'offset must not be negative',
            locations: expect.anything(),
            path: ['operators'],
            extensions: {code: 'BAD_USER_INPUT'},
        })
    })

    it('bad body gets no stack', async () => {
        // Outside production, Express would put the parser's stack trace into the response.
        for (const body of ['{"query": ', 'not json at all']) {
            const response = await postRaw(body)
            expect(response.status).toBe(400)
            const text = await response.text()
            expect(text).toContain('Bad Request')
            expect(text).not.toMatch(/SyntaxError|node_modules|\.js:\d+/)
        }
        // Over squid-graphql-server's default request size (256 KB).
        const large = await postRaw(JSON.stringify({query: `{ __typename }${' '.repeat(300 * 1024)}`}))
        expect(large.status).toBe(413)
        const text = await large.text()
        expect(text).toContain('Payload Too Large')
        expect(text).not.toMatch(/PayloadTooLargeError|node_modules|\.js:\d+/)
        // A client's mistake leaves no line in the API's log.
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect(serverOutput).not.toMatch(/SyntaxError|PayloadTooLargeError|entity\.parse\.failed/)
        // A query still works afterwards.
        expect(await query<{__typename: string}>('{ __typename }')).toEqual({__typename: 'Query'})
    })

    it('operators with registrations', async () => {
        const data = await query<{
            operators: {
                id: string
                stake: string
                restakingStatus: string
                registrations: {id: string; status: string; rpcAddress: string | null; rpcAddressRaw: string | null; rpcAddressValidUtf8: boolean | null}[]
            }[]
        }>(`{
            operators(orderBy: id_ASC, limit: ${MAX_ROWS}) {
                id stake restakingStatus
                registrations(orderBy: id_ASC) { id status rpcAddress rpcAddressRaw rpcAddressValidUtf8 }
            }
        }`)
        const operators = byId(data.operators)
        expect(operators.map((o) => o.id)).toEqual(expectedRows('operator').map(([id]) => id))

        const mismatches: string[] = []
        for (const operator of operators) {
            const want = expected.operator[operator.id]
            // The expectation leaves stake out for an operator that left the restaking layer.
            if ('stake' in want && operator.stake !== want.stake) mismatches.push(`${operator.id}.stake: ${operator.stake} != ${want.stake}`)
            if (operator.restakingStatus !== want.restaking_status) mismatches.push(`${operator.id}.restakingStatus: ${operator.restakingStatus}`)
            const wantRegistrations = expectedRows('registration').filter(([, row]) => row.operator_id === operator.id)
            expect(byId(operator.registrations).map((r) => r.id)).toEqual(wantRegistrations.map(([id]) => id))
            for (const registration of operator.registrations) {
                const row = expected.registration[registration.id]
                const got = {
                    status: registration.status,
                    rpc_address: registration.rpcAddress,
                    rpc_address_raw: registration.rpcAddressRaw,
                    rpc_address_valid_utf8: registration.rpcAddressValidUtf8,
                }
                const want = {
                    status: row.status,
                    rpc_address: row.rpc_address,
                    rpc_address_raw: row.rpc_address_raw,
                    rpc_address_valid_utf8: row.rpc_address_valid_utf8,
                }
                if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${registration.id}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`)
            }
        }
        expect(mismatches).toEqual([])
    })

    it('hostile rpcAddress forms served', async () => {
        const nul = await query<{registrations: {rpcAddress: string; rpcAddressValidUtf8: boolean}[]}>(
            `{ registrations(where: {operator: {id_eq: "${HOSTILE_URL_OPERATORS.nulBytes.toLowerCase()}"}}) { rpcAddress rpcAddressValidUtf8 } }`,
        )
        expect(nul.registrations).toHaveLength(1)
        expect(nul.registrations[0].rpcAddress).toContain('\u2400\u2400injected')
        const invalid = await query<{registrations: {rpcAddress: string; rpcAddressValidUtf8: boolean}[]}>(
            `{ registrations(where: {operator: {id_eq: "${HOSTILE_URL_OPERATORS.invalidUtf8.toLowerCase()}"}}) { rpcAddress rpcAddressValidUtf8 } }`,
        )
        expect(invalid.registrations).toHaveLength(1)
        expect(invalid.registrations[0].rpcAddress).toContain('\ufffd')
        expect(invalid.registrations[0].rpcAddressValidUtf8).toBe(false)
    })

    it('services with memberships', async () => {
        const data = await query<{
            services: {id: string; status: string; blueprint: {id: string}; memberships: {id: string; active: boolean; source: string; operator: {id: string}}[]}[]
        }>(`{
            services(orderBy: id_ASC, limit: ${MAX_ROWS}) {
                id status blueprint { id }
                memberships(orderBy: id_ASC) { id active source operator { id } }
            }
        }`)
        const services = byId(data.services)
        expect(services.map((s) => s.id)).toEqual(expectedRows('service').map(([id]) => id))
        for (const service of services) {
            const want = expected.service[service.id]
            expect({id: service.id, status: service.status, blueprint: service.blueprint.id}).toEqual({
                id: service.id,
                status: want.status,
                blueprint: want.blueprint_id,
            })
            const wantMemberships = expectedRows('service_membership')
                .filter(([, row]) => row.service_id === service.id)
                .map(([id, row]) => ({id, active: row.active, source: row.source, operator: row.operator_id}))
            const gotMemberships = byId(service.memberships).map((m) => ({id: m.id, active: m.active, source: m.source, operator: m.operator.id}))
            expect(gotMemberships).toEqual(wantMemberships)
        }
    })

    it('heartbeat total count', async () => {
        const data = await query<{heartbeatsConnection: {totalCount: number}}>('{ heartbeatsConnection(orderBy: id_ASC) { totalCount } }')
        expect(data.heartbeatsConnection.totalCount).toBe(Object.keys(expected.heartbeat).length)
        expect(data.heartbeatsConnection.totalCount).toBeGreaterThan(100)
    })

    it('uint256 stake as exact string', async () => {
        const operator = OPERATORS[10].toLowerCase()
        const data = await query<{operatorById: {stake: string}}>(`{ operatorById(id: "${operator}") { stake } }`)
        expect(data.operatorById.stake).toBe('115792089237316195423570985008687907853269984665640564039457584007913129639935')
        expect(data.operatorById.stake).toBe(expected.operator[operator].stake)
    })

    it('uint256 slashed amount exact', async () => {
        const data = await query<{slashById: {actualSlashed: string; status: string}}>('{ slashById(id: "1") { actualSlashed status } }')
        expect(data.slashById).toEqual({actualSlashed: maxUint256.toString(), status: 'EXECUTED'})
    })

    it('BigInt filter on uint256 value', async () => {
        const data = await query<{operators: {id: string}[]}>(`{ operators(where: {stake_eq: "${maxUint256}"}) { id } }`)
        expect(data.operators.map((o) => o.id)).toEqual([OPERATORS[10].toLowerCase()])
    })

    it('unhandled logs by reason', async () => {
        const counts = unhandledCountsByReason(expected)
        expect(Object.keys(counts).length).toBeGreaterThan(0)
        for (const [reason, count] of Object.entries(counts)) {
            const data = await query<{unhandledLogs: {id: string; reason: string; eventName: string | null}[]}>(
                `{ unhandledLogs(where: {reason_eq: "${reason}"}, orderBy: id_ASC, limit: ${MAX_ROWS}) { id reason eventName } }`,
            )
            const wantIds = expectedRows('unhandled_log')
                .filter(([, row]) => row.reason === reason)
                .map(([id]) => id)
            expect({reason, ids: byId(data.unhandledLogs).map((l) => l.id)}).toEqual({reason, ids: wantIds})
            expect(data.unhandledLogs).toHaveLength(count)
            for (const log of data.unhandledLogs) expect(log.eventName).toBe(expected.unhandled_log[log.id].event_name)
        }
    })

    it('leaked token absent from responses', async () => {
        const data = await query<{secretExposures: {redacted: string}[]; sandboxes: {tokenRedacted: string | null}[]}>(
            '{ secretExposures(limit: 100) { redacted } sandboxes(limit: 100) { tokenRedacted } }',
        )
        expect(data.secretExposures.length).toBeGreaterThan(0)
        expect(JSON.stringify(data)).not.toContain(LEAKED_SIDECAR_TOKEN)
        expect(data.secretExposures.map((e) => e.redacted)).toContain(`${LEAKED_SIDECAR_TOKEN.slice(0, 4)}…[${LEAKED_SIDECAR_TOKEN.length} chars]`)
    })
})
