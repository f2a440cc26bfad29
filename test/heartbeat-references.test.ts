import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {startEmbeddedPostgres, type EmbeddedDatabase} from '../src/db/embedded'
import {applyMigrations} from '../src/stack/children'
import {copyFrom} from '../src/db/copy'
import {BLUEPRINT, GOOD, SERVICE, seedWorld} from './gap-world'
import {runMigration} from '../src/stack/children'

// heartbeat's references to service and operator are checked once per statement by the triggers of
// db/migrations/1796434000000-HeartbeatReferenceCheck.js, not by foreign keys. These tests hold them to what the two
// foreign keys did.

const MIGRATION = '1796434000000-HeartbeatReferenceCheck.js'
const MISSING_SERVICE = '999999'
const MISSING_OPERATOR = '0x00000000000000000000000000000000000000ff'
/** A service and an operator with no heartbeat, for the deletes that must pass. */
const SPARE_SERVICE = '77'
const SPARE_OPERATOR = '0x00000000000000000000000000000000000000e5'

let tempDir: string
let db: EmbeddedDatabase
let client: pg.Client
let other: pg.Client
let nextBlock = 500_000

beforeAll(async () => {
    tempDir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-references-'))
    db = await startEmbeddedPostgres({dataDir: path.join(tempDir, 'pg'), ephemeral: true})
    await applyMigrations(db.env)
    client = new pg.Client({connectionString: db.url})
    await client.connect()
    other = new pg.Client({connectionString: db.url})
    await other.connect()
    await seedWorld(client)
}, 120_000)

afterAll(async () => {
    await other?.end()
    await client?.end()
    await db?.stop()
    if (tempDir) rmSync(tempDir, {recursive: true, force: true})
})

beforeEach(async () => {
    await client.query(`DELETE FROM heartbeat WHERE block_number >= 500000`)
    await client.query(`DELETE FROM service WHERE id = $1`, [SPARE_SERVICE])
    await client.query(`DELETE FROM "operator" WHERE id = $1`, [SPARE_OPERATOR])
    await client.query(
        `INSERT INTO service (id, service_id, blueprint_id, activation_request_id, from_quote, confidentiality, status,
             heartbeat_interval, heartbeat_max_missed, heartbeat_configured, activated_at_block, activated_at, activated_tx)
         VALUES ($1, $2, $3, '0', false, 0, 'ACTIVE', '60', 3, true, 5, '2026-01-01T00:00:00Z', '0x01')`,
        [SPARE_SERVICE, SPARE_SERVICE, BLUEPRINT],
    )
    await client.query(
        `INSERT INTO "operator" (id, stake, restaking_status, unstake_scheduled, first_seen_block, first_seen_at)
         VALUES ($1, '0', 'ACTIVE', '0', 2, '2026-01-01T00:00:00Z')`,
        [SPARE_OPERATOR],
    )
})

interface Row {
    service: string | null
    operator: string | null
}

/** Column values of a new heartbeat row; ids and blocks count up from 500,000. */
function values({service, operator}: Row): unknown[] {
    nextBlock += 1
    return [`ref-${nextBlock}`, service, operator, BLUEPRINT, BLUEPRINT, 0, '1767225600', nextBlock, new Date(Date.UTC(2026, 1, 1) + nextBlock * 1000), '0xab']
}

const COLUMNS = 'id, service_id, operator_id, blueprint_id, reported_blueprint_id, status_code, event_timestamp, block_number, timestamp, tx_hash'

/** Inserts `rows` in one INSERT statement through `via`. */
async function insertRows(rows: Row[], via: pg.Client = client): Promise<void> {
    const params: unknown[] = []
    const tuples = rows.map((row) => {
        const start = params.length
        const rowValues = values(row)
        params.push(...rowValues)
        return `(${rowValues.map((_, i) => `$${start + i + 1}`).join(', ')})`
    })
    await via.query(`INSERT INTO heartbeat (${COLUMNS}) VALUES ${tuples.join(', ')}`, params)
}

/** Formats one value as a field of COPY's text format; the values here need no escapes. */
function copyField(value: unknown): string {
    if (value === null) return '\\N'
    if (value instanceof Date) return value.toISOString()
    return String(value)
}

