import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createClient, http, type Hex} from 'viem'
import {DEVNET_ADDRESSES} from '../src/config'
import {OPERATORS} from '../src/devnet/actors'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {installEmitter, type EmittedLog} from '../src/devnet/emitter'
import {stopChild, type RunResult} from '../src/stack/children'
import {dumpChainTables} from './helpers/db'
import {recomputedHeartbeatCover, storedHeartbeatCover} from './helpers/heartbeat-cover'
import {
    BLOCK_TIME_S,
    Miner,
    chainHead,
    heartbeat,
    indexedHead,
    mineBaseChain,
    registration,
    startFollowingProcessor,
    waitForIndexedHead,
    type ChainHead,
    type Database,
    type FollowingProcessor,
} from './helpers/reorg'
import {runProcessorTo, startTestDatabase} from './helpers/stack'

/*
 * A chain reorganisation inside the processor's hot range. The processor indexes two unfinalised blocks (a
 * registration and a heartbeat), then anvil reverts them and mines a longer, different branch. Afterwards the database
 * must equal a fresh index of the new canonical chain.
 */

const FINALITY_CONFIRMATIONS = 5
const A = DEVNET_ADDRESSES
const op = OPERATORS

let anvil: AnvilInstance
let followed: Database
let fresh: Database
let processor: FollowingProcessor | undefined
let hotHeadBeforeReorg: ChainHead
let indexedBeforeReorg: ChainHead | undefined
let removed: {registration: EmittedLog; heartbeat: EmittedLog}
let added: {registration: EmittedLog; heartbeat: EmittedLog}
let newHead: ChainHead
let freshRun: RunResult
let followerOutput = ''

beforeAll(async () => {
    ;[anvil, followed, fresh] = await Promise.all([startAnvil(), startTestDatabase(), startTestDatabase()])
    const client = createClient({transport: http(anvil.rpcUrl)})
    await installEmitter(client, Object.values(A))
    const miner = new Miner(client)

    await mineBaseChain(miner)
    const snapshot = (await client.request({method: 'evm_snapshot' as never, params: [] as never})) as Hex
    const timeAtSnapshot = miner.time

    // Old branch: a registration of operator 2, then a heartbeat of operator 0 with status 7.
    const [oldRegistration] = await miner.block(registration(2))
    const [oldHeartbeat] = await miner.block(heartbeat(0, 7, miner.time + BLOCK_TIME_S))
    removed = {registration: oldRegistration, heartbeat: oldHeartbeat}
    hotHeadBeforeReorg = await chainHead(client)

    processor = startFollowingProcessor(anvil.rpcUrl, followed, FINALITY_CONFIRMATIONS)
    await waitForIndexedHead(followed, processor, hotHeadBeforeReorg)
    indexedBeforeReorg = await indexedHead(followed.client)

    // New branch, one block longer: a registration of operator 3, a heartbeat of operator 1 with status 9, one more.
    const reverted = await client.request({method: 'evm_revert' as never, params: [snapshot] as never})
    if (reverted !== true) throw new Error(`evm_revert to snapshot ${snapshot} failed: returned ${JSON.stringify(reverted)}`)
    miner.time = timeAtSnapshot + 1
    const [newRegistration] = await miner.block(registration(3))
    const [newHeartbeat] = await miner.block(heartbeat(1, 9, miner.time + BLOCK_TIME_S))
    await miner.block(heartbeat(0, 0, miner.time + BLOCK_TIME_S))
    added = {registration: newRegistration, heartbeat: newHeartbeat}
    newHead = await chainHead(client)

    await waitForIndexedHead(followed, processor, newHead)
    await stopChild(processor.child)
    followerOutput = processor.output()

    freshRun = await runProcessorTo(anvil.rpcUrl, fresh.env, newHead.height)
}, 150_000)

afterAll(async () => {
    if (processor) await stopChild(processor.child)
    await Promise.all([anvil?.stop(), followed?.stop(), fresh?.stop()])
})

