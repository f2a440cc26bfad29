import pg from 'pg'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {DEFAULT_GAP_CONFIG, type GapConfig} from '../src/gap/config'
import {parseIsoWeek, type Period} from '../src/gap/period'
import type {Scorecard} from '../src/gap/scorecard'
import {loadScorecardsCached, scorecardCacheMaxBytes, type ScorecardCacheSettings, type ScorecardSource} from '../src/gap/scorecard-cache'
import {loadScorecards, type ScorecardSubject} from '../src/gap/scorecard-load'
import {startSeededDatabase, type SeededDatabase} from './gap-database'
import {BLUEPRINT, GOOD, heartbeat, logId, proof, SERVICE} from './gap-world'
import {tolerateShutdown} from './helpers/stack'

// A cached scorecard must equal a fresh computation. The triggers delete a row when a row it was computed from changes,
// and a filler waits for open writes before it reads, so it stores nothing an open write would change.

const W01 = parseIsoWeek('2026-W01')
const W02 = parseIsoWeek('2026-W02')
const AFTER_ALL = new Date('2026-03-01T00:00:00.000Z')
const BLUEPRINT_SUBJECT: ScorecardSubject = {blueprintId: BLUEPRINT}

let world: SeededDatabase
let settings: ScorecardCacheSettings

beforeAll(async () => {
    world = await startSeededDatabase()
    const lock = tolerateShutdown(new pg.Pool({connectionString: world.db.url, max: 2}))
    const compute = tolerateShutdown(new pg.Pool({connectionString: world.db.url, max: 4}))
    settings = {lock, compute, maxBytes: 1_000_000}
})

afterAll(async () => {
    await settings?.lock.end()
    await settings?.compute.end()
    await world?.close()
})

beforeEach(async () => {
    await world.client.query('DELETE FROM scorecard_cache')
})

async function cached(
    period: Period,
    subject: ScorecardSubject = BLUEPRINT_SUBJECT,
    config: GapConfig = DEFAULT_GAP_CONFIG,
    now: Date = AFTER_ALL,
    cacheSettings: ScorecardCacheSettings = settings,
): Promise<{cards: Scorecard[]; source: ScorecardSource | undefined}> {
    let source: ScorecardSource | undefined
    const cards = await loadScorecardsCached(cacheSettings, world.sql, subject, period, config, now, (s) => (source = s))
    return {cards, source}
}

const fresh = (period: Period, subject: ScorecardSubject = BLUEPRINT_SUBJECT, config: GapConfig = DEFAULT_GAP_CONFIG) =>
    loadScorecards(world.sql, subject, period, config, AFTER_ALL)

async function cachedPeriods(): Promise<string[]> {
    const {rows} = await world.client.query(
        `SELECT blueprint_key || '/' || operator_key || '/' || to_char(period_from AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS key
         FROM scorecard_cache ORDER BY 1`,
    )
    return rows.map((row) => row.key as string)
}

const coveredMsOf = (cards: Scorecard[], operator: string) => cards.find((card) => card.operator === operator)?.heartbeatUptime.coveredMs

