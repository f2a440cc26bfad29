import path from 'node:path'
import type {ChildProcess} from 'node:child_process'
import type {Hex} from 'viem'
import pg from 'pg'
import {DEVNET_ADDRESSES, PROCESSOR_STATE_SCHEMA} from '../../src/config'
import {OPERATORS, ACTORS, word} from '../../src/devnet/actors'
import {DEVNET_GENESIS_TIMESTAMP_S} from '../../src/devnet/anvil'
import {emitLogs, type EmittedLog, type LogToEmit, type RpcRequester} from '../../src/devnet/emitter'
import {encodeEvent, type AbiName} from '../../src/devnet/encode'
import {PROJECT_ROOT, startChild} from '../../src/stack/children'
import {dumpChainTables} from './db'
import type {startTestDatabase} from './stack'

export type Database = Awaited<ReturnType<typeof startTestDatabase>>

export const BLOCK_TIME_S = 12
/** The processor polls the head every 5 s (evm-processor 1.27 default), so catching up takes a few polls. */
const CATCH_UP_TIMEOUT_MS = 60_000
const POLL_INTERVAL_MS = 250

const A = DEVNET_ADDRESSES
const op = OPERATORS

function log(abi: AbiName, address: string, event: string, args: Record<string, unknown>): LogToEmit {
    return {address: address as Hex, ...encodeEvent(abi, event, args)}
}

export const tangle = (event: string, args: Record<string, unknown>) => log('Tangle', A.tangle, event, args)
const restaking = (event: string, args: Record<string, unknown>) => log('MultiAssetDelegation', A.multiAssetDelegation, event, args)

export const heartbeat = (operator: number, statusCode: number, timestamp: number) =>
    log('OperatorStatusRegistry', A.operatorStatusRegistry, 'HeartbeatReceived', {
        serviceId: 0n,
        blueprintId: 1n,
        operator: op[operator],
        statusCode,
        timestamp: BigInt(timestamp),
    })

export const registration = (operator: number) =>
    tangle('OperatorRegistered', {
        blueprintId: 1n,
        operator: op[operator],
        ecdsaPublicKey: '0x04' + word(`reorg-key-${operator}`).slice(2),
        rpcAddress: `http://127.0.0.1:${19_000 + operator}/`,
    })

/** Mines blocks with a running clock so that every block time is known and later than the last. */
export class Miner {
    time: number
    constructor(
        private readonly client: RpcRequester,
        startTime = DEVNET_GENESIS_TIMESTAMP_S,
    ) {
        this.time = startTime
    }

    async block(...logs: LogToEmit[]): Promise<EmittedLog[]> {
        this.time += BLOCK_TIME_S
        return emitLogs(this.client, logs, {timestamp: this.time})
    }

    /** Mines `count` blocks, each with a heartbeat of `operator` carrying `statusCode`. */
    async heartbeats(count: number, operator: number, statusCode: number): Promise<EmittedLog[]> {
        const emitted: EmittedLog[] = []
        for (let i = 0; i < count; i++) emitted.push(...(await this.block(heartbeat(operator, statusCode, this.time + BLOCK_TIME_S))))
        return emitted
    }
}

