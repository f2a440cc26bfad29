import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createClient, http, type Hex} from 'viem'
import {DEVNET_ADDRESSES} from '../src/config'
import {OPERATORS} from '../src/devnet/actors'
import {startAnvil, DEVNET_GENESIS_TIMESTAMP_S, type AnvilInstance} from '../src/devnet/anvil'
import {installEmitter, type EmittedLog, type RpcRequester} from '../src/devnet/emitter'
import {stopChild, type RunResult} from '../src/stack/children'
import {CHAIN_MISMATCH_EXIT_CODE, describeChainMismatch} from '../src/chain/chain-identity'
import {dumpChainTables} from './helpers/db'
import {
    chainDifferences,
    chainHead,
    chainRowCount,
    heartbeat,
    hotBlocks,
    indexedHead,
    Miner,
    mineBaseChain,
    processorStatus,
    registration,
    revert,
    snapshot,
    startFollowingProcessor,
    waitForExit,
    waitForIndexedHead,
    BLOCK_TIME_S,
    type ChainHead,
    type Database,
    type FollowingProcessor,
} from './helpers/reorg'
import {runProcessorTo, startTestDatabase} from './helpers/stack'

/*
 * Reorganisations a live node produces: two forks in quick succession, a fork deeper than the finality depth, and a
 * devnet restarted with the same heights but new hashes. Each must end in a database equal to a fresh index of one
 * chain, or in a stop with an error that names the fix, never in rows of two chains mixed.
 */

/** Log line of @subsquid/util-internal-processor-tools (evm-processor 1.27) when it rolls hot blocks back. */
const FORK_LOG = /navigating a fork between \d+#\w+ to \d+#\w+ with a common base \d+#/g
/** A processor that hit a fork below its finalised block should stop well within this. */
const STOP_TIMEOUT_MS = 45_000

const op = OPERATORS

function rpcClient(anvil: AnvilInstance): RpcRequester {
    return createClient({transport: http(anvil.rpcUrl)})
}

async function blockHashes(client: RpcRequester, from: number, to: number): Promise<Map<number, string>> {
    const hashes = new Map<number, string>()
    for (let height = from; height <= to; height++) {
        const block = (await client.request({method: 'eth_getBlockByNumber', params: [`0x${height.toString(16)}` as Hex, false]})) as {hash: string}
        hashes.set(height, block.hash)
    }
    return hashes
}

describe('describeChainMismatch', () => {
    const indexed = {height: 8, hash: '0xaa'}

    it('same hash is no mismatch', () => {
        expect(describeChainMismatch(indexed, '0xaa', 5)).toBeUndefined()
    })

    it('other hash names both hashes', () => {
        const message = describeChainMismatch(indexed, '0xbb', 5)
        expect(message).toContain('last final block 8 is 0xaa')
        expect(message).toContain('has 0xbb there')
        expect(message).toContain('FINALITY_CONFIRMATIONS=5')
    })

    it('missing block named in message', () => {
        expect(describeChainMismatch(indexed, null, 0)).toContain('has no block at that height')
    })
})

