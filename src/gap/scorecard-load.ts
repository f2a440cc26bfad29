import type {GapConfig} from './config'
import {loadGapFacts} from './load'
import {previousPeriod, type Period} from './period'
import {
    AVAILABILITY_KINDS,
    buildScorecard,
    DECISIVE_OUTCOMES,
    LATENCY_EXCLUDED_OUTCOMES,
    NO_PROBES,
    type Scorecard,
    type ScorecardInputs,
    type ScorecardProbes,
} from './scorecard'
import {asDate, asInt, asNullableDate, asText, type SqlRunner} from './sql'
import type {GapFacts} from './types'

export interface ScorecardSubject {
    operator?: string
    blueprintId?: string
}

const BLUEPRINT_OPERATORS_SQL = `
SELECT operator_id AS operator FROM registration WHERE blueprint_id = $1
UNION
SELECT m.operator_id FROM service_membership m JOIN service s ON s.id = m.service_id WHERE s.blueprint_id = $1
ORDER BY 1`

const MEMBERSHIPS_SQL = `
SELECT m.operator_id AS operator, s.id AS service_id, s.blueprint_id, m.joined_at, m.left_at, s.activated_at,
       s.terminated_at, s.heartbeat_interval::text AS heartbeat_interval, s.heartbeat_max_missed
FROM service_membership m JOIN service s ON s.id = m.service_id
WHERE m.operator_id = ANY($1::text[]) AND ($2::text IS NULL OR s.blueprint_id = $2)
  AND m.joined_at < $4 AND (m.left_at IS NULL OR m.left_at > $3)
ORDER BY m.operator_id, s.id, m.joined_at`

// A heartbeat earlier than from − interval × max missed cannot cover any part of the period. The bound is compared in
// numeric epoch seconds because the interval is a uint64: as a PostgreSQL interval it would overflow.
const HEARTBEATS_SQL = `
SELECT h.operator_id AS operator, h.service_id, h.timestamp AS at, h.status_code
FROM heartbeat h JOIN service s ON s.id = h.service_id
WHERE h.operator_id = ANY($1::text[]) AND ($2::text IS NULL OR s.blueprint_id = $2)
  AND h.timestamp < $4
  AND extract(epoch FROM h.timestamp) >= extract(epoch FROM $3::timestamptz) - s.heartbeat_interval * s.heartbeat_max_missed
ORDER BY h.operator_id, h.service_id, h.timestamp, h.id`

// Probe figures come from the day counts that triggers on proof_record keep (probe_day_outcome, probe_day_latency,
// see db/migrations/*-ProofAggregates.js) for the whole UTC days of the period, $5 to $6, and from proof_record itself
// for the parts of the period before $5 and from $6 on. An ISO week has no such part.
const PROBE_ROWS_FILTER = `operator = ANY($1::text[]) AND ($2::text IS NULL OR blueprint_id = $2)`
const DAY_FILTER = `${PROBE_ROWS_FILTER}
    AND day >= ($5::timestamptz AT TIME ZONE 'UTC')::date AND day < ($6::timestamptz AT TIME ZONE 'UTC')::date`
const EDGE_FILTER = `${PROBE_ROWS_FILTER}
    AND observed_at >= $3 AND observed_at < $4 AND (observed_at < $5 OR observed_at >= $6)`

const PROBE_COUNTS_SQL = `
SELECT operator,
       coalesce(sum(records) FILTER (WHERE kind = ANY($7::text[]) AND outcome = ANY($8::text[])), 0)::bigint AS probes,
       coalesce(sum(records) FILTER (WHERE kind = ANY($7::text[]) AND outcome = 'PASS'), 0)::bigint AS passed
FROM (
  SELECT operator, kind, outcome, records FROM probe_day_outcome WHERE ${DAY_FILTER}
  UNION ALL
  SELECT operator, kind, outcome, 1 FROM proof_record WHERE ${EDGE_FILTER}
) counted
GROUP BY operator`

// Nearest-rank percentiles as nearestRankPercentile (src/gap/stats.ts) computes them, over a histogram of latencies:
// the value at 1-based rank max(1, floor((p × n + 99) / 100)) is the smallest latency whose running count reaches it.
const PROBE_LATENCY_SQL = `
WITH histogram AS (
  SELECT operator, latency_ms, sum(records)::bigint AS records FROM (
    SELECT operator, latency_ms, records FROM probe_day_latency WHERE ${DAY_FILTER} AND outcome <> ALL($7::text[])
    UNION ALL
    SELECT operator, latency_ms, 1 FROM proof_record
    WHERE ${EDGE_FILTER} AND latency_ms IS NOT NULL AND outcome <> ALL($7::text[])
  ) counted
  GROUP BY operator, latency_ms
), running AS (
  SELECT operator, latency_ms, sum(records) OVER (PARTITION BY operator ORDER BY latency_ms)::bigint AS reached,
         sum(records) OVER (PARTITION BY operator)::bigint AS samples
  FROM histogram
)
SELECT operator, max(samples) AS samples,
       min(latency_ms) FILTER (WHERE reached >= greatest(1, (50 * samples + 99) / 100)) AS p50,
       min(latency_ms) FILTER (WHERE reached >= greatest(1, (95 * samples + 99) / 100)) AS p95,
       min(latency_ms) FILTER (WHERE reached >= greatest(1, (99 * samples + 99) / 100)) AS p99
FROM running
GROUP BY operator`

