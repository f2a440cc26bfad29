import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createPublicClient, http} from 'viem'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {buildScenario, runScenario} from '../src/devnet/scenario'
import {expectedState, type ExpectedState} from '../src/devnet/expected'
import type {EmittedLog} from '../src/devnet/emitter'
import type {RunResult} from '../src/stack/children'
import {describeLogIntegrityProblem, verifyBlockLogs, type BlockLogsEvidence, type LogIntegrityProblem} from '../src/chain/verify'
import {diffWithExpected} from './helpers/compare'
import {logAt, startRpcFaultProxy, type BlockRequest, type FaultRule, type RpcFaultProxy} from './helpers/rpc-fault-proxy'
import {runProcessorTo, startTestDatabase} from './helpers/stack'

/*
 * Each test runs the processor on the demo scenario through a proxy that injects one RPC fault for the first calls,
 * then compares the whole database with the ground truth. A fault the SDK does not retry stops the processor; the
 * test then restarts it, as a supervisor would, and records how many runs the job took.
 */

/** Short enough that a held request costs seconds, long enough for anvil to respond to every real request. */
const SHORT_RPC_REQUEST_TIMEOUT_MS = 1_500
/**
 * Timeout for every other test: a request that times out under CPU load is sent again, and the repeat would hide
 * a fault the proxy applied once.
 */
const RPC_REQUEST_TIMEOUT_MS = 15_000
const HOLD_PAST_TIMEOUT_MS = 4_000
/** Runs per test: the first may stop on a fault that the SDK does not retry, the next must finish. */
const MAX_RUNS = 3
/** With confirmations, the processor exits only once its last block is final, so hot tests mine empty blocks. */
const HOT_FINALITY_CONFIRMATIONS = 10
const HOT_EXTRA_BLOCKS = HOT_FINALITY_CONFIRMATIONS + 5
const HOT_MINE_INTERVAL_MS = 700
/**
 * A hot test that hides the newest advertised block waits this long at most for its faults before mining starts.
 * Mining earlier can move the node's head past the processor's last block, which it then never requests.
 */
const MINING_DELAY_LIMIT_MS = 30_000
/** Processor output at level error (4) or fatal (5) of @subsquid/logger. */
const ERROR_LINE = /"level":[45]/

type Database = Awaited<ReturnType<typeof startTestDatabase>>

let anvil: AnvilInstance
let records: EmittedLog[]
let expected: ExpectedState
/** Last block of the scenario; every run indexes up to it, hot tests mine empty blocks above it. */
let head: number

beforeAll(async () => {
    anvil = await startAnvil()
    const scenario = buildScenario()
    records = await runScenario(anvil.rpcUrl, scenario)
    expected = expectedState(scenario, records)
    head = Number(await createPublicClient({transport: http(anvil.rpcUrl)}).getBlockNumber())
})

afterAll(async () => {
    await anvil?.stop()
})

interface FaultRun {
    runs: RunResult[]
    mismatches: string[]
    faultCounts: number[]
    callCounts: Record<string, number>
    blockRequests: BlockRequest[]
}

/**
 * Runs the processor through the proxy until it exits 0 or MAX_RUNS runs were made, then diffs the database. In hot
 * mode the last blocks stay unfinalised at the start, and empty blocks mined during the run finalise them.
 */
async function indexThroughFaults(
    rules: FaultRule[],
    mode: 'cold' | 'hot' = 'cold',
    requestTimeoutMs = RPC_REQUEST_TIMEOUT_MS,
    mineAfterFaults = false,
): Promise<FaultRun> {
    let db: Database | undefined
    let proxy: RpcFaultProxy | undefined
    let mining: NodeJS.Timeout | undefined
    const env: Record<string, string> = {RPC_REQUEST_TIMEOUT_MS: String(requestTimeoutMs)}
    if (mode === 'hot') env.FINALITY_CONFIRMATIONS = String(HOT_FINALITY_CONFIRMATIONS)
    try {
        ;[db, proxy] = await Promise.all([startTestDatabase(), startRpcFaultProxy(anvil.rpcUrl, rules)])
        const faultsApplied = (): boolean => proxy!.faultCounts().every((count) => count > 0)
        const miningStart = Date.now() + MINING_DELAY_LIMIT_MS
        const mayMine = mineAfterFaults ? () => faultsApplied() || Date.now() > miningStart : () => true
        if (mode === 'hot') mining = mineEmptyBlocks(HOT_EXTRA_BLOCKS, mayMine)
        const runs: RunResult[] = []
        while (runs.length < MAX_RUNS) {
            const run = await runProcessorTo(proxy.url, db.env, head, env)
            runs.push(run)
            if (run.code === 0) break
        }
        return {runs, mismatches: await diffWithExpected(db.client, expected), faultCounts: proxy.faultCounts(), callCounts: proxy.callCounts(), blockRequests: proxy.blockRequests()}
    } finally {
        clearInterval(mining)
        await Promise.all([proxy?.stop(), db?.stop()])
    }
}

