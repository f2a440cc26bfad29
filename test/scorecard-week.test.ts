import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEFAULT_GAP_CONFIG} from '../src/gap/config'
import {parseInstant, parseIsoWeek} from '../src/gap/period'
import {SCORECARD_METHODOLOGY_VERSION, type Scorecard} from '../src/gap/scorecard'
import {loadScorecards} from '../src/gap/scorecard-load'
import {nearestRankPercentile} from '../src/gap/stats'
import {startSeededDatabase, type SeededDatabase} from './gap-database'
import {BLUEPRINT, GOOD, OPERATORS} from './gap-world'

// A seven-day window keeps the PASS records of Wednesday fresh at the end of the week (Monday 2026-01-12).
const WEEK_FRESHNESS = {...DEFAULT_GAP_CONFIG, proofFreshnessSeconds: 7 * 24 * 3600}

let world: SeededDatabase
let card: Scorecard

beforeAll(async () => {
    world = await startSeededDatabase()
    const cards = await loadScorecards(world.sql, {blueprintId: BLUEPRINT}, parseIsoWeek('2026-W02'), WEEK_FRESHNESS)
    card = cards.find((c) => c.operator === GOOD) as Scorecard
})

afterAll(async () => {
    await world?.close()
})

describe('scorecard of week 2026-W02', () => {
    it('lists every operator of the blueprint', async () => {
        const cards = await loadScorecards(world.sql, {blueprintId: BLUEPRINT}, parseIsoWeek('2026-W02'), WEEK_FRESHNESS)
        expect(cards.map((c) => c.operator)).toEqual([...OPERATORS].sort())
    })

    it('states period and methodology', () => {
        expect(card.period).toEqual({from: '2026-01-05T00:00:00.000Z', to: '2026-01-12T00:00:00.000Z', label: '2026-W02'})
        expect(card.methodologyVersion).toBe(SCORECARD_METHODOLOGY_VERSION)
    })

    it('heartbeat uptime from covered seconds', () => {
        // Monday: 60 s (cut by the next beat) + 60 s (cut by the status-1 beat) + 0 + 180 s; Wednesday: 180 s.
        expect(card.heartbeatUptime.coveredMs).toBe(480_000)
        expect(card.heartbeatUptime.expectedMs).toBe(604_800_000)
        // 480 / 604800 = 0.00079365… → 794 ppm, half up.
        expect(card.heartbeatUptime.ratio).toBe('0.000794')
    })

    it('probe uptime over availability kinds', () => {
        // ENDPOINT_REACHABILITY PASS, SANDBOX_ENDPOINT_HEALTH PASS, ENDPOINT_REACHABILITY UNREACHABLE.
        expect(card.probeUptime).toEqual({passed: 2, probes: 3, ratio: '0.666667'})
    })

    it('probe latency nearest-rank percentiles', () => {
        // Samples 10, 20, 30, 40, 50, 60, 1000: ranks ⌈3.5⌉ = 4, ⌈6.65⌉ = 7, ⌈6.93⌉ = 7.
        expect(card.probeLatencyMs).toEqual({samples: 7, p50: 40, p95: 1000, p99: 1000})
    })

    it('jobs completion and median latency', () => {
        expect(card.jobs).toEqual({submitted: 3, completed: 2, completionRate: '0.666667', medianResultLatencySeconds: 12})
    })

    it('proof coverage of claims', () => {
        // REGISTERED, SERVICE_MEMBER and JOB_RESULTS_SUBMITTED; every required kind PASSed on Wednesday.
        expect(card.proofCoverage).toEqual({claims: 3, proven: 3, ratio: '1.000000'})
        expect(card.contradictions.count).toBe(0)
        expect(card.failingKinds).toEqual([])
    })

    it('slashes proposed and executed', () => {
        expect(card.slashes).toEqual({proposed: 1, executed: 1})
    })

    it('change from previous week', () => {
        // 2026-W01: member from 1 January, so 4 days expected and no heartbeat inside it, no job. At its end
        // (Monday 00:00) the first Monday beat has just arrived: REGISTERED, SERVICE_MEMBER and HEARTBEATING, unproven.
        expect(card.previous?.heartbeatUptime).toEqual({coveredMs: 0, expectedMs: 345_600_000, ratio: '0.000000'})
        expect(card.previous?.proofCoverage).toEqual({claims: 3, proven: 0, ratio: '0.000000'})
        expect(card.change?.heartbeatUptime).toBe('0.000794')
        expect(card.change?.proofCoverage).toBe('1.000000')
        expect(card.change?.completionRate).toBeNull()
        expect(card.change?.slashesProposed).toBe(1)
    })

    it('recomputes to identical output', async () => {
        const again = await loadScorecards(world.sql, {operator: GOOD, blueprintId: BLUEPRINT}, parseIsoWeek('2026-W02'), WEEK_FRESHNESS)
        expect(again[0]).toEqual(card)
    })
})