const DAY_MS = 24 * 60 * 60 * 1000

/** Returns the whole UTC days inside `period` as [from, to); from equals to when there is none. */
export function wholeDays(period: Period): {from: Date; to: Date} {
    const from = Math.ceil(period.from.getTime() / DAY_MS) * DAY_MS
    const to = Math.floor(period.to.getTime() / DAY_MS) * DAY_MS
    return to > from ? {from: new Date(from), to: new Date(to)} : {from: period.from, to: period.from}
}

// Calls made while the operator was a member; the first result of that operator before the period end.
const JOBS_SQL = `
SELECT DISTINCT ON (m.operator_id, c.id)
       m.operator_id AS operator, c.service_id, c.call_id::text AS call_id, first_result.latency_seconds
FROM job_call c
JOIN service s ON s.id = c.service_id
JOIN service_membership m ON m.service_id = c.service_id AND m.joined_at <= c.timestamp
     AND (m.left_at IS NULL OR m.left_at > c.timestamp)
LEFT JOIN LATERAL (
  SELECT r.latency_seconds FROM job_result r
  WHERE r.call_id = c.id AND r.operator_id = m.operator_id AND r.timestamp < $4
  ORDER BY r.timestamp, r.id LIMIT 1
) first_result ON true
WHERE m.operator_id = ANY($1::text[]) AND ($2::text IS NULL OR s.blueprint_id = $2)
  AND c.timestamp >= $3 AND c.timestamp < $4
ORDER BY m.operator_id, c.id`

const SLASHES_SQL = `
SELECT operator_id AS operator,
       count(*) FILTER (WHERE proposed_at >= $3 AND proposed_at < $4)::int AS proposed,
       count(*) FILTER (WHERE executed_at >= $3 AND executed_at < $4)::int AS executed
FROM slash
WHERE operator_id = ANY($1::text[])
  AND ($2::text IS NULL OR service_id::text IN (SELECT id FROM service WHERE blueprint_id = $2))
GROUP BY operator_id`

/** Groups rows by a key in one pass; a missing key means no rows. */
function groupBy<T>(rows: readonly T[], keyOf: (row: T) => string): Map<string, T[]> {
    const groups = new Map<string, T[]>()
    for (const row of rows) {
        const group = groups.get(keyOf(row))
        if (group === undefined) groups.set(keyOf(row), [row])
        else group.push(row)
    }
    return groups
}

/** Splits gap facts by operator in one pass over each list, keeping row order. */
function splitFactsByOperator(facts: GapFacts): (operator: string) => GapFacts {
    const registrations = groupBy(facts.registrations, (row) => row.operator)
    const memberships = groupBy(facts.memberships, (row) => row.operator)
    const heartbeats = groupBy(facts.heartbeats, (row) => row.operator)
    const jobResults = groupBy(facts.jobResults, (row) => row.operator)
    const redemptions = groupBy(facts.redemptions, (row) => row.issuer)
    const sidecars = groupBy(facts.sidecars, (row) => row.operator)
    const proofs = groupBy(facts.proofs, (row) => row.operator)
    return (operator) => ({
        registrations: registrations.get(operator) ?? [],
        memberships: memberships.get(operator) ?? [],
        heartbeats: heartbeats.get(operator) ?? [],
        jobResults: jobResults.get(operator) ?? [],
        liveTradingServices: facts.liveTradingServices,
        redemptions: redemptions.get(operator) ?? [],
        sidecars: sidecars.get(operator) ?? [],
        proofs: proofs.get(operator) ?? [],
    })
}

function probeFigures(counts: Record<string, unknown> | undefined, latencies: Record<string, unknown> | undefined): ScorecardProbes {
    const nullableInt = (value: unknown) => (value === null || value === undefined ? null : asInt(value))
    return {
        availabilityProbes: counts === undefined ? 0 : asInt(counts.probes),
        availabilityPassed: counts === undefined ? 0 : asInt(counts.passed),
        latencySamples: latencies === undefined ? 0 : asInt(latencies.samples),
        latencyP50Ms: nullableInt(latencies?.p50),
        latencyP95Ms: nullableInt(latencies?.p95),
        latencyP99Ms: nullableInt(latencies?.p99),
    }
}