/** Mines a blueprint, four operators, one service with two members, and four rounds of heartbeats. */
export async function mineBaseChain(miner: Miner): Promise<void> {
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

export interface ChainHead {
    height: number
    hash: string
}

export async function chainHead(client: RpcRequester): Promise<ChainHead> {
    const block = (await client.request({method: 'eth_getBlockByNumber', params: ['latest', false]})) as {number: Hex; hash: Hex}
    return {height: Number(block.number), hash: block.hash}
}

export async function snapshot(client: RpcRequester): Promise<Hex> {
    return (await client.request({method: 'evm_snapshot' as never, params: [] as never})) as Hex
}

/** Reverts anvil to `id`. Anvil drops the snapshot on revert, so take a new one to return there again. */
export async function revert(client: RpcRequester, id: Hex): Promise<void> {
    const reverted = await client.request({method: 'evm_revert' as never, params: [id] as never})
    if (reverted !== true) throw new Error(`evm_revert to snapshot ${id} failed: returned ${JSON.stringify(reverted)}`)
}

/** Returns the finalised status the processor stored, or undefined before its first commit. */
export async function processorStatus(client: pg.Client): Promise<ChainHead | undefined> {
    const exists = await client.query(`SELECT to_regclass('${PROCESSOR_STATE_SCHEMA}.status') IS NOT NULL AS ok`)
    if (!exists.rows[0].ok) return undefined
    const status = await client.query(`SELECT height, hash FROM ${PROCESSOR_STATE_SCHEMA}.status WHERE id = 0`)
    return status.rows.length > 0 ? {height: status.rows[0].height, hash: status.rows[0].hash} : undefined
}

/** Returns the processor's hot blocks, lowest first. */
export async function hotBlocks(client: pg.Client): Promise<ChainHead[]> {
    const rows = await client.query(`SELECT height, hash FROM ${PROCESSOR_STATE_SCHEMA}.hot_block ORDER BY height`)
    return rows.rows.map((row) => ({height: row.height, hash: row.hash}))
}

/** Returns the highest block the processor has stored: the top hot block, else the finalised status. */
export async function indexedHead(client: pg.Client): Promise<ChainHead | undefined> {
    const status = await processorStatus(client)
    if (!status) return undefined
    const hot = await hotBlocks(client)
    return hot.length > 0 ? hot[hot.length - 1] : status
}

/** A processor child that follows the head, with its output kept for the failure messages. */
export interface FollowingProcessor {
    child: ChildProcess
    output(): string
    exited: Promise<number | null>
}

export function startFollowingProcessor(rpcUrl: string, db: Database, finalityConfirmations: number): FollowingProcessor {
    const child = startChild(
        process.execPath,
        [path.join(PROJECT_ROOT, 'lib', 'main.js')],
        {
            ...db.env,
            NETWORK: 'devnet',
            RPC_URL: rpcUrl,
            FINALITY_CONFIRMATIONS: String(finalityConfirmations),
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
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    return {child, output: () => output, exited}
}

function hasExited(processor: FollowingProcessor): boolean {
    return processor.child.exitCode !== null || processor.child.signalCode !== null
}

/** Waits until the processor stored `head` (same height and hash), failing with its output on timeout or exit. */
export async function waitForIndexedHead(db: Database, processor: FollowingProcessor, head: ChainHead): Promise<void> {
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS
    let last: ChainHead | undefined
    while (Date.now() < deadline) {
        if (hasExited(processor)) {
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

/** Waits for the processor to exit by itself; returns undefined if it still runs after `timeoutMs`. */
export async function waitForExit(processor: FollowingProcessor, timeoutMs: number): Promise<number | null | undefined> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs)
    })
    try {
        return await Promise.race([processor.exited, timeout])
    } finally {
        clearTimeout(timer)
    }
}

/** Lists every row that differs between the chain side of two databases; empty when they are equal. */
export async function chainDifferences(got: pg.Client, want: pg.Client): Promise<string[]> {
    const [actual, expected] = await Promise.all([dumpChainTables(got), dumpChainTables(want)])
    const differences: string[] = []
    for (const table of Object.keys(expected)) {
        const gotRows = actual[table]
        const wantRows = expected[table]
        for (const id of Object.keys(wantRows)) {
            if (!(id in gotRows)) differences.push(`${table}[${id}]: missing`)
            else if (JSON.stringify(gotRows[id]) !== JSON.stringify(wantRows[id])) {
                differences.push(`${table}[${id}]: ${JSON.stringify(gotRows[id])} != reference ${JSON.stringify(wantRows[id])}`)
            }
        }
        for (const id of Object.keys(gotRows)) if (!(id in wantRows)) differences.push(`${table}[${id}]: not in the reference`)
    }
    return differences
}

/** Counts the rows of the chain side, so a comparison cannot pass on empty tables. */
export async function chainRowCount(client: pg.Client): Promise<number> {
    const dump = await dumpChainTables(client)
    return Object.values(dump).reduce((sum, rows) => sum + Object.keys(rows).length, 0)
}
