/**
 * Probing benchmark: N simulated operator endpoints on 127.0.0.1 (a few server processes, each on many ports, one
 * path per operator), registrations for them in a fresh database, and 1 or 2 prober worker processes (the compiled
 * `lib/cli/prober.js`) that probe them.
 *
 *   npm run bench:probing -- --targets 10000 --mode paced --workers 1
 *   npm run bench:probing -- --targets 10000 --mode burst --workers 2
 *
 * Modes:
 * - paced: a 60 s round with targets spread over its first 50 s (PROBE_JITTER_MS), so N probes a minute. Reports the
 *   schedule lag (proof time minus planned time) p50/p99, the lag grouped by planned offset within the round with
 *   its parts (job inserted late, waiting in the queue, probing), the worst targets, and the peak RSS of each worker.
 *   The workers start --lead-in-s before the measured round (default one round), so it is measured in steady state.
 * - burst: one-hour round with no jitter, so every target is due at once. Reports probes per second while the
 *   queue drains (the capacity of the workers).
 * Options: --targets N (default 2,000), --mode paced|burst, --workers 1|2, --servers N (default 4),
 * --ports-per-server N (default 25), and --lead-in-s N (paced only, default 60). With --lead-in-s 3 the workers start
 * just before the measured round, so they first catch up on the round before it. The worker settings default to the
 * product defaults: --concurrency N (PROBER_CONCURRENCY), --per-host N (PROBE_MAX_CONCURRENT_PER_HOST) and
 * --poll-ms N (PROBER_POLL_INTERVAL_MS). Every run stops by itself: paced after its round plus PACED_DRAIN_MS, burst
 * after BURST_TIMEOUT_MS.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {startEmbeddedPostgres} from '../src/db/embedded'
import {applyMigrations} from '../src/stack/children'
import {jitterMsFor} from '../src/proofs/worker/rounds'
import {DEFAULT_PROBER_SETTINGS} from '../src/proofs/worker/settings'
import {buildProcessorCopy, buildProjectIfMissing, buildVersion, formatVersion, BENCH_BUILD_DIR} from './lib/build'
import {formatLoad, numberArg, parseArgs, percentile, runContext, removeOnExit, runBenchmark, saveResult, tolerateShutdown, UsageError} from './lib/machine'
import {formatLagReport, lagByPlannedOffset, worstTargets, type TargetTimeline} from './lib/schedule-lag'

const PACED_INTERVAL_MS = 60_000
const PACED_JITTER_MS = 50_000
/** Time after the end of the paced round that late probes still count. */
const PACED_DRAIN_MS = 15_000
const BURST_INTERVAL_MS = 3_600_000
/** Maximum length of a burst run; the probes stored by then are reported. */
const BURST_TIMEOUT_MS = 180_000
/** A blueprint id outside the devnet preset: its targets have no product and get the reachability check only. */
const BENCH_BLUEPRINT = '100'
const SERVER_LIFETIME_S = 600
/** Width of the planned-offset buckets of the lag report. */
const LAG_BUCKET_MS = 5_000
/** Targets listed in the worst-lag table. */
const WORST_TARGET_COUNT = 10
const WORKER_STOP_TIMEOUT_MS = 20_000

interface WorkerProcess {
    child: ChildProcess
    log: string[]
    peakRssMiB(): number | undefined
}

function operatorAddress(index: number): string {
    return `0x${(0xc0000 + index).toString(16).padStart(40, '0')}`
}

