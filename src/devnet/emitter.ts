import {concat, numberToHex, size, toHex, type Hex} from 'viem'

/**
 * A log-emitting contract for the devnet. Calldata layout: one byte `n` (0..4), then `n` 32-byte topics, then the
 * log data. The code copies the data to memory and emits LOGn with those topics. Any other `n` reverts.
 * Anvil installs it with `anvil_setCode` at every address whose logs the scenario needs.
 */

type Instruction = {op: string; arg?: number | string} | {label: string}

const OPCODES: Record<string, number> = {
    STOP: 0x00,
    ADD: 0x01,
    SUB: 0x03,
    EQ: 0x14,
    ISZERO: 0x15,
    SHR: 0x1c,
    CALLDATALOAD: 0x35,
    CALLDATASIZE: 0x36,
    CALLDATACOPY: 0x37,
    POP: 0x50,
    JUMPI: 0x57,
    JUMPDEST: 0x5b,
    PUSH1: 0x60,
    DUP1: 0x80,
    REVERT: 0xfd,
}

const MAX_TOPICS = 4
const TOPIC_BYTES = 32

function op(name: string, arg?: number | string): Instruction {
    return {op: name, arg}
}

function emitBranch(topicCount: number): Instruction[] {
    const dataOffset = 1 + TOPIC_BYTES * topicCount
    const branch: Instruction[] = [
        {label: `log${topicCount}`},
        op('JUMPDEST'),
        op('POP'), //                              stack: (empty)
        op('PUSH1', dataOffset),
        op('CALLDATASIZE'),
        op('SUB'), //                              size = calldatasize - dataOffset
        op('DUP1'), //                             size size
        op('PUSH1', dataOffset),
        op('PUSH1', 0), //                         0 dataOffset size size
        op('CALLDATACOPY'), //                     memory[0..size] = data; stack: size
    ]
    // Push topics last-first so that topic0 ends up right below size.
    for (let index = topicCount - 1; index >= 0; index--) {
        branch.push(op('PUSH1', 1 + TOPIC_BYTES * index), op('CALLDATALOAD'))
    }
    branch.push(
        op(`DUP${topicCount + 1}`), //             size t0 .. t(n-1) size
        op('PUSH1', 0), //                         0 size t0 .. t(n-1)
        op(`LOG${topicCount}`),
        op('STOP'),
    )
    return branch
}

function emitterProgram(): Instruction[] {
    const program: Instruction[] = [
        op('PUSH1', 0),
        op('CALLDATALOAD'),
        op('PUSH1', 0xf8),
        op('SHR'), //                              n = first calldata byte
        op('DUP1'),
        op('ISZERO'),
        op('PUSH1', 'log0'),
        op('JUMPI'), //                            n == 0 -> log0
    ]
    for (let count = 1; count <= MAX_TOPICS; count++) {
        program.push(op('DUP1'), op('PUSH1', count), op('EQ'), op('PUSH1', `log${count}`), op('JUMPI'))
    }
    program.push(op('PUSH1', 0), op('DUP1'), op('REVERT')) // n > 4
    for (let count = 0; count <= MAX_TOPICS; count++) program.push(...emitBranch(count))
    return program
}

function opcodeOf(name: string): number {
    if (name in OPCODES) return OPCODES[name]
    const dup = /^DUP(\d)$/.exec(name)
    if (dup) return 0x80 + Number(dup[1]) - 1
    const log = /^LOG(\d)$/.exec(name)
    if (log) return 0xa0 + Number(log[1])
    throw new Error(`unknown opcode ${name}`)
}

/** Assembles instructions into bytecode; only PUSH1 takes an argument, a number or a label. */
function assemble(program: Instruction[]): Hex {
    const labels = new Map<string, number>()
    let offset = 0
    for (const instruction of program) {
        if ('label' in instruction) labels.set(instruction.label, offset)
        else offset += instruction.op === 'PUSH1' ? 2 : 1
    }
    const bytes: number[] = []
    for (const instruction of program) {
        if ('label' in instruction) continue
        bytes.push(opcodeOf(instruction.op))
        if (instruction.op !== 'PUSH1') continue
        const value = typeof instruction.arg === 'string' ? labels.get(instruction.arg) : instruction.arg
        if (value === undefined || value > 0xff) throw new Error(`PUSH1 argument out of range: ${instruction.arg}`)
        bytes.push(value)
    }
    return toHex(Uint8Array.from(bytes))
}

/** Runtime bytecode of the log emitter. */
export const EMITTER_BYTECODE: Hex = assemble(emitterProgram())

/** A log to emit: the emitter at `address` emits `topics` and `data` verbatim. */
export interface LogToEmit {
    address: Hex
    topics: Hex[]
    data: Hex
}

/** Calldata that makes the emitter emit `log`. */
export function emitterCalldata(log: Pick<LogToEmit, 'topics' | 'data'>): Hex {
    if (log.topics.length > MAX_TOPICS) {
        throw new Error(`invalid log: ${log.topics.length} topics, but a log has at most ${MAX_TOPICS}`)
    }
    for (const topic of log.topics) {
        if (size(topic) !== TOPIC_BYTES) throw new Error(`topic ${topic} is not 32 bytes`)
    }
    return concat([numberToHex(log.topics.length, {size: 1}), ...log.topics, log.data])
}

