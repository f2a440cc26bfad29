import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createPublicClient, http, toEventSelector} from 'viem'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {buildScenario, runScenario, LEAKED_SIDECAR_TOKEN, SANDBOX_CREATE_INPUT} from '../src/devnet/scenario'
import {expectedState, UNCHECKED_COLUMNS, type ExpectedState} from '../src/devnet/expected'
import {diffWithExpected} from './helpers/compare'
import {runProcessorTo, startTestDatabase} from './helpers/stack'
import {recomputedHeartbeatCover, storedHeartbeatCover} from './helpers/heartbeat-cover'
import type {RunResult} from '../src/stack/children'

/** topic0 of ServiceActivated, to find the blocks before activations. */
const ACTIVATED_TOPIC = toEventSelector('ServiceActivated(uint64,uint64,uint64,uint8)')

let anvil: AnvilInstance
let db: Awaited<ReturnType<typeof startTestDatabase>>
let expected: ExpectedState
let run: RunResult

beforeAll(async () => {
    ;[anvil, db] = await Promise.all([startAnvil(), startTestDatabase()])
    const scenario = buildScenario()
    const records = await runScenario(anvil.rpcUrl, scenario)
    expected = expectedState(scenario, records)
    const head = Number(await createPublicClient({transport: http(anvil.rpcUrl)}).getBlockNumber())
    run = await runProcessorTo(anvil.rpcUrl, db.env, head)
})

afterAll(async () => {
    await Promise.all([anvil?.stop(), db?.stop()])
})

describe('devnet scenario indexed from block 0 to head', () => {
    it('processor exits cleanly', () => {
        expect(run.stderr.includes('HANDLER_ERROR') ? run.stderr : '').toBe('')
        expect(run.code, run.stderr.slice(-4000)).toBe(0)
    })

    it('no handler error was recorded', async () => {
        const rows = await db.client.query(`SELECT id, event_name, detail FROM unhandled_log WHERE reason = 'HANDLER_ERROR'`)
        expect(rows.rows).toEqual([])
    })

    it('every expected table equals the scenario state', async () => {
        const mismatches = await diffWithExpected(db.client, expected)
        expect(mismatches).toEqual([])
    })

    it('row counts match per table', async () => {
        for (const [table, rows] of Object.entries(expected)) {
            const count = await db.client.query(`SELECT count(*)::text AS n FROM "${table}"`)
            expect({table, n: count.rows[0].n}).toEqual({table, n: String(Object.keys(rows).length)})
        }
    })

    it('leaked secrets stored nowhere', async () => {
        // The sidecar token of a job output, and the API key a customer put in a job input's env_json.
        const apiKey = (JSON.parse(SANDBOX_CREATE_INPUT.env_json) as {OPENAI_API_KEY: string}).OPENAI_API_KEY
        const tables = await db.client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
        for (const secret of [LEAKED_SIDECAR_TOKEN, apiKey]) {
            const hex = Buffer.from(secret, 'utf8').toString('hex')
            for (const {table_name} of tables.rows) {
                const hit = await db.client.query(
                    `SELECT count(*)::int AS n FROM "${table_name}" t WHERE t::text LIKE $1 OR t::text LIKE $2`,
                    [`%${secret}%`, `%${hex}%`],
                )
                expect({table: table_name, secret: secret.slice(0, 4), hits: hit.rows[0].n}).toEqual({table: table_name, secret: secret.slice(0, 4), hits: 0})
            }
            expect(run.stdout.includes(secret) || run.stderr.includes(secret)).toBe(false)
        }
        const found = await db.client.query(`SELECT kind, call_id::text, redacted FROM secret_exposure WHERE kind LIKE 'INPUT%' ORDER BY call_id`)
        expect(found.rows).toEqual([
            {kind: 'INPUT_SECRET', call_id: '0', redacted: `sk-d…[${apiKey.length} chars]`},
            {kind: 'INPUT_SECRET', call_id: '2', redacted: `sk-d…[${apiKey.length} chars]`},
        ])
    })

    it('heartbeat cover equals recomputation', async () => {
        // One finalized batch: the processor adds the heartbeats' cover itself.
        const stored = await storedHeartbeatCover(db.client)
        expect(stored.length).toBeGreaterThan(0)
        expect(stored).toEqual(await recomputedHeartbeatCover(db.client))
    })

    it('unchecked columns stay few', () => {
        // The expectation may leave a column out only with a stated reason; this keeps the list from growing silently.
        expect(Object.keys(UNCHECKED_COLUMNS).length).toBeLessThanOrEqual(12)
    })
})

