import type pg from 'pg'
import type {ExpectedState} from '../../src/devnet/expected'
import {CHAIN_TABLES, tableRows} from './db'

/** JSON with sorted keys, because jsonb does not keep key order. */
export function canonical(value: unknown): string {
    return JSON.stringify(value, (_key, v) =>
        v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
    )
}

/**
 * Compares the database with the expected state, every expected table, row and column, and returns one line per
 * difference (an empty list when they are equal). Chain tables that the expectation does not list must be empty.
 */
export async function diffWithExpected(client: pg.Client, expected: ExpectedState): Promise<string[]> {
    const mismatches: string[] = []
    for (const [table, rows] of Object.entries(expected)) {
        const actual = await tableRows(client, table)
        const missing = Object.keys(rows).sort().filter((id) => !actual.has(id))
        const extra = [...actual.keys()].sort().filter((id) => !(id in rows))
        if (missing.length > 0) mismatches.push(`${table}: missing rows ${missing.join(', ')}`)
        if (extra.length > 0) mismatches.push(`${table}: unexpected rows ${extra.join(', ')}`)
        for (const [id, row] of Object.entries(rows)) {
            const got = actual.get(id)
            if (!got) continue
            for (const [column, value] of Object.entries(row)) {
                if (!(column in got)) {
                    mismatches.push(`${table}.${column}: no such column`)
                    continue
                }
                if (canonical(got[column]) !== canonical(value)) {
                    mismatches.push(`${table}[${id}].${column}: expected ${JSON.stringify(value)}, got ${JSON.stringify(got[column])}`)
                }
            }
        }
    }
    for (const table of CHAIN_TABLES) {
        if (table in expected) continue
        const count = await client.query(`SELECT count(*)::int AS n FROM "${table}"`)
        if (count.rows[0].n !== 0) mismatches.push(`${table}: ${count.rows[0].n} rows, but the expected state has none`)
    }
    return mismatches
}
