import type {Store} from '@subsquid/typeorm-store'
import type {EntityManager} from 'typeorm'
import type {ColumnMetadata} from 'typeorm/metadata/ColumnMetadata'
import type pg from 'pg'
import {copyFrom} from '../db/copy'

/**
 * Rows per statement; keeps the JSON parameters of one statement far below PostgreSQL's 1 GB value limit. A batch
 * with more rows is written in several statements, still in the order given.
 */
const STATEMENT_MAX_ROWS = 5_000

/**
 * Inserts of at least this many rows of one table go through COPY when the batch is finalized: COPY parses a row in
 * about half the time of json_populate_recordset, but needs a round trip of its own.
 */
const COPY_MIN_ROWS = 500

export interface WriteOptions {
    /** Inserts of at least this many rows of one table use COPY in a finalized batch (default 500; Infinity: never). */
    copyMinRows?: number
}

export type WriteMode = 'insert' | 'upsert'

/** Rows of one entity class and how to write them. */
export type RowWrite = {rows: {id: string}[]; mode: WriteMode} | {source: CopySource; mode: 'insert'}

/**
 * Rows of one entity class that give their COPY text themselves, without an entity object per row (HeartbeatRows).
 * `columns` must name every column of the entity's table. When the model has other columns, the rows are written
 * from `entities()`.
 */
export interface CopySource {
    readonly length: number
    readonly entityClass: Function
    /** Database names of the columns, in the order of the text. */
    readonly columns: readonly string[]
    /** The rows in COPY's text format, or undefined when a value cannot be written that way. */
    copyText(): Buffer[] | undefined
    entities(): {id: string}[]
}

/** One INSERT of rows of one table, the rows as a JSON array for json_populate_recordset. */
interface TableStatement {
    kind: 'json'
    sql: (parameter: string) => string
    json: string
    rows: number
}

/** One COPY of rows of one table, the rows in COPY's text format. */
interface TableCopy {
    kind: 'copy'
    statement: string
    chunks: Buffer[]
    rows: number
}

/**
 * Writes rows in the order given (parents before children). For a finalized batch every write goes into one
 * statement, a chain of data-modifying CTEs with each table's rows as one JSON parameter: TypeORM's query builder and
 * one round trip per table cost more than PostgreSQL's writing. Foreign keys and heartbeat's reference check are
 * triggers that run at the end of the statement, so the order inside it does not matter. The many rows of one table that a long batch appends (heartbeats) go
 * through COPY in place of the JSON, after the statement with the rows before them. A hot block goes through the
 * store, which records every change for a rollback.
 *
 * Same effect as the store's `insert` / `upsert`: an undefined column is NULL on insert, and an upsert leaves a column
 * unchanged when the row leaves it undefined (rows are grouped by which columns they leave undefined).
 */
export async function writeRows(store: Store, writes: RowWrite[], options: WriteOptions = {}): Promise<void> {
    const em = finalizedEntityManager(store)
    if (!em) {
        for (const write of writes) {
            const rows = 'source' in write ? write.source.entities() : write.rows
            if (rows.length === 0) continue
            if (write.mode === 'insert') await store.insert(rows as any)
            else await store.upsert(rows as any)
        }
        return
    }
    let pending: TableStatement[] = []
    let pendingRows = 0
    const send = async (): Promise<void> => {
        if (pending.length === 0) return
        const params = pending.map((statement) => statement.json)
        const sql =
            pending.length === 1
                ? pending[0].sql('$1')
                : 'WITH ' + pending.map((statement, i) => `w${i} AS (${statement.sql(`$${i + 1}`)})`).join(', ') + ' SELECT 1'
        pending = []
        pendingRows = 0
        await em.query(sql, params)
    }
    const client = clientOf(em)
    const copyMinRows = client ? (options.copyMinRows ?? COPY_MIN_ROWS) : Infinity
    for (const write of writes) {
        if ('source' in write) {
            const copy = write.source.length >= copyMinRows ? sourceCopy(em, write.source) : undefined
            if (copy) {
                await send()
                await copyFrom(client!, copy.statement, copy.chunks)
                continue
            }
        }
        const rows = 'source' in write ? {rows: write.source.entities(), mode: write.mode} : write
        for (const statement of tableStatements(em, rows, copyMinRows)) {
            if (statement.kind === 'copy') {
                // Rows before this table's may be its parents: they go first.
                await send()
                await copyFrom(client!, statement.statement, statement.chunks)
                continue
            }
            if (pendingRows + statement.rows > STATEMENT_MAX_ROWS) await send()
            pending.push(statement)
            pendingRows += statement.rows
        }
    }
    await send()
}

