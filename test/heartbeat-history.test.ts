import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEFAULT_GAP_CONFIG} from '../src/gap/config'
import {buildEvidenceBundle, type EvidenceRecord} from '../src/gap/evidence'
import {parsePeriod} from '../src/gap/period'
import {operatorSummary} from '../src/gap/query'
import {loadScorecards} from '../src/gap/scorecard-load'
import {startSeededDatabase, type SeededDatabase} from './gap-database'
import {BLUEPRINT, heartbeat, insert, logId, proof, txHash} from './gap-world'
import {recomputedHeartbeatCover, storedHeartbeatCover} from './helpers/heartbeat-cover'

// Liveness, heartbeat uptime and evidence bundles over the history of a service's heartbeat setting, and heartbeats
// sent for an operator that had left the service. Two services are added to the gap world:
// - Service 20 runs on an hourly setting (3600 s × 2) from SETTING_START and switches to 60 s × 3 at SWITCH. Its
//   member HOURLY beats every hour of DAY up to 11:00, then at 12:00 and 18:00.
// - Service 21 stays on 3600 s × 2. Its operator LEAVER leaves at 03:00 of DAY, keeps sending heartbeats every hour
//   from 04:00 to 10:00, and joins again at 10:30 without sending any more. Its endpoint is UNREACHABLE at 11:00.

const HOURLY = '0x00000000000000000000000000000000000000e5'
const LEAVER = '0x00000000000000000000000000000000000000f6'
const SWITCHING_SERVICE = '20'
const STEADY_SERVICE = '21'

const HOUR_MS = 3_600_000
const DAY = new Date('2026-01-13T00:00:00.000Z')
const SETTING_START = new Date('2026-01-11T00:00:00.000Z')
const JOINED = new Date('2026-01-12T00:00:00.000Z')
/** HOURLY joined before its service's first setting change, so a bundle can cover the default setting before it. */
const HOURLY_JOINED = new Date('2026-01-10T00:00:00.000Z')
const hour = (hours: number): Date => new Date(DAY.getTime() + hours * HOUR_MS)
const SWITCH = hour(11.5)
const LEFT = hour(3)
const REJOINED = hour(10.5)
const NOW = new Date('2026-03-01T00:00:00.000Z')

const HOURLY_SETTING_ID = logId(900, 1)
const SWITCH_SETTING_ID = logId(901, 1)

let world: SeededDatabase

async function addService(id: string, block: number): Promise<void> {
    // The service row has the present setting, as the processor leaves it after the last change.
    const present = id === SWITCHING_SERVICE ? {interval: '60', maxMissed: 3} : {interval: '3600', maxMissed: 2}
    await insert(world.client, 'service', {
        id, service_id: id, blueprint_id: BLUEPRINT, activation_request_id: '0', request_id: null, from_quote: false,
        confidentiality: 0, status: 'ACTIVE', termination_reason: null, heartbeat_interval: present.interval,
        heartbeat_max_missed: present.maxMissed, heartbeat_configured: true, activated_at_block: block, activated_at: SETTING_START,
        activated_tx: txHash(block), terminated_at: null, terminated_tx: null,
    })
}

async function addSetting(id: string, serviceId: string, at: Date, interval: string, maxMissed: number): Promise<void> {
    const block = Number(id.slice(0, 10))
    await insert(world.client, 'heartbeat_config_change', {
        id, service_id: serviceId, interval, max_missed: maxMissed, block_number: block, timestamp: at, tx_hash: txHash(block),
    })
}

async function addMembership(operator: string, serviceId: string, joinedAt: Date, leftAt: Date | null, block: number): Promise<void> {
    await insert(world.client, 'service_membership', {
        id: `${serviceId}-${operator}-${logId(block, 0)}`, service_id: serviceId, operator_id: operator, source: 'JOINED',
        exposure_bps: 10000, active: leftAt === null, joined_at_block: block, joined_at: joinedAt,
        close_reason: leftAt === null ? null : 'LEFT', left_at_block: leftAt === null ? null : block + 1, left_at: leftAt,
        exit_scheduled_after: null, exit_canceled_at: null,
    })
}

