import {createLogger} from '@subsquid/logger'
import type pg from 'pg'
import {canonicalJson, type CanonicalValue} from './canonical-json'
import type {GapConfig} from './config'
import type {Period} from './period'
import {SCORECARD_METHODOLOGY_VERSION, type Scorecard} from './scorecard'
import {loadScorecards, type ScorecardSubject} from './scorecard-load'
import {asText, pgRunner, type SqlRunner} from './sql'

/**
 * Key of the advisory lock that a trigger takes shared for every writer of a table a scorecard reads, and the cache
 * filler takes exclusive. It must equal LOCK in db/migrations/*-ScorecardCache.js.
 */
export const SCORECARD_CACHE_LOCK = '8099569325757850929'

const KEY_COLUMNS = 'blueprint_key, operator_key, period_from, period_to, settings_key'
const KEY_FILTER = 'blueprint_key = $1 AND operator_key = $2 AND period_from = $3 AND period_to = $4 AND settings_key = $5'
const READ_SQL = `SELECT body FROM scorecard_cache WHERE ${KEY_FILTER}`
const STORE_SQL = `
INSERT INTO scorecard_cache (${KEY_COLUMNS}, body, bytes)
VALUES ($1, $2, $3, $4, $5, $6, octet_length($6))
ON CONFLICT (${KEY_COLUMNS}) DO UPDATE SET body = EXCLUDED.body, bytes = EXCLUDED.bytes, computed_at = now()`
// Keeps the rows computed last whose bodies add up to at most $1 bytes.
const EVICT_SQL = `
DELETE FROM scorecard_cache c USING (
  SELECT ${KEY_COLUMNS} FROM (
    SELECT ${KEY_COLUMNS}, sum(bytes) OVER (ORDER BY computed_at DESC, ${KEY_COLUMNS}) AS kept FROM scorecard_cache
  ) ranked WHERE kept > $1
) old
WHERE (c.blueprint_key, c.operator_key, c.period_from, c.period_to, c.settings_key)
    = (old.blueprint_key, old.operator_key, old.period_from, old.period_to, old.settings_key)`

const log = createLogger('proofgap:scorecard-cache')

/** Default of SCORECARD_CACHE_MAX_MB. */
export const DEFAULT_SCORECARD_CACHE_MAX_MB = 256

/** How long a filler waits for the cache lock before it computes without storing. */
const LOCK_WAIT = '2s'

/** Returns the key columns of a stored scorecard list. */
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
 * Connections and bound of the cache filler. A `lock` connection takes the cache lock in a transaction and stores the
 * row, while `compute` connections run the statements of the computation in parallel. They are two pools because
 * fillers that wait for the lock occupy `lock` connections, and the filler that has it still needs `compute` ones.
 * `maxBytes` bounds the stored bodies, and the rows computed longest ago are deleted first. 0 turns the cache off.
 */
export interface ScorecardCacheSettings {
    lock: pg.Pool
    compute: pg.Pool
    maxBytes: number
}

/**
 * Reads SCORECARD_CACHE_MAX_MB, the maximum size of the stored scorecards in megabytes (10^6 bytes), and returns it in
 * bytes. The default is 256, and 0 turns the cache off.
 */
export function scorecardCacheMaxBytes(env: Record<string, string | undefined> = process.env): number {
    const text = env.SCORECARD_CACHE_MAX_MB?.trim()
    if (text === undefined || text === '') return DEFAULT_SCORECARD_CACHE_MAX_MB * 1_000_000
    if (!/^\d{1,7}$/.test(text)) {
        throw new Error(`SCORECARD_CACHE_MAX_MB: expected a whole number of megabytes (0 turns the cache off), received ${JSON.stringify(text)}`)
    }
    return Number(text) * 1_000_000
}

/**
 * Source of a scorecard result, for tests and benchmarks: the cache, a computation that was stored, or one that was
 * not. A result is not stored for a running period, an empty result, a cache turned off, a role without write
 * access, or a lock not granted within 2 s.
 */
export type ScorecardSource = 'cache' | 'computed' | 'not-stored'

/** PostgreSQL error codes after which the filler computes without storing. */
const NOT_STORED_CODES = new Set([
    '42501', // insufficient_privilege: the API's role may not write scorecard_cache
    '25006', // read_only_sql_transaction
    '55P03', // lock_not_available: a writer held the lock past LOCK_WAIT
])

/**
 * Returns the scorecards of `loadScorecards`, from scorecard_cache when the period has ended and a row is stored.
 * `read` serves the lookup; the API passes its read-only transaction. A miss is computed while a connection of
 * `settings.lock` holds the cache lock exclusive, and then stored. A period still running is computed every time.
 *
 * The triggers of db/migrations/*-ScorecardCache.js delete a stored row when a row it was computed from changes, so
 * a cached and a freshly computed scorecard are equal.
 */
export async function loadScorecardsCached(
    settings: ScorecardCacheSettings,
    read: SqlRunner,
    subject: ScorecardSubject,
    requested: Period,
    config: GapConfig,
    now: Date = new Date(),
    served?: (source: ScorecardSource) => void,
): Promise<Scorecard[]> {
    const compute = async (sql: SqlRunner) => {
        served?.('not-stored')
        return loadScorecards(sql, subject, requested, config, now)
    }
    if (settings.maxBytes <= 0 || requested.to.getTime() > now.getTime()) return compute(read)
    const key = cacheKey(subject, requested, config)
    const [row] = await read(READ_SQL, key)
    if (row !== undefined) {
        served?.('cache')
        return JSON.parse(asText(row.body)) as Scorecard[]
    }

    const client = await settings.lock.connect()
    let cards: Scorecard[] | undefined
    try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
        await client.query(`SET LOCAL lock_timeout = '${LOCK_WAIT}'`)
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
        cards = await loadScorecards(pgRunner(settings.compute), subject, requested, config, now)
        // An empty list (a blueprint without operators) costs nothing to compute and would only take room.
        if (cards.length === 0) {
            await client.query('COMMIT')
            served?.('not-stored')
            return cards
        }
        const body = JSON.stringify(cards)
        const fits = Buffer.byteLength(body) <= settings.maxBytes
        if (fits) {
            await client.query(STORE_SQL, [...key, body])
            await client.query(EVICT_SQL, [settings.maxBytes])
        }
        await client.query('COMMIT')
        served?.(fits ? 'computed' : 'not-stored')
        return cards
    } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        const code = (error as {code?: string}).code ?? ''
        if (!NOT_STORED_CODES.has(code)) throw error
        log.warn(
            {code, error: (error as Error).message, blueprint: subject.blueprintId, operator: subject.operator, period: requested.label},
            'scorecard cache not filled; the scorecards are computed without storing',
        )
        if (cards === undefined) return compute(read)
        served?.('not-stored')
        return cards
    } finally {
        client.release()
    }
}