describe('nearestRankPercentile', () => {
    it.each([
        [[5], 50, 5],
        [[1, 2, 3, 4], 50, 2],
        [[1, 2, 3, 4], 95, 4],
        [[], 50, null],
    ] as const)('samples %j p%i gives %s', (samples, p, expected) => {
        expect(nearestRankPercentile([...samples], p)).toBe(expected)
    })
})

describe('week still running', () => {
    it('scored up to now', async () => {
        // "now" in the middle of 2026-W02: the week is scored over [Monday, now), exactly like that explicit period,
        // and compared with the whole previous week.
        const week = parseIsoWeek('2026-W02')
        const now = new Date(week.from.getTime() + 3.5 * 86_400_000)
        const running = await loadScorecards(world.sql, {blueprintId: BLUEPRINT}, week, WEEK_FRESHNESS, now)
        const explicit = await loadScorecards(world.sql, {blueprintId: BLUEPRINT}, {...week, to: now}, WEEK_FRESHNESS, now)
        expect(running.map((card) => card.period.to)).toEqual(running.map(() => now.toISOString()))
        expect(running.length).toBeGreaterThan(0)
        expect(running.map((card) => card.heartbeatUptime)).toEqual(explicit.map((card) => card.heartbeatUptime))
        expect(running.map((card) => card.previous?.period.from)).toEqual(running.map(() => '2025-12-29T00:00:00.000Z'))
    })
})

describe('parseIsoWeek', () => {
    it('rejects week 53 of 2025', () => {
        expect(() => parseIsoWeek('2025-W53')).toThrow(/does not exist/)
    })
    it('accepts week 53 of 2020', () => {
        expect(parseIsoWeek('2020-W53').from.toISOString()).toBe('2020-12-28T00:00:00.000Z')
    })
    it('rejects a malformed week', () => {
        expect(() => parseIsoWeek('2026-49')).toThrow(/expected an ISO week/)
    })
})

describe('parseInstant', () => {
    it.each(['2026-12-05', '2026-12-05T10:00Z', '2026-12-05T10:00:00.123+01:00', '2028-02-29T00:00:00Z', '2026-01-31'])('accepts %s', (text) => {
        expect(Number.isNaN(parseInstant(text).getTime())).toBe(false)
    })
    it.each(['1', 'Dec 5 2026', '2026-12-05 10:00', '2026-02-30T00:00:00Z', '2026-04-31', '2026-02-29', '2026-13-01', '2026-00-10', '2026-12-00'])(
        'rejects %s',
        (text) => {
            expect(Number.isNaN(parseInstant(text).getTime())).toBe(true)
        },
    )
})

describe('scorecard output formats', () => {
    it('csv has a header and one row per card', async () => {
        const {renderCsv} = await import('../src/cli/commands/scorecard-render')
        const lines = renderCsv([card]).trimEnd().split('\r\n')
        expect(lines).toHaveLength(2)
        expect(lines[0]?.startsWith('operator,blueprint,period,heartbeat_uptime')).toBe(true)
        expect(lines[1]).toContain('0.000794')
    })

    it('html has inline svg charts', async () => {
        const {renderHtml} = await import('../src/cli/commands/scorecard-render')
        const html = renderHtml([card])
        expect(html.match(/<svg /g)).toHaveLength(3)
        expect(html).toContain('proofgap-scorecard/4')
    })
})
