import type pg from 'pg'
import {canonicalJson, type CanonicalValue} from './canonical-json'
import type {GapConfig} from './config'
import type {Period} from './period'
import {SCORECARD_METHODOLOGY_VERSION, type Scorecard} from './scorecard'
import {loadScorecards, type ScorecardSubject} from './scorecard-load'
import {asText, pgRunner, type SqlRunner} from './sql'

/**
 * Advisory lock shared by the writers of every table a scorecard reads (a trigger takes it) and taken exclusive by the
 * cache filler; the same value as LOCK in db/migrations/*-ScorecardCache.js.
 */
export const SCORECARD_CACHE_LOCK = '8099569325757850929'

const KEY_FILTER = 'blueprint_key = $1 AND operator_key = $2 AND period_from = $3 AND period_to = $4 AND settings_key = $5'
const READ_SQL = `SELECT body FROM scorecard_cache WHERE ${KEY_FILTER}`
const STORE_SQL = `
INSERT INTO scorecard_cache (blueprint_key, operator_key, period_from, period_to, settings_key, body)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (blueprint_key, operator_key, period_from, period_to, settings_key) DO UPDATE SET body = EXCLUDED.body, computed_at = now()`

/** What a cached scorecard list is stored under. */
function cacheKey(subject: ScorecardSubject, period: Period, config: GapConfig): unknown[] {
    // The methodology version, the label (part of each scorecard) and the gap settings all change the result.
    const settings = canonicalJson({
        methodology: SCORECARD_METHODOLOGY_VERSION,
        label: period.label,
        config: config as unknown as CanonicalValue,
    })
    return [subject.blueprintId ?? '', subject.operator?.toLowerCase() ?? '', period.from, period.to, settings]
}

/**
 * Connections of a cache filler. `lock` holds the cache lock in a transaction and stores the row; `compute` runs the
 * statements of the computation in parallel. They must be two pools: fillers waiting for the lock hold `lock`
 * connections, and the filler that has it must still find `compute` connections.
 */
export interface ScorecardCachePools {
    lock: pg.Pool
    compute: pg.Pool
}

/** How a scorecard request was served; for tests and benchmarks. */
export type ScorecardSource = 'cache' | 'computed' | 'running'

/**
 * Returns the scorecards of `loadScorecards`, from scorecard_cache when the period has ended and a row is stored.
 * `read` serves the lookup; the API passes its read-only transaction. A miss is computed while a connection of
 * `pools.lock` holds the cache lock exclusive, and then stored. A period still running is computed every time.
 *
 * A row holds until a write that can change it: the triggers of db/migrations/*-ScorecardCache.js delete it when a
 * row it was computed from changes, so a cached and a freshly computed scorecard are equal.
 */
export async function loadScorecardsCached(
    pools: ScorecardCachePools,
    read: SqlRunner,
    subject: ScorecardSubject,
    requested: Period,
    config: GapConfig,
    now: Date = new Date(),
    served?: (source: ScorecardSource) => void,
): Promise<Scorecard[]> {
    if (requested.to.getTime() > now.getTime()) {
        served?.('running')
        return loadScorecards(read, subject, requested, config, now)
    }
    const key = cacheKey(subject, requested, config)
    const [row] = await read(READ_SQL, key)
    if (row !== undefined) {
        served?.('cache')
        return JSON.parse(asText(row.body)) as Scorecard[]
    }

    const client = await pools.lock.connect()
    try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
        // The lock waits for open writes to the tables read below to end, and new writes wait for this transaction to
        // store its row. So no write can fall between what is read here and what its trigger deletes.
        await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [SCORECARD_CACHE_LOCK])
        const stored = (await client.query(READ_SQL, key)).rows[0]
        if (stored !== undefined) {
            await client.query('COMMIT')
            served?.('cache')
            return JSON.parse(asText(stored.body)) as Scorecard[]
        }
        // Each statement on the compute connections starts after the lock was granted, so it reads all that was
        // committed before, and no write to these tables can commit until this transaction ends.
        const cards = await loadScorecards(pgRunner(pools.compute), subject, requested, config, now)
        await client.query(STORE_SQL, [...key, JSON.stringify(cards)])
        await client.query('COMMIT')
        served?.('computed')
        return cards
    } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
    } finally {
        client.release()
    }
}