async function startEndpointServers(servers: number, portsPerServer: number): Promise<{ports: number[]; stop(): void}> {
    const ports: number[] = []
    const children: ChildProcess[] = []
    const stop = () => children.forEach((child) => child.kill('SIGTERM'))
    try {
        for (let server = 0; server < servers; server++) {
            const child = spawn(process.execPath, [path.join(__dirname, 'lib', 'endpoint-server.cjs'), String(SERVER_LIFETIME_S), String(portsPerServer)], {
                stdio: ['ignore', 'pipe', 'pipe'],
            })
            children.push(child)
            const banner = await new Promise<string>((resolve, reject) => {
                let output = ''
                child.stdout!.on('data', (chunk: Buffer) => {
                    output += chunk.toString()
                    if (output.includes('\n')) resolve(output)
                })
                child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
                child.once('exit', (code) => reject(new Error(`endpoint server exited with ${code} before listening: ${output.slice(-2000)}`)))
            })
            ports.push(...banner.trim().split(' ').slice(1).map(Number))
        }
    } catch (error) {
        stop()
        throw error
    }
    return {ports, stop}
}

async function seed(client: pg.Client, targets: number, ports: number[]): Promise<void> {
    const start = '2026-01-01T00:00:00Z'
    await client.query(
        `INSERT INTO blueprint (id, blueprint_id, owner, product, shape, active, created_at_block, created_at, created_tx)
         VALUES ($1, $2, $3, NULL, 'current', true, 1, $4, $5)`,
        [BENCH_BLUEPRINT, BENCH_BLUEPRINT, operatorAddress(0xffff), start, `0x${'ab'.repeat(32)}`],
    )
    const operators = Array.from({length: targets}, (_, index) => operatorAddress(index))
    const urls = operators.map((_, index) => `http://127.0.0.1:${ports[index % ports.length]}/op/${index}/health`)
    await client.query(
        `INSERT INTO operator (id, stake, restaking_status, unstake_scheduled, first_seen_block, first_seen_at)
         SELECT o, 1, 'ACTIVE', 0, 1, $2 FROM unnest($1::text[]) o`,
        [operators, start],
    )
    await client.query(
        `INSERT INTO registration (id, blueprint_id, operator_id, status, rpc_address, rpc_address_valid_utf8, registration_count,
                                   registered_at_block, registered_at, updated_at)
         SELECT $3 || '-' || o, $3, o, 'ACTIVE', u, true, 1, 1, $4, $4 FROM unnest($1::text[], $2::text[]) AS t(o, u)`,
        [operators, urls, BENCH_BLUEPRINT, start],
    )
}

