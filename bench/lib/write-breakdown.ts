import type pg from 'pg'
import {copyFrom} from '../../src/db/copy'
import {percentile} from './machine'

/** Microseconds per heartbeat row of one way of writing, the median of the repetitions. */
export interface WriteCost {
    variant: string
    via: 'COPY' | 'JSON'
    microsPerRow: number
}

interface Variant {
    name: string
    /** Statements run in the transaction before the write. The transaction is rolled back after the write. */
    before: (secondaryIndexes: string[]) => string[]
}

/** Statements that put heartbeat's per-row foreign keys back in place of the reference check, as before 1796434000000-HeartbeatReferenceCheck.js. */
const ROW_FOREIGN_KEYS = [
    'ALTER TABLE heartbeat DISABLE TRIGGER heartbeat_references_insert',
    'ALTER TABLE heartbeat ADD CONSTRAINT breakdown_service FOREIGN KEY (service_id) REFERENCES service (id)',
    'ALTER TABLE heartbeat ADD CONSTRAINT breakdown_operator FOREIGN KEY (operator_id) REFERENCES "operator" (id)',
]

/** The setting of a finalized batch's transaction: the processor adds the cover, and the cover trigger returns at once. */
const COVER_BY_WRITER = `SET LOCAL proofgap.heartbeat_cover = 'writer'`

const VARIANTS: Variant[] = [
    {name: 'as a hot block or another writer (all triggers and indexes)', before: () => []},
    {name: 'as a finalized batch (cover trigger returns at once)', before: () => [COVER_BY_WRITER]},
    {name: 'finalized batch, per-row foreign keys in place of the reference check', before: () => [COVER_BY_WRITER, ...ROW_FOREIGN_KEYS]},
    {
        name: 'finalized batch without the reference check',
        before: () => [COVER_BY_WRITER, 'ALTER TABLE heartbeat DISABLE TRIGGER heartbeat_references_insert'],
    },
    {name: 'without any trigger of ours (cover, scorecard cache, reference check)', before: () => ['ALTER TABLE heartbeat DISABLE TRIGGER USER']},
    {
        name: 'without triggers and secondary indexes',
        before: (indexes) => ['ALTER TABLE heartbeat DISABLE TRIGGER USER', ...indexes.map((name) => `DROP INDEX "${name}"`)],
    },
]

/**
 * Times writing `rows` heartbeat rows into an indexed database, once per variant that takes away one part of the
 * write's work, each in a transaction that is rolled back. The rows are copies of the latest stored heartbeats moved
 * three days later, so they append as new heartbeats of the same pairs do.
 */
export async function measureWriteBreakdown(client: pg.Client, rows: number, repeats: number): Promise<WriteCost[]> {
    const source = await client.query(`SELECT * FROM heartbeat ORDER BY timestamp DESC, id LIMIT $1`, [rows])
    if (source.rows.length < rows) throw new Error(`write breakdown: needs ${rows} stored heartbeats, found ${source.rows.length}. Index a longer chain.`)
    const shiftMs = 3 * 86_400_000
    const records: Record<string, unknown>[] = source.rows.map((row: Record<string, unknown>) => ({
        ...row,
        id: `breakdown-${row.id}`,
        timestamp: new Date((row.timestamp as Date).getTime() + shiftMs).toISOString(),
    }))
    const columns = Object.keys(records[0])
    const names = columns.map((c) => `"${c}"`).join(', ')
    const insert = `INSERT INTO heartbeat (${names}) SELECT ${names} FROM json_populate_recordset(NULL::heartbeat, $1::json)`
    const json = JSON.stringify(records)
    const copyText = Buffer.from(records.map((r) => columns.map((c) => (r[c] === null ? '\\N' : String(r[c]))).join('\t') + '\n').join(''))
    const indexes = await client.query<{indexname: string}>(
        `SELECT i.indexname FROM pg_indexes i JOIN pg_index x ON x.indexrelid = format('%I', i.indexname)::regclass
         WHERE i.tablename = 'heartbeat' AND NOT x.indisprimary ORDER BY 1`,
    )
    const secondary = indexes.rows.map((row) => row.indexname)

    const samples = new Map<string, number[]>()
    for (let repeat = 0; repeat < repeats; repeat++) {
        for (const variant of VARIANTS) {
            for (const via of ['COPY', 'JSON'] as const) {
                await client.query('BEGIN')
                try {
                    for (const statement of variant.before(secondary)) await client.query(statement)
                    const started = performance.now()
                    if (via === 'JSON') await client.query(insert, [json])
                    else await copyFrom(client, `COPY heartbeat (${names}) FROM STDIN`, [copyText])
                    const micros = ((performance.now() - started) * 1000) / rows
                    const key = `${variant.name}\u0000${via}`
                    samples.set(key, [...(samples.get(key) ?? []), micros])
                } finally {
                    await client.query('ROLLBACK')
                }
            }
        }
    }
    return [...samples].map(([key, values]) => {
        const [variant, via] = key.split('\u0000')
        return {variant, via: via as 'COPY' | 'JSON', microsPerRow: percentile([...values].sort((a, b) => a - b), 0.5)}
    })
}
