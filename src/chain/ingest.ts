import {coldIngest} from '@subsquid/util-internal-ingest-tools'
import {mapRangeRequestList, type RangeRequestList, type SplitRequest} from '@subsquid/util-internal-range'

/**
 * Settings for fetching finalized blocks over RPC and handing them to the batch handler.
 *
 * evm-processor 1.27 fetches finalized blocks in request groups of 10 blocks (one JSON-RPC batch of
 * `eth_getBlockByNumber` calls plus one `eth_getLogs`) and calls the handler once per group, so every 10 blocks cost one
 * database transaction. These settings replace that fixed size.
 */
export interface FinalizedIngestSettings {
    /** Blocks per request group: one JSON-RPC batch of block headers and one `eth_getLogs` call. */
    blocksPerRequest: number
    /** Request groups in flight at once. The RPC client's capacity still caps the calls. */
    concurrentRequests: number
    /**
     * Upper bound of blocks per handler call. Request groups that have already arrived when the handler is free are
     * merged up to this bound, so a fast node gives large batches and a slow one gives small, early batches.
     */
    maxBatchBlocks: number
    /** Upper bound of log items per handler call, so blocks with many logs cannot make one batch unbounded. */
    maxBatchLogs: number
}

// NOTE: at 100 logs per block the processor peaked near 1 GB of RSS with a log bound of 20,000 as with 50,000, against
// 260 MiB with 10-block groups. The request groups in flight are the likely cause; that is not measured.
export const DEFAULT_FINALIZED_INGEST: FinalizedIngestSettings = {
    blocksPerRequest: 100,
    concurrentRequests: 5,
    maxBatchBlocks: 1000,
    maxBatchLogs: 20_000,
}

/** The part of a fetched batch that the merge reads. */
export interface IngestBatch<B> {
    blocks: B[]
    isHead: boolean
}

/** The members of evm-processor 1.27's `EvmRpcDataSource` that the replacement uses. */
interface RpcDataSource {
    headPollInterval: number
    getFinalizedHeight(): Promise<number>
    toMappingRequest(request: unknown): unknown
    _getColdSplit(request: SplitRequest<unknown>): Promise<unknown[]>
    getFinalizedBlocks(requests: RangeRequestList<unknown>, stopOnHead?: boolean): AsyncIterable<IngestBatch<unknown>>
}

/**
 * Replace the finalized-block ingestion of an `EvmBatchProcessor` with one that uses `settings`. Hot blocks (above the
 * finality depth) keep the processor's own path, so reorg handling is unchanged.
 *
 * Returns false, and changes nothing, when the processor does not have the private members this relies on.
 */
export function applyFinalizedIngest(processor: object, settings: FinalizedIngestSettings): boolean {
    // NOTE: relies on private members of @subsquid/evm-processor 1.27 (getHotDataSource, and on the data source
    // getFinalizedHeight, toMappingRequest, _getColdSplit, headPollInterval). A test builds the processor and checks
    // that they are still there.
    const target = processor as {getHotDataSource?: () => unknown}
    const create = target.getHotDataSource
    if (typeof create !== 'function') return false
    let patched: RpcDataSource | undefined
    target.getHotDataSource = function (this: unknown) {
        if (patched) return patched
        const source = create.call(processor) as Partial<RpcDataSource>
        if (!isRpcDataSource(source)) {
            throw new Error(
                'the RPC data source of @subsquid/evm-processor lacks the members that RPC_BLOCKS_PER_REQUEST and ' +
                    'PROCESSOR_MAX_BATCH_BLOCKS need; pin @subsquid/evm-processor to 1.27.x',
            )
        }
        source.getFinalizedBlocks = (requests, stopOnHead) =>
            mergeReadyBatches(
                coldIngest({
                    getFinalizedHeight: () => source.getFinalizedHeight(),
                    getSplit: (split) => source._getColdSplit(split),
                    requests: mapRangeRequestList(requests, (request) => source.toMappingRequest(request)),
                    // A request group larger than a batch would be handed over whole, so the batch bound caps it.
                    splitSize: Math.min(settings.blocksPerRequest, settings.maxBatchBlocks),
                    concurrency: settings.concurrentRequests,
                    stopOnHead,
                    headPollInterval: source.headPollInterval,
                }),
                settings,
                countLogs,
            )
        patched = source
        return source
    }
    return true
}

