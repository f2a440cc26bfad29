import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {startEmbeddedPostgres, type EmbeddedDatabase} from '../src/db/embedded'
import {pgRunner, type SqlRunner} from '../src/gap/sql'
import {applyMigrations} from '../src/stack/children'
import {seedWorld} from './gap-world'
import {tolerateShutdown} from './helpers/stack'

export interface SeededDatabase {
    db: EmbeddedDatabase
    client: pg.Client
    sql: SqlRunner
    close(): Promise<void>
}

/** Starts a throw-away PostgreSQL, applies the real migrations and seeds the hand-made world. */
export async function startSeededDatabase(): Promise<SeededDatabase> {
    const tempDir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-gap-'))
    const dataDir = path.join(tempDir, 'pg')
    const db = await startEmbeddedPostgres({dataDir, ephemeral: true})
    await applyMigrations(db.env)
    const client = new pg.Client({connectionString: db.url})
    await client.connect()
    await seedWorld(client)
    // The loaders run statements in parallel, which a single pg client would queue with a deprecation warning.
    const pool = tolerateShutdown(new pg.Pool({connectionString: db.url, max: 4}))
    return {
        db,
        client,
        sql: pgRunner(pool),
        async close() {
            await pool.end()
            await client.end()
            await db.stop()
            rmSync(tempDir, {recursive: true, force: true})
        },
    }
}
