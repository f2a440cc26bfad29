import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEFAULT_GAP_CONFIG} from '../src/gap/config'
import {compareText} from '../src/gap/claims'
import {computeGaps, gapScopes, kindsForProduct} from '../src/gap/gaps'
import {loadGapFacts} from '../src/gap/load'
import {parseIsoWeek, parsePeriod, type Period} from '../src/gap/period'
import {queryGaps, type GapQuery} from '../src/gap/query'
import {AVAILABILITY_KINDS, coveredHeartbeatMs, membershipWindow} from '../src/gap/scorecard'
import {loadScorecards} from '../src/gap/scorecard-load'
import {asDate, asText} from '../src/gap/sql'
import {nearestRankPercentile} from '../src/gap/stats'
import type {GapFacts, ProofSummary} from '../src/gap/types'
import {insertProofRecords, type StoredProof} from '../src/proofs/worker/store'
import type {ProofOutcome} from '../src/proofs/types'
import {startSeededDatabase, type SeededDatabase} from './gap-database'
import {countedHeartbeats, recomputedHeartbeatCover, storedHeartbeatCover} from './helpers/heartbeat-cover'
import {runMigration} from '../src/stack/children'
import {AT, BLUEPRINT, OPERATORS, SERVICE} from './gap-world'
import {
    ADD_COVER_SQL,
    COVER_SETTING,
    graceMsOf,
    HeartbeatCoverChange,
    PREVIOUS_BEATS_SQL,
    type CoverBeat,
    type MembershipCheck,
} from '../src/chain/heartbeat-cover'
import type * as m from '../src/model'

// The summary tables (proof_latest, probe_day_outcome, probe_day_latency, heartbeat_day_cover) must always equal what
// proof_record and heartbeat give when recomputed from scratch, and every gap and scorecard read from them must equal
// the raw computation.

const OUTCOMES: ProofOutcome[] = ['PASS', 'FAIL', 'UNREACHABLE', 'INCONCLUSIVE', 'NOT_APPLICABLE']
const KINDS = ['ENDPOINT_REACHABILITY', 'PRIVATE_PORT_EXPOSURE', 'SANDBOX_ENDPOINT_HEALTH', 'SANDBOX_READINESS']
/** Scopes records may name: the world's service, another service of its blueprint, none, another blueprint. */
const PLACES: {blueprintId: string; serviceId: string | null}[] = [
    {blueprintId: BLUEPRINT, serviceId: SERVICE},
    {blueprintId: BLUEPRINT, serviceId: '11'},
    {blueprintId: BLUEPRINT, serviceId: null},
    {blueprintId: '2', serviceId: null},
]
/** Records fall between Monday of 2026-W01 and the Sunday of 2026-W02, on whole minutes so that instants repeat. */
const START_MS = Date.parse('2025-12-29T00:00:00.000Z')
const SPAN_MINUTES = 14 * 24 * 60

/** Deterministic pseudo-random numbers (a 32-bit LCG), so that a failing case can be replayed. */
function randomSource(seed: number): (limit: number) => number {
    let state = seed >>> 0
    return (limit) => {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0
        return state % limit
    }
}

let nextRecord = 0

/** Builds `count` records of the world's operators with random kind, outcome, place, instant and latency. */
function randomRecords(random: (limit: number) => number, count: number, operators: readonly string[] = OPERATORS): StoredProof[] {
    const records: StoredProof[] = []
    for (let index = 0; index < count; index++) {
        nextRecord += 1
        const place = PLACES[random(PLACES.length)]
        const operator = operators[random(operators.length)]
        const fields = {
            targetUrl: 'http://127.0.0.1:9/health',
            operator,
            blueprintId: place.blueprintId,
            serviceId: place.serviceId,
            kind: KINDS[random(KINDS.length)],
            outcome: OUTCOMES[random(OUTCOMES.length)],
            reason: `REASON_${random(3)}`,
            observed: 'observed',
            httpStatus: 200,
            // One in five without a latency, so records without one are covered; the column is nullable.
            latencyMs: (random(5) === 0 ? null : 5 + random(40)) as number,
            observedAt: new Date(START_MS + random(SPAN_MINUTES) * 60_000).toISOString(),
            chainHead: '1',
            excerpt: '',
            evidenceDigest: `0x${'00'.repeat(32)}` as const,
        }
        records.push({
            id: `mixed-${String(nextRecord).padStart(6, '0')}`,
            targetId: `RPC_ADDRESS:${place.blueprintId}:${operator}`,
            roundId: 'round',
            record: {fields, recordDigest: `0x${'11'.repeat(32)}`, signature: `0x${'22'.repeat(65)}`, signer: `0x${'33'.repeat(20)}`},
        })
    }
    return records
}

