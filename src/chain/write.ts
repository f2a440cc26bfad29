import type {Store} from '@subsquid/typeorm-store'
import type {EntityManager} from 'typeorm'
import type {ColumnMetadata} from 'typeorm/metadata/ColumnMetadata'

/**
 * Rows per statement; keeps the JSON parameters of one statement far below PostgreSQL's 1 GB value limit. A batch
 * with more rows is written in several statements, still in the order given.
 */
const STATEMENT_MAX_ROWS = 5_000

export type WriteMode = 'insert' | 'upsert'

/** Rows of one entity class and how to write them. */
export interface RowWrite {
    rows: {id: string}[]
    mode: WriteMode
}

/** One INSERT of rows of one table, the rows as a JSON array for json_populate_recordset. */
interface TableStatement {
    sql: (parameter: string) => string
    json: string
    rows: number
}

/**
 * Writes rows in the order given (parents before children). For a finalized batch every write goes into one
 * statement, a chain of data-modifying CTEs with each table's rows as one JSON parameter: TypeORM's query builder and
 * one round trip per table cost more than PostgreSQL's writing. Foreign keys are checked at the end of the statement,
 * so the order inside it does not matter. A hot block goes through the store, which records every change for a
 * rollback.
 *
 * Same effect as the store's `insert` / `upsert`: an undefined column is NULL on insert, and an upsert leaves a column
 * unchanged when the row leaves it undefined (rows are grouped by which columns they leave undefined).
 */
export async function writeRows(store: Store, writes: RowWrite[]): Promise<void> {
    const em = isFinalizedStore(store) ? entityManagerOf(store) : undefined
    if (!em) {
        for (const {rows, mode} of writes) {
            if (rows.length === 0) continue
            if (mode === 'insert') await store.insert(rows as any)
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
    for (const write of writes) {
        for (const statement of tableStatements(em, write)) {
            if (pendingRows + statement.rows > STATEMENT_MAX_ROWS) await send()
            pending.push(statement)
            pendingRows += statement.rows
        }
    }
    await send()
}

function tableStatements(em: EntityManager, {rows, mode}: RowWrite): TableStatement[] {
    if (rows.length === 0) return []
    const escape = (name: string) => em.connection.driver.escape(name)
    const metadata = em.connection.getMetadata(rows[0].constructor)
    const columns = metadata.columns
    const table = metadata.tablePath.split('.').map(escape).join('.')

    // Rows as column-name objects, grouped by the set of columns they leave undefined.
    const groups = new Map<string, {defined: ColumnMetadata[]; records: Record<string, unknown>[]}>()
    for (const row of rows) {
        const record: Record<string, unknown> = {}
        let signature = ''
        for (const column of columns) {
            // Like TypeORM: whether a column is written depends on the property, the value on the transformed property
            // (squid's transformers turn null into undefined).
            if (column.getEntityValue(row) === undefined) {
                signature += '0'
                continue
            }
            signature += '1'
            record[column.databaseName] = toJsonValue(column.getEntityValue(row, true) ?? null, column)
        }
        let group = groups.get(signature)
        if (!group) {
            group = {defined: columns.filter((_c, i) => signature[i] === '1'), records: []}
            groups.set(signature, group)
        }
        group.records.push(record)
    }

    const statements: TableStatement[] = []
    for (const {defined, records} of groups.values()) {
        const names = defined.map((c) => escape(c.databaseName))
        let conflict = ''
        if (mode === 'upsert') {
            const updates = defined.filter((c) => !c.isPrimary).map((c) => escape(c.databaseName))
            conflict = updates.length === 0 ? ' ON CONFLICT (id) DO NOTHING' : ` ON CONFLICT (id) DO UPDATE SET ${updates.map((n) => `${n} = EXCLUDED.${n}`).join(', ')}`
        }
        for (let i = 0; i < records.length; i += STATEMENT_MAX_ROWS) {
            const chunk = records.slice(i, i + STATEMENT_MAX_ROWS)
            statements.push({
                sql: (parameter) =>
                    `INSERT INTO ${table} (${names.join(', ')}) SELECT ${names.join(', ')} FROM json_populate_recordset(NULL::${table}, ${parameter}::json)${conflict}`,
                json: JSON.stringify(chunk),
                rows: chunk.length,
            })
        }
    }
    return statements
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
