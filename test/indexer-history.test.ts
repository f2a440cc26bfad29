import {afterAll, beforeAll, expect, it} from 'vitest'
import {createPublicClient, http} from 'viem'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {buildScenario, runScenario} from '../src/devnet/scenario'
import {expectedState, type ExpectedState} from '../src/devnet/expected'
import {tableRows} from './helpers/db'
import {runProcessorTo, startTestDatabase} from './helpers/stack'
import type {RunResult} from '../src/stack/children'

// The demo plays two weeks of hourly heartbeats before the main scenario; the index must match it as exactly.
const HISTORY_DAYS = 14

let anvil: AnvilInstance
let db: Awaited<ReturnType<typeof startTestDatabase>>
let expected: ExpectedState
let run: RunResult

beforeAll(async () => {
    ;[anvil, db] = await Promise.all([startAnvil(), startTestDatabase()])
    const scenario = buildScenario({historyDays: HISTORY_DAYS})
    const records = await runScenario(anvil.rpcUrl, scenario)
    expected = expectedState(scenario, records)
    const head = Number(await createPublicClient({transport: http(anvil.rpcUrl)}).getBlockNumber())
    run = await runProcessorTo(anvil.rpcUrl, db.env, head)
}, 240_000)

afterAll(async () => {
    await Promise.all([anvil?.stop(), db?.stop()])
})

it('history scenario processor exits cleanly', () => {
    expect(run.code, run.stderr.slice(-3000)).toBe(0)
})

it('history heartbeats all indexed', async () => {
    const count = await db.client.query(`SELECT count(*)::int AS n FROM heartbeat`)
    expect(count.rows[0].n).toBe(Object.keys(expected.heartbeat).length)
    // 14 days × 24 hours × 9 operators, less 24 silent hours of operator 2 and 12 of operator 7, plus the main scenario.
    expect(count.rows[0].n).toBeGreaterThan(HISTORY_DAYS * 24 * 9 - 36)
})

it('history services and states match', async () => {
    for (const table of ['service', 'operator_service_state', 'heartbeat_config_change']) {
        const actual = await tableRows(db.client, table)
        for (const [id, row] of Object.entries(expected[table])) {
            const got = actual.get(id)
            expect(got, `${table}[${id}]`).toBeDefined()
            for (const [column, value] of Object.entries(row)) {
                expect({table, id, column, value: got![column]}).toEqual({table, id, column, value})
            }
        }
        expect(actual.size).toBe(Object.keys(expected[table]).length)
    }
})