/** Reads the rows of one period for every operator of the subject, in eight statements and the gap facts. */
export async function loadScorecardInputs(sql: SqlRunner, subject: ScorecardSubject, period: Period): Promise<ScorecardInputs[]> {
    const blueprint = subject.blueprintId ?? null
    const operators =
        subject.operator !== undefined
            ? [subject.operator.toLowerCase()]
            : (await sql(BLUEPRINT_OPERATORS_SQL, [blueprint])).map((row) => asText(row.operator))
    if (operators.length === 0) return []

    const params = [operators, blueprint, period.from, period.to]
    const days = wholeDays(period)
    const dayParams = [...params, days.from, days.to]
    const [memberships, heartbeats, probeCounts, probeLatencies, jobs, slashes] = await Promise.all([
        sql(MEMBERSHIPS_SQL, params),
        sql(HEARTBEATS_SQL, params),
        sql(PROBE_COUNTS_SQL, [...dayParams, AVAILABILITY_KINDS, DECISIVE_OUTCOMES]),
        sql(PROBE_LATENCY_SQL, [...dayParams, LATENCY_EXCLUDED_OUTCOMES]),
        sql(JOBS_SQL, params),
        sql(SLASHES_SQL, params),
    ])
    const gapFacts = await loadGapFacts(sql, {operator: subject.operator, blueprintId: subject.blueprintId}, period.to)

    const factsOf = splitFactsByOperator(gapFacts)
    const operatorOf = (row: Record<string, unknown>) => asText(row.operator)
    const membershipsOf = groupBy(memberships, operatorOf)
    const heartbeatsOf = groupBy(heartbeats, operatorOf)
    const countsOf = new Map(probeCounts.map((row) => [operatorOf(row), row]))
    const latenciesOf = new Map(probeLatencies.map((row) => [operatorOf(row), row]))
    const jobsOf = groupBy(jobs, operatorOf)
    const slashOf = new Map(slashes.map((row) => [operatorOf(row), row]))

    return operators.map((operator) => {
        const slashRow = slashOf.get(operator)
        return {
            operator,
            blueprintId: blueprint,
            period,
            memberships: (membershipsOf.get(operator) ?? []).map((row) => ({
                serviceId: asText(row.service_id),
                blueprintId: asText(row.blueprint_id),
                joinedAt: asDate(row.joined_at),
                leftAt: asNullableDate(row.left_at),
                activatedAt: asDate(row.activated_at),
                terminatedAt: asNullableDate(row.terminated_at),
                heartbeatIntervalSeconds: BigInt(asText(row.heartbeat_interval)),
                heartbeatMaxMissed: asInt(row.heartbeat_max_missed),
            })),
            heartbeats: (heartbeatsOf.get(operator) ?? []).map((row) => ({
                serviceId: asText(row.service_id),
                at: asDate(row.at),
                statusCode: asInt(row.status_code),
            })),
            probes: probeFigures(countsOf.get(operator), latenciesOf.get(operator)),
            jobs: (jobsOf.get(operator) ?? []).map((row) => ({
                serviceId: asText(row.service_id),
                callId: asText(row.call_id),
                resultLatencySeconds: row.latency_seconds === null ? null : asInt(row.latency_seconds),
            })),
            slashesProposed: slashRow === undefined ? 0 : asInt(slashRow.proposed),
            slashesExecuted: slashRow === undefined ? 0 : asInt(slashRow.executed),
            gapFacts: factsOf(operator),
        }
    })
}

/** Computes the scorecards of the subject for `period`, each compared with the period before it. */
export async function loadScorecards(
    sql: SqlRunner,
    subject: ScorecardSubject,
    requested: Period,
    config: GapConfig,
    now: Date = new Date(),
): Promise<Scorecard[]> {
    if (subject.operator === undefined && subject.blueprintId === undefined) {
        throw new Error('a scorecard needs an operator or a blueprint: pass operator, blueprint or both')
    }
    // A period still running (this week) is scored up to now: claims judged at its future end would find no live
    // heartbeat and no fresh proof, and the time not yet lived would count as downtime.
    const period = requested.to.getTime() > now.getTime() && requested.from.getTime() < now.getTime() ? {...requested, to: now} : requested
    const before = previousPeriod(requested)
    const [current, previous] = await Promise.all([
        loadScorecardInputs(sql, subject, period),
        loadScorecardInputs(sql, subject, before),
    ])
    const previousOf = new Map(previous.map((row) => [row.operator, row]))
    return current.map((inputs) => {
        const earlier = previousOf.get(inputs.operator) ?? {
            ...inputs,
            period: before,
            memberships: [],
            heartbeats: [],
            probes: NO_PROBES,
            jobs: [],
            slashesProposed: 0,
            slashesExecuted: 0,
        }
        return buildScorecard(inputs, earlier, config)
    })
}
