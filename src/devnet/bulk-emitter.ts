import {concat, size, type Hex} from 'viem'

/**
 * A second devnet log emitter that emits many logs per transaction, for benchmark chains with 10^5..10^6 logs
 * (one transaction per log, as the scenario emitter does, costs one anvil request per log).
 *
 * Calldata is a sequence of fixed-size records: 4 topics of 32 bytes, then 64 bytes of data. The code emits one LOG4
 * per record, in calldata order, and stops at the end of the calldata. This is exactly the shape of
 * `HeartbeatReceived(uint64 indexed, uint64 indexed, address indexed, uint8, uint64)`; events of another shape need
 * the scenario emitter.
 *
 * Stack comments give the stack bottom first; `off` is the offset of the current record.
 */
export const BULK_EMITTER_BYTECODE: Hex = concat([
    '0x6000', //         00 PUSH1 0            off = 0
    '0x5b', //           02 JUMPDEST           loop: off
    '0x36', //           03 CALLDATASIZE       off size
    '0x81', //           04 DUP2               off size off
    '0x10', //           05 LT                 off (off < size)
    '0x15', //           06 ISZERO             off (off >= size)
    '0x602f', //         07 PUSH1 0x2f
    '0x57', //           09 JUMPI              off; done at the end of calldata
    '0x6040', //         0a PUSH1 64           off 64
    '0x81', //           0c DUP2               off 64 off
    '0x6080', //         0d PUSH1 128
    '0x01', //           0f ADD                off 64 off+128
    '0x6000', //         10 PUSH1 0            off 64 off+128 0
    '0x37', //           12 CALLDATACOPY       off; memory[0..64] = data of the record
    '0x8060600135', //   13 DUP1 PUSH1 96 ADD CALLDATALOAD    off t3
    '0x8160400135', //   18 DUP2 PUSH1 64 ADD CALLDATALOAD    off t3 t2
    '0x8260200135', //   1d DUP3 PUSH1 32 ADD CALLDATALOAD    off t3 t2 t1
    '0x8335', //         22 DUP4 CALLDATALOAD                 off t3 t2 t1 t0
    '0x60406000', //     24 PUSH1 64 PUSH1 0                  off t3 t2 t1 t0 64 0
    '0xa4', //           28 LOG4               off
    '0x60c001', //       29 PUSH1 192 ADD      off + record size
    '0x600256', //       2c PUSH1 0x02 JUMP    back to the loop
    '0x5b00', //         2f JUMPDEST STOP
])

const TOPICS_PER_RECORD = 4
const TOPIC_BYTES = 32
const DATA_BYTES = 64
/** Bytes of one calldata record: four topics and the data. */
export const BULK_RECORD_BYTES = TOPICS_PER_RECORD * TOPIC_BYTES + DATA_BYTES

/** Gas limit of a transaction carrying `logCount` records, with headroom: anvil measured 58,321 gas for 10 records. */
export function bulkEmitterGas(logCount: number): number {
    return 40_000 + 9_000 * logCount
}

/** Calldata that makes the bulk emitter emit `logs` in order. Every log needs 4 topics and 64 bytes of data. */
export function bulkEmitterCalldata(logs: readonly {topics: readonly Hex[]; data: Hex}[]): Hex {
    const parts: Hex[] = []
    for (const [position, log] of logs.entries()) {
        if (log.topics.length !== TOPICS_PER_RECORD || log.topics.some((topic) => size(topic) !== TOPIC_BYTES)) {
            throw new Error(`invalid log ${position} for the bulk emitter: expected ${TOPICS_PER_RECORD} topics of 32 bytes, received ${log.topics.length}`)
        }
        if (size(log.data) !== DATA_BYTES) {
            throw new Error(`invalid log ${position} for the bulk emitter: expected ${DATA_BYTES} data bytes, received ${size(log.data)}`)
        }
        parts.push(...log.topics, log.data)
    }
    return concat(parts)
}
