import type {Pool} from 'pg'
// pg-boss: a PostgreSQL-backed queue, so the prober needs no second datastore. Workers fetch with
// SELECT … FOR UPDATE SKIP LOCKED (one job goes to one worker), an expired active job is retried by another worker,
// and a caller-chosen job id drops a second insert of the same (round, target). graphile-worker would fit as well.
import PgBoss from 'pg-boss'
import type {LocalAccount} from 'viem'
import type {NetworkConfig} from '../../config/types'
import {isAdminTermination, isConnectionLoss} from '../../db/errors'
import {readChainFacts, factsKey} from '../facts-sql'
import type {ProberMetrics} from '../metrics'
import {deriveProbeTargets, kindsForTarget, syncProbeTargets, type DerivedTarget} from '../targets'
import {discoverBotId, type Fetcher, planTarget, probeKind, signKindResult} from './probe'
import {jitterMsFor, probeJobId, probeSingletonKey, proofRecordId, type Round, roundsDue, scheduleLeadMs} from './rounds'
import type {ProberSettings} from './settings'
import {insertProofRecords, markTargetsProbed, readChainHead, type StoredProof} from './store'

export const PROBE_QUEUE = 'proofgap-probe'

/** Advisory lock id that serializes round scheduling across workers ("proofgap" in ASCII, truncated). */
const SCHEDULE_LOCK_ID = 0x70726f6f6667

/** Advisory lock id that serializes queue set-up across workers. */
const SETUP_LOCK_ID = 0x70726f6f6668

/**
 * Maximum pause of the scheduler loop, milliseconds. The loop also pauses for at most half the schedule lead, so at
 * least one tick falls inside every lead window.
 */
const MAX_SCHEDULER_TICK_MS = 5_000

/**
 * Queue priorities of probe jobs. pg-boss 10 hands out due jobs by priority (highest first), then by insert time.
 * A job inserted after its planned time is catch-up work: its round was under way when the worker started or when the
 * database came back. It yields to jobs of the next round, which can still start on time.
 */
const ON_TIME_PRIORITY = 1
const CATCH_UP_PRIORITY = 0

/**
 * Jobs per queue insert. The next round is inserted while the current one is probed, so the insert's memory adds to
 * the worker's peak. 2,000 jobs make about 1.2 MB of JSON (about 600 bytes a job), whatever the target count.
 */
export const JOB_INSERT_BATCH = 2_000

/** pino-like structured logger. */
export interface ProberLogger {
    info(attributes: object, message: string): void
    warn(attributes: object, message: string): void
    error(attributes: object, message: string): void
}

/** Data of one probe job: the target as derived when the round was scheduled. */
export interface ProbeJobData {
    roundId: string
    /** Planned start, ISO 8601, for the queue-lag metric. */
    plannedAt: string
    target: DerivedTarget
}

export interface ProberWorkerOptions {
    pool: Pool
    /** PostgreSQL URL for pg-boss (it opens its own connections). */
    connectionString: string
    config: NetworkConfig
    settings: ProberSettings
    account: LocalAccount
    fetcher: Fetcher
    logger: ProberLogger
    metrics: ProberMetrics
    /** Clock, for tests. Default `() => new Date()`. */
    now?: () => Date
}

/** A round whose jobs a scheduler inserted, with the number of jobs it submitted. */
export interface ScheduledRound {
    round: Round
    jobs: number
}

export interface ProberWorker {
    /**
     * Inserts the jobs of the rounds due at the worker's clock (see roundsDue) that this worker has not inserted yet.
     * Idempotent across workers and restarts, because a job id is a function of (round, target).
     */
    scheduleDueRounds(): Promise<ScheduledRound[]>
    stop(): Promise<void>
}

