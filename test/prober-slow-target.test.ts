import http from 'node:http'
import {Pool} from 'pg'
import type {Hex} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadNetworkConfig} from '../src/config/load'
import {compileAddressPolicy, createSafeFetch} from '../src/proofs/http'
import {createProberMetrics} from '../src/proofs/metrics'
import {DEFAULT_PROBER_SETTINGS, laneSizes, PROBE_LANE_SIZE, startProberWorker, type ProberLogger, type ProberWorker} from '../src/proofs/worker'
import {intervalWithTimeLeft} from './helpers/rounds'
import {seedReachabilityTargets} from './helpers/reachability-targets'
import {startTestDatabase, tolerateShutdown} from './helpers/stack'

/*
 * One target that never responds must not delay the others, because the worker's jobs run in lanes and the slow target
 * stops only its own lane until its timeout. The server keeps the first request it receives open and responds to
 * every other one at once.
 */

const PROBER_KEY: Hex = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a'
const TARGET_COUNT = 41
/** Two lanes; one worker batch of this size would hold every target of the batch behind the slow one. */
const CONCURRENCY = 2 * PROBE_LANE_SIZE
const SLOW_TIMEOUT_MS = 6_000
const ROUND_WAIT_MS = 60_000

const op = (n: number): string => `0x${(0x9000 + n).toString(16).padStart(40, '0')}`

describe('laneSizes', () => {
    it.each<[number, number[]]>([
        [1, [1]],
        [8, [8]],
        [9, [8, 1]],
        [32, [8, 8, 8, 8]],
    ])('%i jobs', (concurrency, sizes) => {
        expect(laneSizes(concurrency)).toEqual(sizes)
        expect(PROBE_LANE_SIZE).toBe(8)
    })
})

describe('prober with one slow target', () => {
    let db: Awaited<ReturnType<typeof startTestDatabase>>
    let pool: Pool
    let server: http.Server
    let worker: ProberWorker | undefined
    let slowPath: string | undefined
    const openResponses: http.ServerResponse[] = []
    let rows: {target_id: string; url: string; outcome: string; reason: string; observed_at: Date}[] = []

    beforeAll(async () => {
        db = await startTestDatabase()
        server = http.createServer((request, response) => {
            if (slowPath === undefined || slowPath === request.url) {
                slowPath = request.url
                openResponses.push(response)
                return
            }
            response.writeHead(200, {'content-type': 'application/json'}).end('{"ok":true}')
        })
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
        const port = (server.address() as {port: number}).port
        await seedReachabilityTargets(
            db.client,
            Array.from({length: TARGET_COUNT}, (_, index) => op(index)),
            `http://127.0.0.1:${port}`,
            op(9999),
        )

        pool = tolerateShutdown(new Pool({connectionString: db.url, max: 4}))
        const ignore = () => undefined
        const logger: ProberLogger = {info: ignore, warn: ignore, error: ignore}
        const config = loadNetworkConfig({env: {NETWORK: 'devnet', RPC_URL: 'http://127.0.0.1:1'}})
        worker = await startProberWorker({
            pool,
            connectionString: db.url,
            config,
            settings: {...DEFAULT_PROBER_SETTINGS, intervalMs: intervalWithTimeLeft(), jitterMs: 0, timeoutMs: SLOW_TIMEOUT_MS, pollIntervalMs: 500, concurrency: CONCURRENCY},
            account: privateKeyToAccount(PROBER_KEY),
            fetcher: createSafeFetch({
                policy: compileAddressPolicy({allow: config.probeAllow}),
                headersTimeoutMs: SLOW_TIMEOUT_MS,
                totalTimeoutMs: SLOW_TIMEOUT_MS,
                maxConcurrentPerHost: CONCURRENCY,
            }),
            logger,
            metrics: createProberMetrics(),
        })

        const deadline = Date.now() + ROUND_WAIT_MS
        while (Date.now() < deadline) {
            const probed = Number((await db.client.query(`SELECT count(DISTINCT target_id) AS n FROM proof_record`)).rows[0].n)
            if (probed >= TARGET_COUNT) break
            await new Promise((resolve) => setTimeout(resolve, 250))
        }
        rows = (
            await db.client.query(
                `SELECT r.target_id, t.url, r.outcome, r.reason, r.observed_at FROM proof_record r JOIN probe_target t ON t.id = r.target_id`,
            )
        ).rows
    }, ROUND_WAIT_MS + 60_000)

    afterAll(async () => {
        for (const response of openResponses) response.destroy()
        await worker?.stop()
        await pool?.end()
        await new Promise((resolve) => server?.close(resolve))
        await db?.stop()
    })

    /** Tells whether a row is the slow target's: the probe requests /health under the target URL, and the server kept that request open. */
    const isSlow = (row: {url: string}) => slowPath !== undefined && slowPath.startsWith(`${new URL(row.url).pathname}/`)

    it('every target gets a record', () => {
        expect(new Set(rows.map((row) => row.target_id)).size).toBe(TARGET_COUNT)
        const slow = rows.filter(isSlow)
        expect(slow.map((row) => row.outcome)).toEqual(['UNREACHABLE'])
    })

    it('others probed before slow timeout', () => {
        const slow = rows.find(isSlow)!
        const others = rows.filter((row) => row !== slow)
        expect(others.every((row) => row.outcome === 'PASS')).toBe(true)
        const first = Math.min(...rows.map((row) => row.observed_at.getTime()))
        const late = others.filter((row) => row.observed_at.getTime() - first > SLOW_TIMEOUT_MS / 2)
        expect(late.map((row) => row.url)).toEqual([])
        expect(slow.observed_at.getTime() - first).toBeGreaterThanOrEqual(SLOW_TIMEOUT_MS - 1_000)
    })
})