/** Mines `count` empty blocks on anvil, one every HOT_MINE_INTERVAL_MS once `mayMine` returns true; returns the timer. */
function mineEmptyBlocks(count: number, mayMine: () => boolean): NodeJS.Timeout {
    let mined = 0
    const timer = setInterval(() => {
        if (mined >= count) return clearInterval(timer)
        if (!mayMine()) return
        mined += 1
        void rpcRequest(anvil.rpcUrl, 'evm_mine', [])
    }, HOT_MINE_INTERVAL_MS)
    return timer
}

async function rpcRequest(url: string, method: string, params: unknown[]): Promise<unknown> {
    const response = await fetch(url, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({jsonrpc: '2.0', id: 1, method, params}),
    })
    const body = (await response.json()) as {result?: unknown; error?: {message: string}}
    if (body.error) throw new Error(`${method} failed at ${url}: ${body.error.message}`)
    return body.result
}

/** Blocks of the scenario with their log counts. */
function logsPerBlock(): Map<number, EmittedLog[]> {
    const blocks = new Map<number, EmittedLog[]>()
    for (const record of records) blocks.set(record.blockNumber, [...(blocks.get(record.blockNumber) ?? []), record])
    return blocks
}

function blockWithLogCount(predicate: (count: number) => boolean): EmittedLog[] {
    const found = [...logsPerBlock().values()].find((logs) => predicate(logs.length))
    if (!found) throw new Error('the demo scenario has no block with the log count this test needs; change the selection')
    return found
}

function lastOutput(run: RunResult): string {
    return (run.stderr + run.stdout).slice(-3000)
}

const rule = (method: string, action: FaultRule['action'], times: number): FaultRule => ({method, action, times})

