import {mkdtempSync, rmSync} from 'node:fs'
import http from 'node:http'
import type net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runProber, type RunningProber} from '../src/cli/prober'
import {loadNetworkConfig} from '../src/config/load'
import {startEmbeddedPostgres, type EmbeddedDatabase} from '../src/db/embedded'
import {DEFAULT_PROBER_SETTINGS, type ProberLogger} from '../src/proofs/worker'
import {applyMigrations} from '../src/stack/children'
import {isConnectionLoss} from '../src/db/errors'

// A prober worker runs rounds against loopback targets while its PostgreSQL server is stopped and started again on
// the same data folder and port. The worker must keep the process alive and store records again afterwards.

const PROBER_KEY = '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const TARGET_COUNT = 3
const PROBE_INTERVAL_MS = 2_000
const PROBE_TIMEOUT_MS = 1_000
/** Long enough for several rounds to fail against the stopped server. */
const DATABASE_DOWN_MS = 8_000
const RECORDS_WAIT_MS = 60_000
const POLL_INTERVAL_MS = 250

const op = (n: number): string => `0x${n.toString(16).padStart(40, '0')}`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('prober with PostgreSQL restarted', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-prober-pg-'))
    const dataDir = path.join(dir, 'data')
    let database: EmbeddedDatabase | undefined
    let prober: RunningProber | undefined
    const servers: http.Server[] = []
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown): void => {
        // pg-boss 10 records a finished batch without awaiting the query, so a batch that ends while PostgreSQL is
        // shutting down rejects with no handler. The prober CLI logs such a loss and goes on (src/cli/prober.ts). This
        // test runs the worker inside the test process and lets them pass the same way.
        if (!isConnectionLoss(error)) uncaught.push(error)
    }
    const logLines: string[] = []
    let recordsBeforeStop = 0
    let recordsAfterRestart = 0
    let duplicateIds: string[] = []
    let proberAliveDuringOutage = false

    beforeAll(async () => {
        process.on('uncaughtException', onUncaught)
        process.on('unhandledRejection', onUncaught)
        database = await startEmbeddedPostgres({dataDir})
        const port = database.port
        await applyMigrations(database.env)
        const urls: string[] = []
        for (let i = 0; i < TARGET_COUNT; i++) urls.push(await listen(healthServer()))
        await withClient(database.url, (client) => seedRegistrations(client, urls))

        const capture = (level: string) => (attributes: object, message: string) => {
            logLines.push(`${level} ${message} ${JSON.stringify(attributes)}`)
        }
        const logger: ProberLogger = {info: capture('info'), warn: capture('warn'), error: capture('error')}
        prober = await runProber({
            config: loadNetworkConfig({env: {NETWORK: 'devnet', RPC_URL: 'http://127.0.0.1:1'}}),
            dbEnv: database.env,
            privateKey: PROBER_KEY,
            devMode: false,
            settings: {
                ...DEFAULT_PROBER_SETTINGS,
                intervalMs: PROBE_INTERVAL_MS,
                jitterMs: 0,
                timeoutMs: PROBE_TIMEOUT_MS,
                pollIntervalMs: 500,
                concurrency: TARGET_COUNT,
                retryDelaySeconds: 1,
            },
            logger,
        })

        recordsBeforeStop = await waitForRecords(database.url, 1)
        await database.stop()
        database = undefined
        await sleep(DATABASE_DOWN_MS)
        proberAliveDuringOutage = uncaught.length === 0
        database = await startEmbeddedPostgres({dataDir, port})

        recordsAfterRestart = await waitForRecords(database.url, recordsBeforeStop + TARGET_COUNT)
        duplicateIds = await withClient(database.url, async (client) =>
            (await client.query(`SELECT id FROM proof_record GROUP BY id HAVING count(*) > 1`)).rows.map((row) => String(row.id)),
        )
    }, 150_000)

    afterAll(async () => {
        await prober?.stop().catch((error: unknown) => logLines.push(`stop failed ${String(error)}`))
        await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
        await database?.stop()
        rmSync(dir, {recursive: true, force: true})
        process.off('uncaughtException', onUncaught)
        process.off('unhandledRejection', onUncaught)
    })

    it('records stored before stop', () => {
        expect(recordsBeforeStop).toBeGreaterThan(0)
    })

    it('process survives the outage', () => {
        expect(proberAliveDuringOutage, uncaught.map(String).join('\n')).toBe(true)
        expect(uncaught.map(String)).toEqual([])
    })

    it('records stored after restart', () => {
        expect(recordsAfterRestart, logLines.slice(-20).join('\n')).toBeGreaterThanOrEqual(recordsBeforeStop + TARGET_COUNT)
    })

    it('record ids unique', () => {
        expect(duplicateIds).toEqual([])
    })

    it('outage logged as error', () => {
        const failedRounds = logLines.filter((line) => /^error scheduling a round failed.*ECONNREFUSED/.test(line))
        expect(failedRounds.length, logLines.slice(-20).join('\n')).toBeGreaterThan(0)
    })

    async function listen(server: http.Server): Promise<string> {
        servers.push(server)
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
        return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
    }
})

/** Answers every request with a healthy sandbox health body. */
function healthServer(): http.Server {
    const body = JSON.stringify({status: 'ok', checks: {runtime: {status: 'ok'}, store: {status: 'ok'}}, runtime_backend: 'docker', runtime_error: null})
    return http.createServer((_req, res) => {
        res.writeHead(200, {'content-type': 'application/json'})
        res.end(body)
    })
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({connectionString: url})
    await client.connect()
    try {
        return await use(client)
    } finally {
        await client.end()
    }
}

/** Waits until proof_record holds at least `count` rows; returns the count seen last. */
async function waitForRecords(url: string, count: number): Promise<number> {
    const deadline = Date.now() + RECORDS_WAIT_MS
    let seen = 0
    while (Date.now() < deadline) {
        seen = await withClient(url, async (client) => Number((await client.query(`SELECT count(*) FROM proof_record`)).rows[0].count))
        if (seen >= count) return seen
        await sleep(POLL_INTERVAL_MS)
    }
    return seen
}

/** Seeds one sandbox blueprint and one active registration per endpoint, as the processor would after indexing. */
async function seedRegistrations(client: pg.Client, urls: string[]): Promise<void> {
    const at = '2025-06-01T00:00:00.000Z'
    await client.query(
        `INSERT INTO blueprint (id, blueprint_id, owner, product, shape, active, created_at_block, created_at, created_tx)
         VALUES ('1', 1, $1, 'sandbox-cloud', 'current', true, 1, $2, $3)`,
        [op(1000), at, `0x${'ab'.repeat(32)}`],
    )
    for (const [index, url] of urls.entries()) {
        const operator = op(index + 1)
        await client.query(
            `INSERT INTO operator (id, stake, restaking_status, unstake_scheduled, first_seen_block, first_seen_at)
             VALUES ($1, 1000000000000000000000, 'ACTIVE', 0, 1, $2)`,
            [operator, at],
        )
        await client.query(
            `INSERT INTO registration (id, blueprint_id, operator_id, status, rpc_address, registration_count, registered_at_block, registered_at, updated_at)
             VALUES ($1, '1', $2, 'ACTIVE', $3, 1, $4, $5, $5)`,
            [`1-${operator}`, operator, url, 100 + index, at],
        )
    }
}
