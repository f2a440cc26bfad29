import type {ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {binPath, runToEnd, startChild, stopChild, PROJECT_ROOT} from '../src/stack/children'
import {probeJobId} from '../src/proofs/worker/rounds'
import {intervalWithTimeLeft} from './helpers/rounds'
import {seedReachabilityTargets} from './helpers/reachability-targets'
import {startTestDatabase} from './helpers/stack'

const TARGET_COUNT = 200
/** Response delay of the loopback server, so a round lasts long enough to kill a worker in the middle of it. */
const ANSWER_DELAY_MS = 120
const JOB_EXPIRE_SECONDS = 3
const MAINTENANCE_INTERVAL_SECONDS = 1
const RETRY_DELAY_SECONDS = 0
/** Allowance for the survivor's polling and probing on top of expiry, maintenance and retry delay. */
const RETRY_SLACK_MS = 10_000
/** Jobs one worker takes from the queue at once. */
const CONCURRENCY = 5
/** Requests one worker sends to one host and port at once; every target shares the test server. */
const PER_HOST_LIMIT = 2
const ROUND_WAIT_MS = 60_000

/** Compiled sources of this file; inside node_modules so that the packages resolve and git ignores it. */
const BUILD_DIR = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'proofgap-tests', 'prober-workers')

const op = (n: number): string => `0x${(0x5000 + n).toString(16).padStart(40, '0')}`

