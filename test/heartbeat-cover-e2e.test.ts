import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEVNET_ADDRESSES} from '../src/config/networks/presets'
import {ACTORS, OPERATORS} from '../src/devnet/actors'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import type {RunResult} from '../src/stack/children'
import {registry, restaking, startBlockEmitter, tangle} from './helpers/devnet-events'
import {countedHeartbeats, recomputedHeartbeatCover, storedHeartbeatCover} from './helpers/heartbeat-cover'
import {runProcessorTo, startTestDatabase} from './helpers/stack'

// The processor adds the cover of a finalized batch's heartbeats itself. These runs check it where it meets the
// trigger: a batch that changes a service's heartbeat setting after the service already has heartbeats, and in which
// an operator leaves the service and goes on sending heartbeats that no longer count.

const A = DEVNET_ADDRESSES

let anvil: AnvilInstance
let db: Awaited<ReturnType<typeof startTestDatabase>>
const runs: RunResult[] = []
let settings: string[] = []

beforeAll(async () => {
    ;[anvil, db] = await Promise.all([startAnvil(), startTestDatabase()])
    const {client, block, lastTimestamp} = await startBlockEmitter(anvil.rpcUrl)
    const operators = [OPERATORS[0], OPERATORS[1]]
    const heartbeats = (statusCode: number) =>
        operators.map((operator) =>
            registry('HeartbeatReceived', {serviceId: 1n, blueprintId: 1n, operator, statusCode, timestamp: BigInt(lastTimestamp())}),
        )

    await block(
        tangle('BlueprintCreated', {blueprintId: 1n, owner: ACTORS.blueprintOwner, manager: A.sandboxManager, metadataUri: 'ipfs://cover', metadataHash: `0x${'11'.repeat(32)}`}),
        ...operators.map((operator) => restaking('OperatorRegistered', {operator, stake: 1n})),
    )
    await block(
        tangle('ServiceRequested', {requestId: 1n, blueprintId: 1n, requester: ACTORS.customerA, confidentiality: 0}),
        ...operators.map((operator) => tangle('ServiceApproved', {requestId: 1n, operator})),
    )
    await block(
        tangle('ServiceActivated', {serviceId: 1n, requestId: 1n, blueprintId: 1n, confidentiality: 0}),
        // Grace 60 s × 3, longer than the 12 s between blocks: every healthy heartbeat covers up to the next.
        registry('HeartbeatConfigUpdated', {serviceId: 1n, interval: 60n, maxMissed: 3}),
    )
    for (let n = 0; n < 12; n++) await block(...heartbeats(n % 5 === 4 ? 1 : 0))
    const firstHead = Number(await client.request({method: 'eth_blockNumber'}))
    runs.push(await runProcessorTo(anvil.rpcUrl, db.env, firstHead))

    // Records, per heartbeat INSERT statement, whether the transaction set the trigger to leave the cover to the writer.
    await db.client.query('CREATE TABLE cover_setting_log (setting text)')
    await db.client.query(`CREATE FUNCTION log_cover_setting() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO cover_setting_log VALUES (coalesce(current_setting('proofgap.heartbeat_cover', true), '')); RETURN NULL; END $$`)
    await db.client.query('CREATE TRIGGER log_cover_setting AFTER INSERT ON heartbeat FOR EACH STATEMENT EXECUTE FUNCTION log_cover_setting()')

    // The second batch: heartbeats, then a shorter grace (2 s × 3 = 6 s) in the middle, then more heartbeats. The
    // second operator leaves in the third block, before its heartbeat there.
    for (let n = 0; n < 6; n++) {
        if (n === 2) await block(tangle('OperatorLeftService', {serviceId: 1n, operator: operators[1]}), ...heartbeats(0))
        else await block(...heartbeats(0))
    }
    await block(registry('HeartbeatConfigUpdated', {serviceId: 1n, interval: 2n, maxMissed: 3}), ...heartbeats(0))
    for (let n = 0; n < 6; n++) await block(...heartbeats(n === 2 ? 2 : 0))
    const secondHead = Number(await client.request({method: 'eth_blockNumber'}))
    runs.push(await runProcessorTo(anvil.rpcUrl, db.env, secondHead))
    settings = (await db.client.query<{setting: string}>('SELECT setting FROM cover_setting_log')).rows.map((row) => row.setting)
}, 180_000)

afterAll(async () => {
    await Promise.all([anvil?.stop(), db?.stop()])
})

describe('heartbeat cover written by the processor', () => {
    it('both runs exit cleanly', () => {
        expect(runs).toHaveLength(2)
        for (const run of runs) expect(run.code, run.stderr.slice(-3000)).toBe(0)
    })

    it('second batch took the writer path', () => {
        expect(settings).toEqual(['writer'])
    })

    it('grace change applies to later heartbeats', async () => {
        const grace = await db.client.query(`SELECT heartbeat_interval::text AS interval FROM service WHERE id = '1'`)
        expect(grace.rows[0].interval).toBe('2')
        const judged = await countedHeartbeats(db.client)
        expect(judged.filter((row) => row.heartbeatIntervalSeconds === 60n).length).toBeGreaterThan(0)
        expect(judged.filter((row) => row.heartbeatIntervalSeconds === 2n).length).toBeGreaterThan(0)
        const stored = await storedHeartbeatCover(db.client)
        expect(stored.length).toBeGreaterThan(0)
        expect(stored).toEqual(await recomputedHeartbeatCover(db.client))
    })

    it('heartbeats after leaving add no cover', async () => {
        const leaver = OPERATORS[1].toLowerCase()
        const judged = (await countedHeartbeats(db.client)).filter((row) => row.operator === leaver)
        const after = judged.filter((row) => !row.counted)
        // Every heartbeat from the block it left in on is stored: four in the first six blocks, one beside the setting
        // change, six after it.
        expect(after).toHaveLength(11)
        const [left] = (await db.client.query(`SELECT left_at FROM service_membership WHERE operator_id = $1`, [leaver])).rows
        expect(after[0].at).toEqual(left.left_at)
        // Its cover ends at its last counted heartbeat, which the heartbeats after leaving do not cut short or extend.
        const counted = judged.filter((row) => row.counted)
        let expectedMs = 0
        for (let i = 0; i + 1 < counted.length; i++) {
            if (counted[i].statusCode === 0) expectedMs += Math.min(counted[i + 1].at.getTime() - counted[i].at.getTime(), 180_000)
        }
        const cover = await db.client.query(`SELECT sum(covered_ms)::bigint AS ms FROM heartbeat_day_cover WHERE operator_id = $1`, [leaver])
        expect(Number(cover.rows[0].ms)).toBe(expectedMs)
    })
})
