import {createPublicClient, http, numberToHex, pad, type Hex} from 'viem'
import {DEVNET_ADDRESSES} from '../../src/config/networks/presets'
import {DEVNET_GENESIS_TIMESTAMP_S} from '../../src/devnet/anvil'
import {emitLogs, installEmitter, type LogToEmit} from '../../src/devnet/emitter'
import {encodeEvent} from '../../src/devnet/encode'
import {BULK_EMITTER_BYTECODE, bulkEmitterCalldata, bulkEmitterGas} from '../../src/devnet/bulk-emitter'

/** Shape of a benchmark chain: services with operators that send heartbeats, then empty blocks. */
export interface ChainShape {
    heartbeats: number
    heartbeatsPerBlock: number
    emptyTailBlocks: number
    services: number
    operatorsPerService: number
}

export interface BuiltChain {
    head: number
    setupLogs: number
    heartbeats: number
    generationSeconds: number
}

/** Seconds between blocks of the benchmark chain. */
export const BENCH_BLOCK_TIME_S = 12
const BLUEPRINT_ID = 1n

interface JsonRpcResponse {
    id: number
    result?: unknown
    error?: {message: string}
}

/** Sends a JSON-RPC batch to anvil and fails on the first error in it. */
export async function rpcBatch(rpcUrl: string, calls: {method: string; params: unknown[]}[]): Promise<unknown[]> {
    const body = calls.map((call, id) => ({jsonrpc: '2.0', id, ...call}))
    const response = await fetch(rpcUrl, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})
    if (!response.ok) throw new Error(`anvil batch request failed: HTTP ${response.status}`)
    const results = ((await response.json()) as JsonRpcResponse[]).sort((a, b) => a.id - b.id)
    for (const result of results) {
        if (result.error) throw new Error(`anvil ${calls[result.id].method} failed: ${result.error.message}`)
    }
    return results.map((result) => result.result)
}

function operatorAddress(index: number): Hex {
    return pad(numberToHex(0xb0000 + index), {size: 20})
}

function serviceOperators(shape: ChainShape, service: number): Hex[] {
    return Array.from({length: shape.operatorsPerService}, (_, slot) => operatorAddress(service * shape.operatorsPerService + slot))
}

/** Blueprint, operator registrations and active services, so that every heartbeat names a known service. */
function setupBlocks(shape: ChainShape): LogToEmit[][] {
    const tangle = (name: string, args: Record<string, unknown>): LogToEmit => ({address: DEVNET_ADDRESSES.tangle, ...encodeEvent('Tangle', name, args)})
    const registry = (name: string, args: Record<string, unknown>): LogToEmit => ({
        address: DEVNET_ADDRESSES.operatorStatusRegistry,
        ...encodeEvent('OperatorStatusRegistry', name, args),
    })
    const services = Array.from({length: shape.services}, (_, service) => service)
    const blocks: LogToEmit[][] = [
        [
            tangle('BlueprintCreated', {
                blueprintId: BLUEPRINT_ID,
                owner: operatorAddress(0xffff),
                manager: DEVNET_ADDRESSES.sandboxManager,
                metadataUri: 'ipfs://bench-blueprint',
                metadataHash: pad('0x01', {size: 32}),
            }),
        ],
        services.flatMap((service) =>
            serviceOperators(shape, service).map((operator, slot) =>
                tangle('OperatorRegistered', {
                    blueprintId: BLUEPRINT_ID,
                    operator,
                    ecdsaPublicKey: pad(numberToHex(service * 1000 + slot + 1), {size: 33}),
                    rpcAddress: `http://127.0.0.1:${20_000 + service * shape.operatorsPerService + slot}/`,
                }),
            ),
        ),
        services.map((service) =>
            tangle('ServiceRequested', {requestId: BigInt(service), blueprintId: BLUEPRINT_ID, requester: operatorAddress(0xfffe), confidentiality: 0}),
        ),
        services.flatMap((service) => serviceOperators(shape, service).map((operator) => tangle('ServiceApproved', {requestId: BigInt(service), operator}))),
        services.map((service) => tangle('ServiceActivated', {serviceId: BigInt(service), requestId: BigInt(service), blueprintId: BLUEPRINT_ID, confidentiality: 0})),
        services.flatMap((service) => serviceOperators(shape, service).map((operator) => registry('OperatorRegistered', {serviceId: BigInt(service), operator}))),
    ]
    return blocks
}

/** Heartbeat `index` of the chain: services take turns, and within a service its operators take turns. */
function heartbeatLog(shape: ChainShape, topic0: Hex, index: number, blockTime: number): {topics: Hex[]; data: Hex} {
    const service = index % shape.services
    const slot = Math.floor(index / shape.services) % shape.operatorsPerService
    const operator = operatorAddress(service * shape.operatorsPerService + slot)
    const statusCode = index % 97 === 0 ? 1 : 0
    return {
        topics: [topic0, pad(numberToHex(service), {size: 32}), pad(numberToHex(BLUEPRINT_ID), {size: 32}), pad(operator, {size: 32})],
        data: `0x${statusCode.toString(16).padStart(64, '0')}${blockTime.toString(16).padStart(64, '0')}`,
    }
}