/** Rows of the three aggregate tables, as stored. */
async function storedAggregates(client: pg.Client | pg.Pool): Promise<Record<string, string[]>> {
    const latest = await client.query(
        `SELECT concat_ws('|', operator, kind, outcome, blueprint_id, has_service::text, service_key, latest_id,
                          to_char(latest_observed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS'), latest_reason,
                          to_char(first_observed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS')) AS row
         FROM proof_latest ORDER BY 1`,
    )
    const outcomes = await client.query(
        `SELECT concat_ws('|', operator, blueprint_id, day::text, kind, outcome, records) AS row FROM probe_day_outcome ORDER BY 1`,
    )
    const latencies = await client.query(
        `SELECT concat_ws('|', operator, blueprint_id, day::text, outcome, latency_ms, records) AS row FROM probe_day_latency ORDER BY 1`,
    )
    return {
        latest: latest.rows.map((row) => row.row as string),
        outcomes: outcomes.rows.map((row) => row.row as string),
        latencies: latencies.rows.map((row) => row.row as string),
    }
}

/** Recomputes the three tables in JavaScript from every row of proof_record. */
async function recomputedAggregates(client: pg.Client | pg.Pool): Promise<Record<string, string[]>> {
    const {rows} = await client.query(
        `SELECT id, operator, kind, outcome, blueprint_id, service_id, reason, latency_ms, http_status,
                to_char(observed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS observed_at
         FROM proof_record`,
    )
    const latest = new Map<string, {id: string; at: string; reason: string; first: string}>()
    const outcomes = new Map<string, number>()
    const latencies = new Map<string, number>()
    for (const row of rows) {
        const group = [row.operator, row.kind, row.outcome, row.blueprint_id, row.service_id !== null, row.service_id ?? ''].join('|')
        const known = latest.get(group)
        // The database collation of the tests is byte order, so JavaScript string order picks the same id.
        const later = known === undefined || row.observed_at > known.at || (row.observed_at === known.at && row.id > known.id)
        const first = known === undefined || row.observed_at < known.first ? row.observed_at : known.first
        latest.set(group, later ? {id: row.id, at: row.observed_at, reason: row.reason, first} : {...known, first})

        const day = row.observed_at.slice(0, 10)
        const outcomeKey = [row.operator, row.blueprint_id, day, row.kind, row.outcome].join('|')
        outcomes.set(outcomeKey, (outcomes.get(outcomeKey) ?? 0) + 1)
        // Latency counts only for a record that got an HTTP response.
        if (row.latency_ms !== null && row.http_status !== null) {
            const latencyKey = [row.operator, row.blueprint_id, day, row.outcome, row.latency_ms].join('|')
            latencies.set(latencyKey, (latencies.get(latencyKey) ?? 0) + 1)
        }
    }
    const sorted = (values: string[]) => values.sort(compareText)
    return {
        latest: sorted([...latest].map(([group, value]) => [group, value.id, value.at, value.reason, value.first].join('|'))),
        outcomes: sorted([...outcomes].map(([key, count]) => `${key}|${count}`)),
        latencies: sorted([...latencies].map(([key, count]) => `${key}|${count}`)),
    }
}

async function expectAggregatesMatchRecords(client: pg.Client | pg.Pool): Promise<void> {
    const stored = await storedAggregates(client)
    const recomputed = await recomputedAggregates(client)
    expect(stored.latest).toEqual(recomputed.latest)
    expect(stored.outcomes).toEqual(recomputed.outcomes)
    expect(stored.latencies).toEqual(recomputed.latencies)
}

// The proof summaries as read before proof_latest existed: one probe of proof_record per (scope, kind, outcome).
const RAW_PROOF_SUMMARIES_SQL = `
SELECT DISTINCT latest.id, latest.operator, latest.blueprint_id, latest.service_id, latest.kind, latest.outcome,
       latest.reason, latest.observed_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS scope(operator, blueprint_id, service_id, kind)
CROSS JOIN unnest($5::text[]) AS wanted(outcome)
CROSS JOIN LATERAL (
  SELECT p.id, p.operator, p.blueprint_id, p.service_id, p.kind, p.outcome, p.reason, p.observed_at
  FROM proof_record p
  WHERE p.operator = scope.operator AND p.kind = scope.kind AND p.outcome = wanted.outcome AND p.observed_at <= $6
    AND CASE WHEN scope.service_id IS NULL THEN p.blueprint_id = scope.blueprint_id
             ELSE p.service_id = scope.service_id OR (p.service_id IS NULL AND p.blueprint_id = scope.blueprint_id) END
  ORDER BY p.observed_at DESC, p.id DESC
  LIMIT 1
) latest`

/** Facts with the proofs replaced by the raw per-scope reading. */
async function withRawProofs(world: SeededDatabase, facts: GapFacts, at: Date): Promise<GapFacts> {
    const columns = {operators: [] as string[], blueprints: [] as string[], services: [] as (string | null)[], kinds: [] as string[]}
    for (const scope of gapScopes(facts.registrations, facts.memberships).values()) {
        for (const kind of kindsForProduct(scope.product)) {
            columns.operators.push(scope.operator)
            columns.blueprints.push(scope.blueprintId)
            columns.services.push(scope.serviceId)
            columns.kinds.push(kind)
        }
    }
    const rows = await world.sql(RAW_PROOF_SUMMARIES_SQL, [columns.operators, columns.blueprints, columns.services, columns.kinds, OUTCOMES, at])
    const proofs: ProofSummary[] = rows.map((row) => ({
        id: asText(row.id),
        operator: asText(row.operator),
        blueprintId: asText(row.blueprint_id),
        serviceId: row.service_id === null ? null : asText(row.service_id),
        kind: asText(row.kind),
        outcome: asText(row.outcome) as ProofOutcome,
        reason: asText(row.reason),
        observedAt: asDate(row.observed_at),
    }))
    return {...facts, proofs}
}

