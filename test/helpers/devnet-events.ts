import {createClient, http, type Hex} from 'viem'
import {DEVNET_ADDRESSES} from '../../src/config/networks/presets'
import {DEVNET_GENESIS_TIMESTAMP_S} from '../../src/devnet/anvil'
import {emitLogs, installEmitter, type EmittedLog, type LogToEmit} from '../../src/devnet/emitter'
import {encodeEvent, type AbiName} from '../../src/devnet/encode'

const A = DEVNET_ADDRESSES

/** Seconds between the blocks that `startBlockEmitter` mines. */
export const BLOCK_TIME_S = 12

/** Encodes an event of `abi` as a log that the contract at `address` emits. */
export function devnetEvent(abi: AbiName, address: string, name: string, args: Record<string, unknown>): LogToEmit {
    return {address: address as Hex, ...encodeEvent(abi, name, args)}
}

export const tangle = (name: string, args: Record<string, unknown>) => devnetEvent('Tangle', A.tangle, name, args)
export const restaking = (name: string, args: Record<string, unknown>) => devnetEvent('MultiAssetDelegation', A.multiAssetDelegation, name, args)
export const registry = (name: string, args: Record<string, unknown>) => devnetEvent('OperatorStatusRegistry', A.operatorStatusRegistry, name, args)

/**
 * Installs the log emitter at the devnet contract addresses of an anvil node. Returns its client and a function that
 * mines one block with the given logs, BLOCK_TIME_S after the previous one (the first after the devnet genesis).
 */
export async function startBlockEmitter(rpcUrl: string) {
    const client = createClient({transport: http(rpcUrl)})
    await installEmitter(client, Object.values(A))
    let time = DEVNET_GENESIS_TIMESTAMP_S
    const block = (...logs: LogToEmit[]): Promise<EmittedLog[]> => emitLogs(client, logs, {timestamp: (time += BLOCK_TIME_S)})
    /** Returns the timestamp of the last block mined. */
    const lastTimestamp = (): number => time
    return {client, block, lastTimestamp}
}