describe('reorg inside the hot range', () => {
    it('old branch was indexed as hot blocks', () => {
        expect(indexedBeforeReorg).toEqual(hotHeadBeforeReorg)
        expect(hotHeadBeforeReorg.height).toBe(removed.heartbeat.blockNumber)
    })

    it('new branch replaces the same heights', () => {
        expect(added.registration.blockNumber).toBe(removed.registration.blockNumber)
        expect(added.heartbeat.blockNumber).toBe(removed.heartbeat.blockNumber)
        expect(added.registration.blockHash).not.toBe(removed.registration.blockHash)
        expect(newHead.height).toBe(hotHeadBeforeReorg.height + 1)
    })

    it('processor navigated the fork', () => {
        // Log line of @subsquid/util-internal-processor-tools (evm-processor 1.27) when it rolls hot blocks back.
        expect(followerOutput).toMatch(/navigating a fork between \d+#\w+ to \d+#\w+ with a common base \d+#/)
    })

    it('processor reached the new head', async () => {
        expect(await indexedHead(followed.client)).toEqual(newHead)
    })

    it('fresh index run exits cleanly', () => {
        expect(freshRun.code, freshRun.stderr.slice(-4000)).toBe(0)
    })

    it('removed registration is gone', async () => {
        const rows = await followed.client.query(`SELECT id FROM registration WHERE operator_id = $1`, [op[2].toLowerCase()])
        expect(rows.rows).toEqual([])
        const changes = await followed.client.query(`SELECT id FROM registration_change WHERE id = $1`, [removed.registration.logId])
        expect(changes.rows).toEqual([])
    })

    it('removed heartbeat is gone', async () => {
        const rows = await followed.client.query(`SELECT id FROM heartbeat WHERE id = $1 OR status_code = 7`, [removed.heartbeat.logId])
        expect(rows.rows).toEqual([])
    })

    it('added registration and heartbeat are stored', async () => {
        const registrationRow = await followed.client.query(`SELECT id, status FROM registration WHERE operator_id = $1`, [op[3].toLowerCase()])
        expect(registrationRow.rows).toEqual([{id: `1-${op[3].toLowerCase()}`, status: 'ACTIVE'}])
        const heartbeatRow = await followed.client.query(`SELECT id, status_code FROM heartbeat WHERE id = $1`, [added.heartbeat.logId])
        expect(heartbeatRow.rows).toEqual([{id: added.heartbeat.logId, status_code: 9}])
    })

    it('operator 0 state reflects the new branch', async () => {
        // The removed heartbeat (status 7) was the last one of operator 0 on the old branch.
        const state = await followed.client.query(
            `SELECT heartbeat_count, last_status_code, last_heartbeat_block FROM operator_service_state WHERE id = $1`,
            [`0-${op[0].toLowerCase()}`],
        )
        expect(state.rows).toEqual([{heartbeat_count: 5, last_status_code: 0, last_heartbeat_block: newHead.height}])
    })

    it('database equals a fresh index', async () => {
        const [afterReorg, reference] = await Promise.all([dumpChainTables(followed.client), dumpChainTables(fresh.client)])
        const differences: string[] = []
        for (const table of Object.keys(reference)) {
            const got = afterReorg[table]
            const want = reference[table]
            for (const id of Object.keys(want)) {
                if (!(id in got)) differences.push(`${table}[${id}]: missing after the reorg`)
                else if (JSON.stringify(got[id]) !== JSON.stringify(want[id])) {
                    differences.push(`${table}[${id}]: ${JSON.stringify(got[id])} != fresh ${JSON.stringify(want[id])}`)
                }
            }
            for (const id of Object.keys(got)) if (!(id in want)) differences.push(`${table}[${id}]: left over from the old branch`)
        }
        expect(differences).toEqual([])
    })

    it('heartbeat cover equals a fresh index', async () => {
        // heartbeat_day_cover has no id column, so the comparison above does not see it; triggers on heartbeat keep it.
        const [afterReorg, reference] = await Promise.all([storedHeartbeatCover(followed.client), storedHeartbeatCover(fresh.client)])
        expect(reference.length).toBeGreaterThan(0)
        expect(afterReorg).toEqual(reference)
        expect(afterReorg).toEqual(await recomputedHeartbeatCover(followed.client))
    })

    it('comparison covers the changed tables', async () => {
        // Guards the comparison above against passing on empty tables.
        const reference = await dumpChainTables(fresh.client)
        const counts = Object.fromEntries(
            ['operator', 'registration', 'registration_change', 'service', 'service_membership', 'heartbeat', 'operator_service_state'].map(
                (table) => [table, Object.keys(reference[table]).length],
            ),
        )
        expect(counts).toEqual({
            operator: 4,
            registration: 3,
            registration_change: 3,
            service: 1,
            service_membership: 2,
            heartbeat: 10,
            operator_service_state: 2,
        })
    })
})