/** Returns the COPY of a source's rows, or undefined when its columns are not the table's or its text is not available. */
function sourceCopy(em: EntityManager, source: CopySource): {statement: string; chunks: Buffer[]} | undefined {
    const escape = (name: string) => em.connection.driver.escape(name)
    const metadata = em.connection.getMetadata(source.entityClass)
    const tableColumns = metadata.columns.map((c) => c.databaseName)
    if (tableColumns.length !== source.columns.length || !tableColumns.every((name) => source.columns.includes(name))) return undefined
    const chunks = source.copyText()
    if (!chunks) return undefined
    const table = metadata.tablePath.split('.').map(escape).join('.')
    return {statement: `COPY ${table} (${source.columns.map(escape).join(', ')}) FROM STDIN`, chunks}
}

function tableStatements(em: EntityManager, {rows, mode}: {rows: {id: string}[]; mode: WriteMode}, copyMinRows: number): (TableStatement | TableCopy)[] {
    if (rows.length === 0) return []
    const escape = (name: string) => em.connection.driver.escape(name)
    const metadata = em.connection.getMetadata(rows[0].constructor)
    const columns = metadata.columns
    const table = metadata.tablePath.split('.').map(escape).join('.')

    // Rows as column-name objects, grouped by the set of columns they leave undefined.
    const groups = new Map<string, {defined: ColumnMetadata[]; records: Record<string, unknown>[]; copyable: boolean}>()
    for (const row of rows) {
        const record: Record<string, unknown> = {}
        let copyable = true
        let signature = ''
        for (const column of columns) {
            // Like TypeORM: whether a column is written depends on the property, the value on the transformed property
            // (squid's transformers turn null into undefined).
            if (column.getEntityValue(row) === undefined) {
                signature += '0'
                continue
            }
            signature += '1'
            const value = toJsonValue(column.getEntityValue(row, true) ?? null, column)
            record[column.databaseName] = value
            if (copyable && !isCopyable(value)) copyable = false
        }
        let group = groups.get(signature)
        if (!group) {
            group = {defined: columns.filter((_c, i) => signature[i] === '1'), records: [], copyable: true}
            groups.set(signature, group)
        }
        group.records.push(record)
        if (!copyable) group.copyable = false
    }

    const statements: (TableStatement | TableCopy)[] = []
    for (const {defined, records, copyable} of groups.values()) {
        const names = defined.map((c) => escape(c.databaseName))
        if (mode === 'insert' && copyable && records.length >= copyMinRows) {
            statements.push(copyStatement(table, defined, names, records))
            continue
        }
        let conflict = ''
        if (mode === 'upsert') {
            const updates = defined.filter((c) => !c.isPrimary).map((c) => escape(c.databaseName))
            conflict = updates.length === 0 ? ' ON CONFLICT (id) DO NOTHING' : ` ON CONFLICT (id) DO UPDATE SET ${updates.map((n) => `${n} = EXCLUDED.${n}`).join(', ')}`
        }
        for (let i = 0; i < records.length; i += STATEMENT_MAX_ROWS) {
            const chunk = records.slice(i, i + STATEMENT_MAX_ROWS)
            statements.push({
                kind: 'json',
                sql: (parameter) =>
                    `INSERT INTO ${table} (${names.join(', ')}) SELECT ${names.join(', ')} FROM json_populate_recordset(NULL::${table}, ${parameter}::json)${conflict}`,
                json: JSON.stringify(chunk),
                rows: chunk.length,
            })
        }
    }
    return statements
}

