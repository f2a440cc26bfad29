import type {ChildProcess} from 'node:child_process'
import http from 'node:http'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runToEnd, startChild, stopChild, PROJECT_ROOT} from '../src/stack/children'
import {startTestDatabase} from './helpers/stack'

const TARGET_COUNT = 200
/** Answer delay of the loopback server, so a round lasts long enough to kill a worker in the middle of it. */
const ANSWER_DELAY_MS = 120
const JOB_EXPIRE_SECONDS = 3
const ROUND_WAIT_MS = 60_000
/** A blueprint the devnet configuration does not map, so every target gets only the reachability check. */
const UNMAPPED_BLUEPRINT = '900'

const op = (n: number): string => `0x${(0x5000 + n).toString(16).padStart(40, '0')}`

describe('prober workers', () => {
    let db: Awaited<ReturnType<typeof startTestDatabase>>
    let server: http.Server
    const workers: ChildProcess[] = []
    const output: string[] = ['', '']

    beforeAll(async () => {
        const build = await runToEnd('npm', ['run', 'build'], {}, 120_000)
        expect(build.code, build.stderr).toBe(0)
        db = await startTestDatabase()
        server = http.createServer((_request, response) => {
            setTimeout(() => response.writeHead(200, {'content-type': 'application/json'}).end('{"ok":true}'), ANSWER_DELAY_MS)
        })
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
        const port = (server.address() as {port: number}).port

        const at = '2025-06-01T00:00:00.000Z'
        await db.client.query(
            `INSERT INTO blueprint (id, blueprint_id, owner, shape, active, created_at_block, created_at, created_tx)
             VALUES ($1, $2, $3, 'current', true, 1, $4, '0x01')`,
            [UNMAPPED_BLUEPRINT, UNMAPPED_BLUEPRINT, op(9999), at],
        )
        const operators = Array.from({length: TARGET_COUNT}, (_, index) => op(index))
        await db.client.query(
            `INSERT INTO operator (id, stake, restaking_status, unstake_scheduled, first_seen_block, first_seen_at)
             SELECT id, 1, 'ACTIVE', 0, 1, $2 FROM unnest($1::text[]) AS id`,
            [operators, at],
        )
        await db.client.query(
            `INSERT INTO registration (id, blueprint_id, operator_id, status, rpc_address, registration_count, registered_at_block, registered_at, updated_at)
             SELECT $2 || '-' || o, $2, o, 'ACTIVE', 'http://127.0.0.1:' || $3 || '/op/' || i, 1, 10, $4, $4
             FROM unnest($1::text[]) WITH ORDINALITY AS t(o, i)`,
            [operators, UNMAPPED_BLUEPRINT, String(port), at],
        )

        const env = {
            ...db.env,
            NETWORK: 'devnet',
            PROBER_DEV_MODE: '1',
            PROBE_INTERVAL_MS: '600000',
            PROBE_JITTER_MS: '0',
            PROBE_TIMEOUT_MS: '2000',
            PROBER_CONCURRENCY: '5',
            PROBER_POLL_INTERVAL_MS: '500',
            PROBER_JOB_EXPIRE_SECONDS: String(JOB_EXPIRE_SECONDS),
            PROBER_RETRY_DELAY_SECONDS: '0',
            PROBER_MAINTENANCE_INTERVAL_SECONDS: '1',
            PROBE_MAX_CONCURRENT_PER_HOST: '16',
        }
        for (const index of [0, 1]) {
            const child = startChild(process.execPath, [path.join(PROJECT_ROOT, 'lib', 'cli', 'prober.js')], env, `prober-${index}`)
            child.stdout?.on('data', (chunk: Buffer) => (output[index] += chunk.toString()))
            child.stderr?.on('data', (chunk: Buffer) => (output[index] += chunk.toString()))
            workers.push(child)
        }
    })

    afterAll(async () => {
        for (const worker of workers) await stopChild(worker)
        await new Promise<void>((resolve) => server?.close(() => resolve()))
        await db?.stop()
    })

    const recordCount = async (): Promise<number> =>
        Number((await db.client.query(`SELECT count(DISTINCT target_id) AS n FROM proof_record`)).rows[0].n)

    it('killed worker loses no targets', async () => {
        const deadline = Date.now() + ROUND_WAIT_MS
        while ((await recordCount()) < TARGET_COUNT / 5 && Date.now() < deadline) await sleep(100)
        const beforeKill = await recordCount()
        expect(beforeKill).toBeGreaterThan(0)
        expect(beforeKill).toBeLessThan(TARGET_COUNT)
        process.kill(workers[0].pid as number, 'SIGKILL')

        while ((await recordCount()) < TARGET_COUNT && Date.now() < deadline) await sleep(250)

        const perTarget = (await db.client.query(
            `SELECT target_id, count(*)::int AS n FROM proof_record GROUP BY target_id`,
        )).rows as Array<{target_id: string; n: number}>
        expect(perTarget, output.join("\n----\n").slice(-3000)).toHaveLength(TARGET_COUNT)
        expect(perTarget.filter((row) => row.n !== 1)).toEqual([])
        const rounds = (await db.client.query(`SELECT DISTINCT round FROM proof_record`)).rows
        expect(rounds).toHaveLength(1)
        const outcomes = (await db.client.query(`SELECT outcome, count(*)::int AS n FROM proof_record GROUP BY outcome`)).rows
        expect(outcomes).toEqual([{outcome: 'PASS', n: TARGET_COUNT}])
    })

    it('both workers stored records', async () => {
        // Dev mode gives each process its own key, so the signer tells which worker stored a record.
        const signers = (await db.client.query(`SELECT signer, count(*)::int AS n FROM proof_record GROUP BY signer`)).rows
        expect(signers).toHaveLength(2)
    })

    it('expired jobs retried by survivor', async () => {
        const retried = (await db.client.query(
            `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'proofgap-probe' AND retry_count > 0 AND state = 'completed'`,
        )).rows[0].n as number
        expect(retried).toBeGreaterThan(0)
        expect(output[1]).not.toMatch(/probe batch failed/)
    })
})

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms))
}