describe('processor behind a faulty RPC node', () => {
    // Faults the SDK retries by itself: one run, the fault applied, the database equal to the ground truth.
    const retried: {name: string; rules: FaultRule[]; mode?: 'hot'; requestTimeoutMs?: number; mineAfterFaults?: boolean}[] = [
        {name: 'HTTP 429 with retry-after', rules: [rule('eth_getLogs', {kind: 'http429', retryAfterSeconds: 1}, 3)]},
        {name: 'HTTP 429 on block batches', rules: [rule('eth_getBlockByNumber', {kind: 'http429', retryAfterSeconds: 1}, 3)]},
        {
            name: 'request held past timeout',
            rules: [rule('eth_getLogs', {kind: 'timeout', holdMs: HOLD_PAST_TIMEOUT_MS}, 2)],
            requestTimeoutMs: SHORT_RPC_REQUEST_TIMEOUT_MS,
        },
        {
            name: 'response too big splits range',
            rules: [rule('eth_getLogs', {kind: 'rpcError', code: -32005, message: 'query returned more than 10000 results'}, 2)],
        },
        {name: 'newest block null when cold', rules: [rule('eth_getBlockByNumber', {kind: 'nullNewestBlock'}, 3)]},
        {
            // In hot mode the processor fetches its newest block in the `eth_getBlockByNumber` batch of a hot range
            // right after `eth_blockNumber`; mining waits, so the advertised head is the block the processor needs.
            name: 'newest block null when hot',
            rules: [rule('eth_getBlockByNumber', {kind: 'nullNewestBlock'}, 3)],
            mode: 'hot',
            mineAfterFaults: true,
        },
        {name: 'head lowered by a lagging node', rules: [rule('eth_blockNumber', {kind: 'lowerHead', blocks: 20}, 3)]},
        {
            name: 'head lowered when hot',
            rules: [rule('eth_blockNumber', {kind: 'lowerHead', blocks: 20}, 3)],
            mode: 'hot',
        },
    ]

    for (const fault of retried) {
        it(`${fault.name} retried to truth`, async () => {
            const result = await indexThroughFaults(fault.rules, fault.mode, fault.requestTimeoutMs, fault.mineAfterFaults)
            const last = result.runs[result.runs.length - 1]
            const faultedBlocks = result.blockRequests.filter((request) => request.faulted).map((request) => request.block)

            expect(result.faultCounts.every((n) => n > 0), `${JSON.stringify(result.faultCounts)}, faulted blocks ${faultedBlocks.join(' ')}`).toBe(true)
            expect(result.runs.length, lastOutput(result.runs[0])).toBe(1)
            expect(last.code, lastOutput(last)).toBe(0)
            expect(result.mismatches).toEqual([])
            if (fault.rules[0].action.kind === 'nullNewestBlock') {
                // The hidden block is the processor's last block, requested by number in a block batch.
                expect(faultedBlocks).toEqual(Array(fault.rules[0].times).fill('0x' + head.toString(16)))
            }
        })
    }

    // Passing provider errors that @subsquid/rpc-client 4.x does not retry: proofgap adds their codes to the client's
    // retries (src/chain/rpc-retry.ts), so one run with backoff gets past them.
    const transient: {name: string; rules: FaultRule[]}[] = [
        {name: 'limit exceeded -32005', rules: [rule('eth_getLogs', {kind: 'rpcError', code: -32005, message: 'limit exceeded'}, 2)]},
        {
            name: 'block out of range -32019',
            rules: [rule('eth_getBlockByNumber', {kind: 'rpcError', code: -32019, message: 'block is out of range'}, 2)],
        },
        {
            name: 'service unavailable -32503',
            rules: [rule('eth_getLogs', {kind: 'rpcError', code: -32503, message: 'service temporarily unavailable'}, 2)],
        },
    ]

    for (const fault of transient) {
        it(`${fault.name} retried in one run`, async () => {
            const result = await indexThroughFaults(fault.rules)

            expect(result.faultCounts).toEqual([2])
            expect(result.runs.length, lastOutput(result.runs[0])).toBe(1)
            expect(result.runs[0].code, lastOutput(result.runs[0])).toBe(0)
            expect(result.mismatches).toEqual([])
        })
    }

    // "response too large" has no code that shows whether a retry can help (the same range stays too large): the
    // processor stops with the error, and a restart (the fault is over by then) finishes the job.
    it('response too large stops, restart recovers', async () => {
        const result = await indexThroughFaults([rule('eth_getLogs', {kind: 'rpcError', code: -32000, message: 'response too large'}, 1)])
        const [first, second] = result.runs

        expect(result.runs.length, lastOutput(first)).toBe(2)
        expect(first.code).not.toBe(0)
        expect(lastOutput(first)).toMatch(/response too large/)
        expect(second.code, lastOutput(second)).toBe(0)
        expect(result.mismatches).toEqual([])
    })

    it('only log of block dropped, re-fetched', async () => {
        // The block's logsBloom is not empty, so the SDK rejects an empty log list for it and requests the logs again.
        const [only] = blockWithLogCount((n) => n === 1)
        const result = await indexThroughFaults([rule('eth_getLogs', {kind: 'dropLog', select: logAt(only.blockNumber, only.logIndex)}, 1)])

        expect(result.faultCounts).toEqual([1])
        expect(result.runs.length).toBe(1)
        expect(result.runs[0].code, lastOutput(result.runs[0])).toBe(0)
        expect(result.mismatches).toEqual([])
    })

    it('one of several logs dropped, stopped then repaired', async () => {
        // evm-processor 1.27 checks a block's logs against logsBloom only when it got none; proofgap checks every
        // block (verifyBlockLogs): a run that received the short list stops with an error naming the block, commits
        // nothing of that batch, and the restart re-fetches it.
        const logs = blockWithLogCount((n) => n >= 3)
        const target = logs[1]
        const result = await indexThroughFaults([rule('eth_getLogs', {kind: 'dropLog', select: logAt(target.blockNumber, target.logIndex)}, 1)])

        expect(result.faultCounts).toEqual([1])
        const last = result.runs[result.runs.length - 1]
        expect(last.code, lastOutput(last)).toBe(0)
        for (const failed of result.runs.slice(0, -1)) {
            expect(failed.code).not.toBe(0)
            expect(failed.stderr + failed.stdout).toContain(`block ${target.blockNumber} (`)
        }
        expect(result.mismatches).toEqual([])
    })

    it('log dropped on every call, fatal naming block', async () => {
        // No retry can repair this: every run must stop with an error that names the block, and commit nothing past it.
        const logs = blockWithLogCount((n) => n >= 3)
        const target = logs[1]
        const result = await indexThroughFaults([
            rule('eth_getLogs', {kind: 'dropLog', select: logAt(target.blockNumber, target.logIndex)}, Infinity),
        ])

        expect(result.faultCounts[0]).toBeGreaterThan(0)
        expect(result.runs.length).toBe(MAX_RUNS)
        for (const run of result.runs) {
            expect(run.code).not.toBe(0)
            expect(run.stderr + run.stdout).toMatch(new RegExp(`block ${target.blockNumber} \\(0x[0-9a-f]{64}\\): log indexes|block ${target.blockNumber} \\(0x[0-9a-f]{64}\\): the \\d+ logs`))
        }
        expect(result.mismatches.length).toBeGreaterThan(0)
    })

    it('one log duplicated once', async () => {
        // A repeated log index stops the batch (DUPLICATE_LOG_INDEX naming the block); the restart gets a clean list.
        const logs = blockWithLogCount((n) => n >= 3)
        const target = logs[1]
        const result = await indexThroughFaults([
            rule('eth_getLogs', {kind: 'duplicateLog', select: logAt(target.blockNumber, target.logIndex)}, 1),
        ])

        expect(result.faultCounts).toEqual([1])
        const last = result.runs[result.runs.length - 1]
        expect(last.code, lastOutput(last)).toBe(0)
        for (const failed of result.runs.slice(0, -1)) {
            expect(failed.stderr + failed.stdout).toContain(`block ${target.blockNumber} (`)
            expect(failed.stderr + failed.stdout).toContain('returned twice')
        }
        expect(result.mismatches).toEqual([])
    })
})

