import pg from 'pg'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {DEFAULT_GAP_CONFIG, type GapConfig} from '../src/gap/config'
import {parseIsoWeek, type Period} from '../src/gap/period'
import type {Scorecard} from '../src/gap/scorecard'
import {loadScorecardsCached, type ScorecardSource} from '../src/gap/scorecard-cache'
import {loadScorecards, type ScorecardSubject} from '../src/gap/scorecard-load'
import {startSeededDatabase, type SeededDatabase} from './gap-database'
import {BLUEPRINT, GOOD, heartbeat, proof} from './gap-world'

// A cached scorecard must always equal a fresh computation: the triggers delete a row when a row it was computed from
// changes, and a filler never stores what it read past a write that was still open.

const W01 = parseIsoWeek('2026-W01')
const W02 = parseIsoWeek('2026-W02')
const AFTER_ALL = new Date('2026-03-01T00:00:00.000Z')
const BLUEPRINT_SUBJECT: ScorecardSubject = {blueprintId: BLUEPRINT}

let world: SeededDatabase
let pools: {lock: pg.Pool; compute: pg.Pool}

beforeAll(async () => {
    world = await startSeededDatabase()
    pools = {lock: new pg.Pool({connectionString: world.db.url, max: 2}), compute: new pg.Pool({connectionString: world.db.url, max: 4})}
    for (const pool of Object.values(pools)) {
        pool.on('error', (error) => {
            if ((error as {code?: string}).code !== '57P01') throw error
        })
    }
})

afterAll(async () => {
    await pools?.lock.end()
    await pools?.compute.end()
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
): Promise<{cards: Scorecard[]; source: ScorecardSource | undefined}> {
    let source: ScorecardSource | undefined
    const cards = await loadScorecardsCached(pools, world.sql, subject, period, config, now, (s) => (source = s))
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
    it('computes an ended week once, then reads it from the cache', async () => {
        const first = await cached(W02)
        const second = await cached(W02)
        expect(first.source).toBe('computed')
        expect(second.source).toBe('cache')
        expect(second.cards).toEqual(first.cards)
        expect(first.cards).toEqual(await fresh(W02))
        expect(first.cards.length).toBe(4)
        expect(await cachedPeriods()).toEqual([`${BLUEPRINT}//2026-01-05`])
    })

    it('keeps subjects and gap settings apart', async () => {
        const week = {...DEFAULT_GAP_CONFIG, proofFreshnessSeconds: 7 * 24 * 3600}
        const one = await cached(W02, {operator: GOOD.toUpperCase().replace('0X', '0x')})
        const wide = await cached(W02, BLUEPRINT_SUBJECT, week)
        const plain = await cached(W02)
        expect([one.source, wide.source, plain.source]).toEqual(['computed', 'computed', 'computed'])
        expect(one.cards).toEqual(await fresh(W02, {operator: GOOD}))
        expect(wide.cards).toEqual(await fresh(W02, BLUEPRINT_SUBJECT, week))
        // The seven-day window proves claims the six-hour window does not, so a shared row would be wrong.
        expect(wide.cards).not.toEqual(plain.cards)
        expect((await cachedPeriods()).length).toBe(3)
    })

    it('does not store a week still running', async () => {
        const during = new Date('2026-01-08T00:00:00.000Z')
        const result = await cached(W02, BLUEPRINT_SUBJECT, DEFAULT_GAP_CONFIG, during)
        expect(result.source).toBe('running')
        expect(result.cards).toEqual(await loadScorecards(world.sql, BLUEPRINT_SUBJECT, W02, DEFAULT_GAP_CONFIG, during))
        expect(await cachedPeriods()).toEqual([])
    })

    it('a heartbeat inside the week deletes the row, and its rollback deletes the next', async () => {
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

    it('a record deletes only the weeks that end after it', async () => {
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

    it('a change of present state deletes every row', async () => {
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

    it('more fillers at once than lock connections all finish', async () => {
        const weeks = ['2026-W01', '2026-W02', '2026-W03', '2026-W04', '2026-W05'].map(parseIsoWeek)
        const results = await Promise.all(weeks.map((week) => cached(week)))
        expect(results.map((result) => result.source)).toEqual(weeks.map(() => 'computed'))
        for (const [index, week] of weeks.entries()) expect(results[index].cards).toEqual(await fresh(week))
        expect((await cachedPeriods()).length).toBe(5)
    })

    it('a filler waits for an open write and stores what it committed', async () => {
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
