import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {startEmbeddedPostgres, type EmbeddedDatabase} from '../../src/db/embedded'
import {applyMigrations, runToEnd, PROJECT_ROOT, type RunResult} from '../../src/stack/children'

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