beforeAll(async () => {
    world = await startSeededDatabase()
    for (const operator of [HOURLY, LEAVER]) {
        await insert(world.client, 'operator', {
            id: operator, stake: '1000000000000000000000', restaking_status: 'ACTIVE', unstake_scheduled: '0',
            leaving_ready_round: null, first_seen_block: 2, first_seen_at: SETTING_START,
        })
    }
    await addService(SWITCHING_SERVICE, 800)
    await addService(STEADY_SERVICE, 801)
    await addSetting(HOURLY_SETTING_ID, SWITCHING_SERVICE, SETTING_START, '3600', 2)
    await addSetting(logId(900, 2), STEADY_SERVICE, SETTING_START, '3600', 2)
    await addSetting(SWITCH_SETTING_ID, SWITCHING_SERVICE, SWITCH, '60', 3)
    await addMembership(HOURLY, SWITCHING_SERVICE, HOURLY_JOINED, null, 850)
    await addMembership(LEAVER, STEADY_SERVICE, JOINED, LEFT, 851)
    await addMembership(LEAVER, STEADY_SERVICE, REJOINED, null, 860)

    for (let hours = -1; hours <= 11; hours++) await heartbeat(world.client, HOURLY, hour(hours), 0, SWITCHING_SERVICE)
    await heartbeat(world.client, HOURLY, hour(12), 0, SWITCHING_SERVICE)
    await heartbeat(world.client, HOURLY, hour(18), 0, SWITCHING_SERVICE)
    for (let hours = -1; hours <= 2; hours++) await heartbeat(world.client, LEAVER, hour(hours), 0, STEADY_SERVICE)
    for (let hours = 4; hours <= 10; hours++) await heartbeat(world.client, LEAVER, hour(hours), 0, STEADY_SERVICE)
    await proof(world.client, LEAVER, 'ENDPOINT_REACHABILITY', 'UNREACHABLE', hour(11), 5000, 'UNREACHABLE', STEADY_SERVICE)
}, 180_000)

afterAll(async () => {
    await world?.close()
})

async function livenessAt(operator: string, serviceId: string, at: Date) {
    const summary = await operatorSummary(world.sql, operator, at, DEFAULT_GAP_CONFIG)
    const state = summary.liveness.find((row) => row.serviceId === serviceId)
    expect(state, `liveness of ${operator} in service ${serviceId} at ${at.toISOString()}`).toBeDefined()
    return state!
}

async function uptimeOf(operator: string, from: Date, to: Date) {
    const cards = await loadScorecards(world.sql, {operator}, parsePeriod(from.toISOString(), to.toISOString()), DEFAULT_GAP_CONFIG, NOW)
    expect(cards).toHaveLength(1)
    return cards[0].heartbeatUptime
}

describe('liveness across a setting change', () => {
    it('past at uses hourly setting', async () => {
        // The last heartbeat before 11:55 is that of 11:00, sent under 3600 s × 2: live until 13:00.
        const state = await livenessAt(HOURLY, SWITCHING_SERVICE, hour(11 + 55 / 60))
        expect(state.lastHeartbeatAt).toEqual(hour(11))
        expect(state.heartbeatIntervalSeconds).toBe(3600n)
        expect(state.heartbeatMaxMissed).toBe(2)
        expect(state.deadline).toEqual(hour(13))
        expect(state.live).toBe(true)
        expect(state.healthy).toBe(true)
    })

    it('each heartbeat keeps its own setting', async () => {
        const cases = [
            {at: hour(11 + 20 / 60), last: hour(11), interval: 3600n, deadline: hour(13), live: true},
            {at: hour(12 + 1 / 60), last: hour(12), interval: 60n, deadline: hour(12.05), live: true},
            // The heartbeat of 12:00 replaced that of 11:00, whose deadline was later.
            {at: hour(12 + 10 / 60), last: hour(12), interval: 60n, deadline: hour(12.05), live: false},
        ]
        for (const expected of cases) {
            const state = await livenessAt(HOURLY, SWITCHING_SERVICE, expected.at)
            const label = expected.at.toISOString()
            expect(state.lastHeartbeatAt, label).toEqual(expected.last)
            expect(state.heartbeatIntervalSeconds, label).toBe(expected.interval)
            expect(state.deadline, label).toEqual(expected.deadline)
            expect(state.live, label).toBe(expected.live)
        }
    })

    it('no heartbeat reports setting at at', async () => {
        // The first heartbeat of HOURLY comes at 23:00 of the day before DAY.
        const state = await livenessAt(HOURLY, SWITCHING_SERVICE, new Date(JOINED.getTime() + 60_000))
        expect(state.lastHeartbeatAt).toBeNull()
        expect(state.heartbeatIntervalSeconds).toBe(3600n)
        expect(state.heartbeatMaxMissed).toBe(2)
        expect(state.live).toBe(false)
    })
})

describe('heartbeat uptime across a setting change', () => {
    it('whole day counts hourly cover', async () => {
        // 00:00 to 12:00 covered hour by hour, then 3 minutes after 12:00 and after 18:00 under 60 s × 3.
        expect(await uptimeOf(HOURLY, DAY, hour(24))).toEqual({coveredMs: 12 * HOUR_MS + 2 * 180_000, expectedMs: 24 * HOUR_MS, ratio: '0.504167'})
    })

    it('part of a day counts hourly cover', async () => {
        // 06:30 to 12:02: the heartbeat of 06:00 covers the first half hour, that of 12:00 the last two minutes.
        const expectedMs = 5 * HOUR_MS + 32 * 60_000
        expect(await uptimeOf(HOURLY, hour(6.5), new Date(hour(12).getTime() + 120_000))).toEqual({coveredMs: expectedMs, expectedMs, ratio: '1.000000'})
    })

    it('stored cover equals recomputation', async () => {
        expect(await storedHeartbeatCover(world.client)).toEqual(await recomputedHeartbeatCover(world.client))
    })
})