/** Instants to compare gaps at: before every record, inside the history at a record's instant and between, after. */
const INSTANTS = [
    new Date('2025-12-01T00:00:00.000Z'),
    new Date('2026-01-02T06:00:00.000Z'),
    new Date('2026-01-05T00:00:00.000Z'),
    new Date('2026-01-05T13:37:30.000Z'),
    AT,
    new Date('2026-02-01T00:00:00.000Z'),
]

async function expectGapsMatchRawProofs(world: SeededDatabase): Promise<void> {
    for (const at of INSTANTS) {
        const facts = await loadGapFacts(world.sql, {blueprintId: BLUEPRINT}, at)
        const raw = await withRawProofs(world, facts, at)
        expect(computeGaps(facts, at, DEFAULT_GAP_CONFIG), `gaps at ${at.toISOString()}`).toEqual(
            computeGaps(raw, at, DEFAULT_GAP_CONFIG),
        )
    }
}

/** Probe figures of one operator over a period, computed from every record of the period. */
async function rawProbeFigures(world: SeededDatabase, operator: string, period: Period) {
    const rows = await world.sql(
        `SELECT kind, outcome, latency_ms, http_status FROM proof_record
         WHERE operator = $1 AND blueprint_id = $2 AND observed_at >= $3 AND observed_at < $4`,
        [operator, BLUEPRINT, period.from, period.to],
    )
    const availability = rows.filter((row) => AVAILABILITY_KINDS.includes(asText(row.kind)) && ['PASS', 'FAIL', 'UNREACHABLE'].includes(asText(row.outcome)))
    const latencies = rows
        .filter((row) => row.outcome !== 'NOT_APPLICABLE' && row.latency_ms !== null && row.http_status !== null)
        .map((row) => Number(row.latency_ms))
    return {
        probeUptime: {passed: availability.filter((row) => row.outcome === 'PASS').length, probes: availability.length},
        probeLatencyMs: {
            samples: latencies.length,
            p50: nearestRankPercentile(latencies, 50),
            p95: nearestRankPercentile(latencies, 95),
            p99: nearestRankPercentile(latencies, 99),
        },
    }
}

/** An ISO week, a period with ragged ends around whole days, and a period inside one day. */
const PERIODS: Period[] = [
    parseIsoWeek('2026-W01'),
    parseIsoWeek('2026-W02'),
    parsePeriod('2025-12-30T07:13:00.000Z', '2026-01-08T19:01:00.000Z'),
    parsePeriod('2026-01-03T02:00:00.000Z', '2026-01-03T21:30:00.000Z'),
]

async function expectScorecardsMatchRawProbes(world: SeededDatabase): Promise<void> {
    const now = new Date('2026-06-01T00:00:00.000Z')
    for (const period of PERIODS) {
        const cards = await loadScorecards(world.sql, {blueprintId: BLUEPRINT}, period, DEFAULT_GAP_CONFIG, now)
        expect(cards.map((card) => card.operator).sort()).toEqual([...OPERATORS].sort())
        for (const card of cards) {
            const raw = await rawProbeFigures(world, card.operator, period)
            const label = `${card.operator} over ${period.label}`
            expect({passed: card.probeUptime.passed, probes: card.probeUptime.probes}, label).toEqual(raw.probeUptime)
            expect(card.probeLatencyMs, label).toEqual(raw.probeLatencyMs)
        }
    }
}