/** A log as it landed on chain, with what the squid log id and the expectations need. */
export interface EmittedLog extends LogToEmit {
    blockNumber: number
    blockHash: Hex
    /** Block time in seconds since the epoch. */
    timestamp: number
    txHash: Hex
    transactionIndex: number
    /** Index of the log in its block. */
    logIndex: number
    /** Squid log id: `<block padded to 10>-<5 hex chars of the block hash>-<log index padded to 6>`. */
    logId: string
}

/** The slice of a viem client that the devnet uses: a raw JSON-RPC request. */
export interface RpcRequester {
    request(args: {method: string; params?: unknown}): Promise<unknown>
}

// viem types `request` per known method; anvil's methods are outside that list, so the devnet calls it untyped.
function rpc<T>(client: RpcRequester, method: string, params: unknown[] = []): Promise<T> {
    return client.request({method, params}) as Promise<T>
}

const BASE_TX_GAS = 60_000
// Calldata costs up to 40 gas a byte (EIP-7623 floor) and the log 8 more; memory and copying add a few.
const GAS_PER_CALLDATA_BYTE = 64

/**
 * Squid log id, as `formatId` of @subsquid/util-internal-processor-tools 1.x builds it: block height padded to
 * 10 digits, the 5 hex characters after `0x` of the block hash, and the log index padded to 6 digits.
 */
export function squidLogId(blockNumber: number, blockHash: string, logIndex: number): string {
    const shortHash = blockHash.startsWith('0x') ? blockHash.slice(2, 7) : blockHash.slice(0, 5)
    return `${String(blockNumber).padStart(10, '0')}-${shortHash}-${String(logIndex).padStart(6, '0')}`
}

/** Installs the emitter code at each address and switches anvil to explicit mining. */
export async function installEmitter(client: RpcRequester, addresses: readonly string[]): Promise<void> {
    await Promise.all(addresses.map((address) => rpc(client, 'anvil_setCode', [address, EMITTER_BYTECODE])))
    await rpc(client, 'evm_setAutomine', [false])
}

interface RpcBlock {
    number: Hex
    hash: Hex
    timestamp: Hex
    transactions: Hex[]
}

interface RpcReceipt {
    transactionHash: Hex
    transactionIndex: Hex
    status: Hex
    logs: {address: Hex; topics: Hex[]; data: Hex; logIndex: Hex}[]
}

export interface EmitOptions {
    /** Time of the block to mine, in seconds since the epoch; must be later than the previous block. */
    timestamp?: number
}

/**
 * Sends one transaction per log from anvil's first dev account and mines them all into one block, in the
 * given order (one sender, consecutive nonces). Fails when a transaction reverts or lands outside that block.
 */
export async function emitLogs(client: RpcRequester, logs: LogToEmit[], options: EmitOptions = {}): Promise<EmittedLog[]> {
    const [sender] = await rpc<Hex[]>(client, 'eth_accounts')
    if (!sender) throw new Error('anvil has no unlocked dev account: start it without `--accounts 0`')
    const firstNonce = Number(await rpc<Hex>(client, 'eth_getTransactionCount', [sender, 'latest']))

    if (options.timestamp !== undefined) {
        await rpc(client, 'evm_setNextBlockTimestamp', [numberToHex(options.timestamp)])
    }
    const txHashes = await Promise.all(
        logs.map((log, position) => {
            const input = emitterCalldata(log)
            return rpc<Hex>(client, 'eth_sendTransaction', [
                {
                    from: sender,
                    to: log.address,
                    data: input,
                    nonce: numberToHex(firstNonce + position),
                    gas: numberToHex(BASE_TX_GAS + GAS_PER_CALLDATA_BYTE * size(input)),
                },
            ])
        }),
    )
    await rpc(client, 'evm_mine')

    const block = await rpc<RpcBlock>(client, 'eth_getBlockByNumber', ['latest', false])
    const receipts = await rpc<RpcReceipt[]>(client, 'eth_getBlockReceipts', [block.number])
    const receiptByTx = new Map(receipts.map((receipt) => [receipt.transactionHash, receipt]))
    const blockNumber = Number(block.number)

    return txHashes.map((txHash, position) => {
        const receipt = receiptByTx.get(txHash)
        if (!receipt) throw new Error(`transaction ${txHash} is not in block ${blockNumber}; raise the block gas limit`)
        if (receipt.status !== '0x1') throw new Error(`emitter transaction ${txHash} reverted (log ${position} of block ${blockNumber})`)
        if (receipt.logs.length !== 1) throw new Error(`transaction ${txHash} emitted ${receipt.logs.length} logs, expected 1`)
        const [log] = receipt.logs
        const logIndex = Number(log.logIndex)
        return {
            address: log.address.toLowerCase() as Hex,
            topics: log.topics,
            data: log.data,
            blockNumber,
            blockHash: block.hash,
            timestamp: Number(block.timestamp),
            txHash,
            transactionIndex: Number(receipt.transactionIndex),
            logIndex,
            logId: squidLogId(blockNumber, block.hash, logIndex),
        }
    })
}