describe('devnet scenario indexed in small merged batches', () => {
    // 3 blocks per request group and at most 7 per handler call: request groups are merged and split in places that
    // the default settings (one batch for the whole scenario) never try.
    let smallDb: Awaited<ReturnType<typeof startTestDatabase>>
    let smallRun: RunResult

    beforeAll(async () => {
        smallDb = await startTestDatabase()
        const head = Number(await createPublicClient({transport: http(anvil.rpcUrl)}).getBlockNumber())
        smallRun = await runProcessorTo(anvil.rpcUrl, smallDb.env, head, {
            RPC_BLOCKS_PER_REQUEST: '3',
            PROCESSOR_MAX_BATCH_BLOCKS: '7',
            SQD_DEBUG: 'sqd:processor:mapping',
        })
    }, 120_000)

    afterAll(async () => {
        await smallDb?.stop()
    })

    it('every batch stays within 7 blocks', () => {
        expect(smallRun.code, smallRun.stderr.slice(-4000)).toBe(0)
        const sizes = [...smallRun.stderr.matchAll(/"msg":"batch handled"[^\n]*?"blocks":(\d+)/g)].map((m) => Number(m[1]))
        expect(sizes.length).toBeGreaterThan(1)
        expect(Math.max(...sizes)).toBeLessThanOrEqual(7)
    })

    it('equals the scenario state', async () => {
        expect(await diffWithExpected(smallDb.client, expected)).toEqual([])
    })

    it('heartbeat cover equals one run', async () => {
        expect(await storedHeartbeatCover(smallDb.client)).toEqual(await storedHeartbeatCover(db.client))
    })
})

describe('devnet scenario indexed in legs', () => {
    // Batches never span two runs, so stopping the processor before every ServiceActivated and every tenth block
    // makes each handler read what earlier batches wrote (approvals, registrations, calls) from the database.
    let legDb: Awaited<ReturnType<typeof startTestDatabase>>
    let legAnvil: AnvilInstance
    let legExpected: ExpectedState
    const legRuns: RunResult[] = []

    beforeAll(async () => {
        ;[legAnvil, legDb] = await Promise.all([startAnvil(), startTestDatabase()])
        const scenario = buildScenario()
        const records = await runScenario(legAnvil.rpcUrl, scenario)
        legExpected = expectedState(scenario, records)
        const head = Number(await createPublicClient({transport: http(legAnvil.rpcUrl)}).getBlockNumber())
        const activations = records.filter((record) => record.topics[0] === ACTIVATED_TOPIC).map((record) => record.blockNumber - 1)
        const ends = [...new Set([...activations, ...Array.from({length: Math.floor(head / 10)}, (_, i) => (i + 1) * 10), head])]
            .filter((block) => block > 0 && block <= head)
            .sort((a, b) => a - b)
        for (const end of ends) legRuns.push(await runProcessorTo(legAnvil.rpcUrl, legDb.env, end))
    }, 240_000)

    afterAll(async () => {
        await Promise.all([legAnvil?.stop(), legDb?.stop()])
    })

    it('every leg exits cleanly', () => {
        expect(legRuns.length).toBeGreaterThan(3)
        for (const leg of legRuns) expect(leg.code, leg.stderr.slice(-2000)).toBe(0)
    })

    it('legs equal one run', async () => {
        const handlerErrors = await legDb.client.query(`SELECT detail FROM unhandled_log WHERE reason = 'HANDLER_ERROR'`)
        expect(handlerErrors.rows).toEqual([])
        expect(await diffWithExpected(legDb.client, legExpected)).toEqual([])
    })

    it('heartbeat cover equals recomputation', async () => {
        const stored = await storedHeartbeatCover(legDb.client)
        expect(stored.length).toBeGreaterThan(0)
        expect(stored).toEqual(await recomputedHeartbeatCover(legDb.client))
    })
})