describe('prober workers', () => {
    let db: Awaited<ReturnType<typeof startTestDatabase>>
    let server: http.Server
    const workers: ChildProcess[] = []
    const output: string[] = ['', '']
    /** Requests in progress on the server. Above PER_HOST_LIMIT, both workers are in the middle of a batch. */
    let inFlight = 0
    let bothWorkersProbing = false

    beforeAll(async () => {
        // A private output directory: `npm run build` would delete lib/ under other test files that run at the same time.
        await compileProject(BUILD_DIR)
        db = await startTestDatabase()
        server = http.createServer((_request, response) => {
            inFlight += 1
            if (inFlight > PER_HOST_LIMIT) bothWorkersProbing = true
            setTimeout(() => {
                inFlight -= 1
                response.writeHead(200, {'content-type': 'application/json'}).end('{"ok":true}')
            }, ANSWER_DELAY_MS)
        })
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
        const port = (server.address() as {port: number}).port

        const operators = Array.from({length: TARGET_COUNT}, (_, index) => op(index))
        await seedReachabilityTargets(db.client, operators, `http://127.0.0.1:${port}`, op(9999))

        const env = {
            ...db.env,
            NETWORK: 'devnet',
            PROBER_DEV_MODE: '1',
            PROBE_INTERVAL_MS: String(intervalWithTimeLeft()),
            PROBE_JITTER_MS: '0',
            PROBE_TIMEOUT_MS: '2000',
            PROBER_CONCURRENCY: String(CONCURRENCY),
            PROBE_MAX_CONCURRENT_PER_HOST: String(PER_HOST_LIMIT),
            PROBER_POLL_INTERVAL_MS: '500',
            PROBER_JOB_EXPIRE_SECONDS: String(JOB_EXPIRE_SECONDS),
            PROBER_RETRY_DELAY_SECONDS: String(RETRY_DELAY_SECONDS),
            PROBER_MAINTENANCE_INTERVAL_SECONDS: String(MAINTENANCE_INTERVAL_SECONDS),
        }
        for (const index of [0, 1]) {
            const child = startChild(process.execPath, [path.join(BUILD_DIR, 'lib', 'cli', 'prober.js')], env, `prober-${index}`)
            child.stdout?.on('data', (chunk: Buffer) => (output[index] += chunk.toString()))
            child.stderr?.on('data', (chunk: Buffer) => (output[index] += chunk.toString()))
            workers.push(child)
        }
    })

    afterAll(async () => {
        for (const worker of workers) await stopChild(worker)
        if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
        await db?.stop()
    })

    const signerCount = async (): Promise<number> =>
        Number((await db.client.query(`SELECT count(DISTINCT signer) AS n FROM proof_record`)).rows[0].n)

    const recordCount = async (): Promise<number> =>
        Number((await db.client.query(`SELECT count(DISTINCT target_id) AS n FROM proof_record`)).rows[0].n)

    let killedAt = 0
    let roundId = ''

    it('killed worker loses no targets', async () => {
        const deadline = Date.now() + ROUND_WAIT_MS
        // Both workers have stored records and have a request in flight, so the worker about to be killed has jobs
        // it has not stored yet. A count of active jobs cannot show this, because one worker can have more than one
        // batch in state active (seen with pg-boss 10).
        while ((await signerCount()) < 2 && Date.now() < deadline) await sleep(50)
        bothWorkersProbing = false
        while (!bothWorkersProbing && Date.now() < deadline) await sleep(5)
        const beforeKill = await recordCount()
        expect(beforeKill).toBeLessThan(TARGET_COUNT)
        process.kill(workers[0].pid as number, 'SIGKILL')
        killedAt = Date.now()

        while ((await recordCount()) < TARGET_COUNT && Date.now() < deadline) await sleep(250)

        const perTarget = (await db.client.query(
            `SELECT target_id, count(*)::int AS n FROM proof_record GROUP BY target_id`,
        )).rows as Array<{target_id: string; n: number}>
        expect(perTarget, output.join('\n----\n').slice(-3000)).toHaveLength(TARGET_COUNT)
        expect(perTarget.filter((row) => row.n !== 1)).toEqual([])
        const rounds = (await db.client.query(`SELECT DISTINCT round FROM proof_record`)).rows
        expect(rounds).toHaveLength(1)
        roundId = rounds[0].round as string
        const outcomes = (await db.client.query(`SELECT outcome, count(*)::int AS n FROM proof_record GROUP BY outcome`)).rows
        expect(outcomes).toEqual([{outcome: 'PASS', n: TARGET_COUNT}])
    })

    it('both workers stored records', async () => {
        // Dev mode gives each process its own key, so the signer identifies the worker that stored a record.
        const signers = (await db.client.query(`SELECT signer, count(*)::int AS n FROM proof_record GROUP BY signer`)).rows
        expect(signers).toHaveLength(2)
    })

    it('expired jobs retried by survivor', async () => {
        // pg-boss 10 keeps the job id through a retry: expiry re-inserts the row in state `retry` with its old
        // started_on, and the next fetch raises retry_count because started_on is set.
        const retried = (await db.client.query(
            `SELECT id::text, state, retry_count, data->>'roundId' AS round, data->'target'->>'id' AS target_id,
                    extract(epoch FROM completed_on) * 1000 AS completed_ms
             FROM pgboss.job WHERE name = 'proofgap-probe' AND retry_count > 0`,
        )).rows as Array<{id: string; state: string; retry_count: number; round: string; target_id: string; completed_ms: string}>
        expect(retried.length).toBeGreaterThan(0)
        expect(retried.length).toBeLessThanOrEqual(CONCURRENCY)
        const retryWindowMs = (JOB_EXPIRE_SECONDS + MAINTENANCE_INTERVAL_SECONDS + RETRY_DELAY_SECONDS) * 1000 + RETRY_SLACK_MS
        for (const job of retried) {
            expect(job.state).toBe('completed')
            expect(job.retry_count).toBe(1)
            expect(job.round).toBe(roundId)
            expect(job.id).toBe(probeJobId(roundId, job.target_id))
            expect(Number(job.completed_ms)).toBeGreaterThan(killedAt)
            expect(Number(job.completed_ms)).toBeLessThan(killedAt + retryWindowMs)
        }

        // A retried job's record comes from the survivor, or from the killed worker when it stored the record but was
        // killed before pg-boss marked the job complete. Then the survivor's insert is a no-op, and the record
        // stays the one observed before the kill.
        const survivor = signerOf(output[1])
        const killed = signerOf(output[0])
        const retriedRecords = (await db.client.query(
            `SELECT target_id, round, signer, extract(epoch FROM observed_at) * 1000 AS observed_ms
             FROM proof_record WHERE target_id = ANY($1::text[])`,
            [retried.map((job) => job.target_id)],
        )).rows as Array<{target_id: string; round: string; signer: string; observed_ms: string}>
        expect(retriedRecords).toHaveLength(retried.length)
        for (const record of retriedRecords) {
            expect(record.round).toBe(roundId)
            expect([survivor, killed]).toContain(record.signer)
            if (record.signer === killed) expect(Number(record.observed_ms)).toBeLessThanOrEqual(killedAt)
        }
        expect(output[1]).not.toMatch(/probe batch failed/)
    })
})

/**
 * Compiles src/ into `dir`/lib. Type errors are printed but do not stop the test, because tsc still emits
 * JavaScript and other work in progress in the tree must not block this one; a missing entry point does.
 */
async function compileProject(dir: string): Promise<void> {
    const build = await runToEnd(binPath('tsc'), ['-p', 'tsconfig.json', '--outDir', path.join(dir, 'lib')], {}, 120_000)
    if (build.code !== 0) process.stderr.write(`tsc reported errors (exit ${build.code}):\n${build.stdout.slice(0, 2_000)}\n`)
    expect(existsSync(path.join(dir, 'lib', 'cli', 'prober.js')), 'compiled prober entry point').toBe(true)
}

/** Return the signer address a prober process logged at start. */
function signerOf(log: string): string {
    const match = /"signer":"(0x[0-9a-f]{40})"/.exec(log)
    if (match === null) throw new Error(`no signer in the prober output: ${log.slice(0, 500)}`)
    return match[1]
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms))
}