/** Builds a COPY of `records` into `table`, in chunks of at most STATEMENT_MAX_ROWS rows. */
function copyStatement(table: string, defined: ColumnMetadata[], names: string[], records: Record<string, unknown>[]): TableCopy {
    const chunks: Buffer[] = []
    for (let i = 0; i < records.length; i += STATEMENT_MAX_ROWS) {
        let text = ''
        for (const record of records.slice(i, i + STATEMENT_MAX_ROWS)) {
            for (let c = 0; c < defined.length; c++) {
                if (c > 0) text += '\t'
                text += copyField(record[defined[c].databaseName])
            }
            text += '\n'
        }
        chunks.push(Buffer.from(text, 'utf8'))
    }
    return {kind: 'copy', statement: `COPY ${table} (${names.join(', ')}) FROM STDIN`, chunks, rows: records.length}
}

const COPY_SPECIAL = /[\\\t\n\r]/g
const COPY_ESCAPES: Record<string, string> = {'\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r'}

/**
 * Returns whether COPY's text format stores the value exactly as json_populate_recordset does: null, booleans, finite
 * numbers and strings without NUL. Arrays and objects (jsonb, text[]) stay with the JSON path.
 */
function isCopyable(value: unknown): boolean {
    if (value === null || typeof value === 'boolean') return true
    if (typeof value === 'number') return Number.isFinite(value)
    return typeof value === 'string' && !value.includes('\0')
}

/** Formats one field in COPY's text format. `value` must have passed isCopyable. */
function copyField(value: unknown): string {
    if (value === null) return '\\N'
    if (typeof value === 'boolean') return value ? 't' : 'f'
    if (typeof value === 'number') return String(value)
    return (value as string).replace(COPY_SPECIAL, (c) => COPY_ESCAPES[c])
}

/** Returns the pg client under the entity manager's transaction, or undefined when TypeORM keeps it elsewhere. */
function clientOf(em: EntityManager): pg.ClientBase | undefined {
    // NOTE: reads TypeORM's PostgresQueryRunner.databaseConnection; without it every insert takes the JSON path.
    const connection = (em.queryRunner as unknown as {databaseConnection?: unknown} | undefined)?.databaseConnection
    return connection && typeof (connection as pg.ClientBase).query === 'function' ? (connection as pg.ClientBase) : undefined
}

/** Returns the entity manager of a finalized batch's transaction, or undefined for a hot block or when the store hides it. */
export function finalizedEntityManager(store: Store): EntityManager | undefined {
    return isFinalizedStore(store) ? entityManagerOf(store) : undefined
}

/** The store's entity manager, or undefined when this version of typeorm-store hides it elsewhere. */
function entityManagerOf(store: Store): EntityManager | undefined {
    // NOTE: reads a private field of @subsquid/typeorm-store 1.5; without it every write goes through the store.
    const em = (store as unknown as {em?: unknown}).em
    return typeof em === 'function' ? (em as () => EntityManager)() : undefined
}

const SURROGATE = /[\uD800-\uDFFF]/

/**
 * Converts a column value (after the entity's transformer) to the JSON that json_populate_recordset reads back into
 * the column's type.
 * Strings are made well-formed the way pg encodes them (a lone surrogate becomes U+FFFD), so both write paths store the
 * same text.
 */
function toJsonValue(value: unknown, column: ColumnMetadata): unknown {
    if (value === null) return null
    if (typeof value === 'string') return SURROGATE.test(value) ? Buffer.from(value, 'utf8').toString('utf8') : value
    if (typeof value === 'bigint') return value.toString()
    if (value instanceof Date) return value.toISOString()
    if (value instanceof Uint8Array) return '\\x' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')
    if (Array.isArray(value) && column.type !== 'jsonb') return value.map((v) => toJsonValue(v, column))
    return value
}

/**
 * Returns whether the store writes a finalized batch. typeorm-store 1.5 gives the store of a hot block a change tracker (to
 * roll the block back) and the store of finalized blocks none.
 */
export function isFinalizedStore(store: Store): boolean {
    // NOTE: reads a private field of @subsquid/typeorm-store 1.5; if it disappears every batch counts as hot, which
    // is slower but still exact.
    return Object.prototype.hasOwnProperty.call(store, 'changes') && (store as unknown as {changes?: unknown}).changes == null
}
