import {Pool} from 'pg'
import {privateKeyToAccount} from 'viem/accounts'
import type {Hex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadNetworkConfig} from '../src/config/load'
import {compileAddressPolicy, createSafeFetch} from '../src/proofs/http'
import {createProberMetrics} from '../src/proofs/metrics'
import {
    DEFAULT_PROBER_SETTINGS,
    jitterMsFor,
    JOB_INSERT_BATCH,
    MAX_SCHEDULE_LEAD_MS,
    probeJobId,
    type ProberLogger,
    type ProberWorker,
    roundAt,
    roundsDue,
    scheduleLeadMs,
    startProberWorker,
} from '../src/proofs/worker'
import {seedReachabilityTargets} from './helpers/reachability-targets'
import {startTestDatabase, tolerateShutdown} from './helpers/stack'

// Scheduling of probe rounds with a worker clock set in 2030. The database clock is years earlier, so the queue
// keeps every job as not yet due and no probe is sent. The test reads what the schedulers inserted.

const PROBER_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
/** One more than a queue insert takes, so each round is inserted in two statements. */
const TARGET_COUNT = JOB_INSERT_BATCH + 1
const INTERVAL_MS = 600_000
const JITTER_MS = 60_000
/** Maximum wait for the scheduler loop to insert a round by itself: a few of its ticks (at most 5 s each). */
const TICK_WAIT_MS = 15_000
/** Start of the round after the worker clock's first round. */
const NEXT_ROUND_START_MS = (Math.floor(Date.UTC(2030, 0, 1) / INTERVAL_MS) + 1) * INTERVAL_MS

const op = (n: number): string => `0x${(0x7000 + n).toString(16).padStart(40, '0')}`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('roundsDue', () => {
    const lead = scheduleLeadMs(INTERVAL_MS)
    const at = (offsetMs: number): Date => new Date(NEXT_ROUND_START_MS + offsetMs)
    const current = roundAt(at(-1), INTERVAL_MS)
    const next = roundAt(at(0), INTERVAL_MS)

    it.each([
        ['before lead window: current only', -lead - 1, undefined, [current.id]],
        ['inside lead window: current and next', -lead, undefined, [current.id, next.id]],
        ['inside lead window, current done: next', -1, current.bucket, [next.id]],
        ['inside lead window, next done: none', -1, next.bucket, []],
        ['next round started: next only', 0, current.bucket, [next.id]],
    ])('%s', (_name, offsetMs, scheduledThrough, expected) => {
        expect(roundsDue(at(offsetMs), INTERVAL_MS, lead, scheduledThrough).map((round) => round.id)).toEqual(expected)
    })

    it.each([
        ['five-minute interval', 300_000, MAX_SCHEDULE_LEAD_MS],
        ['one-minute interval', 60_000, 30_000],
        ['two-second interval', 2_000, 1_000],
    ])('scheduleLeadMs %s', (_name, intervalMs, expected) => {
        expect(scheduleLeadMs(intervalMs)).toBe(expected)
    })
})