describe('two reorgs in quick succession', () => {
    const FINALITY_CONFIRMATIONS = 5
    let anvil: AnvilInstance
    let followed: Database
    let fresh: Database
    let processor: FollowingProcessor | undefined
    let branchB: {registration: EmittedLog; heartbeat: EmittedLog}
    let branchA: {registration: EmittedLog}
    let finalHead: ChainHead
    let freshRun: RunResult
    let output = ''

    beforeAll(async () => {
        ;[anvil, followed, fresh] = await Promise.all([startAnvil(), startTestDatabase(), startTestDatabase()])
        const client = rpcClient(anvil)
        await installEmitter(client, Object.values(DEVNET_ADDRESSES))
        const miner = new Miner(client)
        await mineBaseChain(miner)
        const base = await snapshot(client)
        const timeAtBase = miner.time

        // Branch A: a registration of operator 2 and a heartbeat with status 7, indexed as hot blocks.
        const [registrationA] = await miner.block(registration(2))
        await miner.block(heartbeat(0, 7, miner.time + BLOCK_TIME_S))
        branchA = {registration: registrationA}
        processor = startFollowingProcessor(anvil.rpcUrl, followed, FINALITY_CONFIRMATIONS)
        await waitForIndexedHead(followed, processor, await chainHead(client))

        // First reorg, back to the base: branch B registers operator 3 and sends a heartbeat with status 9.
        await revert(client, base)
        miner.time = timeAtBase + 1
        const [registrationB] = await miner.block(registration(3))
        const insideB = await snapshot(client)
        const timeInsideB = miner.time
        const [heartbeatB] = await miner.block(heartbeat(1, 9, miner.time + BLOCK_TIME_S))
        await miner.block(heartbeat(0, 5, miner.time + BLOCK_TIME_S))
        branchB = {registration: registrationB, heartbeat: heartbeatB}
        await waitForIndexedHead(followed, processor, await chainHead(client))

        // Second reorg as soon as branch B is stored and still hot: branch C keeps B's first block and replaces the rest.
        await revert(client, insideB)
        miner.time = timeInsideB + 2
        await miner.heartbeats(2, 1, 4)
        await miner.block(heartbeat(0, 0, miner.time + BLOCK_TIME_S))
        finalHead = await chainHead(client)
        await waitForIndexedHead(followed, processor, finalHead)

        await stopChild(processor.child)
        output = processor.output()
        freshRun = await runProcessorTo(anvil.rpcUrl, fresh.env, finalHead.height)
    }, 120_000)

    afterAll(async () => {
        if (processor) await stopChild(processor.child)
        await Promise.all([anvil?.stop(), followed?.stop(), fresh?.stop()])
    })

    it('processor navigated both forks', () => {
        expect(output.match(FORK_LOG)?.length).toBe(2)
    })

    it('processor reached the final head', async () => {
        expect(await indexedHead(followed.client)).toEqual(finalHead)
    })

    it('fresh index run exits cleanly', () => {
        expect(freshRun.code, freshRun.stderr.slice(-4000)).toBe(0)
    })

    it('database equals a fresh index', async () => {
        expect(await chainDifferences(followed.client, fresh.client)).toEqual([])
    })

    it('reference index is not empty', async () => {
        expect(await chainRowCount(fresh.client)).toBeGreaterThan(20)
    })

    it('branch A registration is gone', async () => {
        const rows = await followed.client.query(`SELECT id FROM registration_change WHERE id = $1`, [branchA.registration.logId])
        expect(rows.rows).toEqual([])
    })

    it('branch B heartbeat is gone', async () => {
        const rows = await followed.client.query(`SELECT id FROM heartbeat WHERE id = $1 OR status_code IN (5, 9)`, [branchB.heartbeat.logId])
        expect(rows.rows).toEqual([])
    })

    it('shared block of B and C kept', async () => {
        const rows = await followed.client.query(`SELECT id FROM registration_change WHERE id = $1`, [branchB.registration.logId])
        expect(rows.rows).toEqual([{id: branchB.registration.logId}])
    })
})

describe('reorg deeper than finality', () => {
    const FINALITY_CONFIRMATIONS = 2
    let anvil: AnvilInstance
    let followed: Database
    let oldChainReference: Database
    let processor: FollowingProcessor | undefined
    let oldHead: ChainHead
    let oldHashes: Map<number, string>
    let newHashes: Map<number, string>
    let exitCode: number | null | undefined
    let output = ''
    let referenceRun: RunResult
    let restart: RunResult
    let statusAfterStop: ChainHead | undefined
    let dumpAfterStop: unknown

    beforeAll(async () => {
        ;[anvil, followed, oldChainReference] = await Promise.all([startAnvil(), startTestDatabase(), startTestDatabase()])
        const client = rpcClient(anvil)
        await installEmitter(client, Object.values(DEVNET_ADDRESSES))
        const miner = new Miner(client)
        await mineBaseChain(miner)
        const base = await snapshot(client)
        const baseHeight = (await chainHead(client)).height
        const timeAtBase = miner.time

        // Old chain: five blocks past the base, so the processor finalises three of them.
        await miner.block(registration(2))
        await miner.heartbeats(4, 0, 7)
        oldHead = await chainHead(client)
        oldHashes = await blockHashes(client, 0, oldHead.height)
        processor = startFollowingProcessor(anvil.rpcUrl, followed, FINALITY_CONFIRMATIONS)
        ;[referenceRun] = await Promise.all([
            runProcessorTo(anvil.rpcUrl, oldChainReference.env, oldHead.height),
            waitForIndexedHead(followed, processor, oldHead),
        ])

        // New chain from the base, one block longer: the fork point lies below the processor's finalised block.
        await revert(client, base)
        miner.time = timeAtBase + 1
        await miner.block(registration(3))
        await miner.heartbeats(5, 1, 9)
        newHashes = await blockHashes(client, baseHeight, baseHeight + 6)

        exitCode = await waitForExit(processor, STOP_TIMEOUT_MS)
        output = processor.output()
        await stopChild(processor.child)
        statusAfterStop = await processorStatus(followed.client)
        dumpAfterStop = await dumpChainTables(followed.client)

        // A supervisor would restart the processor on the same database.
        restart = await runProcessorTo(anvil.rpcUrl, followed.env, baseHeight + 6, {FINALITY_CONFIRMATIONS: String(FINALITY_CONFIRMATIONS)})
    }, 150_000)

    afterAll(async () => {
        if (processor) await stopChild(processor.child)
        await Promise.all([anvil?.stop(), followed?.stop(), oldChainReference?.stop()])
    })

    it('fork point is below the finalised block', () => {
        expect(statusAfterStop).toBeDefined()
        expect(statusAfterStop!.height).toBe(oldHead.height - FINALITY_CONFIRMATIONS)
        expect(newHashes.get(statusAfterStop!.height)).not.toBe(statusAfterStop!.hash)
    })

    it('processor stops with non-zero exit', () => {
        expect(exitCode, output.slice(-4000)).not.toBeUndefined()
        expect(exitCode, output.slice(-4000)).not.toBe(0)
    })

    it('stop message is the SDK assertion', () => {
        // NOTE: evm-processor 1.27 stops on an empty hot chain without naming the fork; the restart below names it.
        expect(output).toMatch(/AssertionError \[ERR_ASSERTION\][^]*at HotProcessor\.moveToBlocks/)
    })

    it('status stays on the old chain', () => {
        expect(statusAfterStop!.hash).toBe(oldHashes.get(statusAfterStop!.height))
    })

    it('hot blocks stay on the old chain', async () => {
        const hot = await hotBlocks(followed.client)
        expect(hot.map((block) => block.height)).toEqual([oldHead.height - 1, oldHead.height])
        for (const block of hot) expect(block.hash).toBe(oldHashes.get(block.height))
    })

    it('old chain reference run exits cleanly', () => {
        expect(referenceRun.code, referenceRun.stderr.slice(-4000)).toBe(0)
    })

    it('database equals old chain index', async () => {
        expect(await chainDifferences(followed.client, oldChainReference.client)).toEqual([])
    })

    it('new branch rows are absent', async () => {
        const rows = await followed.client.query(`SELECT id FROM heartbeat WHERE status_code = 9`)
        expect(rows.rows).toEqual([])
        const registrations = await followed.client.query(`SELECT id FROM registration WHERE operator_id = $1`, [op[3].toLowerCase()])
        expect(registrations.rows).toEqual([])
    })

    it('restart exits with mismatch code', () => {
        expect(restart.code, restart.stderr.slice(-4000)).toBe(CHAIN_MISMATCH_EXIT_CODE)
    })

    it('restart message names the fix', () => {
        const text = restart.stdout + restart.stderr
        expect(text).toContain(`its last final block ${statusAfterStop!.height} is ${statusAfterStop!.hash}`)
        expect(text).toContain(`has ${newHashes.get(statusAfterStop!.height)} there`)
        expect(text).toContain('raise FINALITY_CONFIRMATIONS')
    })

    it('restart leaves the database unchanged', async () => {
        expect(await processorStatus(followed.client)).toEqual(statusAfterStop)
        expect(await dumpChainTables(followed.client)).toEqual(dumpAfterStop)
    })
})

