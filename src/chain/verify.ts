import {hexToBytes, keccak256, type Hex} from 'viem'

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

/** Computes the logsBloom of a list of logs (the Ethereum yellow paper's M3:2048 over address and topics). */
export function computeLogsBloom(logs: Pick<BlockLogEvidence, 'address' | 'topics'>[]): Hex {
    const bloom = new Uint8Array(LOGS_BLOOM_BYTES)
    for (const log of logs) {
        for (const item of [log.address, ...log.topics]) {
            const digest = hexToBytes(keccak256(item as Hex))
            // Three 11-bit indexes from the first three byte pairs of the hash; bit 0 is the lowest bit of the last byte.
            for (let pair = 0; pair < 6; pair += 2) {
                const bit = ((digest[pair] << 8) | digest[pair + 1]) & 0x7ff
                bloom[LOGS_BLOOM_BYTES - 1 - (bit >> 3)] |= 1 << (bit & 7)
            }
        }
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