/** Returns the error that `promise` rejects with, and fails the test if it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error & {code?: string; column?: string}> {
    return promise.then(
        () => {
            throw new Error('the statement succeeded; a reference error was expected')
        },
        (error: Error & {code?: string}) => error,
    )
}

const stored = async (): Promise<number> =>
    Number((await client.query(`SELECT count(*) AS n FROM heartbeat WHERE block_number >= 500000`)).rows[0].n)

describe('heartbeat references', () => {
    it('accepts existing and NULL references', async () => {
        await insertRows([
            {service: SERVICE, operator: GOOD},
            {service: SPARE_SERVICE, operator: SPARE_OPERATOR},
            {service: null, operator: GOOD},
            {service: SERVICE, operator: null},
        ])
        expect(await stored()).toBe(4)
    })

    it('accepts a service of the same statement', async () => {
        // The processor writes a batch's new services and their heartbeats in one statement of data-modifying CTEs.
        const [id, ...rest] = values({service: '78', operator: GOOD})
        await client.query(
            `WITH added AS (
                 INSERT INTO service (id, service_id, blueprint_id, activation_request_id, from_quote, confidentiality, status,
                     heartbeat_interval, heartbeat_max_missed, heartbeat_configured, activated_at_block, activated_at, activated_tx)
                 VALUES ('78', '78', $11, '0', false, 0, 'ACTIVE', '60', 3, true, 5, '2026-01-01T00:00:00Z', '0x01'))
             INSERT INTO heartbeat (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
            [id, ...rest, BLUEPRINT],
        )
        expect(await stored()).toBe(1)
        await client.query(`DELETE FROM heartbeat WHERE block_number >= 500000`)
        await client.query(`DELETE FROM service WHERE id = '78'`)
    })

    it('rejects a missing service or operator on INSERT', async () => {
        const service = await failure(insertRows([{service: SERVICE, operator: GOOD}, {service: MISSING_SERVICE, operator: GOOD}]))
        expect(service.code).toBe('23503')
        expect(service.message).toBe(`heartbeat row references service ${MISSING_SERVICE}, which does not exist`)
        expect(service.column).toBe('service_id')
        const operator = await failure(insertRows([{service: SERVICE, operator: MISSING_OPERATOR}]))
        expect(operator.code).toBe('23503')
        expect(operator.message).toBe(`heartbeat row references operator ${MISSING_OPERATOR}, which does not exist`)
        expect(await stored()).toBe(0)
    })

    it('rejects a missing reference in COPY', async () => {
        const line = (row: Row) => values(row).map(copyField).join('\t') + '\n'
        const text = Buffer.from([line({service: SERVICE, operator: GOOD}), line({service: MISSING_SERVICE, operator: GOOD})].join(''))
        const error = await failure(copyFrom(client, `COPY heartbeat (${COLUMNS}) FROM STDIN`, [text]))
        expect(error.code).toBe('23503')
        expect(error.message).toContain(`references service ${MISSING_SERVICE}`)
        expect(await stored()).toBe(0)
        // The same COPY with existing references passes.
        await copyFrom(client, `COPY heartbeat (${COLUMNS}) FROM STDIN`, [Buffer.from(line({service: SERVICE, operator: GOOD}))])
        expect(await stored()).toBe(1)
    })

    it('rejects an UPDATE to a missing reference', async () => {
        await insertRows([{service: SERVICE, operator: GOOD}])
        const error = await failure(client.query(`UPDATE heartbeat SET operator_id = $1 WHERE block_number >= 500000`, [MISSING_OPERATOR]))
        expect(error.code).toBe('23503')
        const row = await client.query(`SELECT operator_id FROM heartbeat WHERE block_number >= 500000`)
        expect(row.rows).toEqual([{operator_id: GOOD}])
    })

    it('rejects deleting a referenced row', async () => {
        await insertRows([{service: SPARE_SERVICE, operator: SPARE_OPERATOR}])
        const service = await failure(client.query(`DELETE FROM service WHERE id = $1`, [SPARE_SERVICE]))
        expect(service.code).toBe('23503')
        expect(service.message).toBe(`service ${SPARE_SERVICE} is still referenced by heartbeat rows`)
        const operator = await failure(client.query(`DELETE FROM "operator" WHERE id = $1`, [SPARE_OPERATOR]))
        expect(operator.code).toBe('23503')
        const renamed = await failure(client.query(`UPDATE "operator" SET id = 'renamed' WHERE id = $1`, [SPARE_OPERATOR]))
        expect(renamed.code).toBe('23503')
        // Updating other columns, and deleting once the heartbeats are gone, pass.
        await client.query(`UPDATE "operator" SET stake = '5' WHERE id = $1`, [SPARE_OPERATOR])
        await client.query(`DELETE FROM heartbeat WHERE block_number >= 500000`)
        await client.query(`DELETE FROM service WHERE id = $1`, [SPARE_SERVICE])
        await client.query(`DELETE FROM "operator" WHERE id = $1`, [SPARE_OPERATOR])
        expect((await client.query(`SELECT id FROM service WHERE id = $1`, [SPARE_SERVICE])).rows).toEqual([])
    })

    it('concurrent delete waits, then fails', async () => {
        await client.query('BEGIN')
        await insertRows([{service: SPARE_SERVICE, operator: GOOD}])
        // The insert holds SPARE_SERVICE locked FOR KEY SHARE: the delete waits for it.
        let settled = false
        const deleting = failure(other.query(`DELETE FROM service WHERE id = $1`, [SPARE_SERVICE])).finally(() => {
            settled = true
        })
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect(settled).toBe(false)
        const waiting = await client.query(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM service%'`,
        )
        expect(waiting.rows[0].n).toBe('1')
        await client.query('COMMIT')
        const error = await deleting
        expect(error.code).toBe('23503')
        expect(await stored()).toBe(1)
    })

    it('concurrent delete fails the insert', async () => {
        await other.query('BEGIN')
        await other.query(`DELETE FROM service WHERE id = $1`, [SPARE_SERVICE])
        const inserting = failure(insertRows([{service: SPARE_SERVICE, operator: GOOD}]))
        await new Promise((resolve) => setTimeout(resolve, 300))
        await other.query('COMMIT')
        const error = await inserting
        expect(error.code).toBe('23503')
        expect(await stored()).toBe(0)
    })

    it('rejects TRUNCATE of a referenced table', async () => {
        await insertRows([{service: SPARE_SERVICE, operator: SPARE_OPERATOR}])
        for (const table of ['service', '"operator"']) {
            await client.query('BEGIN')
            const error = await failure(client.query(`TRUNCATE ${table} CASCADE`))
            await client.query('ROLLBACK')
            expect(error.code).toBe('23503')
            expect(error.message).toMatch(/^cannot truncate (service|operator): heartbeat rows still reference it/)
        }
        // With heartbeat in the same statement it passes.
        await client.query('BEGIN')
        await client.query('TRUNCATE heartbeat, service CASCADE')
        const left = await client.query('SELECT count(*) AS n FROM heartbeat')
        await client.query('ROLLBACK')
        expect(left.rows[0].n).toBe('0')
        expect(await stored()).toBe(1)
    })

    it('serializable delete after a concurrent insert', async () => {
        // The processor writes in SERIALIZABLE transactions: a delete whose snapshot misses its heartbeats must fail.
        await other.query('BEGIN ISOLATION LEVEL SERIALIZABLE')
        await other.query('SELECT count(*) FROM service')
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE')
        await insertRows([{service: SPARE_SERVICE, operator: GOOD}])
        await client.query('COMMIT')
        const error = await failure(
            other.query(`DELETE FROM service WHERE id = $1`, [SPARE_SERVICE]).then(() => other.query('COMMIT')),
        )
        await other.query('ROLLBACK')
        expect(error.code).toBe('40001')
        expect((await client.query(`SELECT id FROM service WHERE id = $1`, [SPARE_SERVICE])).rows).toEqual([{id: SPARE_SERVICE}])
        expect(await stored()).toBe(1)
    })

    it('migration down restores the foreign keys', async () => {
        const constraints = async () =>
            (
                await client.query(
                    `SELECT conname FROM pg_constraint WHERE conrelid = 'heartbeat'::regclass AND contype = 'f' ORDER BY conname`,
                )
            ).rows.map((row) => row.conname as string)
        const triggers = async () =>
            (await client.query(`SELECT tgname FROM pg_trigger WHERE tgname LIKE 'heartbeat_referenc%' ORDER BY tgname`)).rows.length
        expect(await constraints()).toEqual([])
        expect(await triggers()).toBe(8)
        await runMigration(client, MIGRATION, 'down')
        expect(await constraints()).toEqual(['FK_752f70cbc1c662930ad459d85f5', 'FK_bddba4274d105016db76c0afcce'])
        expect(await triggers()).toBe(0)
        const error = await failure(insertRows([{service: MISSING_SERVICE, operator: GOOD}]))
        expect(error.message).toMatch(/foreign key constraint "FK_bddba4274d105016db76c0afcce"/)
        await runMigration(client, MIGRATION, 'up')
        expect(await constraints()).toEqual([])
        expect(await triggers()).toBe(8)
    })
})