describe('proof aggregates', () => {
    let world: SeededDatabase

    beforeAll(async () => {
        world = await startSeededDatabase()
    }, 180_000)

    afterAll(async () => {
        await world?.close()
    })

    it('equal raw recomputation after a mixed workload', async () => {
        const random = randomSource(7)
        for (let batch = 0; batch < 12; batch++) {
            const records = randomRecords(random, 1 + random(40))
            await insertProofRecords(world.client, records)
            // A retried batch inserts nothing twice (ON CONFLICT DO NOTHING), and the aggregates must not count it.
            if (batch % 4 === 0) expect(await insertProofRecords(world.client, records.slice(0, 3))).toBe(0)
        }
        await expectAggregatesMatchRecords(world.client)

        // Deletes of the latest records of some groups, and an update that moves records to another outcome and day.
        await world.client.query(
            `DELETE FROM proof_record WHERE id IN (SELECT latest_id FROM proof_latest WHERE outcome = 'PASS' ORDER BY latest_id LIMIT 5)`,
        )
        await world.client.query(`DELETE FROM proof_record WHERE id LIKE 'mixed-%' AND latency_ms IS NULL AND kind = 'SANDBOX_READINESS'`)
        await world.client.query(
            `UPDATE proof_record SET outcome = 'FAIL', observed_at = observed_at - interval '1 day' WHERE id IN ('mixed-000010', 'mixed-000020')`,
        )
        await expectAggregatesMatchRecords(world.client)

        await expectGapsMatchRawProofs(world)
        await expectScorecardsMatchRawProbes(world)
    })

    it('equal raw recomputation with two concurrent writers', async () => {
        const writers = [new pg.Pool({connectionString: world.db.url, max: 3}), new pg.Pool({connectionString: world.db.url, max: 3})]
        try {
            // Like prober workers, each writer inserts batches one statement each (autocommit), three at a time, into
            // the same operators and groups as the other, so that merges wait on each other's row locks.
            await Promise.all(
                writers.map(async (pool, writer) => {
                    const random = randomSource(100 + writer)
                    for (let round = 0; round < 10; round++) {
                        const batches = [0, 1, 2].map(() => randomRecords(random, 25, OPERATORS.slice(0, 2)))
                        await Promise.all(batches.map((batch) => insertProofRecords(pool, batch)))
                    }
                }),
            )
        } finally {
            await Promise.all(writers.map((pool) => pool.end()))
        }
        await expectAggregatesMatchRecords(world.client)
        await expectGapsMatchRawProofs(world)
    })

    it('equal raw recomputation after backfill of existing rows', async () => {
        // Reverting the migrations drops the tables and triggers. Records inserted meanwhile exist only in
        // proof_record, as on a database that was running before the migrations.
        await runMigration(world.client, '1796436000000-LatencyWithResponse.js', 'down')
        await runMigration(world.client, '1796424742606-ProofAggregates.js', 'down')
        await insertProofRecords(world.client, randomRecords(randomSource(11), 60))
        const missing = await world.client.query(`SELECT to_regclass('public.proof_latest') IS NULL AS missing`)
        expect(missing.rows[0].missing).toBe(true)

        await runMigration(world.client, '1796424742606-ProofAggregates.js', 'up')
        await runMigration(world.client, '1796436000000-LatencyWithResponse.js', 'up')
        await expectAggregatesMatchRecords(world.client)

        // The triggers work again after the backfill.
        await insertProofRecords(world.client, randomRecords(randomSource(12), 30))
        await expectAggregatesMatchRecords(world.client)
        await expectGapsMatchRawProofs(world)
        await expectScorecardsMatchRawProbes(world)
    })
})

/**
 * Services added for the heartbeat tests: a three-hour grace, a grace of about 63,000 years, both in the blueprint.
 * Each gets its setting from a HeartbeatConfigUpdated on 30 December, so earlier heartbeats run on the default.
 */
const HOURLY_SERVICE = '11'
const ENDLESS_SERVICE = '12'
const HEARTBEAT_SERVICES = [SERVICE, HOURLY_SERVICE, ENDLESS_SERVICE]
const SETTINGS_AT = new Date('2025-12-30T00:00:00.000Z')