describe('verifyBlockLogs against the faulty node', () => {
    /** Reads one block's header and all its logs through `url`, the way the RPC data source requests them. */
    async function blockEvidence(url: string, height: number): Promise<BlockLogsEvidence> {
        const tag = '0x' + height.toString(16)
        const header = (await rpcRequest(url, 'eth_getBlockByNumber', [tag, false])) as {hash: string; logsBloom: string}
        const logs = (await rpcRequest(url, 'eth_getLogs', [{fromBlock: tag, toBlock: tag}])) as {logIndex: string; address: string; topics: string[]}[]
        return {
            height,
            hash: header.hash,
            logsBloom: header.logsBloom,
            logs: logs.map((log) => ({logIndex: Number(BigInt(log.logIndex)), address: log.address, topics: log.topics})),
        }
    }

    async function problemsThrough(rules: FaultRule[], height: number): Promise<LogIntegrityProblem[]> {
        const proxy = await startRpcFaultProxy(anvil.rpcUrl, rules)
        try {
            return verifyBlockLogs(await blockEvidence(proxy.url, height))
        } finally {
            await proxy.stop()
        }
    }

    it('every scenario block passes', async () => {
        const failures: LogIntegrityProblem[] = []
        for (const height of logsPerBlock().keys()) failures.push(...verifyBlockLogs(await blockEvidence(anvil.rpcUrl, height)))

        expect(failures).toEqual([])
    })

    it('middle log dropped gives gap', async () => {
        const logs = blockWithLogCount((n) => n >= 3)
        const target = logs[1]
        const problems = await problemsThrough([rule('eth_getLogs', {kind: 'dropLog', select: logAt(target.blockNumber, target.logIndex)}, Infinity)], target.blockNumber)

        expect(problems.map((p) => p.kind)).toContain('LOG_INDEX_GAP')
        expect(problems.map(describeLogIntegrityProblem).join('\n')).toContain(`block ${target.blockNumber} `)
    })

    it('last log dropped gives bloom mismatch', async () => {
        const logs = blockWithLogCount((n) => n >= 3)
        const target = logs[logs.length - 1]
        const problems = await problemsThrough([rule('eth_getLogs', {kind: 'dropLog', select: logAt(target.blockNumber, target.logIndex)}, Infinity)], target.blockNumber)

        expect(problems.map((p) => p.kind)).toEqual(['BLOOM_MISMATCH'])
    })

    it('duplicated log gives duplicate index', async () => {
        const logs = blockWithLogCount((n) => n >= 3)
        const target = logs[0]
        const problems = await problemsThrough([rule('eth_getLogs', {kind: 'duplicateLog', select: logAt(target.blockNumber, target.logIndex)}, Infinity)], target.blockNumber)

        expect(problems.map((p) => p.kind)).toEqual(['DUPLICATE_LOG_INDEX'])
    })
})
