import type {Store} from '@subsquid/typeorm-store'
import type {NetworkConfig} from '../config'
import {BatchContext, hexBytes, type DecodedLog, type LogRecord} from './context'
import type {EntityCache, FinalizedEntityMemory} from './cache'
import {isFinalizedStore} from './write'
import {ChainBlock} from '../model'
import {describeLogIntegrityProblem, verifyBlockLogs} from './verify'
import {decodeLog, type Family} from './decode'
import {sandboxHashOfOutput} from './outputs'
import {handleTangle, prefetchTangle} from './handlers/tangle'
import {handleRegistry, prefetchRegistry} from './handlers/registry'
import {handleRestaking, prefetchRestaking} from './handlers/restaking'
import {handleSandbox, handleSettlement, handleTrading, prefetchProduct} from './handlers/products'

export interface BlockLike {
    header: {id: string; height: number; hash: string; timestamp: number; logsBloom?: string}
    logs: {
        id: string
        address: string
        topics: string[]
        data: string
        logIndex: number
        transactionIndex: number
        transactionHash: string
    }[]
}

/**
 * Handle one batch of blocks: decode every log (recording what does not decode), load every row the batch reads with
 * one query per table, run the handlers in log order in memory, then write in foreign-key order.
 */
export interface BatchOptions {
    /** Check every block's full log list against its logsBloom before using it (the processor must request all logs). */
    verifyLogs: boolean
    /** Whether a log is one proofgap decodes; others are only used for verification. */
    isRelevant: (log: {address: string; topics: string[]}) => boolean
    /**
     * Rows carried between finalized batches, owned by one processor for its whole run. Undefined: every batch loads
     * what it reads from the database.
     */
    memory?: FinalizedEntityMemory
}

/** A block's log list failed verification; nothing of the batch is written. */
export class LogIntegrityError extends Error {
    override name = 'LogIntegrityError'
}

export async function handleBatch(
    store: Store,
    config: NetworkConfig,
    families: Map<string, Family>,
    blocks: BlockLike[],
    options: BatchOptions,
): Promise<BatchContext> {
    const memory = options.memory
    if (!memory || blocks.length === 0) return handleBatchWith(store, config, families, blocks, options, undefined)
    const remembers = memory.begin(blocks[0].header.height, isFinalizedStore(store))
    try {
        const ctx = await handleBatchWith(store, config, families, blocks, options, remembers ? memory : undefined)
        if (remembers) memory.commit(blocks[blocks.length - 1].header.height)
        return ctx
    } catch (err) {
        // Cached objects may hold changes of a batch that will not commit.
        memory.clear()
        throw err
    }
}

async function handleBatchWith(
    store: Store,
    config: NetworkConfig,
    families: Map<string, Family>,
    blocks: BlockLike[],
    options: BatchOptions,
    memory: FinalizedEntityMemory | undefined,
): Promise<BatchContext> {
    const ctx = new BatchContext(store, config, memory)
    const decoded: DecodedLog[] = []
    let phaseStart = performance.now()
    const endPhase = (phase: keyof BatchContext['timings']): void => {
        const now = performance.now()
        ctx.timings[phase] += now - phaseStart
        phaseStart = now
    }

    for (const block of blocks) {
        if (options.verifyLogs && block.header.logsBloom !== undefined) {
            const problems = verifyBlockLogs({
                height: block.header.height,
                hash: block.header.hash,
                logsBloom: block.header.logsBloom,
                logs: block.logs,
            })
            if (problems.length > 0) throw new LogIntegrityError(problems.map(describeLogIntegrityProblem).join('\n'))
        }
        const logs = block.logs.filter(options.isRelevant)
        if (logs.length > 0) {
            ctx.inserts.blocks.push(
                new ChainBlock({
                    id: block.header.id,
                    height: block.header.height,
                    hash: block.header.hash,
                    timestamp: new Date(block.header.timestamp),
                }),
            )
        }
        const blockRef = {height: block.header.height, hash: block.header.hash, timestamp: block.header.timestamp}
        for (const raw of logs) {
            const log: LogRecord = {
                id: raw.id,
                address: raw.address.toLowerCase(),
                topics: raw.topics,
                data: raw.data,
                logIndex: raw.logIndex,
                transactionIndex: raw.transactionIndex,
                transactionHash: raw.transactionHash,
                block: blockRef,
            }
            const family = families.get(log.address) ?? 'vault'
            const result = decodeLog(family, log)
            if (!result.ok) {
                ctx.recordUnhandled(log, result.reason, result.detail, result.eventName)
                continue
            }
            decoded.push({
                log,
                family,
                name: result.shape.name,
                shape: result.shape.shape,
                args: result.args,
                stringParams: result.shape.stringParams,
            })
        }
    }

    endPhase('decodeMs')

    const membershipServices = new Set<string>()
    const requestIds = new Set<string>()
    const endpointServices = new Set<string>()
    for (const d of decoded) {
        switch (d.family) {
            case 'tangle':
                prefetchTangle(ctx, d, membershipServices, requestIds)
                if (d.name === 'JobResultSubmitted' || d.name === 'AggregatedResultSubmitted') {
                    const hash = sandboxHashOfOutput(hexBytes(d.args.output))
                    if (hash) ctx.sandboxes.want(hash)
                }
                break
            case 'registry':
                prefetchRegistry(ctx, d, membershipServices)
                break
            case 'restaking':
                prefetchRestaking(ctx, d)
                break
            default:
                prefetchProduct(ctx, d, endpointServices)
        }
    }
    // One query after another: the store runs every batch in one transaction on one connection.
    for (const cache of [
        ctx.blueprints,
        ctx.operators,
        ctx.registrations,
        ctx.requests,
        ctx.services,
        ctx.jobCalls,
        ctx.serviceStates,
        ctx.slashes,
        ctx.sandboxes,
        ctx.vaults,
        ctx.signers,
        ctx.redemptions,
        ctx.books,
    ] as EntityCache<{id: string}>[]) {
        await cache.load(store)
    }
    await ctx.loadActiveMemberships(membershipServices)
    await ctx.loadResponses(requestIds)
    await ctx.loadActiveEndpoints(endpointServices)
    endPhase('loadMs')

    for (const d of decoded) {
        try {
            switch (d.family) {
                case 'tangle':
                    handleTangle(ctx, d)
                    break
                case 'registry':
                    handleRegistry(ctx, d)
                    break
                case 'restaking':
                    handleRestaking(ctx, d)
                    break
                case 'sandbox':
                    handleSandbox(ctx, d)
                    break
                case 'settlement':
                case 'surplusManager':
                    handleSettlement(ctx, d)
                    break
                default:
                    handleTrading(ctx, d)
            }
            ctx.counters.handled += 1
        } catch (err) {
            // A handler bug must not stop indexing or lose the log: keep it with the error for a later re-index.
            ctx.recordUnhandled(d.log, 'HANDLER_ERROR', (err as Error).stack ?? String(err), d.name)
        }
    }
    endPhase('handleMs')
    await ctx.flush()
    endPhase('writeMs')
    return ctx
}