/**
 * Builds the chain on a fresh anvil: the setup blocks with the scenario emitter (one transaction per log), then
 * the heartbeats with the bulk emitter (one transaction, and so one block, per `heartbeatsPerBlock` logs), then the
 * empty tail. Every block is `BENCH_BLOCK_TIME_S` after the previous one.
 */
export async function buildChain(rpcUrl: string, shape: ChainShape): Promise<BuiltChain> {
    const started = performance.now()
    const client = createPublicClient({transport: http(rpcUrl)})
    await installEmitter(client, [DEVNET_ADDRESSES.tangle, DEVNET_ADDRESSES.operatorStatusRegistry])

    let time = DEVNET_GENESIS_TIMESTAMP_S
    let setupLogs = 0
    for (const logs of setupBlocks(shape)) {
        time += BENCH_BLOCK_TIME_S
        await emitLogs(client, logs, {timestamp: time})
        setupLogs += logs.length
    }

    // From here every block holds one bulk transaction and comes BENCH_BLOCK_TIME_S after the last (mining stays manual).
    const [sender] = (await rpcBatch(rpcUrl, [{method: 'eth_accounts', params: []}]))[0] as Hex[]
    const [nonceHex] = (await rpcBatch(rpcUrl, [{method: 'eth_getTransactionCount', params: [sender, 'latest']}])) as Hex[]
    await rpcBatch(rpcUrl, [
        {method: 'anvil_setCode', params: [DEVNET_ADDRESSES.operatorStatusRegistry, BULK_EMITTER_BYTECODE]},
        {method: 'anvil_setBlockTimestampInterval', params: [BENCH_BLOCK_TIME_S]},
    ])

    const topic0 = encodeEvent('OperatorStatusRegistry', 'HeartbeatReceived', {
        serviceId: 0n,
        blueprintId: 0n,
        operator: operatorAddress(0),
        statusCode: 0,
        timestamp: 0n,
    }).topics[0]
    const blockCount = Math.ceil(shape.heartbeats / shape.heartbeatsPerBlock)
    let nonce = Number(nonceHex)
    let emitted = 0
    for (let block = 0; block < blockCount; block++) {
        time += BENCH_BLOCK_TIME_S
        const count = Math.min(shape.heartbeatsPerBlock, shape.heartbeats - emitted)
        const logs = Array.from({length: count}, (_, offset) => heartbeatLog(shape, topic0, emitted + offset, time))
        emitted += count
        const transaction = {from: sender, to: DEVNET_ADDRESSES.operatorStatusRegistry, data: bulkEmitterCalldata(logs), nonce: numberToHex(nonce), gas: numberToHex(bulkEmitterGas(count))}
        await rpcBatch(rpcUrl, [{method: 'eth_sendTransaction', params: [transaction]}])
        // A separate request: anvil may run the calls of one batch concurrently.
        await rpcBatch(rpcUrl, [{method: 'evm_mine', params: []}])
        nonce += 1
    }
    if (shape.emptyTailBlocks > 0) await rpcBatch(rpcUrl, [{method: 'anvil_mine', params: [numberToHex(shape.emptyTailBlocks)]}])

    const head = Number(await client.getBlockNumber())
    const expectedHead = setupBlocks(shape).length + blockCount + shape.emptyTailBlocks
    if (head !== expectedHead) throw new Error(`chain head is block ${head}, expected ${expectedHead}: transactions were mined into fewer blocks`)
    const logCount = await countLogs(rpcUrl, head, shape.heartbeatsPerBlock)
    if (logCount !== setupLogs + shape.heartbeats) {
        throw new Error(`chain has ${logCount} logs, expected ${setupLogs + shape.heartbeats}: a bulk transaction reverted or ran out of gas`)
    }
    return {head, setupLogs, heartbeats: shape.heartbeats, generationSeconds: (performance.now() - started) / 1000}
}

/**
 * Returns the block span of one eth_getLogs call in the floor measurement and the log count check. It is 10,000
 * blocks, fewer when blocks contain more than 10 logs, so that one response stays near 100,000 logs. A response of
 * 1,000,000 logs was longer than the longest string Node.js allows.
 */
export function getLogsSpanBlocks(logsPerBlock: number): number {
    return Math.max(1, Math.min(10_000, Math.floor(100_000 / Math.max(1, logsPerBlock))))
}

async function countLogs(rpcUrl: string, head: number, logsPerBlock: number): Promise<number> {
    const span = getLogsSpanBlocks(logsPerBlock)
    let count = 0
    for (let from = 0; from <= head; from += span) {
        const to = Math.min(head, from + span - 1)
        const [logs] = await rpcBatch(rpcUrl, [{method: 'eth_getLogs', params: [{fromBlock: numberToHex(from), toBlock: numberToHex(to)}]}])
        count += (logs as unknown[]).length
    }
    return count
}
