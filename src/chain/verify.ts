import type {Hex} from 'viem'
import {keccak256} from './keccak'

/*
 * Integrity checks for the logs an RPC node returned for one block. evm-processor 1.27 checks only that a block whose
 * logsBloom is not empty got at least one log from eth_getLogs, so a node that drops one of several logs of a block,
 * or repeats one, goes unnoticed there.
 */

/** Size of the Ethereum logs bloom filter in bytes (2048 bits). */
const LOGS_BLOOM_BYTES = 256

/** One log as the node returned it; only the fields the checks read. */
export interface BlockLogEvidence {
    logIndex: number
    address: string
    topics: string[]
}

/** A block header and every log of that block, unfiltered. */
export interface BlockLogsEvidence {
    height: number
    hash: string
    logsBloom: string
    logs: BlockLogEvidence[]
}

export type LogIntegrityProblem =
    | {kind: 'DUPLICATE_LOG_INDEX'; height: number; hash: string; logIndex: number}
    | {kind: 'LOG_INDEX_GAP'; height: number; hash: string; missing: number[]}
    | {kind: 'BLOOM_MISMATCH'; height: number; hash: string; received: number}

/**
 * Checks that `block.logs` is the complete log list of the block: log indexes run from 0 without a gap or a repeat,
 * and the bloom filter computed from the logs equals the header's logsBloom. The bloom comparison finds a dropped
 * last log unless every bloom bit of that log is also set by another log of the block.
 *
 * Only valid for the full log list of a block: logs filtered by address or topic leave gaps by design.
 */
export function verifyBlockLogs(block: BlockLogsEvidence): LogIntegrityProblem[] {
    const problems: LogIntegrityProblem[] = []
    const {height, hash} = block
    const seen = new Set<number>()
    for (const log of block.logs) {
        if (seen.has(log.logIndex)) problems.push({kind: 'DUPLICATE_LOG_INDEX', height, hash, logIndex: log.logIndex})
        seen.add(log.logIndex)
    }
    const highest = seen.size === 0 ? -1 : Math.max(...seen)
    const missing: number[] = []
    for (let index = 0; index <= highest; index++) if (!seen.has(index)) missing.push(index)
    if (missing.length > 0) problems.push({kind: 'LOG_INDEX_GAP', height, hash, missing})

    if (computeLogsBloom(block.logs) !== block.logsBloom.toLowerCase()) {
        problems.push({kind: 'BLOOM_MISMATCH', height, hash, received: block.logs.length})
    }
    return problems
}

/**
 * Bloom bits of recently seen addresses and topics. Contract addresses, event signatures and indexed ids repeat from
 * log to log, and hashing dominated the check before this memo.
 */
const bloomBitsMemo = new Map<string, readonly [number, number, number]>()
/** Entries kept before the memo starts over; bounds memory for chains whose topics rarely repeat. */
const BLOOM_MEMO_MAX_ENTRIES = 50_000

/** Returns the three bloom bit positions (0..2047) of one address or topic given as 0x-hex. */
export function bloomBitsOf(item: string): readonly [number, number, number] {
    // JSON-RPC nodes send lowercase hex as a rule, so the memo is read before the string is lowered.
    const known = bloomBitsMemo.get(item)
    if (known) return known
    const key = item.toLowerCase()
    const knownLowered = key === item ? undefined : bloomBitsMemo.get(key)
    if (knownLowered) return knownLowered
    const digest = Buffer.from(keccak256(key).slice(2), 'hex')
    // Three 11-bit indexes from the first three byte pairs of the hash.
    const bits = [
        ((digest[0] << 8) | digest[1]) & 0x7ff,
        ((digest[2] << 8) | digest[3]) & 0x7ff,
        ((digest[4] << 8) | digest[5]) & 0x7ff,
    ] as const
    if (bloomBitsMemo.size >= BLOOM_MEMO_MAX_ENTRIES) bloomBitsMemo.clear()
    bloomBitsMemo.set(key, bits)
    return bits
}

/** Computes the logsBloom of a list of logs (the Ethereum yellow paper's M3:2048 over address and topics). */
export function computeLogsBloom(logs: Pick<BlockLogEvidence, 'address' | 'topics'>[]): Hex {
    const bloom = new Uint8Array(LOGS_BLOOM_BYTES)
    const setBits = (item: string): void => {
        // Bit 0 is the lowest bit of the last byte.
        for (const bit of bloomBitsOf(item)) bloom[LOGS_BLOOM_BYTES - 1 - (bit >> 3)] |= 1 << (bit & 7)
    }
    for (const log of logs) {
        setBits(log.address)
        for (const topic of log.topics) setBits(topic)
    }
    return ('0x' + Buffer.from(bloom).toString('hex')) as Hex
}

/** Describes a problem in one line that names the block and what to do. */
export function describeLogIntegrityProblem(problem: LogIntegrityProblem): string {
    const where = `block ${problem.height} (${problem.hash})`
    const advice = 'the RPC node returned an inconsistent log list; retry later or use another RPC_URL'
    switch (problem.kind) {
        case 'DUPLICATE_LOG_INDEX':
            return `${where}: log index ${problem.logIndex} returned twice; ${advice}`
        case 'LOG_INDEX_GAP':
            return `${where}: log indexes ${problem.missing.join(', ')} missing; ${advice}`
        case 'BLOOM_MISMATCH':
            return `${where}: the ${problem.received} logs returned do not match the header's logsBloom; ${advice}`
    }
}
