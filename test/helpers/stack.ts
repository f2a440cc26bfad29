import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {startEmbeddedPostgres, type EmbeddedDatabase} from '../../src/db/embedded'
import {applyMigrations, runToEnd, PROJECT_ROOT, type RunResult} from '../../src/stack/children'

/** Maximum wait in stop() for the test's other connections to close before the server stops. */
const CLOSE_WAIT_MS = 3_000

/**
 * Waits until the server has no client connection but `client`'s, or CLOSE_WAIT_MS have passed. pg's Pool.end()
 * resolves once it has asked its idle connections to end, not once they have closed. A server stopped in between ends
 * them with 57P01, which a pool without an 'error' listener throws as an uncaught exception.
 */
async function waitForOtherConnections(client: pg.Client): Promise<void> {
    const deadline = Date.now() + CLOSE_WAIT_MS
    while (Date.now() < deadline) {
        const {rows} = await client.query<{others: number}>(
            `SELECT count(*)::int AS others FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        )
        if (rows[0].others === 0) return
        await new Promise((resolve) => setTimeout(resolve, 50))
    }
}

/**
 * Makes a test's pool ignore the end of its idle connections by a server shutdown (57P01), which only teardown
 * causes. Any other error of an idle connection is thrown, as without a listener.
 */
export function tolerateShutdown(pool: pg.Pool): pg.Pool {
    pool.on('error', (error) => {
        if ((error as {code?: string}).code !== '57P01') throw error
    })
    return pool
}

/** A throw-away PostgreSQL with the project's migrations applied. */
export async function startTestDatabase(): Promise<EmbeddedDatabase & {client: pg.Client}> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-pg-'))
    const db = await startEmbeddedPostgres({dataDir: path.join(dir, 'data'), ephemeral: true})
    await applyMigrations(db.env)
    const client = new pg.Client({connectionString: db.url})
    await client.connect()
    return {
        ...db,
        client,
        async stop() {
            await waitForOtherConnections(client).catch(() => undefined)
            await client.end().catch(() => undefined)
            await db.stop()
            rmSync(dir, {recursive: true, force: true})
        },
    }
}

/**
 * Run the compiled processor (lib/main.js, built by `npm test`) on the devnet preset until `toBlock`.
 * Returns its exit status and output; the caller asserts on them.
 */
export async function runProcessorTo(
    rpcUrl: string,
    dbEnv: Record<string, string>,
    toBlock: number,
    extraEnv: Record<string, string> = {},
): Promise<RunResult> {
    return runToEnd(
        process.execPath,
        [path.join(PROJECT_ROOT, 'lib', 'main.js')],
        {
            ...dbEnv,
            NETWORK: 'devnet',
            RPC_URL: rpcUrl,
            PROCESSOR_TO_BLOCK: String(toBlock),
            PROMETHEUS_PORT: '0',
            ...extraEnv,
        },
        120_000,
    )
}