/** Starts the queue, the scheduler loop and `settings.concurrency` job slots. */
export async function startProberWorker(options: ProberWorkerOptions): Promise<ProberWorker> {
    const {pool, settings, logger, metrics} = options
    const now = options.now ?? (() => new Date())

    const boss = new PgBoss({
        connectionString: options.connectionString,
        schema: 'pgboss',
        maintenanceIntervalSeconds: settings.maintenanceIntervalSeconds,
        monitorStateIntervalSeconds: Math.max(settings.maintenanceIntervalSeconds, 1),
        max: 4,
    })
    boss.on('error', (error: Error) => {
        if (isAdminTermination(error)) logger.info({err: error.message}, "PostgreSQL ended a pg-boss connection on an administrator's command (shutdown or pg_terminate_backend)")
        else logger.error({err_name: error.name, err: error.message}, 'pg-boss reported an error; continuing')
    })
    // Two pg-boss instances creating their schema at the same time deadlock in PostgreSQL, so start-up is serialized.
    const setupClient = await pool.connect()
    try {
        await setupClient.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK_ID])
        await boss.start()
        await boss.createQueue(PROBE_QUEUE, {
            name: PROBE_QUEUE,
            policy: 'standard',
            expireInSeconds: settings.jobExpireSeconds,
            retryLimit: settings.retryLimit,
            retryDelay: settings.retryDelaySeconds,
            retentionMinutes: 24 * 60,
        })
    } finally {
        await setupClient.query('SELECT pg_advisory_unlock($1)', [SETUP_LOCK_ID]).catch(() => undefined)
        setupClient.release()
    }

    const leadMs = scheduleLeadMs(settings.intervalMs)
    /** Bucket of the last round this worker inserted jobs for. Later ticks skip it and every round before it. */
    let scheduledThrough: number | undefined
    let stopped = false

    async function scheduleDueRounds(): Promise<ScheduledRound[]> {
        const rounds = roundsDue(now(), settings.intervalMs, leadMs, scheduledThrough)
        if (rounds.length === 0) return []
        const scheduled = await scheduleRounds(rounds)
        scheduledThrough = Math.max(scheduledThrough ?? -Infinity, ...rounds.map((round) => round.bucket))
        return scheduled
    }

    /**
     * Derives the targets once and inserts one job per target and round. The next round's jobs are inserted up to
     * `leadMs` before it starts, so a target registered in that window is probed from the round after.
     */
    async function scheduleRounds(rounds: Round[]): Promise<ScheduledRound[]> {
        const roundIds = rounds.map((round) => round.id).join(',')
        const client = await pool.connect()
        let targets: DerivedTarget[]
        try {
            await client.query('BEGIN')
            // One scheduler at a time: concurrent upserts of the same targets would only wait on each other's rows.
            await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEDULE_LOCK_ID])
            targets = await deriveProbeTargets(client, options.config.blueprints)
            const refresh = await syncProbeTargets(client, targets, now())
            await client.query('COMMIT')
            logger.info({rounds: roundIds, targets: refresh.active, deactivated: refresh.deactivated}, 'probe targets refreshed')
        } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined)
            throw error
        } finally {
            client.release()
        }

        const insertedAt = now().getTime()
        for (const round of rounds) {
            for (let start = 0; start < targets.length; start += JOB_INSERT_BATCH) {
                const jobs = targets.slice(start, start + JOB_INSERT_BATCH).map((target) => {
                    const plannedAt = new Date(round.startsAt.getTime() + jitterMsFor(target.id, round.id, settings.jitterMs))
                    const data: ProbeJobData = {roundId: round.id, plannedAt: plannedAt.toISOString(), target}
                    return {
                        id: probeJobId(round.id, target.id),
                        name: PROBE_QUEUE,
                        data,
                        startAfter: plannedAt.toISOString(),
                        priority: plannedAt.getTime() > insertedAt ? ON_TIME_PRIORITY : CATCH_UP_PRIORITY,
                        singletonKey: probeSingletonKey(round.id, target.id),
                    }
                })
                // The queue drops a job whose id it already contains, so every worker may schedule the same round.
                // That is true while the job row is kept, and pg-boss 10 archives a completed job after 12 hours by
                // default. With a longer interval a restarted worker could insert a completed job again, and the
                // proof_record id drops its records.
                await boss.insert(jobs)
            }
        }
        return rounds.map((round) => ({round, jobs: targets.length}))
    }

    /** Runs a batch; a database failure fails the whole batch, which the queue retries. */
    async function handleJobs(jobs: PgBoss.Job<ProbeJobData>[]): Promise<void> {
        try {
            await probeBatch(jobs)
        } catch (error) {
            metrics.jobFailures.inc(jobs.length)
            const fields = {jobs: jobs.length, err_name: error instanceof Error ? error.name : 'unknown', err: error instanceof Error ? error.message : String(error)}
            // Ctrl-C in a terminal can stop PostgreSQL while the worker stops: then the loss is expected. The jobs are
            // failed either way, so that the queue retries them.
            if (stopped && isConnectionLoss(error)) {
                logger.info(fields, 'probe batch not recorded: PostgreSQL went away while the worker stopped; the queue will retry its jobs')
            } else {
                logger.error(fields, 'probe batch failed; the queue will retry its jobs')
            }
            throw error
        }
    }

    async function probeBatch(jobs: PgBoss.Job<ProbeJobData>[]): Promise<void> {
        const takenAt = now()
        const head = await readChainHead(pool, options.config.name)
        const keys = jobs.map((job) => ({serviceId: job.data.target.serviceId, operator: job.data.target.operator}))
        const facts = await readChainFacts(pool, keys, settings, takenAt)

        const stored: StoredProof[] = []
        const probed: string[] = []
        await Promise.all(
            jobs.map(async (job) => {
                const {target, roundId} = job.data
                metrics.queueLag.set(Math.max(0, (takenAt.getTime() - Date.parse(job.data.plannedAt)) / 1000))
                try {
                    const targetFacts = facts.get(factsKey(target.serviceId, target.operator))
                    if (targetFacts === undefined) throw new Error(`no chain facts were read for target ${target.id}`)
                    const kinds = kindsForTarget(target.source, target.product)
                    const botId = kinds.some((kind) => kind.startsWith('TRADING_')) ? await discoverBotId(options.fetcher, target) : undefined
                    const plan = planTarget(target, botId, settings.redeemRequestBody)
                    // One kind after another: run at once, the requests of a target would queue for the fetcher's
                    // per-host slots, and that wait would count against each request's timeout.
                    for (const kind of kinds) {
                        const result = await probeKind(options.fetcher, kind, plan, targetFacts)
                        const record = await signKindResult(result, target, now(), head, options.account)
                        stored.push({id: proofRecordId(roundId, target.id, kind), targetId: target.id, roundId, record})
                        metrics.probeLatency.observe({kind}, result.durationMs / 1000)
                    }
                    probed.push(target.id)
                } catch (error) {
                    // Only a bug or a database failure lands here (probes return network problems as data); the
                    // queue retries the job, and the records of this target are not stored half-way.
                    metrics.jobFailures.inc()
                    logger.error(
                        {round: roundId, target: target.id, operator: target.operator, err_name: error instanceof Error ? error.name : 'unknown'},
                        'probe job failed; the queue will retry it',
                    )
                    await boss.fail(PROBE_QUEUE, job.id, {message: error instanceof Error ? error.name : 'unknown error'})
                }
            }),
        )

        const inserted = await insertProofRecords(pool, stored)
        await markTargetsProbed(pool, probed, now())
        for (const proof of stored) metrics.probes.inc({kind: proof.record.fields.kind, outcome: proof.record.fields.outcome})
        logger.info({jobs: jobs.length, records: stored.length, inserted, head: head.toString()}, 'probe jobs done')
    }

    // The jobs in flight are split into lanes of at most PROBE_LANE_SIZE, each a pg-boss work loop of its own. A
    // batch ends with its slowest target, so a slow target delays only its own lane while the others keep fetching.
    // pg-boss 10 pauses a loop for the polling interval after every batch, even when more jobs wait. A full batch
    // means a backlog, so notifyWorker makes the loop fetch again at once. A round then drains without idle gaps,
    // and a worker that crashes mid-round leaves active jobs behind, which expire and are retried by the others.
    for (const laneSize of laneSizes(settings.concurrency)) {
        let laneId: string | undefined
        laneId = await boss.work<ProbeJobData>(
            PROBE_QUEUE,
            {batchSize: laneSize, pollingIntervalSeconds: settings.pollIntervalMs / 1000},
            async (jobs) => {
                await handleJobs(jobs)
                if (jobs.length >= laneSize && laneId !== undefined && !stopped) boss.notifyWorker(laneId)
            },
        )
    }

    let timer: NodeJS.Timeout | undefined
    const tickMs = Math.max(1, Math.min(MAX_SCHEDULER_TICK_MS, Math.floor(leadMs / 2)))
    const tick = async (): Promise<void> => {
        if (stopped) return
        try {
            for (const {round, jobs} of await scheduleDueRounds()) {
                logger.info({round: round.id, jobs, starts_in_ms: round.startsAt.getTime() - now().getTime()}, 'round scheduled')
            }
        } catch (error) {
            logger.error({err_name: error instanceof Error ? error.name : 'unknown', err: error instanceof Error ? error.message : String(error)}, 'scheduling a round failed; retrying on the next tick')
        }
        if (!stopped) timer = setTimeout(() => void tick(), tickMs)
    }
    await tick()

    return {
        scheduleDueRounds,
        async stop() {
            stopped = true
            clearTimeout(timer)
            await boss.stop({graceful: true, wait: true, timeout: 10_000})
        },
    }
}

/** Jobs per pg-boss work loop of a worker: a slow target holds up at most this many jobs. */
export const PROBE_LANE_SIZE = 8

/** Batch sizes of the work loops that together take `concurrency` jobs at a time. */
export function laneSizes(concurrency: number): number[] {
    const sizes: number[] = []
    for (let left = concurrency; left > 0; left -= PROBE_LANE_SIZE) sizes.push(Math.min(PROBE_LANE_SIZE, left))
    return sizes
}
