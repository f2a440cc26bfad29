import {TypeormDatabase} from '@subsquid/typeorm-store'
import {createLogger} from '@subsquid/logger'
import {Counter, type Registry} from 'prom-client'
import {loadNetworkConfig, ConfigError, redactUrlForLog, PROCESSOR_STATE_SCHEMA} from './config'
import {createLogFilter, createProcessor, familiesByAddress} from './chain/processor'
import {retryTransientRpcErrors} from './chain/rpc-retry'
import {handleBatch} from './chain/batch'
import {FinalizedEntityMemory} from './chain/cache'
import {findChainMismatch, CHAIN_MISMATCH_EXIT_CODE} from './chain/chain-identity'
import {applyFinalizedIngest, DEFAULT_FINALIZED_INGEST} from './chain/ingest'
import {poolConfigFromEnv} from './gap/sql'
import {listenOnHost} from './stack/listen-host'

const log = createLogger('proofgap:processor')

async function main(): Promise<void> {
    let config
    try {
        config = loadNetworkConfig()
    } catch (err) {
        if (err instanceof ConfigError) {
            log.fatal(err.message)
            process.exit(2)
        }
        throw err
    }
    const toBlockText = process.env.PROCESSOR_TO_BLOCK?.trim()
    const toBlock = toBlockText ? Number(toBlockText) : undefined
    if (toBlock !== undefined && (!/^\d+$/.test(toBlockText as string) || !Number.isSafeInteger(toBlock))) {
        log.fatal(`PROCESSOR_TO_BLOCK: expected a block number (an integer >= 0), received ${JSON.stringify(process.env.PROCESSOR_TO_BLOCK)}`)
        process.exit(2)
    }
    // On by default: evm-processor 1.27 notices a dropped log only when a block's logs came back empty.
    const verifyText = (process.env.PROCESSOR_VERIFY_LOGS ?? 'true').trim().toLowerCase()
    if (!['true', 'false', '1', '0'].includes(verifyText)) {
        log.fatal(`PROCESSOR_VERIFY_LOGS: expected true or false, received ${JSON.stringify(process.env.PROCESSOR_VERIFY_LOGS)}`)
        process.exit(2)
    }
    const verifyLogs = verifyText === 'true' || verifyText === '1'
    // The SDK's metrics server passes only a port to listen; PROMETHEUS_HOST gives it an address.
    const metricsHost = process.env.PROMETHEUS_HOST
    if (metricsHost !== undefined && metricsHost !== '') {
        try {
            listenOnHost(metricsHost, 'PROMETHEUS_HOST')
        } catch (err) {
            log.fatal((err as Error).message)
            process.exit(2)
        }
    }
    try {
        poolConfigFromEnv()
    } catch (err) {
        log.fatal((err as Error).message)
        process.exit(2)
    }
    if (!retryTransientRpcErrors()) log.warn('cannot extend the RPC client retries; -32005, -32019 and -32503 will stop the processor')
    const processor = createProcessor(config, {toBlock, verifyLogs})
    const ingest = {
        ...DEFAULT_FINALIZED_INGEST,
        blocksPerRequest: config.rpcBlocksPerRequest,
        // The same bound as evm-processor 1.27: more groups in flight than the RPC capacity only queue.
        concurrentRequests: Math.min(DEFAULT_FINALIZED_INGEST.concurrentRequests, config.rpcCapacity),
        maxBatchBlocks: config.maxBatchBlocks,
    }
    if (!applyFinalizedIngest(processor, ingest)) {
        log.warn('cannot apply RPC_BLOCKS_PER_REQUEST and PROCESSOR_MAX_BATCH_BLOCKS; finalized blocks come in batches of 10')
    }
    const families = familiesByAddress(config)
    const isRelevant = createLogFilter(families)
    const metrics = registerMetrics(processor)
    log.info(
        {
            network: config.name,
            chain_id: config.chainId,
            rpc: redactUrlForLog(config.rpcUrl),
            to_block: toBlock,
            verify_logs: verifyLogs,
            blocks_per_request: ingest.blocksPerRequest,
            max_batch_blocks: ingest.maxBatchBlocks,
        },
        'starting processor',
    )

    const mismatch = await findChainMismatch(config.rpcUrl, config.finalityConfirmations)
    if (mismatch) {
        log.fatal(mismatch)
        process.exit(CHAIN_MISMATCH_EXIT_CODE)
    }

    // One network per database: the default state schema is the one squid-graphql-server reads for squidStatus.
    const db = new TypeormDatabase({supportHotBlocks: true, stateSchema: PROCESSOR_STATE_SCHEMA})
    const memory = new FinalizedEntityMemory()
    processor.run(db, async (ctx) => {
        const batch = await handleBatch(ctx.store, config!, families, ctx.blocks, {verifyLogs, isRelevant, memory})
        metrics?.handled.inc(batch.counters.handled)
        const first = ctx.blocks[0]?.header.height
        const last = ctx.blocks[ctx.blocks.length - 1]?.header.height
        const t = batch.timings
        ctx.log.debug(
            {
                from_block: first,
                to_block: last,
                blocks: ctx.blocks.length,
                logs: batch.counters.handled,
                decode_ms: Math.round(t.decodeMs),
                load_ms: Math.round(t.loadMs),
                handle_ms: Math.round(t.handleMs),
                write_ms: Math.round(t.writeMs),
            },
            'batch handled',
        )
        const unhandled = Object.entries(batch.counters.unhandled)
        for (const [reason, count] of unhandled) metrics?.unhandled.inc({reason}, count)
        if (unhandled.length > 0) {
            ctx.log.warn({from_block: first, to_block: last, unhandled: batch.counters.unhandled}, 'logs kept in unhandled_log or counted')
        }
    })
}

/**
 * Counters beside the processor's own metrics. The processor keeps its prometheus registry private; reaching it is
 * the only way to serve our counters on the same port.
 */
function registerMetrics(processor: unknown): {handled: Counter; unhandled: Counter<'reason'>} | undefined {
    // NOTE: relies on a private method of @subsquid/evm-processor 1.27 (getPrometheusServer().registry); without it the
    // counts still reach the logs.
    const server = (processor as {getPrometheusServer?: () => {registry?: Registry}}).getPrometheusServer?.()
    const registry = server?.registry
    if (!registry) return undefined
    return {
        handled: new Counter({name: 'proofgap_logs_handled_total', help: 'Logs decoded and applied', registers: [registry]}),
        unhandled: new Counter({
            name: 'proofgap_logs_unhandled_total',
            help: 'Logs stored in unhandled_log or counted, by reason',
            labelNames: ['reason'],
            registers: [registry],
        }),
    }
}

void main()