describe('heartbeats after leaving', () => {
    it('stay stored as chain facts', async () => {
        const {rows} = await world.client.query('SELECT count(*)::int AS n FROM heartbeat WHERE operator_id = $1', [LEAVER])
        expect(rows[0].n).toBe(11)
    })

    it('do not make the pair live', async () => {
        for (const at of [hour(5.5), hour(10.75)]) {
            // The last counted heartbeat is that of 02:00, live until 04:00.
            const state = await livenessAt(LEAVER, STEADY_SERVICE, at)
            expect(state.lastHeartbeatAt, at.toISOString()).toEqual(hour(2))
            expect(state.deadline, at.toISOString()).toEqual(hour(4))
            expect(state.live, at.toISOString()).toBe(false)
        }
    })

    it('add no uptime', async () => {
        // Member from 00:00 to 03:00 and from 10:30, but only the three hours before leaving are covered.
        const expectedMs = 3 * HOUR_MS + 13.5 * HOUR_MS
        expect(await uptimeOf(LEAVER, DAY, hour(24))).toEqual({coveredMs: 3 * HOUR_MS, expectedMs, ratio: '0.181818'})
    })

    it('add no cover rows', async () => {
        const {rows} = await world.client.query(
            `SELECT day::text, covered_ms::text FROM heartbeat_day_cover WHERE operator_id = $1 ORDER BY day`,
            [LEAVER],
        )
        // 23:00 to 00:00, then 00:00 to 02:00. The heartbeat of 02:00 is the latest counted one, so its cover is not stored.
        expect(rows).toEqual([
            {day: '2026-01-12', covered_ms: String(HOUR_MS)},
            {day: '2026-01-13', covered_ms: String(2 * HOUR_MS)},
        ])
    })
})

describe('evidence bundle heartbeat settings', () => {
    const bundleOf = (serviceId: string, operator: string, from: Date, to: Date) =>
        buildEvidenceBundle(world.sql, {serviceId, operator, from, to}, DEFAULT_GAP_CONFIG)
    const records = (bundle: {records: {record: EvidenceRecord}[]}) => bundle.records.map((entry) => entry.record)

    it('lists every setting in force', async () => {
        const bundle = await bundleOf(SWITCHING_SERVICE, HOURLY, hour(6), hour(13))
        const meta = records(bundle).find((record) => record.type === 'meta') as {service: Record<string, unknown>}
        expect(meta.service.heartbeatSettings).toEqual([
            {changeId: HOURLY_SETTING_ID, since: SETTING_START.toISOString(), interval: '3600', maxMissed: 2},
            {changeId: SWITCH_SETTING_ID, since: SWITCH.toISOString(), interval: '60', maxMissed: 3},
        ])
        expect(meta.service).not.toHaveProperty('heartbeatInterval')
        const changes = records(bundle).filter((record) => record.event === 'HeartbeatConfigUpdated')
        expect(changes.map((record) => [record.id, record.fields])).toEqual([
            [HOURLY_SETTING_ID, {serviceId: SWITCHING_SERVICE, interval: '3600', maxMissed: 2}],
            [SWITCH_SETTING_ID, {serviceId: SWITCHING_SERVICE, interval: '60', maxMissed: 3}],
        ])
    })

    it('one setting without a change', async () => {
        const bundle = await bundleOf(SWITCHING_SERVICE, HOURLY, hour(1), hour(2))
        const meta = records(bundle).find((record) => record.type === 'meta') as {service: Record<string, unknown>}
        expect(meta.service.heartbeatSettings).toEqual([
            {changeId: HOURLY_SETTING_ID, since: SETTING_START.toISOString(), interval: '3600', maxMissed: 2},
        ])
    })

    it('default before the first change', async () => {
        const bundle = await bundleOf(SWITCHING_SERVICE, HOURLY, new Date(SETTING_START.getTime() - HOUR_MS), SETTING_START)
        const meta = records(bundle).find((record) => record.type === 'meta') as {service: Record<string, unknown>}
        expect(meta.service.heartbeatSettings).toEqual([{changeId: null, since: null, interval: '300', maxMissed: 3}])
        expect(records(bundle).filter((record) => record.event === 'HeartbeatConfigUpdated')).toEqual([])
    })

    it('keeps heartbeats sent after leaving', async () => {
        const bundle = await bundleOf(STEADY_SERVICE, LEAVER, DAY, hour(12))
        const beats = records(bundle).filter((record) => record.event === 'HeartbeatReceived')
        expect(beats).toHaveLength(10)
        // At 12:00 the last counted heartbeat (02:00) has expired: no HEARTBEATING claim, so no claim needs the
        // unreachable endpoint and nothing contradicts it.
        const claims = records(bundle).filter((record) => record.type === 'claim').map((record) => record.id)
        expect(claims).toContain('SERVICE_MEMBER')
        expect(claims).not.toContain('HEARTBEATING')
        const reachability = records(bundle).find((record) => record.type === 'gap' && record.id === 'ENDPOINT_REACHABILITY')
        expect(reachability?.status).toBe('NOT_APPLICABLE')
    })
})