function startWorker(dbEnv: Record<string, string>, settings: Record<string, string>): WorkerProcess {
    const child = spawn(process.execPath, [path.join(BENCH_BUILD_DIR, 'lib', 'cli', 'prober.js')], {
        cwd: BENCH_BUILD_DIR,
        env: {...process.env, ...dbEnv, ...settings, NETWORK: 'devnet', PROBER_DEV_MODE: '1', SQD_INFO: ''},
        stdio: ['ignore', 'pipe', 'pipe'],
    })
    const log: string[] = []
    const keep = (chunk: Buffer) => {
        log.push(chunk.toString())
        if (log.length > 200) log.shift()
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    let peakKiB: number | undefined
    const readPeak = (): void => {
        try {
            const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
            if (match) peakKiB = Number(match[1])
        } catch {
            // The process has exited; keep the last reading.
        }
    }
    const timer = setInterval(readPeak, 1_000)
    child.once('exit', () => clearInterval(timer))
    return {
        child,
        log,
        peakRssMiB: () => {
            readPeak()
            return peakKiB === undefined ? undefined : Math.round(peakKiB / 1024)
        },
    }
}

async function stopWorker(worker: WorkerProcess): Promise<void> {
    if (worker.child.exitCode !== null) return
    const exited = new Promise<void>((resolve) => worker.child.once('exit', () => resolve()))
    worker.child.kill('SIGTERM')
    const timer = setTimeout(() => worker.child.kill('SIGKILL'), WORKER_STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2), {
        values: ['mode', 'workers', 'targets', 'servers', 'ports-per-server', 'per-host', 'concurrency', 'poll-ms', 'lead-in-s'],
        flags: [],
    })
    const targets = numberArg(args, 'targets', 2_000)
    const mode = args.get('mode') ?? 'paced'
    if (mode !== 'paced' && mode !== 'burst') throw new UsageError(`--mode: expected paced or burst, received ${mode}`)
    const workerCount = numberArg(args, 'workers', 1)
    const intervalMs = mode === 'paced' ? PACED_INTERVAL_MS : BURST_INTERVAL_MS
    const jitterMs = mode === 'paced' ? PACED_JITTER_MS : 0
    const settings = {
        PROBE_INTERVAL_MS: String(intervalMs),
        PROBE_JITTER_MS: String(jitterMs),
        PROBE_TIMEOUT_MS: '5000',
        PROBER_CONCURRENCY: String(numberArg(args, 'concurrency', DEFAULT_PROBER_SETTINGS.concurrency)),
        PROBE_MAX_CONCURRENT_PER_HOST: String(numberArg(args, 'per-host', DEFAULT_PROBER_SETTINGS.maxConcurrentPerHost)),
        PROBER_POLL_INTERVAL_MS: String(numberArg(args, 'poll-ms', DEFAULT_PROBER_SETTINGS.pollIntervalMs)),
    }
    const leadInMs = numberArg(args, 'lead-in-s', PACED_INTERVAL_MS / 1000, 0) * 1000

    await buildProjectIfMissing()
    await buildProcessorCopy()
    const code = buildVersion(BENCH_BUILD_DIR)
    console.log(`code: prober from ${formatVersion(code)}`)
    const endpoints = await startEndpointServers(numberArg(args, 'servers', 4), numberArg(args, 'ports-per-server', 25))
    const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'proofgap-bench-probe-')), 'data')
    removeOnExit(path.dirname(dataDir))
    const server = await startEmbeddedPostgres({dataDir, ephemeral: true})
    const client = new pg.Client({connectionString: server.url})
    tolerateShutdown(client)
    const workers: WorkerProcess[] = []
    try {
        await applyMigrations(server.env)
        await client.connect()
        await seed(client, targets, endpoints.ports)

        // The measured round must start after the workers: wait for a boundary at least the lead-in ahead.
        let roundStart = Math.floor(Date.now() / intervalMs) * intervalMs
        if (mode === 'paced') {
            roundStart += intervalMs * Math.ceil((Date.now() + leadInMs - roundStart) / intervalMs)
            await sleep(Math.max(0, roundStart - Date.now() - leadInMs))
        } else if (roundStart + intervalMs - Date.now() < BURST_TIMEOUT_MS + 30_000) {
            throw new Error('the one-hour burst round ends within the run; start the burst benchmark again in a few minutes')
        }
        const context = runContext()
        const startedAt = Date.now()
        for (let index = 0; index < workerCount; index++) workers.push(startWorker(server.env, settings))
        const roundId = `r${Math.floor(roundStart / intervalMs)}`

        const deadline = mode === 'paced' ? roundStart + intervalMs + PACED_DRAIN_MS : startedAt + BURST_TIMEOUT_MS
        while (Date.now() < deadline) {
            await sleep(1_000)
            const count = await client.query<{n: number}>('SELECT count(*)::int AS n FROM proof_record WHERE round = $1', [roundId])
            if (mode === 'burst' && count.rows[0].n >= targets) break
            for (const worker of workers) {
                if (worker.child.exitCode !== null) throw new Error(`prober worker exited with ${worker.child.exitCode}:\n${worker.log.join('').slice(-3000)}`)
            }
        }
        const peaks = workers.map((worker) => worker.peakRssMiB())
        await Promise.all(workers.map(stopWorker))

        const rows = await client.query<{target_id: string; observed_at: Date; created_on: Date | null; started_on: Date | null}>(
            `SELECT r.target_id, r.observed_at, j.created_on, j.started_on
             FROM proof_record r
             LEFT JOIN pgboss.job j ON j.name = 'proofgap-probe' AND j.data->>'roundId' = r.round AND j.data->'target'->>'id' = r.target_id
             WHERE r.round = $1`,
            [roundId],
        )
        const otherRounds = await client.query<{round: string; n: number}>(
            'SELECT round, count(*)::int AS n FROM proof_record WHERE round <> $1 GROUP BY round ORDER BY round',
            [roundId],
        )
        // In burst mode every target is due before the workers start, so lag counts from their start (p99 is the drain time).
        const plannedAt = (targetId: string) => (mode === 'burst' ? startedAt : roundStart + jitterMsFor(targetId, roundId, jitterMs))
        const timelines: TargetTimeline[] = rows.rows.map((row) => ({
            targetId: row.target_id,
            plannedMs: plannedAt(row.target_id),
            createdMs: row.created_on?.getTime(),
            startedMs: row.started_on?.getTime(),
            observedMs: row.observed_at.getTime(),
        }))
        const lagsMs = timelines.map((timeline) => timeline.observedMs - timeline.plannedMs).sort((a, b) => a - b)
        const insertedMs = timelines.flatMap((timeline) => (timeline.createdMs === undefined ? [] : [timeline.createdMs - roundStart])).sort((a, b) => a - b)
        const lagBuckets = mode === 'paced' ? lagByPlannedOffset(timelines, roundStart, LAG_BUCKET_MS) : []
        const worst = worstTargets(timelines, mode === 'paced' ? roundStart : startedAt, WORST_TARGET_COUNT)
        const times = rows.rows.map((row) => row.observed_at.getTime()).sort((a, b) => a - b)
        const drainSeconds = times.length > 1 ? (times[times.length - 1] - Math.max(roundStart, times[0])) / 1000 : NaN
        const result = {
            code,
            mode,
            targets,
            workers: workerCount,
            settings,
            probed: rows.rows.length,
            lagP50Ms: percentile(lagsMs, 0.5),
            lagP99Ms: percentile(lagsMs, 0.99),
            probesPerSecond: mode === 'burst' ? rows.rows.length / drainSeconds : rows.rows.length / (intervalMs / 1000),
            probesPerSecondPerWorker: mode === 'burst' ? rows.rows.length / drainSeconds / workerCount : undefined,
            peakRssMiB: peaks,
            leadInMs: mode === 'paced' ? leadInMs : undefined,
            /** Records stored for the other rounds: the workers' first round before the measured one, and the next one. */
            otherRounds: otherRounds.rows,
            /** First and last insert of the measured round's jobs, relative to the round start. */
            jobsInsertedMs: insertedMs.length === 0 ? undefined : [insertedMs[0], insertedMs[insertedMs.length - 1]],
            lagBuckets,
            worst,
            context,
        }
        console.log(
            `${mode}, ${targets} targets, ${workerCount} worker(s), ${JSON.stringify(settings)}: ${result.probed} probed` +
                (mode === 'burst' ? ` in ${drainSeconds.toFixed(1)} s = ${result.probesPerSecond.toFixed(0)} probes/s` : '') +
                `; schedule lag p50 ${(result.lagP50Ms / 1000).toFixed(2)} s, p99 ${(result.lagP99Ms / 1000).toFixed(2)} s; ` +
                `peak RSS ${peaks.join(', ')} MiB; load ${formatLoad(context)}`,
        )
        if (insertedMs.length > 0) {
            console.log(`jobs of the measured round inserted from ${(insertedMs[0] / 1000).toFixed(2)} s to ${(insertedMs[insertedMs.length - 1] / 1000).toFixed(2)} s after its start`)
        }
        console.log(`records of other rounds: ${JSON.stringify(otherRounds.rows)}`)
        if (mode === 'paced') console.log(formatLagReport(lagBuckets, worst))
        saveResult('probing', result)
    } finally {
        await Promise.all(workers.map(stopWorker))
        endpoints.stop()
        await client.end().catch(() => undefined)
        await server.stop()
        rmSync(path.dirname(dataDir), {recursive: true, force: true})
    }
}

runBenchmark(main)