function isRpcDataSource(source: Partial<RpcDataSource>): source is RpcDataSource {
    return (
        typeof source.getFinalizedHeight === 'function' &&
        typeof source.toMappingRequest === 'function' &&
        typeof source._getColdSplit === 'function' &&
        typeof source.getFinalizedBlocks === 'function' &&
        typeof source.headPollInterval === 'number'
    )
}

function countLogs(block: unknown): number {
    const logs = (block as {logs?: unknown[]}).logs
    return Array.isArray(logs) ? logs.length : 0
}

/**
 * Yield the batches of `source` in order, merging those that arrived while the consumer was busy, within the
 * bounds of `limits`. A background loop reads `source` ahead while fewer than `maxBatchBlocks` blocks and `maxBatchLogs` logs
 * wait, so memory stays bounded. An error of `source` is thrown after the batches that came before it. A batch of `source` larger
 * than the limits is passed on whole.
 */
export async function* mergeReadyBatches<B>(
    source: AsyncIterable<IngestBatch<B>>,
    limits: Pick<FinalizedIngestSettings, 'maxBatchBlocks' | 'maxBatchLogs'>,
    logsOf: (block: B) => number,
): AsyncGenerator<IngestBatch<B>> {
    const queue: IngestBatch<B>[] = []
    let queuedBlocks = 0
    let queuedLogs = 0
    let done = false
    let failure: {error: unknown} | undefined
    let stopped = false
    let wakeConsumer: (() => void) | undefined
    let wakeReader: (() => void) | undefined

    const iterator = source[Symbol.asyncIterator]()
    const reader = (async () => {
        try {
            while (!stopped) {
                while ((queuedBlocks >= limits.maxBatchBlocks || queuedLogs >= limits.maxBatchLogs) && !stopped) {
                    await new Promise<void>((resolve) => (wakeReader = resolve))
                }
                if (stopped) break
                const next = await iterator.next()
                if (next.done) break
                queue.push(next.value)
                queuedBlocks += next.value.blocks.length
                queuedLogs += sumLogs(next.value.blocks, logsOf)
                wakeConsumer?.()
            }
        } catch (error) {
            failure = {error}
        } finally {
            done = true
            wakeConsumer?.()
        }
    })()

    try {
        while (true) {
            while (queue.length === 0 && !done) {
                await new Promise<void>((resolve) => (wakeConsumer = resolve))
                wakeConsumer = undefined
            }
            if (queue.length === 0) {
                if (failure) throw failure.error
                return
            }
            const first = queue.shift()!
            let blocks = first.blocks
            let isHead = first.isHead
            let logs = sumLogs(blocks, logsOf)
            while (queue.length > 0) {
                const next = queue[0]
                const nextLogs = sumLogs(next.blocks, logsOf)
                if (blocks.length + next.blocks.length > limits.maxBatchBlocks || logs + nextLogs > limits.maxBatchLogs) break
                queue.shift()
                blocks = blocks.concat(next.blocks)
                logs += nextLogs
                isHead = next.isHead
            }
            queuedBlocks -= blocks.length
            queuedLogs -= logs
            wakeReader?.()
            wakeReader = undefined
            yield {blocks, isHead}
        }
    } finally {
        // Not awaited: a read in flight may be waiting for the next finalized block, which can take long.
        stopped = true
        wakeReader?.()
        if (!done) void iterator.return?.()?.catch(() => undefined)
        void reader
    }
}

function sumLogs<B>(blocks: B[], logsOf: (block: B) => number): number {
    let total = 0
    for (const block of blocks) total += logsOf(block)
    return total
}
