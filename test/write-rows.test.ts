import {mkdtempSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {DataSource, type EntityManager} from 'typeorm'
import {Store} from '@subsquid/typeorm-store'
import {SnakeNamingStrategy} from '@subsquid/typeorm-config/lib/namingStrategy'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startEmbeddedPostgres, type EmbeddedDatabase} from '../src/db/embedded'
import {applyMigrations} from '../src/stack/children'
import type {RowWrite, WriteOptions} from '../src/chain/write'
import type * as Model from '../src/model'
import {normalise} from './helpers/db'
import {CONTRADICTED, GOOD, SERVICE, seedWorld} from './gap-world'

// The entities come compiled from lib/ (npm test builds first): vitest's transform emits no decorator metadata, which
// TypeORM needs for their column types.
const requireBuilt = createRequire(import.meta.url)
const model = requireBuilt('../lib/model') as typeof Model
const {writeRows} = requireBuilt('../lib/chain/write') as typeof import('../src/chain/write')
const {HeartbeatRows} = requireBuilt('../lib/chain/heartbeat-rows') as typeof import('../src/chain/heartbeat-rows')

// Strings that COPY's text format must escape or keep as they are.
const AWKWARD = [
    'tab\there',
    'line\nbreak',
    'carriage\rreturn',
    'back\\slash',
    '\\N',
    '\\x41',
    '',
    ' leading and trailing ',
    'quote " and \' and , comma',
    'ünïcødé 🚀',
    'lone \uD800 surrogate',
]

let tempDir: string
let db: EmbeddedDatabase
let client: pg.Client
let orm: DataSource

beforeAll(async () => {
    tempDir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-write-'))
    db = await startEmbeddedPostgres({dataDir: path.join(tempDir, 'pg'), ephemeral: true})
    await applyMigrations(db.env)
    client = new pg.Client({connectionString: db.url})
    await client.connect()
    await seedWorld(client)
    // Records which statement wrote each table, to tell COPY from INSERT.
    await client.query('CREATE TABLE write_log (tbl text NOT NULL, statement text NOT NULL)')
    await client.query(`CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO write_log VALUES (TG_TABLE_NAME, split_part(ltrim(current_query()), ' ', 1)); RETURN NULL; END $$`)
    for (const table of ['heartbeat', 'chain_block']) {
        await client.query(`CREATE TRIGGER log_write AFTER INSERT ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION log_write()`)
    }
    orm = new DataSource({
        type: 'postgres',
        url: db.url,
        namingStrategy: new SnakeNamingStrategy(),
        entities: Object.values(model).filter((value) => typeof value === 'function'),
    })
    await orm.initialize()
}, 120_000)

afterAll(async () => {
    await orm?.destroy()
    await client?.end()
    await db?.stop()
    if (tempDir) rmSync(tempDir, {recursive: true, force: true})
})

/** Runs `writeRows` in a transaction with a store of a finalized batch (no change tracker), as the processor does. */
async function writeFinalized(writes: RowWrite[], options?: WriteOptions): Promise<void> {
    await orm.transaction('SERIALIZABLE', async (em: EntityManager) => {
        await writeRows(new Store(() => em), writes, options)
    })
}

/** Writes the rows through the store's own insert, as a hot block does. */
async function writeThroughStore(writes: RowWrite[]): Promise<void> {
    await orm.transaction('SERIALIZABLE', async (em: EntityManager) => {
        const store = new Store(() => em)
        for (const {rows} of writes) await store.insert(rows as any)
    })
}

