import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {afterAll, describe, expect, it} from 'vitest'
import {startEmbeddedPostgres, type EmbeddedDatabase} from '../src/db/embedded'
import {applyMigrations, PROJECT_ROOT, startChild, stopChild} from '../src/stack/children'
import {seedReachabilityTargets} from './helpers/reachability-targets'
import {intervalWithTimeLeft} from './helpers/rounds'

/*
 * PostgreSQL stops while the prober CLI has probes in flight. The batch then ends without a database, and pg-boss 10
 * marks it failed without awaiting the query: the worker must neither crash on that rejection nor lose a target,
 * since the batch is retried once its jobs expire. When the worker is stopping at the same moment (Ctrl-C in the
 * terminal of npm start reaches the embedded PostgreSQL too), the loss is expected and no error is logged.
 */

const TARGET_COUNT = 30
/** Response delay of the loopback server: the database stops while the first batch waits for the responses. */
const ANSWER_DELAY_MS = 1_500
const JOB_EXPIRE_SECONDS = 3
const WAIT_MS = 90_000

const op = (n: number): string => `0x${(0x7000 + n).toString(16).padStart(40, '0')}`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Scenario {
    dataDir: string
    database: EmbeddedDatabase
    worker: ChildProcess
    /** Requests that reached the loopback server so far. */
    requests(): number
    /** Everything the worker printed so far. */
    output(): string
}

describe('prober CLI with probes in flight when PostgreSQL stops', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-prober-db-'))
    const databases: (EmbeddedDatabase | undefined)[] = []
    const workers: ChildProcess[] = []
    const servers: http.Server[] = []

    afterAll(async () => {
        for (const worker of workers) await stopChild(worker)
        for (const server of servers) await new Promise((resolve) => server.close(resolve))
        for (const database of databases) await database?.stop()
        rmSync(dir, {recursive: true, force: true})
    })

    /** Starts PostgreSQL, the slow loopback server with TARGET_COUNT targets, and the prober CLI; waits for the first request. */
    async function startScenario(name: string): Promise<Scenario> {
        const dataDir = path.join(dir, name)
        const database = await startEmbeddedPostgres({dataDir})
        databases.push(database)
        await applyMigrations(database.env)

        let requests = 0
        const server = http.createServer((_request, response) => {
            requests += 1
            setTimeout(() => response.writeHead(200, {'content-type': 'application/json'}).end('{"ok":true}'), ANSWER_DELAY_MS)
        })
        servers.push(server)
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
        const serverPort = (server.address() as {port: number}).port
        const seed = new pg.Client({connectionString: database.url})
        await seed.connect()
        await seedReachabilityTargets(seed, Array.from({length: TARGET_COUNT}, (_, index) => op(index)), `http://127.0.0.1:${serverPort}`, op(9999))
        await seed.end()

        let output = ''
        const worker = startChild(
            process.execPath,
            [path.join(PROJECT_ROOT, 'lib', 'cli', 'prober.js')],
            {
                ...database.env,
                NETWORK: 'devnet',
                PROBER_DEV_MODE: '1',
                PROBE_INTERVAL_MS: String(intervalWithTimeLeft()),
                PROBE_JITTER_MS: '0',
                PROBE_TIMEOUT_MS: '5000',
                PROBER_CONCURRENCY: '5',
                PROBE_MAX_CONCURRENT_PER_HOST: '8',
                PROBER_POLL_INTERVAL_MS: '500',
                PROBER_JOB_EXPIRE_SECONDS: String(JOB_EXPIRE_SECONDS),
                PROBER_RETRY_DELAY_SECONDS: '0',
                PROBER_MAINTENANCE_INTERVAL_SECONDS: '1',
            },
            'prober',
        )
        workers.push(worker)
        const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-100_000))
        worker.stdout?.on('data', keep)
        worker.stderr?.on('data', keep)

        const deadline = Date.now() + WAIT_MS
        while (requests === 0 && worker.exitCode === null && Date.now() < deadline) await sleep(20)
        expect(requests, output.slice(-3000)).toBeGreaterThan(0)
        return {dataDir, database, worker, requests: () => requests, output: () => output}
    }

    it('keeps running and probes every target once', async () => {
        const scenario = await startScenario('restart')
        const {worker} = scenario
        // Stop the database while the first probes are in flight, so their batch finishes without it.
        const port = scenario.database.port
        await scenario.database.stop()
        databases[databases.indexOf(scenario.database)] = undefined
        await sleep(ANSWER_DELAY_MS + 3_000)
        const aliveWhileDown = worker.exitCode === null && worker.signalCode === null
        const outputWhileDown = scenario.output()

        const database = await startEmbeddedPostgres({dataDir: scenario.dataDir, port})
        databases.push(database)
        const client = new pg.Client({connectionString: database.url})
        await client.connect()
        try {
            const deadline = Date.now() + WAIT_MS
            const count = async () => Number((await client.query('SELECT count(DISTINCT target_id) AS n FROM proof_record')).rows[0].n)
            while ((await count()) < TARGET_COUNT && worker.exitCode === null && Date.now() < deadline) await sleep(250)
            const perTarget = (await client.query('SELECT target_id, count(*)::int AS n FROM proof_record GROUP BY target_id')).rows as {n: number}[]

            expect(aliveWhileDown, outputWhileDown.slice(-3000)).toBe(true)
            // The batch in flight failed to record: its probes ended after the database had stopped.
            expect(outputWhileDown).toContain('probe batch failed; the queue will retry its jobs')
            expect(outputWhileDown).toContain('PostgreSQL connection lost while the queue recorded a batch')
            expect(scenario.output()).not.toMatch(/Node\.js v\d+|\n\s+at /)
            expect(worker.exitCode).toBeNull()
            expect(perTarget, scenario.output().slice(-3000)).toHaveLength(TARGET_COUNT)
            expect(perTarget.filter((row) => row.n !== 1)).toEqual([])
        } finally {
            await client.end()
        }
    }, 150_000)

    it('logs no error when PostgreSQL stops with the worker', async () => {
        const scenario = await startScenario('stop')
        const {worker} = scenario
        const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)))
        // As Ctrl-C under npm start: the worker and PostgreSQL get their signals at the same moment.
        worker.kill('SIGTERM')
        await scenario.database.stop()
        databases[databases.indexOf(scenario.database)] = undefined
        const code = await exited
        const output = scenario.output()

        expect(code, output.slice(-3000)).toBe(0)
        // The batch in flight ended after PostgreSQL had gone.
        expect(output).toContain('probe batch not recorded: PostgreSQL went away while the worker stopped')
        expect(output).toContain('prober stopped')
        expect(output).not.toMatch(/"level":[45]/)
        expect(output).not.toMatch(/Node\.js v\d+|\n\s+at /)
    }, 150_000)
})
