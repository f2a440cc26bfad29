import path from 'node:path'
import type {ChildProcess} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createClient, http, type Hex} from 'viem'
import pg from 'pg'
import {DEVNET_ADDRESSES, PROCESSOR_STATE_SCHEMA} from '../src/config'
import {OPERATORS, ACTORS, word} from '../src/devnet/actors'
import {startAnvil, DEVNET_GENESIS_TIMESTAMP_S, type AnvilInstance} from '../src/devnet/anvil'
import {emitLogs, installEmitter, type EmittedLog, type LogToEmit, type RpcRequester} from '../src/devnet/emitter'
import {encodeEvent, type AbiName} from '../src/devnet/encode'
import {PROJECT_ROOT, startChild, stopChild, type RunResult} from '../src/stack/children'
import {dumpChainTables} from './helpers/db'
import {runProcessorTo, startTestDatabase} from './helpers/stack'

/*
 * A chain reorganisation inside the processor's hot range. The processor indexes two unfinalised blocks (a
 * registration and a heartbeat), then anvil reverts them and mines a longer, different branch. Afterwards the database
 * must equal a fresh index of the new canonical chain.
 */

const FINALITY_CONFIRMATIONS = 5
const BLOCK_TIME_S = 12
/** The processor polls the head every 5 s (evm-processor 1.27 default), so catching up takes a few polls. */
const CATCH_UP_TIMEOUT_MS = 60_000
const POLL_INTERVAL_MS = 250

type Database = Awaited<ReturnType<typeof startTestDatabase>>

const A = DEVNET_ADDRESSES
const op = OPERATORS

function log(abi: AbiName, address: string, event: string, args: Record<string, unknown>): LogToEmit {
    return {address: address as Hex, ...encodeEvent(abi, event, args)}
}

const tangle = (event: string, args: Record<string, unknown>) => log('Tangle', A.tangle, event, args)
const restaking = (event: string, args: Record<string, unknown>) => log('MultiAssetDelegation', A.multiAssetDelegation, event, args)
const heartbeat = (operator: number, statusCode: number, timestamp: number) =>
    log('OperatorStatusRegistry', A.operatorStatusRegistry, 'HeartbeatReceived', {
        serviceId: 0n,
        blueprintId: 1n,
        operator: op[operator],
        statusCode,
        timestamp: BigInt(timestamp),
    })
const registration = (operator: number) =>
    tangle('OperatorRegistered', {
        blueprintId: 1n,
        operator: op[operator],
        ecdsaPublicKey: '0x04' + word(`reorg-key-${operator}`).slice(2),
        rpcAddress: `http://127.0.0.1:${19_000 + operator}/`,
    })

/** Mines blocks with a running clock so that every block time is known and later than the last. */
class Miner {
    time = DEVNET_GENESIS_TIMESTAMP_S
    constructor(private readonly client: RpcRequester) {}

    async block(...logs: LogToEmit[]): Promise<EmittedLog[]> {
        this.time += BLOCK_TIME_S
        return emitLogs(this.client, logs, {timestamp: this.time})
    }
}

/** Mines the chain before the reorg point: a blueprint, four operators, one service with two members, and heartbeats. */
async function mineBaseChain(miner: Miner): Promise<void> {
    await miner.block(
        tangle('BlueprintCreated', {
            blueprintId: 1n,
            owner: ACTORS.blueprintOwner,
            manager: A.sandboxManager,
            metadataUri: 'ipfs://bafy-reorg-1',
            metadataHash: word('reorg-metadata-1'),
        }),
        ...[0, 1, 2, 3].map((index) => restaking('OperatorRegistered', {operator: op[index], stake: 10n ** 18n * BigInt(index + 1)})),
    )
    await miner.block(registration(0), registration(1))
    await miner.block(
        tangle('ServiceRequested', {requestId: 0n, blueprintId: 1n, requester: ACTORS.customerA, confidentiality: 0}),
        tangle('ServiceApproved', {requestId: 0n, operator: op[0]}),
        tangle('ServiceApproved', {requestId: 0n, operator: op[1]}),
    )
    await miner.block(tangle('ServiceActivated', {serviceId: 0n, requestId: 0n, blueprintId: 1n, confidentiality: 0}))
    for (let round = 0; round < 4; round++) {
        await miner.block(heartbeat(0, 0, miner.time + BLOCK_TIME_S), heartbeat(1, 0, miner.time + BLOCK_TIME_S))
    }
}

interface ChainHead {
    height: number
    hash: string
}

async function chainHead(client: RpcRequester): Promise<ChainHead> {
    const block = (await client.request({method: 'eth_getBlockByNumber', params: ['latest', false]})) as {number: Hex; hash: Hex}
    return {height: Number(block.number), hash: block.hash}
}

/** Returns the highest block the processor has stored: the top hot block, else the finalised status. */
async function indexedHead(client: pg.Client): Promise<ChainHead | undefined> {
    const exists = await client.query(`SELECT to_regclass('${PROCESSOR_STATE_SCHEMA}.status') IS NOT NULL AS ok`)
    if (!exists.rows[0].ok) return undefined
    const hot = await client.query(`SELECT height, hash FROM ${PROCESSOR_STATE_SCHEMA}.hot_block ORDER BY height DESC LIMIT 1`)
    if (hot.rows.length > 0) return {height: hot.rows[0].height, hash: hot.rows[0].hash}
    const status = await client.query(`SELECT height, hash FROM ${PROCESSOR_STATE_SCHEMA}.status WHERE id = 0`)
    return status.rows.length > 0 ? {height: status.rows[0].height, hash: status.rows[0].hash} : undefined
}

/** A processor child that follows the head, with its output kept for the failure messages. */
interface FollowingProcessor {
    child: ChildProcess
    output(): string
}

function startFollowingProcessor(rpcUrl: string, db: Database): FollowingProcessor {
    const child = startChild(
        process.execPath,
        [path.join(PROJECT_ROOT, 'lib', 'main.js')],
        {
            ...db.env,
            NETWORK: 'devnet',
            RPC_URL: rpcUrl,
            FINALITY_CONFIRMATIONS: String(FINALITY_CONFIRMATIONS),
            PROMETHEUS_PORT: '0',
        },
        'reorg processor',
    )
    let output = ''
    const keep = (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-100_000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    return {child, output: () => output}
}

/** Waits until the processor stored `head` (same height and hash), failing with its output on timeout or exit. */
async function waitForIndexedHead(db: Database, processor: FollowingProcessor, head: ChainHead): Promise<void> {
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS
    let last: ChainHead | undefined
    while (Date.now() < deadline) {
        if (processor.child.exitCode !== null || processor.child.signalCode !== null) {
            throw new Error(`processor exited (code ${processor.child.exitCode}) before block ${head.height}:\n${processor.output().slice(-4000)}`)
        }
        last = await indexedHead(db.client)
        if (last && last.height === head.height && last.hash === head.hash) return
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
    }
    throw new Error(
        `processor timed out: block ${head.height} ${head.hash} not indexed within ${CATCH_UP_TIMEOUT_MS} ms; ` +
            `last indexed ${JSON.stringify(last)}. Output:\n${processor.output().slice(-4000)}`,
    )
}

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

    processor = startFollowingProcessor(anvil.rpcUrl, followed)
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
