import {createLogger} from '@subsquid/logger'
import pg from 'pg'
import {loadNetworkConfig} from '../config/load'
import {IDLE_CONNECTION_ENDED_BY_ADMIN, isAdminTermination, isConnectionLoss} from '../db/errors'
import {listenHostProblem} from '../stack/listen-host'
import type {NetworkConfig} from '../config/types'
import {compileAddressPolicy, createSafeFetch, type HostResolver} from '../proofs/http'
import {createProberMetrics, type ProberMetrics, serveProberMetrics} from '../proofs/metrics'
import {loadProberAccount} from '../proofs/record'
import {
    proberSettingsFromEnv,
    type ProberLogger,
    type ProberSettings,
    type ProberWorker,
    startProberWorker,
} from '../proofs/worker'

export interface RunProberOptions {
    config: NetworkConfig
    /** DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASS, or DB_URL. */
    dbEnv: Record<string, string | undefined>
    /** secp256k1 key as 64 hex digits; required unless devMode. */
    privateKey?: string
    /** Generate a throw-away signing key when none is configured. */
    devMode: boolean
    settings: ProberSettings
    /** Port of `GET /metrics`; undefined serves none. */
    metricsPort?: number
    /** Address of `GET /metrics`; default every interface. */
    metricsHost?: string
    logger?: ProberLogger
    /** Hostname resolver of the prober's HTTP client. Default: the system resolver with all addresses. */
    resolveHost?: HostResolver
}

export interface RunningProber {
    worker: ProberWorker
    signer: string
    metrics: ProberMetrics
    metricsPort?: number
    stop(): Promise<void>
}

/** Builds a PostgreSQL URL from DB_URL or the DB_* variables the squid tools use. */
export function databaseUrl(dbEnv: Record<string, string | undefined>): string {
    if (dbEnv.DB_URL !== undefined && dbEnv.DB_URL !== '') return dbEnv.DB_URL
    const host = dbEnv.DB_HOST ?? 'localhost'
    const port = dbEnv.DB_PORT ?? '5432'
    const name = dbEnv.DB_NAME ?? 'postgres'
    const user = encodeURIComponent(dbEnv.DB_USER ?? 'postgres')
    const password = encodeURIComponent(dbEnv.DB_PASS ?? 'postgres')
    return `postgres://${user}:${password}@${host}:${port}/${name}`
}

/** Starts a prober worker: signing key, safe HTTP client bound to the network's address policy, queue and metrics. */
export async function runProber(options: RunProberOptions): Promise<RunningProber> {
    const logger = options.logger ?? createLogger('proofgap:prober')
    const {account} = loadProberAccount({privateKey: options.privateKey, devMode: options.devMode}, logger)
    const connectionString = databaseUrl(options.dbEnv)
    const pool = new pg.Pool({connectionString, max: 4})
    pool.on('error', (error) => {
        if (isAdminTermination(error)) logger.info({err: error.message}, IDLE_CONNECTION_ENDED_BY_ADMIN)
        else logger.error({err: error.message}, 'idle PostgreSQL connection failed')
    })

    const fetcher = createSafeFetch({
        policy: compileAddressPolicy({allow: ['public', ...options.config.probeAllow]}),
        resolveHost: options.resolveHost,
        totalTimeoutMs: options.settings.timeoutMs,
        // A headers limit above the total limit could never fire, so the smaller one applies.
        headersTimeoutMs: Math.min(options.settings.headersTimeoutMs, options.settings.timeoutMs),
        connectTimeoutMs: Math.min(options.settings.timeoutMs, 3_000),
        maxConcurrentPerHost: options.settings.maxConcurrentPerHost,
    })
    const metrics = createProberMetrics()
    const server = options.metricsPort === undefined ? undefined : await serveProberMetrics(metrics, options.metricsPort, options.metricsHost)

    const worker = await startProberWorker({
        pool,
        connectionString,
        config: options.config,
        settings: options.settings,
        account,
        fetcher,
        logger,
        metrics,
    })
    logger.info(
        {network: options.config.name, signer: account.address.toLowerCase(), interval_ms: options.settings.intervalMs, concurrency: options.settings.concurrency},
        'prober started',
    )
    return {
        worker,
        signer: account.address.toLowerCase(),
        metrics,
        metricsPort: server?.port,
        async stop() {
            await worker.stop()
            await server?.close()
            await pool.end()
            logger.info({}, 'prober stopped')
        },
    }
}

