import {describe, expect, it} from 'vitest'
import {applyFinalizedIngest, DEFAULT_FINALIZED_INGEST, mergeReadyBatches, type IngestBatch} from '../src/chain/ingest'
import {createProcessor} from '../src/chain/processor'
import {loadNetworkConfig} from '../src/config'

/** A block of the merge tests: its height and how many logs it has. */
interface TestBlock {
    height: number
    logs: number
}

function batchOf(from: number, count: number, logsPerBlock = 1, isHead = false): IngestBatch<TestBlock> {
    return {blocks: Array.from({length: count}, (_, i) => ({height: from + i, logs: logsPerBlock})), isHead}
}

/** Returns a source whose batches are all ready before the consumer requests the first. */
async function* readySource(batches: IngestBatch<TestBlock>[], failWith?: Error): AsyncGenerator<IngestBatch<TestBlock>> {
    for (const batch of batches) yield batch
    if (failWith) throw failWith
}

/**
 * Collects every batch. The first is handed over as soon as it arrives. The pause after it plays a busy handler, so
 * the rest of the source arrives meanwhile and can be merged.
 */
async function collect(source: AsyncIterable<IngestBatch<TestBlock>>): Promise<IngestBatch<TestBlock>[]> {
    const out: IngestBatch<TestBlock>[] = []
    for await (const batch of source) {
        out.push(batch)
        if (out.length === 1) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return out
}

const heights = (batch: IngestBatch<TestBlock>) => batch.blocks.map((b) => b.height)
const logsOf = (block: TestBlock) => block.logs

describe('mergeReadyBatches', () => {
    it('merges ready batches up to the block bound', async () => {
        // The reader stops at 25 waiting blocks (three groups of 10): the consumer merges two, and the third goes out
        // alone because the last group arrives only after the reader was woken.
        const source = readySource([batchOf(0, 10), batchOf(10, 10), batchOf(20, 10), batchOf(30, 10), batchOf(40, 5, 1, true)])
        const out = await collect(mergeReadyBatches(source, {maxBatchBlocks: 25, maxBatchLogs: 1000}, logsOf))
        expect(out.map((b) => b.blocks.length)).toEqual([10, 20, 10, 5])
        expect(out.flatMap(heights)).toEqual(Array.from({length: 45}, (_, i) => i))
    })

    it('keeps isHead of the last merged batch', async () => {
        const source = readySource([batchOf(0, 5), batchOf(5, 5), batchOf(10, 5, 1, true)])
        const out = await collect(mergeReadyBatches(source, {maxBatchBlocks: 100, maxBatchLogs: 1000}, logsOf))
        expect(out.map(heights)).toEqual([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]])
        expect(out[1].isHead).toBe(true)
    })

    it('stops merging at the log bound', async () => {
        const source = readySource([batchOf(0, 2, 40), batchOf(2, 2, 40), batchOf(4, 2, 40), batchOf(6, 2, 40)])
        const out = await collect(mergeReadyBatches(source, {maxBatchBlocks: 100, maxBatchLogs: 170}, logsOf))
        expect(out.map(heights)).toEqual([[0, 1], [2, 3, 4, 5], [6, 7]])
    })

    it('passes an oversized batch on whole', async () => {
        const source = readySource([batchOf(0, 3), batchOf(3, 30), batchOf(33, 3)])
        const out = await collect(mergeReadyBatches(source, {maxBatchBlocks: 10, maxBatchLogs: 1000}, logsOf))
        expect(out.map((b) => b.blocks.length)).toEqual([3, 30, 3])
    })

    it('hands over a batch without waiting for the next', async () => {
        let releaseSecond!: () => void
        const second = new Promise<void>((resolve) => (releaseSecond = resolve))
        async function* slowSource(): AsyncGenerator<IngestBatch<TestBlock>> {
            yield batchOf(0, 10)
            await second
            yield batchOf(10, 10)
        }
        const iterator = mergeReadyBatches(slowSource(), {maxBatchBlocks: 100, maxBatchLogs: 1000}, logsOf)
        const first = await iterator.next()
        expect(first.done).toBe(false)
        expect(heights(first.value as IngestBatch<TestBlock>)).toEqual(Array.from({length: 10}, (_, i) => i))
        releaseSecond()
        const next = await iterator.next()
        expect(heights(next.value as IngestBatch<TestBlock>)).toEqual(Array.from({length: 10}, (_, i) => 10 + i))
        expect((await iterator.next()).done).toBe(true)
    })

    it('throws the source error after earlier batches', async () => {
        const failure = new Error('eth_getLogs failed')
        const iterator = mergeReadyBatches(readySource([batchOf(0, 4)], failure), {maxBatchBlocks: 2, maxBatchLogs: 1000}, logsOf)
        const first = await iterator.next()
        expect(heights(first.value as IngestBatch<TestBlock>)).toEqual([0, 1, 2, 3])
        await expect(iterator.next()).rejects.toBe(failure)
    })

    it('closes the source when the consumer stops', async () => {
        let closed = false
        async function* endless(): AsyncGenerator<IngestBatch<TestBlock>> {
            try {
                for (let from = 0; from < 10_000; from += 10) yield batchOf(from, 10)
            } finally {
                closed = true
            }
        }
        for await (const batch of mergeReadyBatches(endless(), {maxBatchBlocks: 20, maxBatchLogs: 1000}, logsOf)) {
            expect(batch.blocks.length).toBeLessThanOrEqual(20)
            break
        }
        await new Promise((resolve) => setTimeout(resolve, 20))
        expect(closed).toBe(true)
    })

    it('reads ahead at most the block bound', async () => {
        let produced = 0
        async function* counting(): AsyncGenerator<IngestBatch<TestBlock>> {
            for (let from = 0; from < 1_000; from += 10) {
                produced += 10
                yield batchOf(from, 10)
            }
        }
        const iterator = mergeReadyBatches(counting(), {maxBatchBlocks: 30, maxBatchLogs: 1000}, logsOf)
        await iterator.next()
        await new Promise((resolve) => setTimeout(resolve, 20))
        // 30 blocks may wait in the queue, plus the one batch the reader holds while the queue is full.
        expect(produced).toBeLessThanOrEqual(30 + 30 + 10)
        await iterator.return(undefined)
    })

    it('reads ahead at most the log bound when blocks hold many logs', async () => {
        let produced = 0
        async function* dense(): AsyncGenerator<IngestBatch<TestBlock>> {
            for (let from = 0; from < 1_000; from += 10) {
                produced += 10
                yield batchOf(from, 10, 100)
            }
        }
        // 1,000 logs is 10 blocks of 100 logs, far below the block bound.
        const iterator = mergeReadyBatches(dense(), {maxBatchBlocks: 1000, maxBatchLogs: 1000}, logsOf)
        await iterator.next()
        await new Promise((resolve) => setTimeout(resolve, 20))
        // The handed-over batch (10 blocks), 10 blocks waiting, and the batch the reader holds while the queue is full.
        expect(produced).toBeLessThanOrEqual(10 + 10 + 10)
        const second = await iterator.next()
        expect(second.value?.blocks.length).toBe(10)
        await iterator.return(undefined)
    })
})

describe('applyFinalizedIngest', () => {
    it('finds the data source members it replaces', () => {
        const config = loadNetworkConfig({env: {NETWORK: 'devnet', RPC_URL: 'http://127.0.0.1:8545'}})
        const processor = createProcessor(config, {toBlock: 10})
        const original = Object.getPrototypeOf(processor).getHotDataSource
        expect(applyFinalizedIngest(processor, DEFAULT_FINALIZED_INGEST)).toBe(true)
        const getSource = (processor as unknown as {getHotDataSource: () => {getFinalizedBlocks: unknown}}).getHotDataSource
        expect(getSource).not.toBe(original)
        const source = getSource.call(processor)
        // The same object on every call, as the processor's own memoized getter returns.
        expect(getSource.call(processor)).toBe(source)
        expect(typeof source.getFinalizedBlocks).toBe('function')
        expect(Object.prototype.hasOwnProperty.call(source, 'getFinalizedBlocks')).toBe(true)
    })

    it('reports a processor without the private getter', () => {
        expect(applyFinalizedIngest({}, DEFAULT_FINALIZED_INGEST)).toBe(false)
    })
})