async function insertRow(client: pg.Client, table: string, row: Record<string, unknown>): Promise<void> {
    const columns = Object.keys(row)
    await client.query(
        `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
    )
}

/** Inserts a HeartbeatConfigUpdated row; `id` orders it against heartbeats of the same instant. */
async function insertSetting(client: pg.Client, id: string, serviceId: string, at: Date, interval: string, maxMissed: number): Promise<void> {
    await insertRow(client, 'heartbeat_config_change', {
        id, service_id: serviceId, interval, max_missed: maxMissed, block_number: 1, timestamp: at, tx_hash: '0x',
    })
}

/**
 * Adds the two services and memberships that start or end inside a day, so that windows have ragged ends. Operators
 * 1 to 3 are no members of ENDLESS_SERVICE, and heartbeats sent before a join or after a leave do not count.
 */
async function seedHeartbeatServices(client: pg.Client): Promise<void> {
    for (const [id, interval, maxMissed] of [[HOURLY_SERVICE, '3600', 3], [ENDLESS_SERVICE, '1000000000000', 2]] as const) {
        await insertRow(client, 'service', {
            id, service_id: id, blueprint_id: BLUEPRINT, activation_request_id: '0', from_quote: false, confidentiality: 0,
            status: 'ACTIVE', heartbeat_interval: interval, heartbeat_max_missed: maxMissed, heartbeat_configured: true,
            activated_at_block: 5, activated_at: new Date('2025-12-29T00:00:00.000Z'), activated_tx: '0x' + 'ab'.repeat(32),
        })
        await insertSetting(client, `0000000001-abcde-00000${id === HOURLY_SERVICE ? 1 : 2}`, id, SETTINGS_AT, interval, maxMissed)
    }
    for (const [index, operator] of OPERATORS.entries()) {
        await insertRow(client, 'service_membership', {
            id: `${HOURLY_SERVICE}-${operator}`, service_id: HOURLY_SERVICE, operator_id: operator, source: 'APPROVAL',
            exposure_bps: 10000, active: true, joined_at_block: 6, joined_at: new Date(`2026-01-0${2 + index}T10:30:00.000Z`),
        })
    }
    await insertRow(client, 'service_membership', {
        id: `${ENDLESS_SERVICE}-${OPERATORS[0]}`, service_id: ENDLESS_SERVICE, operator_id: OPERATORS[0], source: 'APPROVAL',
        exposure_bps: 10000, active: false, joined_at_block: 6, joined_at: new Date('2025-12-30T06:00:00.000Z'),
        left_at_block: 7, left_at: new Date('2026-01-09T17:00:00.000Z'),
    })
}

let nextHeartbeat = 0

/** Returns the id of heartbeat number `n`, in squid's log id form, so that ids sort like heartbeats. */
const heartbeatId = (n: number): string => `${String(n).padStart(10, '0')}-abcde-000000`

/** Inserts `count` random heartbeats in one statement, as the processor writes a finalized batch. */
async function insertRandomHeartbeats(client: pg.Client, random: (limit: number) => number, count: number): Promise<void> {
    const rows = Array.from({length: count}, () => {
        nextHeartbeat += 1
        const service = HEARTBEAT_SERVICES[random(HEARTBEAT_SERVICES.length)]
        return {
            id: heartbeatId(nextHeartbeat),
            service_id: service,
            operator_id: OPERATORS[random(OPERATORS.length)],
            status_code: random(6) === 0 ? 1 : 0,
            // Whole minutes, so that heartbeats of a pair share instants now and then.
            timestamp: new Date(START_MS + random(SPAN_MINUTES / 4) * 4 * 60_000),
        }
    })
    await insertHeartbeatRows(client, rows)
}

async function insertHeartbeatRows(client: pg.Client, rows: {id: string; service_id: string; operator_id: string; status_code: number; timestamp: Date}[]): Promise<void> {
    await client.query(
        `INSERT INTO heartbeat (id, service_id, operator_id, blueprint_id, reported_blueprint_id, status_code, event_timestamp,
                                block_number, timestamp, tx_hash)
         SELECT r.id, r.service_id, r.operator_id, 1, 1, r.status_code, 0, 1, r.timestamp, '0x'
         FROM json_populate_recordset(NULL::heartbeat, $1::json) r`,
        [JSON.stringify(rows)],
    )
}

async function expectCoverMatchesHeartbeats(client: pg.Client): Promise<void> {
    const stored = await storedHeartbeatCover(client)
    expect(stored.length).toBeGreaterThan(0)
    expect(stored).toEqual(await recomputedHeartbeatCover(client))
}

/** Heartbeat uptime of one operator over a period, from every counted heartbeat sent before the period end. */
async function rawHeartbeatUptime(world: SeededDatabase, operator: string, period: Period): Promise<{coveredMs: number; expectedMs: number}> {
    const memberships = await world.sql(
        `SELECT m.service_id, s.blueprint_id, m.joined_at, m.left_at, s.activated_at, s.terminated_at
         FROM service_membership m JOIN service s ON s.id = m.service_id
         WHERE m.operator_id = $1 AND s.blueprint_id = $2 AND m.joined_at < $4 AND (m.left_at IS NULL OR m.left_at > $3)`,
        [operator, BLUEPRINT, period.from, period.to],
    )
    const heartbeats = (await countedHeartbeats(world.client)).filter(
        (row) => row.operator === operator && row.counted && row.at.getTime() < period.to.getTime(),
    )
    let coveredMs = 0
    let expectedMs = 0
    for (const row of memberships) {
        const membership = {
            serviceId: asText(row.service_id),
            blueprintId: asText(row.blueprint_id),
            joinedAt: asDate(row.joined_at),
            leftAt: row.left_at === null ? null : asDate(row.left_at),
            activatedAt: asDate(row.activated_at),
            terminatedAt: row.terminated_at === null ? null : asDate(row.terminated_at),
        }
        const [from, to] = membershipWindow(membership, period)
        expectedMs += to - from
        coveredMs += coveredHeartbeatMs(heartbeats, membership, from, to)
    }
    return {coveredMs, expectedMs}
}

async function expectScorecardsMatchRawHeartbeats(world: SeededDatabase): Promise<void> {
    // The last "now" falls inside 2026-W02, so that week is scored up to a time that is not a midnight.
    for (const now of [new Date('2026-06-01T00:00:00.000Z'), new Date('2026-01-08T13:45:30.000Z')]) {
        for (const period of PERIODS) {
            if (period.from.getTime() >= now.getTime()) continue
            const cards = await loadScorecards(world.sql, {blueprintId: BLUEPRINT}, period, DEFAULT_GAP_CONFIG, now)
            expect(cards.length).toBe(OPERATORS.length)
            for (const card of cards) {
                const scored = {...period, to: new Date(card.period.to)}
                const raw = await rawHeartbeatUptime(world, card.operator, scored)
                const label = `${card.operator} over ${card.period.from}/${card.period.to}`
                expect({coveredMs: card.heartbeatUptime.coveredMs, expectedMs: card.heartbeatUptime.expectedMs}, label).toEqual(raw)
            }
        }
    }
}

/** Reads the latest counted heartbeat of each pair of `change` and returns the membership rule, as the processor does. */
async function writerInputs(client: pg.Client, change: HeartbeatCoverChange): Promise<[Map<string, CoverBeat>, MembershipCheck]> {
    const previous = new Map<string, CoverBeat>()
    for (const row of (await client.query(PREVIOUS_BEATS_SQL, change.pairParameters())).rows) {
        previous.set(`${row.service}-${row.operator}`, {atMs: Number(row.at_ms), statusCode: row.status_code, graceMs: graceMsOf(BigInt(row.grace_ms))})
    }
    const memberships = (await client.query('SELECT service_id, operator_id, joined_at, left_at FROM service_membership')).rows
    const isMember: MembershipCheck = (serviceId, operatorId, atMs) =>
        memberships.some(
            (m) =>
                m.service_id === serviceId &&
                m.operator_id === operatorId &&
                (m.joined_at as Date).getTime() <= atMs &&
                (m.left_at === null || (m.left_at as Date).getTime() > atMs),
        )
    return [previous, isMember]
}

describe('heartbeat cover', () => {
    let world: SeededDatabase

    beforeAll(async () => {
        world = await startSeededDatabase()
        await seedHeartbeatServices(world.client)
    }, 180_000)

    afterAll(async () => {
        await world?.close()
    })

    it('equals raw recomputation after a mixed workload', async () => {
        const random = randomSource(31)
        for (let batch = 0; batch < 15; batch++) await insertRandomHeartbeats(world.client, random, 1 + random(60))
        await expectCoverMatchesHeartbeats(world.client)
        await expectScorecardsMatchRawHeartbeats(world)

        // A setting change in the middle of the history changes the heartbeats after it. The service row's setting
        // is no longer read, so an update of it (as the processor's upserts do) changes nothing.
        await insertSetting(world.client, '0000000002-abcde-000001', SERVICE, new Date('2026-01-06T12:00:00.000Z'), '600', 2)
        await world.client.query(`UPDATE service SET heartbeat_interval = 120 WHERE id = $1`, [SERVICE])
        await world.client.query(`UPDATE service SET status = status`)
        await expectCoverMatchesHeartbeats(world.client)
        await expectScorecardsMatchRawHeartbeats(world)

        // An operator leaves in the middle of the history and joins again later: its heartbeats in between stop counting.
        await world.client.query(`UPDATE service_membership SET active = false, left_at = $2 WHERE id = $1`, [
            `${HOURLY_SERVICE}-${OPERATORS[1]}`,
            new Date('2026-01-07T08:00:00.000Z'),
        ])
        await insertRow(world.client, 'service_membership', {
            id: `${HOURLY_SERVICE}-${OPERATORS[1]}-again`, service_id: HOURLY_SERVICE, operator_id: OPERATORS[1], source: 'JOINED',
            exposure_bps: 10000, active: true, joined_at_block: 8, joined_at: new Date('2026-01-08T20:00:00.000Z'),
        })
        await expectCoverMatchesHeartbeats(world.client)
        await expectScorecardsMatchRawHeartbeats(world)
    })

    it('equals raw recomputation after a hot-block reorg removes heartbeats', async () => {
        // typeorm-store rolls a hot block back by deleting its rows one by one, newest change first.
        const latest = await world.client.query(`SELECT id FROM heartbeat ORDER BY timestamp DESC, id DESC LIMIT 12`)
        for (const row of latest.rows) await world.client.query('DELETE FROM heartbeat WHERE id = $1', [row.id])
        // And rows of a block in the middle of the history, all in one statement.
        await world.client.query(`DELETE FROM heartbeat WHERE id IN (SELECT id FROM heartbeat ORDER BY id LIMIT 20 OFFSET 40)`)
        await expectCoverMatchesHeartbeats(world.client)
        await expectScorecardsMatchRawHeartbeats(world)

        // Roll back two blocks: the one that changed the setting and the one that opened a membership.
        await world.client.query(`DELETE FROM heartbeat_config_change WHERE id = '0000000002-abcde-000001'`)
        await world.client.query(`DELETE FROM service_membership WHERE id = $1`, [`${HOURLY_SERVICE}-${OPERATORS[1]}-again`])
        await expectCoverMatchesHeartbeats(world.client)
        await expectScorecardsMatchRawHeartbeats(world)

        // The new branch adds heartbeats again.
        await insertRandomHeartbeats(world.client, randomSource(32), 30)
        await expectCoverMatchesHeartbeats(world.client)
    })

    it('equals recomputation with writer cover', async () => {
        const random = randomSource(34)
        const services = await world.client.query(
            `SELECT id, heartbeat_interval::text AS interval, heartbeat_max_missed FROM service WHERE id = ANY($1)`,
            [HEARTBEAT_SERVICES],
        )
        const serviceOf = new Map(
            services.rows.map((row) => [row.id as string, {id: row.id, heartbeatInterval: BigInt(row.interval), heartbeatMaxMissed: row.heartbeat_max_missed} as m.Service]),
        )
        // The service rows hold the setting in force at the end of the history, as the processor leaves them.
        const settings = await world.client.query(
            `SELECT DISTINCT ON (service_id) service_id, interval::text AS interval, max_missed FROM heartbeat_config_change
             ORDER BY service_id, timestamp DESC, id DESC`,
        )
        for (const row of settings.rows) {
            const service = serviceOf.get(row.service_id as string)
            if (service === undefined) continue
            service.heartbeatInterval = BigInt(row.interval)
            service.heartbeatMaxMissed = row.max_missed
        }
        const max = await world.client.query(`SELECT max(timestamp) AS at FROM heartbeat`)
        let atMs = (max.rows[0].at as Date).getTime()
        for (let batch = 0; batch < 12; batch++) {
            const change = new HeartbeatCoverChange()
            const count = 1 + random(40)
            // In every fourth batch the hourly service's setting changes before heartbeat `switchAt`, as a
            // HeartbeatConfigUpdated between two heartbeats of the batch would.
            const switchAt = batch % 4 === 3 ? random(count) : -1
            let setting: {id: string; atMs: number; interval: bigint} | undefined
            const rows = Array.from({length: count}, (_, index) => {
                nextHeartbeat += 1
                // Same instant now and then, across midnights often, and now and then past a whole grace.
                atMs += [0, 60_000, 47 * 60_000, 5 * 3_600_000, 30 * 3_600_000][random(5)]
                if (index === switchAt) {
                    const service = serviceOf.get(HOURLY_SERVICE)!
                    service.heartbeatInterval = service.heartbeatInterval === 3600n ? 1800n : 3600n
                    // Between the previous heartbeat and this one in (timestamp, id) order.
                    setting = {id: heartbeatId(nextHeartbeat - 1).replace(/0$/, '1'), atMs, interval: service.heartbeatInterval}
                }
                const serviceId = HEARTBEAT_SERVICES[random(HEARTBEAT_SERVICES.length)]
                const operator = OPERATORS[random(OPERATORS.length)]
                const statusCode = random(6) === 0 ? 2 : 0
                change.add(serviceOf.get(serviceId)!, operator, atMs, statusCode)
                return {id: heartbeatId(nextHeartbeat), service_id: serviceId, operator_id: operator, status_code: statusCode, timestamp: new Date(atMs)}
            })
            await world.client.query('BEGIN')
            // The processor writes setting changes and memberships in a statement before the heartbeats.
            if (setting !== undefined) await insertSetting(world.client, setting.id, HOURLY_SERVICE, new Date(setting.atMs), setting.interval.toString(), 3)
            if (batch === 5) {
                await world.client.query(`UPDATE service_membership SET active = false, left_at = $2 WHERE id = $1`, [
                    `${HOURLY_SERVICE}-${OPERATORS[2]}`,
                    rows[Math.floor(rows.length / 2)].timestamp,
                ])
            }
            const [previous, isMember] = await writerInputs(world.client, change)
            const cover = change.rows(previous, isMember)
            expect(cover).toBeDefined()
            await world.client.query(`SELECT set_config($1, 'writer', true)`, [COVER_SETTING])
            await insertHeartbeatRows(world.client, rows)
            if (batch === 0) {
                // With the setting, the trigger added nothing: the stored cover is behind by what the writer adds.
                expect(await storedHeartbeatCover(world.client)).not.toEqual(await recomputedHeartbeatCover(world.client))
            }
            await world.client.query(ADD_COVER_SQL, [JSON.stringify(cover)])
            await world.client.query('COMMIT')
            await expectCoverMatchesHeartbeats(world.client)
        }
        await expectScorecardsMatchRawHeartbeats(world)
    })

    const everyoneMember: MembershipCheck = () => true
    const hourlyService = (interval: bigint, maxMissed: number) => ({id: '1', heartbeatInterval: interval, heartbeatMaxMissed: maxMissed}) as m.Service

    it('leaves unordered heartbeats to trigger', () => {
        const stored = new Map([['1-0xa', {atMs: Date.parse('2026-01-02T00:00:00.000Z'), statusCode: 0, graceMs: 180_000}]])
        const change = new HeartbeatCoverChange()
        change.add(hourlyService(60n, 3), '0xa', Date.parse('2026-01-02T00:01:00.000Z'), 0)
        expect(change.rows(stored, everyoneMember)).toEqual([{operator_id: '0xa', service_id: '1', day: '2026-01-02', covered_ms: 60_000}])
        change.add(hourlyService(60n, 3), '0xa', Date.parse('2026-01-01T23:59:00.000Z'), 0)
        expect(change.rows(stored, everyoneMember)).toBeUndefined()

        // A batch heartbeat before the latest stored one is no append either.
        const early = new HeartbeatCoverChange()
        early.add(hourlyService(60n, 3), '0xa', Date.parse('2026-01-01T23:00:00.000Z'), 0)
        expect(early.rows(stored, everyoneMember)).toBeUndefined()
    })

    it('cover ends at grace or heartbeat', () => {
        const at = Date.parse('2026-01-02T23:00:00.000Z')
        const coverWith = (interval: bigint, maxMissed: number): unknown => {
            const change = new HeartbeatCoverChange()
            change.add(hourlyService(interval, maxMissed), '0xa', at, 0)
            change.add(hourlyService(interval, maxMissed), '0xa', at + 2 * 3_600_000, 0)
            return change.rows(new Map(), everyoneMember)
        }
        // A 30-minute grace ends before the next heartbeat.
        expect(coverWith(600n, 3)).toEqual([{operator_id: '0xa', service_id: '1', day: '2026-01-02', covered_ms: 1_800_000}])
        // A grace beyond 2^52 ms (uint64 interval) lasts to the next heartbeat, across midnight.
        expect(coverWith(2n ** 64n - 1n, 255)).toEqual([
            {operator_id: '0xa', service_id: '1', day: '2026-01-02', covered_ms: 3_600_000},
            {operator_id: '0xa', service_id: '1', day: '2026-01-03', covered_ms: 3_600_000},
        ])
        // No grace, no cover.
        expect(coverWith(0n, 3)).toEqual([])
    })

    it('grace of setting at each heartbeat', () => {
        const at = Date.parse('2026-01-02T10:00:00.000Z')
        const service = hourlyService(3600n, 2)
        const change = new HeartbeatCoverChange()
        change.add(service, '0xa', at, 0)
        // The setting changes to 60 s × 3 between the two heartbeats, as the handler updates the service row.
        service.heartbeatInterval = 60n
        service.heartbeatMaxMissed = 3
        change.add(service, '0xa', at + 3_600_000, 0)
        change.add(service, '0xa', at + 2 * 3_600_000, 0)
        // The first covers the hour up to the second (grace 2 h), the second 3 minutes.
        expect(change.rows(new Map(), everyoneMember)).toEqual([{operator_id: '0xa', service_id: '1', day: '2026-01-02', covered_ms: 3_780_000}])
    })

    it('non-member heartbeat neither covers nor cuts', () => {
        const at = Date.parse('2026-01-02T10:00:00.000Z')
        const stored = new Map([['1-0xa', {atMs: at, statusCode: 0, graceMs: 2 * 3_600_000}]])
        const change = new HeartbeatCoverChange()
        change.add(hourlyService(3600n, 2), '0xa', at + 1_800_000, 2)
        change.add(hourlyService(3600n, 2), '0xa', at + 3_600_000, 0)
        change.add(hourlyService(3600n, 2), '0xa', at + 5_400_000, 0)
        // Not a member from 10:15 to 10:45, so the offline heartbeat of 10:30 does not count.
        const isMember: MembershipCheck = (_serviceId, _operatorId, atMs) => atMs < at + 900_000 || atMs >= at + 2_700_000
        // The stored heartbeat covers up to 11:00, that of 11:00 up to 11:30.
        expect(change.rows(stored, isMember)).toEqual([{operator_id: '0xa', service_id: '1', day: '2026-01-02', covered_ms: 5_400_000}])
    })

    it('equals raw recomputation after backfill of existing rows', async () => {
        // The previous rule's triggers write these heartbeats; the migration then recomputes the table.
        await runMigration(world.client, '1796437000000-HeartbeatCoverBySetting.js', 'down')
        await insertRandomHeartbeats(world.client, randomSource(33), 80)
        await runMigration(world.client, '1796437000000-HeartbeatCoverBySetting.js', 'up')
        await expectCoverMatchesHeartbeats(world.client)
        await expectScorecardsMatchRawHeartbeats(world)
    })
})

describe('gap pages in scope order', () => {
    let world: SeededDatabase

    beforeAll(async () => {
        world = await startSeededDatabase()
        await insertProofRecords(world.client, randomRecords(randomSource(21), 200))
    }, 180_000)

    afterAll(async () => {
        await world?.close()
    })

    it('equal slices of the full computation', async () => {
        const queries: GapQuery[] = [
            {blueprintId: BLUEPRINT},
            {blueprintId: BLUEPRINT, kind: 'PRIVATE_PORT_EXPOSURE'},
            {serviceId: SERVICE},
            {product: 'sandbox-cloud', orderBy: 'operator_ASC'},
            {operator: OPERATORS[1]},
        ]
        const pages = [
            {offset: 0, limit: 1},
            {offset: 0, limit: 5},
            {offset: 3, limit: 7},
            {offset: 13, limit: 100},
            {offset: 40, limit: 10},
            {offset: 1000, limit: 10},
        ]
        for (const at of INSTANTS) {
            for (const query of queries) {
                const facts = await loadGapFacts(world.sql, query, at)
                const all = computeGaps(facts, at, DEFAULT_GAP_CONFIG).gaps.filter(
                    (row) => (query.serviceId === undefined || row.serviceId === query.serviceId) && (query.kind === undefined || row.kind === query.kind),
                )
                for (const page of pages) {
                    const result = await queryGaps(world.sql, {...query, ...page, at}, DEFAULT_GAP_CONFIG)
                    const label = `${JSON.stringify({...query, ...page})} at ${at.toISOString()}`
                    expect(result.totalCount, label).toBe(all.length)
                    expect(result.gaps, label).toEqual(all.slice(page.offset, page.offset + page.limit))
                }
            }
        }
    })
})