/** Reads PROBER_METRICS_PORT: unset or empty serves no metrics. */
function metricsPortFromEnv(env: NodeJS.ProcessEnv): number | undefined {
    const text = env.PROBER_METRICS_PORT
    if (text === undefined || text.trim() === '') return undefined
    const port = Number(text)
    if (!/^\d+$/.test(text.trim()) || port < 1 || port > 65_535) {
        throw new Error(`PROBER_METRICS_PORT: expected a TCP port from 1 to 65535, received ${JSON.stringify(text)}`)
    }
    return port
}

/** Reads PROBER_METRICS_HOST: unset or empty listens on every interface. */
export function metricsHostFromEnv(env: NodeJS.ProcessEnv): string | undefined {
    const text = env.PROBER_METRICS_HOST
    if (text === undefined || text === '') return undefined
    const problem = listenHostProblem(text)
    if (problem) throw new Error(`PROBER_METRICS_HOST: ${problem}`)
    return text
}

/**
 * Command-line entry. Environment: NETWORK and the network variables of loadNetworkConfig, DB_URL or DB_*,
 * PROBER_PRIVATE_KEY, PROBER_DEV_MODE=1 (generate a key when none is set), PROBER_METRICS_PORT, PROBER_METRICS_HOST
 * and the settings of proberSettingsFromEnv. SIGTERM and SIGINT stop it gracefully.
 */
async function main(): Promise<void> {
    const logger = createLogger('proofgap:prober')
    let prober: RunningProber
    try {
        const env = process.env
        prober = await runProber({
            // The prober reads the indexed tables only, so no RPC endpoint is needed; a placeholder passes validation.
            config: loadNetworkConfig({env: {...env, RPC_URL: env.RPC_URL ?? 'http://127.0.0.1:8545'}}),
            dbEnv: env,
            privateKey: env.PROBER_PRIVATE_KEY,
            devMode: env.PROBER_DEV_MODE === '1' || env.PROBER_DEV_MODE === 'true',
            settings: proberSettingsFromEnv(env),
            metricsPort: metricsPortFromEnv(env),
            metricsHost: metricsHostFromEnv(env),
            logger,
        })
    } catch (error) {
        logger.error({err_name: error instanceof Error ? error.name : 'unknown'}, error instanceof Error ? error.message : String(error))
        process.exit(2)
    }
    let stopping = false
    // pg-boss 10 marks a finished batch completed or failed without awaiting the query. When PostgreSQL is gone, that
    // rejection reaches no handler, and Node would stop the worker with a stack trace. The jobs stay active and are
    // retried after they expire, so the worker logs the loss and goes on.
    process.on('unhandledRejection', (reason: unknown) => {
        const message = reason instanceof Error ? reason.message : String(reason)
        if (isConnectionLoss(reason)) {
            if (stopping) logger.info({err: message}, 'PostgreSQL connection lost while stopping')
            else logger.error({err: message}, 'PostgreSQL connection lost while the queue recorded a batch; its jobs are retried after they expire')
            return
        }
        logger.fatal({err_name: reason instanceof Error ? reason.name : typeof reason, err: message}, 'unhandled rejection; stopping the prober')
        process.exit(1)
    })
    const stop = (signal: string): void => {
        if (stopping) return
        stopping = true
        logger.info({signal}, 'stopping prober')
        prober.stop().then(
            () => process.exit(0),
            (error: unknown) => {
                logger.error({err: error instanceof Error ? error.message : String(error)}, 'prober did not stop cleanly')
                process.exit(1)
            },
        )
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
}

if (require.main === module) {
    void main()
}