describe('restarted devnet with new hashes', () => {
    let first: AnvilInstance | undefined
    let second: AnvilInstance
    let followed: Database
    let firstRun: RunResult
    let secondRun: RunResult
    let firstHead: ChainHead
    let secondHashes: Map<number, string>
    let statusBefore: ChainHead | undefined
    let dumpBefore: unknown

    beforeAll(async () => {
        ;[first, followed] = await Promise.all([startAnvil(), startTestDatabase()])
        const firstClient = rpcClient(first)
        await installEmitter(firstClient, Object.values(DEVNET_ADDRESSES))
        await mineBaseChain(new Miner(firstClient))
        firstHead = await chainHead(firstClient)
        firstRun = await runProcessorTo(first.rpcUrl, followed.env, firstHead.height)
        statusBefore = await processorStatus(followed.client)
        dumpBefore = await dumpChainTables(followed.client)
        await first.stop()
        first = undefined

        // The same scenario five seconds later, then two more blocks: same heights, different block hashes.
        second = await startAnvil()
        const secondClient = rpcClient(second)
        await installEmitter(secondClient, Object.values(DEVNET_ADDRESSES))
        const miner = new Miner(secondClient, DEVNET_GENESIS_TIMESTAMP_S + 5)
        await mineBaseChain(miner)
        await miner.heartbeats(2, 0, 0)
        const secondHead = await chainHead(secondClient)
        secondHashes = await blockHashes(secondClient, firstHead.height, firstHead.height)
        secondRun = await runProcessorTo(second.rpcUrl, followed.env, secondHead.height)
    }, 120_000)

    afterAll(async () => {
        await Promise.all([first?.stop(), second?.stop(), followed?.stop()])
    })

    it('first devnet indexed to its head', () => {
        expect(firstRun.code, firstRun.stderr.slice(-4000)).toBe(0)
        expect(statusBefore).toEqual(firstHead)
    })

    it('second devnet has new hashes', () => {
        expect(secondHashes.get(firstHead.height)).not.toBe(firstHead.hash)
    })

    it('processor exits with mismatch code', () => {
        expect(secondRun.code, secondRun.stderr.slice(-4000)).toBe(CHAIN_MISMATCH_EXIT_CODE)
    })

    it('stop message names the fix', () => {
        const text = secondRun.stdout + secondRun.stderr
        expect(text).toContain(`its last final block ${firstHead.height} is ${firstHead.hash}`)
        expect(text).toContain('Drop the database or point DB_* to a new one')
    })

    it('database keeps the first chain only', async () => {
        expect(await processorStatus(followed.client)).toEqual(statusBefore)
        expect(await dumpChainTables(followed.client)).toEqual(dumpBefore)
    })
})