/** Heartbeats and blocks with awkward text, exact big numbers and a NULL, ids starting with `prefix`. */
function rowsWith(prefix: string, copies: number): RowWrite[] {
    const service = new model.Service({id: SERVICE})
    const operator = new model.Operator({id: GOOD})
    const heartbeats: Model.Heartbeat[] = []
    const blocks: Model.ChainBlock[] = []
    for (let n = 0; n < copies; n++) {
        AWKWARD.forEach((text, i) => {
            const id = `${prefix}-${String(n).padStart(4, '0')}-${String(i).padStart(2, '0')}`
            heartbeats.push(
                new model.Heartbeat({
                    id,
                    service,
                    // One row in each copy with a NULL operator: COPY's \N.
                    operator: i === 0 ? (null as unknown as Model.Operator) : operator,
                    blueprintId: 2n ** 256n - 1n - BigInt(n),
                    reportedBlueprintId: BigInt(i),
                    statusCode: i % 3,
                    eventTimestamp: 2n ** 63n + BigInt(i),
                    blockNumber: n * 100 + i,
                    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 123) + (n * AWKWARD.length + i) * 1000),
                    txHash: text,
                }),
            )
            blocks.push(new model.ChainBlock({id, height: n * 100 + i, hash: text, timestamp: new Date(Date.UTC(1970, 0, 1) + i)}))
        })
    }
    return [
        {rows: blocks, mode: 'insert'},
        {rows: heartbeats, mode: 'insert'},
    ]
}

/**
 * `count` heartbeats as the processor collects them, ids starting with `prefix`: exact big numbers, several rows per
 * timestamp, two operators, and the service's blueprint in place of the reported one.
 */
function heartbeatRows(prefix: string, count: number, txHash = (n: number) => `0x${n.toString(16).padStart(64, '0')}`) {
    const service = new model.Service({id: SERVICE, blueprint: new model.Blueprint({id: '77'})})
    const operators = [new model.Operator({id: GOOD}), new model.Operator({id: CONTRADICTED})]
    const rows = new HeartbeatRows()
    for (let n = 0; n < count; n++) {
        rows.add(
            `${prefix}-${String(n).padStart(6, '0')}`,
            service,
            operators[n % 2],
            2n ** 256n - 1n - BigInt(n),
            n % 7,
            2n ** 64n - 1n,
            n,
            Date.UTC(2026, 0, 1, 23, 59, 59, 999) + Math.floor(n / 3) * 1001,
            txHash(n),
        )
    }
    return rows
}

/** Rows of `table` whose id starts with `prefix`, ids without the prefix, values normalised. */
async function stored(table: string, prefix: string): Promise<Record<string, unknown>[]> {
    const result = await client.query(`SELECT * FROM ${table} WHERE id LIKE $1 ORDER BY id`, [`${prefix}-%`])
    return result.rows.map((row) => {
        const out: Record<string, unknown> = {}
        for (const [key, value] of Object.entries(row)) out[key] = key === 'id' ? String(value).slice(prefix.length) : normalise(value)
        return out
    })
}

async function statementsFor(run: () => Promise<void>): Promise<string[]> {
    await client.query('DELETE FROM write_log')
    await run()
    const result = await client.query<{tbl: string; statement: string}>('SELECT tbl, statement FROM write_log')
    return result.rows.map((row) => `${row.tbl}:${row.statement.toUpperCase()}`).sort()
}