describe('scorecard cache', () => {
    it('ended week: computed once, then read', async () => {
        const first = await cached(W02)
        const second = await cached(W02)
        expect(first.source).toBe('computed')
        expect(second.source).toBe('cache')
        expect(second.cards).toEqual(first.cards)
        expect(first.cards).toEqual(await fresh(W02))
        expect(first.cards.length).toBe(4)
        expect(await cachedPeriods()).toEqual([`${BLUEPRINT}//2026-01-05`])
    })

    it('subjects and gap settings: stored apart', async () => {
        const week = {...DEFAULT_GAP_CONFIG, proofFreshnessSeconds: 7 * 24 * 3600}
        const singleOperator = await cached(W02, {operator: GOOD.toUpperCase().replace('0X', '0x')})
        const wide = await cached(W02, BLUEPRINT_SUBJECT, week)
        const plain = await cached(W02)
        expect([singleOperator.source, wide.source, plain.source]).toEqual(['computed', 'computed', 'computed'])
        expect(singleOperator.cards).toEqual(await fresh(W02, {operator: GOOD}))
        expect(wide.cards).toEqual(await fresh(W02, BLUEPRINT_SUBJECT, week))
        // The seven-day window proves claims the six-hour window does not, so a shared row would be wrong.
        expect(wide.cards).not.toEqual(plain.cards)
        expect((await cachedPeriods()).length).toBe(3)
    })

    it('running week: not stored', async () => {
        const during = new Date('2026-01-08T00:00:00.000Z')
        const result = await cached(W02, BLUEPRINT_SUBJECT, DEFAULT_GAP_CONFIG, during)
        expect(result.source).toBe('not-stored')
        expect(result.cards).toEqual(await loadScorecards(world.sql, BLUEPRINT_SUBJECT, W02, DEFAULT_GAP_CONFIG, during))
        expect(await cachedPeriods()).toEqual([])
    })

    it('heartbeat in week: row deleted, also on rollback', async () => {
        const before = await cached(W02)
        const id = await heartbeat(world.client, GOOD, new Date('2026-01-07T03:00:00.000Z'), 0)
        expect(await cachedPeriods()).toEqual([])
        const after = await cached(W02)
        expect(after.source).toBe('computed')
        expect(after.cards).toEqual(await fresh(W02))
        // 180 s more: interval 60 s × max missed 3, nothing after it that day.
        expect(coveredMsOf(after.cards, GOOD)).toBe((coveredMsOf(before.cards, GOOD) as number) + 180_000)

        // A hot-block rollback deletes the heartbeat again.
        await world.client.query('DELETE FROM heartbeat WHERE id = $1', [id])
        expect(await cachedPeriods()).toEqual([])
        const rolledBack = await cached(W02)
        expect(rolledBack.cards).toEqual(before.cards)
    })

    it('setting change: later weeks deleted', async () => {
        const before = await cached(W02)
        await cached(W01)
        // Between GOOD's Monday heartbeats of 00:00 and 00:01: from the one of 00:10 on, grace is 120 s × 3.
        const id = logId(2000, 7)
        await world.client.query(
            `INSERT INTO heartbeat_config_change (id, service_id, interval, max_missed, block_number, timestamp, tx_hash)
             VALUES ($1, $2, 120, 3, 2000, $3, '0x')`,
            [id, SERVICE, new Date('2026-01-05T00:00:30.000Z')],
        )
        expect(await cachedPeriods()).toEqual([`${BLUEPRINT}//2025-12-29`])
        const after = await cached(W02)
        expect(after.source).toBe('computed')
        expect(after.cards).toEqual(await fresh(W02))
        // The heartbeats of Monday 00:10 and Wednesday 11:59 now cover 360 s each in place of 180 s.
        expect(coveredMsOf(after.cards, GOOD)).toBe((coveredMsOf(before.cards, GOOD) as number) + 360_000)

        // A hot-block rollback deletes the change again.
        await world.client.query('DELETE FROM heartbeat_config_change WHERE id = $1', [id])
        expect(await cachedPeriods()).toEqual([`${BLUEPRINT}//2025-12-29`])
        expect((await cached(W02)).cards).toEqual(before.cards)
    })

    it('proof record: later weeks deleted', async () => {
        await cached(W01)
        await cached(W02)
        const later = await cached(parseIsoWeek('2026-W05'))
        expect(later.source).toBe('computed')
        await proof(world.client, GOOD, 'ENDPOINT_REACHABILITY', 'FAIL', new Date('2026-01-08T09:00:00.000Z'), 70)
        expect(await cachedPeriods()).toEqual([`${BLUEPRINT}//2025-12-29`])
        // A record of the present leaves every ended week alone.
        await cached(W02)
        await proof(world.client, GOOD, 'ENDPOINT_REACHABILITY', 'PASS', new Date('2026-02-20T09:00:00.000Z'), 12)
        expect(await cachedPeriods()).toEqual([`${BLUEPRINT}//2025-12-29`, `${BLUEPRINT}//2026-01-05`])
        expect((await cached(W02)).cards).toEqual(await fresh(W02))
    })

    it('state change: every row deleted', async () => {
        await cached(W01)
        await cached(W02)
        await world.client.query(`UPDATE registration SET status = 'UNREGISTERED' WHERE operator_id = $1`, [GOOD])
        try {
            expect(await cachedPeriods()).toEqual([])
            expect((await cached(W02)).cards).toEqual(await fresh(W02))
        } finally {
            await world.client.query(`UPDATE registration SET status = 'ACTIVE' WHERE operator_id = $1`, [GOOD])
        }
        // A statement that changes no row keeps the rows.
        await cached(W02)
        await world.client.query(`UPDATE registration SET status = 'ACTIVE' WHERE operator_id = 'nobody'`)
        expect(await cachedPeriods()).toEqual([`${BLUEPRINT}//2026-01-05`])
    })

    it('writer without cache privilege: rows deleted', async () => {
        await cached(W02)
        await world.client.query(`CREATE ROLE registration_writer LOGIN PASSWORD 'writer'`)
        await world.client.query(`GRANT SELECT, UPDATE ON registration TO registration_writer`)
        const url = new URL(world.db.url)
        url.username = 'registration_writer'
        url.password = 'writer'
        const writer = new pg.Client({connectionString: url.toString()})
        await writer.connect()
        try {
            // The trigger runs as the owner of scorecard_cache, on which this role has no privilege.
            await writer.query(`UPDATE registration SET status = status WHERE operator_id = $1`, [GOOD])
            expect(await cachedPeriods()).toEqual([])
        } finally {
            await writer.end()
            await world.client.query('DROP OWNED BY registration_writer')
            await world.client.query('DROP ROLE registration_writer')
        }
    })

    it('fillers beyond lock connections: all finish', async () => {
        const weeks = ['2026-W01', '2026-W02', '2026-W03', '2026-W04', '2026-W05'].map(parseIsoWeek)
        const results = await Promise.all(weeks.map((week) => cached(week)))
        expect(results.map((result) => result.source)).toEqual(weeks.map(() => 'computed'))
        for (const [index, week] of weeks.entries()) expect(results[index].cards).toEqual(await fresh(week))
        expect((await cachedPeriods()).length).toBe(5)
    })

    it('byte bound: oldest rows deleted', async () => {
        const first = await cached(W01)
        const sizeOf = (cards: unknown) => Buffer.byteLength(JSON.stringify(cards))
        // Room for the bodies of W02 and W03 and half of W01's (smaller: its operators have no previous week), so the
        // third fill deletes the row computed first.
        const small = {...settings, maxBytes: sizeOf(await fresh(W02)) + sizeOf(await fresh(parseIsoWeek('2026-W03'))) + Math.floor(sizeOf(first.cards) / 2)}
        await cached(W02, BLUEPRINT_SUBJECT, DEFAULT_GAP_CONFIG, AFTER_ALL, small)
        await cached(parseIsoWeek('2026-W03'), BLUEPRINT_SUBJECT, DEFAULT_GAP_CONFIG, AFTER_ALL, small)
        expect(await cachedPeriods()).toEqual([`${BLUEPRINT}//2026-01-05`, `${BLUEPRINT}//2026-01-12`])
        // A body larger than the bound is returned and not stored, and 0 turns the cache off.
        const tiny = await cached(parseIsoWeek('2026-W04'), BLUEPRINT_SUBJECT, DEFAULT_GAP_CONFIG, AFTER_ALL, {...settings, maxBytes: 10})
        const off = await cached(parseIsoWeek('2026-W05'), BLUEPRINT_SUBJECT, DEFAULT_GAP_CONFIG, AFTER_ALL, {...settings, maxBytes: 0})
        expect([tiny.source, off.source]).toEqual(['not-stored', 'not-stored'])
        expect(tiny.cards).toEqual(await fresh(parseIsoWeek('2026-W04')))
        expect((await cachedPeriods()).length).toBe(2)
    })

    it('empty list: not stored', async () => {
        const none = await cached(W02, {blueprintId: '77'})
        expect(none).toEqual({cards: [], source: 'not-stored'})
        expect(await cachedPeriods()).toEqual([])
    })

    it('read-only role: computed, not stored', async () => {
        await world.client.query(`CREATE ROLE scorecard_reader LOGIN PASSWORD 'reader'`)
        await world.client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO scorecard_reader`)
        const url = new URL(world.db.url)
        url.username = 'scorecard_reader'
        url.password = 'reader'
        const lock = new pg.Pool({connectionString: url.toString(), max: 1})
        const compute = new pg.Pool({connectionString: url.toString(), max: 2})
        try {
            const result = await cached(W02, BLUEPRINT_SUBJECT, DEFAULT_GAP_CONFIG, AFTER_ALL, {lock, compute, maxBytes: 1_000_000})
            expect(result.source).toBe('not-stored')
            expect(result.cards).toEqual(await fresh(W02))
            expect(await cachedPeriods()).toEqual([])
        } finally {
            await lock.end()
            await compute.end()
            await world.client.query('DROP OWNED BY scorecard_reader')
            await world.client.query('DROP ROLE scorecard_reader')
        }
    })

    it('lock timeout: computed, not stored', async () => {
        const writer = new pg.Client({connectionString: world.db.url})
        await writer.connect()
        try {
            await writer.query('BEGIN')
            await writer.query(`UPDATE blueprint SET active = active WHERE id = '77'`)
            // The statement changed no row, but its lock trigger keeps the lock shared until the transaction ends.
            const result = await cached(W02)
            expect(result.source).toBe('not-stored')
            expect(result.cards).toEqual(await fresh(W02))
        } finally {
            await writer.query('ROLLBACK')
            await writer.end()
        }
        expect(await cachedPeriods()).toEqual([])
    })

    it('SCORECARD_CACHE_MAX_MB: parsed and checked', () => {
        expect(scorecardCacheMaxBytes({})).toBe(256_000_000)
        expect(scorecardCacheMaxBytes({SCORECARD_CACHE_MAX_MB: '0'})).toBe(0)
        expect(scorecardCacheMaxBytes({SCORECARD_CACHE_MAX_MB: ' 12 '})).toBe(12_000_000)
        expect(() => scorecardCacheMaxBytes({SCORECARD_CACHE_MAX_MB: '1.5'})).toThrow(/SCORECARD_CACHE_MAX_MB: expected a whole number/)
    })

    it('open write: filler waits for commit', async () => {
        const before = await fresh(W02)
        const writer = new pg.Client({connectionString: world.db.url})
        await writer.connect()
        let id: string | undefined
        try {
            await writer.query('BEGIN')
            id = await heartbeat(writer as unknown as pg.Client, GOOD, new Date('2026-01-09T05:00:00.000Z'), 0)
            let settled = false
            const filling = cached(W02).then((result) => {
                settled = true
                return result
            })
            // The filler cannot take the lock while the writer's transaction is open.
            await new Promise((resolve) => setTimeout(resolve, 500))
            expect(settled).toBe(false)
            await writer.query('COMMIT')
            const result = await filling
            expect(result.source).toBe('computed')
            expect(coveredMsOf(result.cards, GOOD)).toBe((coveredMsOf(before, GOOD) as number) + 180_000)
            expect(result.cards).toEqual(await fresh(W02))
            expect((await cached(W02)).source).toBe('cache')
        } finally {
            await writer.query('ROLLBACK').catch(() => undefined)
            if (id !== undefined) await world.client.query('DELETE FROM heartbeat WHERE id = $1', [id])
            await writer.end()
        }
    })
})
