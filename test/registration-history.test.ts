import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadGapFacts} from '../src/gap/load'
import {parseIsoWeek} from '../src/gap/period'
import {DEFAULT_GAP_CONFIG} from '../src/gap/config'
import {loadScorecardInputs, loadScorecards} from '../src/gap/scorecard-load'
import {startSeededDatabase, type SeededDatabase} from './gap-database'
import {BLUEPRINT, logId} from './gap-world'

/*
 * The registration row keeps an operator's latest registration only. So the gap facts and a blueprint's scorecards
 * read the registration as it was at the requested instant from registration_change.
 */

// Registered on Jan 3, unregistered on Jan 4, registered again on Jan 6 (2026).
const RETURNING = '0x00000000000000000000000000000000000000e5'
// Registered on Jan 10, after the world's instant AT (Jan 7).
const LATE = '0x00000000000000000000000000000000000000f6'
// Pre-registered on Jan 2, never registered.
const PRE_ONLY = '0x0000000000000000000000000000000000000a07'

let seeded: SeededDatabase

async function addOperator(
    operator: string,
    row: {status: string; registeredAt: Date | null; unregisteredAt?: Date | null},
    changes: [kind: string, at: Date][],
): Promise<void> {
    const {client} = seeded
    const setup = new Date('2026-01-01T00:00:00.000Z')
    await client.query(
        `INSERT INTO operator (id, stake, restaking_status, unstake_scheduled, first_seen_block, first_seen_at)
         VALUES ($1, '0', 'ACTIVE', '0', 2, $2)`,
        [operator, setup],
    )
    const id = `${BLUEPRINT}-${operator}`
    await client.query(
        `INSERT INTO registration (id, blueprint_id, operator_id, status, rpc_address_valid_utf8, registration_count,
                                   registered_at, unregistered_at, updated_at)
         VALUES ($1, $2, $3, $4, true, $5, $6, $7, $8)`,
        [id, BLUEPRINT, operator, row.status, changes.filter(([kind]) => kind === 'REGISTERED').length, row.registeredAt, row.unregisteredAt ?? null, setup],
    )
    for (const [kind, at] of changes) {
        // Block numbers in time order, so that the ids sort as the chain does.
        const block = 2000 + Math.round((at.getTime() - setup.getTime()) / 3_600_000)
        await client.query(
            `INSERT INTO registration_change (id, registration_id, kind, block_number, timestamp, tx_hash)
             VALUES ($1, $2, $3, $4, $5, '0x00')`,
            [logId(block, 0), id, kind, block, at],
        )
    }
}

const day = (date: number, hour = 0) => new Date(Date.UTC(2026, 0, date, hour))

beforeAll(async () => {
    seeded = await startSeededDatabase()
    await addOperator(RETURNING, {status: 'ACTIVE', registeredAt: day(6)}, [
        ['REGISTERED', day(3)],
        ['UNREGISTERED', day(4)],
        ['REGISTERED', day(6)],
    ])
    await addOperator(LATE, {status: 'ACTIVE', registeredAt: day(10)}, [['REGISTERED', day(10)]])
    await addOperator(PRE_ONLY, {status: 'PRE_REGISTERED', registeredAt: null}, [['PRE_REGISTERED', day(2)]])
})

afterAll(async () => {
    await seeded?.close()
})

async function statusesAt(at: Date): Promise<Record<string, string>> {
    const facts = await loadGapFacts(seeded.sql, {blueprintId: BLUEPRINT}, at)
    return Object.fromEntries(facts.registrations.filter((r) => [RETURNING, LATE, PRE_ONLY].includes(r.operator)).map((r) => [r.operator, r.status]))
}

describe('registrations as of an instant', () => {
    it('none before the first change', async () => {
        expect(await statusesAt(day(1))).toEqual({})
    })

    it('pre-registration counts only after it happened', async () => {
        expect(await statusesAt(day(2, 12))).toEqual({[PRE_ONLY]: 'PRE_REGISTERED'})
    })

    it('earlier cycle read from changes', async () => {
        expect(await statusesAt(day(3, 12))).toEqual({[RETURNING]: 'ACTIVE', [PRE_ONLY]: 'PRE_REGISTERED'})
        expect(await statusesAt(day(5))).toEqual({[RETURNING]: 'UNREGISTERED', [PRE_ONLY]: 'PRE_REGISTERED'})
    })

    it('latest registration and a later one', async () => {
        expect(await statusesAt(day(7))).toEqual({[RETURNING]: 'ACTIVE', [PRE_ONLY]: 'PRE_REGISTERED'})
        expect(await statusesAt(day(11))).toEqual({[RETURNING]: 'ACTIVE', [LATE]: 'ACTIVE', [PRE_ONLY]: 'PRE_REGISTERED'})
    })

    it('blueprint scorecards list operators that existed', async () => {
        const operatorsOf = async (week: string) =>
            (await loadScorecardInputs(seeded.sql, {blueprintId: BLUEPRINT}, parseIsoWeek(week))).map((inputs) => inputs.operator)
        // 2026-W01 ends on Monday Jan 5: LATE registered on Jan 10.
        const first = await operatorsOf('2026-W01')
        expect(first).toContain(RETURNING)
        expect(first).toContain(PRE_ONLY)
        expect(first).not.toContain(LATE)
        expect(await operatorsOf('2026-W02')).toContain(LATE)
        // Before anything: the world's operators registered on Jan 1, 2026.
        expect(await operatorsOf('2025-W50')).toEqual([])
    })

    it('operator scorecard only once it existed', async () => {
        const cardsOf = async (operator: string, week: string, blueprintId?: string) =>
            (await loadScorecardInputs(seeded.sql, {operator, blueprintId}, parseIsoWeek(week))).map((inputs) => inputs.operator)
        expect(await cardsOf(LATE, '2026-W01')).toEqual([])
        expect(await cardsOf(LATE, '2026-W02')).toEqual([LATE])
        // Mixed-case input names the same operator.
        expect(await cardsOf(LATE.toUpperCase().replace('0X', '0x'), '2026-W02', BLUEPRINT)).toEqual([LATE])
        expect(await cardsOf(LATE, '2026-W02', '999')).toEqual([])
        expect(await cardsOf('0x00000000000000000000000000000000000b0b00', '2026-W02')).toEqual([])
    })

    it('no previous card before the operator existed', async () => {
        const cardOf = async (week: string) => (await loadScorecards(seeded.sql, {operator: LATE}, parseIsoWeek(week), DEFAULT_GAP_CONFIG))[0]
        // LATE registered on Jan 10, within 2026-W02, so 2026-W01 has nothing to compare with.
        const first = await cardOf('2026-W02')
        expect(first?.operator).toBe(LATE)
        expect(first?.previous).toBeNull()
        expect(first?.change).toBeNull()
        const second = await cardOf('2026-W03')
        expect(second?.previous?.period.label).toBe('2026-W02')
        expect(second?.change).not.toBeNull()
    })
})