describe('writeRows in a finalized batch', () => {
    it('COPY stores what JSON stores', async () => {
        const viaCopy = await statementsFor(() => writeFinalized(rowsWith('copy', 2), {copyMinRows: 1}))
        const viaJson = await statementsFor(() => writeFinalized(rowsWith('json', 2), {copyMinRows: Infinity}))
        await writeThroughStore(rowsWith('store', 2))

        expect(viaCopy).toEqual(['chain_block:COPY', 'heartbeat:COPY'])
        expect(viaJson.every((s) => s.endsWith(':INSERT') || s.endsWith(':WITH'))).toBe(true)
        expect(viaJson.length).toBeGreaterThan(0)

        for (const table of ['heartbeat', 'chain_block']) {
            const copied = await stored(table, 'copy')
            expect(copied).toHaveLength(2 * AWKWARD.length)
            expect(copied).toEqual(await stored(table, 'json'))
            expect(copied).toEqual(await stored(table, 'store'))
        }
        const texts = (await stored('chain_block', 'copy')).slice(0, AWKWARD.length).map((row) => row.hash)
        expect(texts).toEqual(AWKWARD.map((text) => Buffer.from(text, 'utf8').toString('utf8')))
        const first = (await stored('heartbeat', 'copy'))[0]
        expect(first.operator_id).toBeNull()
        expect(first.blueprint_id).toBe((2n ** 256n - 1n).toString())
        expect(first.event_timestamp).toBe((2n ** 63n).toString())
    })

    it('COPY from 500 rows by default', async () => {
        // 45 copies: 495 blocks and 495 heartbeats.
        const few = await statementsFor(() => writeFinalized(rowsWith('few', 45)))
        expect(few.filter((s) => s.endsWith(':COPY'))).toEqual([])
        // 50 copies: 550 of each.
        const many = await statementsFor(() => writeFinalized(rowsWith('many', 50)))
        expect(many.filter((s) => s.endsWith(':COPY'))).toEqual(['chain_block:COPY', 'heartbeat:COPY'])
        expect(await stored('heartbeat', 'many')).toHaveLength(50 * AWKWARD.length)
    })

    it('NUL text stays on JSON path', async () => {
        const rows = rowsWith('nul', 1)
        ;(rows[0].rows[1] as Model.ChainBlock).hash = 'nul \u0000 byte'
        const error = await writeFinalized(rows, {copyMinRows: 1}).then(
            () => undefined,
            (err: Error) => err,
        )
        expect(error?.message).toMatch(/\\u0000|unsupported Unicode escape/)
        expect(await stored('chain_block', 'nul')).toEqual([])
    })

    it('failed COPY rolls back cleanly', async () => {
        const rows = rowsWith('orphan', 1)
        for (const heartbeat of rows[1].rows as Model.Heartbeat[]) heartbeat.service = new model.Service({id: '999999'})
        const error = await writeFinalized(rows, {copyMinRows: 1}).then(
            () => undefined,
            (err: Error & {code?: string}) => err,
        )
        expect(error?.message).toMatch(/^COPY failed: heartbeat row references service 999999, which does not exist/)
        expect((error as {code?: string}).code).toBe('23503')
        expect(await stored('chain_block', 'orphan')).toEqual([])
        // The pool's connection serves the next transaction.
        await writeFinalized(rowsWith('after', 1), {copyMinRows: 1})
        expect(await stored('heartbeat', 'after')).toHaveLength(AWKWARD.length)
    })

    it('heartbeat columns match the store', async () => {
        // 5,003 rows: two chunks of COPY text and a short third.
        const viaCopy = await statementsFor(() => writeFinalized([{source: heartbeatRows('cols', 5_003), mode: 'insert'}], {copyMinRows: 1}))
        expect(viaCopy).toEqual(['heartbeat:COPY'])
        await writeThroughStore([{rows: heartbeatRows('colstore', 5_003).entities(), mode: 'insert'}])
        const copied = await stored('heartbeat', 'cols')
        expect(copied).toHaveLength(5_003)
        expect(copied).toEqual(await stored('heartbeat', 'colstore'))
        expect(copied[4]).toMatchObject({
            blueprint_id: '77',
            reported_blueprint_id: (2n ** 256n - 5n).toString(),
            event_timestamp: (2n ** 64n - 1n).toString(),
            status_code: 4,
            operator_id: GOOD,
            block_number: 4,
        })
    })

    it('heartbeat escapes stored exactly', async () => {
        // A node's hashes never contain these characters. If one did, the entities' own COPY would escape it.
        const awkward = (n: number) => AWKWARD[n % AWKWARD.length]
        await writeFinalized([{source: heartbeatRows('esc', 600, awkward), mode: 'insert'}], {copyMinRows: 1})
        await writeThroughStore([{rows: heartbeatRows('escstore', 600, awkward).entities(), mode: 'insert'}])
        const copied = await stored('heartbeat', 'esc')
        expect(copied.slice(0, AWKWARD.length).map((row) => row.tx_hash)).toEqual(AWKWARD.map((text) => Buffer.from(text, 'utf8').toString('utf8')))
        expect(copied).toEqual(await stored('heartbeat', 'escstore'))
    })

    it('few heartbeats use JSON', async () => {
        const statements = await statementsFor(() => writeFinalized([{source: heartbeatRows('small', 499), mode: 'insert'}]))
        expect(statements.filter((s) => s.endsWith(':COPY'))).toEqual([])
        expect(await stored('heartbeat', 'small')).toHaveLength(499)
    })
})