describe('prober schedule', () => {
    let db: Awaited<ReturnType<typeof startTestDatabase>>
    let pool: Pool
    const workers: ProberWorker[] = []
    const logLines: string[] = []
    let clockMs = NEXT_ROUND_START_MS - 4 * MAX_SCHEDULE_LEAD_MS

    const startWorker = async (): Promise<ProberWorker> => {
        const capture = (level: string) => (attributes: object, message: string) => {
            logLines.push(`${level} ${message} ${JSON.stringify(attributes)}`)
        }
        const logger: ProberLogger = {info: capture('info'), warn: capture('warn'), error: capture('error')}
        const config = loadNetworkConfig({env: {NETWORK: 'devnet', RPC_URL: 'http://127.0.0.1:1'}})
        const worker = await startProberWorker({
            pool,
            connectionString: db.url,
            config,
            settings: {...DEFAULT_PROBER_SETTINGS, intervalMs: INTERVAL_MS, jitterMs: JITTER_MS, pollIntervalMs: 500, concurrency: 4},
            account: privateKeyToAccount(PROBER_KEY),
            fetcher: createSafeFetch({policy: compileAddressPolicy({allow: config.probeAllow}), totalTimeoutMs: 1_000}),
            logger,
            metrics: createProberMetrics(),
            now: () => new Date(clockMs),
        })
        workers.push(worker)
        return worker
    }

    interface JobRow {
        id: string
        round: string
        target_id: string
        state: string
        priority: number
        start_after: Date
        created_on: Date
    }

    const jobsOf = async (roundId: string): Promise<JobRow[]> =>
        (await db.client.query<JobRow>(
            `SELECT id::text, data->>'roundId' AS round, data->'target'->>'id' AS target_id, state, priority, start_after, created_on
             FROM pgboss.job WHERE name = 'proofgap-probe' AND data->>'roundId' = $1 ORDER BY id`,
            [roundId],
        )).rows

    const roundIds = async (): Promise<string[]> =>
        (await db.client.query<{round: string}>(
            `SELECT DISTINCT data->>'roundId' AS round FROM pgboss.job WHERE name = 'proofgap-probe' ORDER BY 1`,
        )).rows.map((row) => row.round)

    const round = (offsetRounds: number) => roundAt(new Date(NEXT_ROUND_START_MS + offsetRounds * INTERVAL_MS), INTERVAL_MS)

    beforeAll(async () => {
        db = await startTestDatabase()
        // Port 1 of loopback: the jobs are never due, so nothing is sent there.
        const operators = Array.from({length: TARGET_COUNT}, (_, index) => op(index))
        await seedReachabilityTargets(db.client, operators, 'http://127.0.0.1:1', op(9999))
        pool = tolerateShutdown(new Pool({connectionString: db.url, max: 4}))
    })

    afterAll(async () => {
        for (const worker of workers) await worker.stop()
        await pool?.end()
        await db?.stop()
    })

    it('start outside lead window queues current round', async () => {
        await startWorker()
        expect(await roundIds()).toEqual([round(-1).id])
        const jobs = await jobsOf(round(-1).id)
        expect(jobs).toHaveLength(TARGET_COUNT)
        // Every planned time of the current round had passed when the worker started, so all of it is catch-up work.
        expect(jobs.map((job) => job.priority)).toEqual(Array(TARGET_COUNT).fill(0))
    })

    it('scheduler loop queues next round ahead', async () => {
        clockMs = NEXT_ROUND_START_MS - scheduleLeadMs(INTERVAL_MS) + 1_000
        const deadline = Date.now() + TICK_WAIT_MS
        while ((await jobsOf(round(0).id)).length < TARGET_COUNT && Date.now() < deadline) await sleep(200)

        const jobs = await jobsOf(round(0).id)
        expect(jobs, logLines.join('\n').slice(-2000)).toHaveLength(TARGET_COUNT)
        for (const job of jobs) {
            expect(job.id).toBe(probeJobId(round(0).id, job.target_id))
            expect(job.state).toBe('created')
            expect(job.priority).toBe(1)
            expect(job.start_after.getTime()).toBe(NEXT_ROUND_START_MS + jitterMsFor(job.target_id, round(0).id, JITTER_MS))
        }
        // The worker clock has not reached the round yet, so its jobs were queued ahead of it.
        expect(clockMs).toBeLessThan(NEXT_ROUND_START_MS)
        expect(await roundIds()).toEqual([round(-1).id, round(0).id])
        expect(logLines.filter((line) => line.startsWith('error'))).toEqual([])
    })

    it('two schedulers insert each job once', async () => {
        const first = workers[0]
        const before = await jobsOf(round(0).id)
        const second = await startWorker()
        clockMs = NEXT_ROUND_START_MS + INTERVAL_MS - 1_000
        const [firstRounds, secondRounds] = await Promise.all([first.scheduleDueRounds(), second.scheduleDueRounds()])

        // Either scheduler may have inserted round 1 in its own loop already, so each call returns round 1 or nothing.
        expect([...firstRounds, ...secondRounds].every((scheduled) => scheduled.round.id === round(1).id)).toBe(true)
        expect(await roundIds()).toEqual([round(-1).id, round(0).id, round(1).id])
        expect(await jobsOf(round(1).id)).toHaveLength(TARGET_COUNT)
        expect(await jobsOf(round(0).id)).toEqual(before)
        expect(await jobsOf(round(-1).id)).toHaveLength(TARGET_COUNT)
    })

    it('restart in lead window adds no jobs', async () => {
        const before = await Promise.all([round(0), round(1)].map((scheduled) => jobsOf(scheduled.id)))
        await workers[0].stop()
        workers.shift()
        const restarted = await startWorker()

        // Its start-up tick has already submitted the current and the next round, and the queue dropped both.
        expect(await restarted.scheduleDueRounds()).toEqual([])
        expect(await roundIds()).toEqual([round(-1).id, round(0).id, round(1).id])
        const after = await Promise.all([round(0), round(1)].map((scheduled) => jobsOf(scheduled.id)))
        expect(after).toEqual(before)
        expect(logLines.filter((line) => line.startsWith('error'))).toEqual([])
    })
})
