import type {GapConfig} from './config'
import {loadGapFacts} from './load'
import {PeriodError, previousPeriod, type Period} from './period'
import {buildScorecard, NO_PROBES, type Scorecard, type ScorecardInputs} from './scorecard'
import {loadHeartbeatCover} from './scorecard-cover'
import {loadProbeFigures} from './scorecard-probes'
import {asDate, asInt, asNullableDate, asText, type SqlRunner} from './sql'
import type {GapFacts} from './types'

export interface ScorecardSubject {
    operator?: string
    blueprintId?: string
}

// Operators that had registered or joined a service of the blueprint before the period ended ($2).
// Operators of the subject that existed before the period end: registered (or registered and changed) in the blueprint,
// or a member of one of its services. $1 blueprint and $3 operator narrow the set when given.
const SUBJECT_OPERATORS_SQL = `
SELECT r.operator_id AS operator FROM registration r
WHERE ($1::text IS NULL OR r.blueprint_id = $1) AND ($3::text IS NULL OR r.operator_id = $3)
  AND (r.registered_at < $2 OR EXISTS (SELECT 1 FROM registration_change c WHERE c.registration_id = r.id AND c.timestamp < $2))
UNION
SELECT m.operator_id FROM service_membership m JOIN service s ON s.id = m.service_id
WHERE ($1::text IS NULL OR s.blueprint_id = $1) AND ($3::text IS NULL OR m.operator_id = $3) AND m.joined_at < $2
ORDER BY 1`

const MEMBERSHIPS_SQL = `
SELECT m.operator_id AS operator, s.id AS service_id, s.blueprint_id, m.joined_at, m.left_at, s.activated_at,
       s.terminated_at
FROM service_membership m JOIN service s ON s.id = m.service_id
WHERE m.operator_id = ANY($1::text[]) AND ($2::text IS NULL OR s.blueprint_id = $2)
  AND m.joined_at < $4 AND (m.left_at IS NULL OR m.left_at > $3)
ORDER BY m.operator_id, s.id, m.joined_at`

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

/** Reads the rows of one period for every operator of the subject. */
export async function loadScorecardInputs(sql: SqlRunner, subject: ScorecardSubject, period: Period): Promise<ScorecardInputs[]> {
    const blueprint = subject.blueprintId ?? null
    // An operator unknown to the blueprint (or to every blueprint) by the period end gets no card, rather than a card
    // of zeros that reads like an idle operator.
    const operator = subject.operator?.toLowerCase() ?? null
    const operators = (await sql(SUBJECT_OPERATORS_SQL, [blueprint, period.to, operator])).map((row) => asText(row.operator))
    if (operators.length === 0) return []

    const params = [operators, blueprint, period.from, period.to]
    const loadMemberships = async () => {
        const memberships = (await sql(MEMBERSHIPS_SQL, params)).map((row) => ({
            operator: asText(row.operator),
            membership: {
                serviceId: asText(row.service_id),
                blueprintId: asText(row.blueprint_id),
                joinedAt: asDate(row.joined_at),
                leftAt: asNullableDate(row.left_at),
                activatedAt: asDate(row.activated_at),
                terminatedAt: asNullableDate(row.terminated_at),
            },
        }))
        const covered = await loadHeartbeatCover(sql, memberships, period)
        return memberships.map(({operator, membership}, index) => ({operator, membership: {...membership, coveredMs: covered[index]}}))
    }
    const [memberships, probes, jobs, slashes, gapFacts] = await Promise.all([
        loadMemberships(),
        loadProbeFigures(sql, operators, blueprint, period),
        sql(JOBS_SQL, params),
        sql(SLASHES_SQL, params),
        loadGapFacts(sql, {operator: subject.operator, blueprintId: subject.blueprintId}, period.to),
    ])

    const factsOf = splitFactsByOperator(gapFacts)
    const operatorOf = (row: Record<string, unknown>) => asText(row.operator)
    const membershipsOf = groupBy(memberships, (row) => row.operator)
    const jobsOf = groupBy(jobs, operatorOf)
    const slashOf = new Map(slashes.map((row) => [operatorOf(row), row]))

    return operators.map((operator) => {
        const slashRow = slashOf.get(operator)
        return {
            operator,
            blueprintId: blueprint,
            period,
            memberships: (membershipsOf.get(operator) ?? []).map((row) => row.membership),
            probes: probes.get(operator) ?? NO_PROBES,
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
    if (requested.from.getTime() > now.getTime()) {
        throw new PeriodError(`period ${requested.label} has not started yet: score a period that has begun`)
    }
    // A period still running (this week) is scored up to now: claims judged at its future end would find no live
    // heartbeat and no fresh proof, and the time not yet lived would count as downtime.
    const period = requested.to.getTime() > now.getTime() && requested.from.getTime() < now.getTime() ? {...requested, to: now} : requested
    const before = previousPeriod(requested)
    const [current, previous] = await Promise.all([
        loadScorecardInputs(sql, subject, period),
        loadScorecardInputs(sql, subject, before),
    ])
    // The previous period lists only the operators that existed before it ended. An operator that came later has no
    // previous card to compare with, rather than one of zeros.
    const previousOf = new Map(previous.map((row) => [row.operator, row]))
    return current.map((inputs) => buildScorecard(inputs, previousOf.get(inputs.operator) ?? null, config))
}
