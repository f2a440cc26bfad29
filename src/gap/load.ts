import {latestCountedHeartbeat, settingColumns, settingJoin} from '../db/counted-heartbeats'
import type {ProofOutcome} from '../proofs/types'
import {gapScopes, kindsForProduct} from './gaps'
import {asDate, asInt, asNullableDate, asNullableText, asText, type SqlRunner} from './sql'
import type {GapFacts, HeartbeatFact, MembershipFact, ProofSummary, RegistrationFact} from './types'

/** Narrows what facts are read; every field is optional and bound as a parameter, never spliced into SQL. */
export interface FactFilter {
    operator?: string
    blueprintId?: string
    serviceId?: string
    product?: string
}

// The registration row contains the latest registration only. When that is later than $4, the status at $4 comes
// from the last registration or unregistration before it, because registration_change ids sort in chain order. A
// registration with no change at or before $4 did not exist yet and is left out.
const REGISTRATIONS_SQL = `
SELECT r.operator_id AS operator, r.blueprint_id AS blueprint_id, b.product AS product,
       CASE WHEN r.registered_at IS NOT NULL AND r.registered_at <= $4
                 AND (r.unregistered_at IS NULL OR r.unregistered_at > $4 OR r.unregistered_at < r.registered_at)
            THEN 'ACTIVE'
            WHEN r.registered_at IS NOT NULL AND r.registered_at <= $4 THEN r.status
            ELSE COALESCE(
                (SELECT CASE c.kind WHEN 'REGISTERED' THEN 'ACTIVE' ELSE 'UNREGISTERED' END
                 FROM registration_change c
                 WHERE c.registration_id = r.id AND c.timestamp <= $4 AND c.kind IN ('REGISTERED', 'UNREGISTERED')
                 ORDER BY c.id DESC LIMIT 1),
                'PRE_REGISTERED')
       END AS status
FROM registration r JOIN blueprint b ON b.id = r.blueprint_id
WHERE ($1::text IS NULL OR r.operator_id = $1)
  AND ($2::text IS NULL OR r.blueprint_id = $2)
  AND ($3::text IS NULL OR b.product = $3)
  AND (r.registered_at <= $4
       OR EXISTS (SELECT 1 FROM registration_change c WHERE c.registration_id = r.id AND c.timestamp <= $4))
ORDER BY r.operator_id, r.blueprint_id`

// The heartbeat setting is the one in force at $5, which liveness reports when no heartbeat counts.
const MEMBERSHIPS_SQL = `
SELECT DISTINCT ON (s.id, m.operator_id)
       m.operator_id AS operator, s.id AS service_id, s.blueprint_id AS blueprint_id, b.product AS product,
       s.confidentiality AS confidentiality, ${settingColumns('setting')},
       (m.joined_at <= $5 AND (m.left_at IS NULL OR m.left_at > $5)
        AND s.activated_at <= $5 AND (s.terminated_at IS NULL OR s.terminated_at > $5)) AS active
FROM service_membership m
JOIN service s ON s.id = m.service_id
JOIN blueprint b ON b.id = s.blueprint_id
${settingJoin('setting', 's.id', '$5')}
WHERE m.joined_at <= $5
  AND ($1::text IS NULL OR m.operator_id = $1)
  AND ($2::text IS NULL OR s.blueprint_id = $2)
  AND ($3::text IS NULL OR b.product = $3)
  AND ($4::text IS NULL OR s.id = $4)
ORDER BY s.id, m.operator_id, active DESC, m.joined_at DESC`

// The latest counted heartbeat of each membership's pair, found by index probes inside the pair's memberships, with
// the setting in force when it was sent. Liveness only reads that one heartbeat.
const HEARTBEATS_SQL = `
SELECT pair.service_id, pair.operator, latest.timestamp AS at, latest.status_code, latest.block_number,
       ${settingColumns('setting')}
FROM unnest($1::text[], $2::text[]) AS pair(operator, service_id)
CROSS JOIN LATERAL ${latestCountedHeartbeat('pair.operator', 'pair.service_id', '<= $3')} latest
${settingJoin('setting', 'pair.service_id', 'latest.timestamp', 'latest.id')}`

const JOB_RESULTS_SQL = `
SELECT r.service_id AS service_id, r.operator_id AS operator, count(*)::int AS result_count
FROM job_result r
WHERE r.operator_id = ANY($1::text[]) AND r.timestamp <= $2
GROUP BY r.service_id, r.operator_id`

const LIVE_TRADING_SQL = `
SELECT service_id, kind FROM (
  SELECT DISTINCT ON (e.service_id) e.service_id::text AS service_id, e.kind AS kind
  FROM product_event e
  WHERE e.kind IN ('TradingStarted', 'TradingStopped') AND e.service_id IS NOT NULL AND e.timestamp <= $1
  ORDER BY e.service_id, e.block_number DESC, e.id DESC
) latest WHERE kind = 'TradingStarted'`

const REDEMPTIONS_SQL = `
SELECT id, issuer, status, deadline::text AS deadline, requested_at, settled_at, defaulted_at
FROM redemption
WHERE issuer = ANY($1::text[]) AND requested_at <= $2
ORDER BY id`

const SIDECARS_SQL = `
SELECT operator, service_id, count(DISTINCT sidecar_url)::int AS url_count FROM (
  SELECT p.operator_id AS operator, p.service_id AS service_id, p.sidecar_url AS sidecar_url
  FROM provisioned_endpoint p
  WHERE p.operator_id = ANY($1::text[]) AND p.sidecar_url <> '' AND p.timestamp <= $2
    AND (p.deprovisioned_at IS NULL OR p.deprovisioned_at > $2)
  UNION ALL
  SELECT x.operator, x.service_id, x.sidecar_url
  FROM sandbox x
  WHERE x.operator = ANY($1::text[]) AND x.service_id IS NOT NULL AND x.sidecar_url IS NOT NULL
    AND x.sidecar_url <> '' AND x.created_at <= $2 AND (x.deleted_at IS NULL OR x.deleted_at > $2)
) published
GROUP BY operator, service_id
ORDER BY operator, service_id`

// The latest record of every (operator, kind, outcome, blueprint, service) group that can match a scope, read from
// proof_latest, which triggers on proof_record keep current (db/migrations/*-ProofAggregates.js). The filter is a
// superset: the operators, kinds, blueprints and services of the scopes. computeGaps keeps the groups that match a
// scope by its own rule and takes the latest of them, which is the scope's latest record.
//
// A group whose latest record is newer than `at` is read from proof_record instead: one index probe on (operator,
// kind, outcome, blueprint_id, service_id, observed_at, id) finds its latest record at or before `at`. A group first
// observed after `at` is skipped. So a query at the present reads proof_latest only, and a query in the past probes
// only the groups that changed since.
const PROOF_SUMMARIES_SQL = `
WITH matched AS (
  SELECT l.operator, l.kind, l.outcome, l.blueprint_id, CASE WHEN l.has_service THEN l.service_key END AS service_id,
         l.latest_id, l.latest_observed_at, l.latest_reason
  FROM proof_latest l
  WHERE l.operator = ANY($1::text[]) AND l.kind = ANY($2::text[])
    AND (l.blueprint_id = ANY($3::text[]) OR (l.has_service AND l.service_key = ANY($4::text[])))
    AND l.first_observed_at <= $5
)
SELECT coalesce(earlier.id, m.latest_id) AS id, m.operator, m.blueprint_id, m.service_id, m.kind, m.outcome,
       coalesce(earlier.reason, m.latest_reason) AS reason, coalesce(earlier.observed_at, m.latest_observed_at) AS observed_at
FROM matched m
LEFT JOIN LATERAL (
  -- Every group column is an equality on proof_record (operator, kind, outcome, blueprint_id, service_id, observed_at,
  -- id), so the index returns the rows in the order wanted and the scan stops at the first. A group without a service
  -- takes the IS NULL branch, because service_id = NULL matches nothing.
  (SELECT p.id, p.reason, p.observed_at FROM proof_record p
   WHERE m.latest_observed_at > $5 AND m.service_id IS NOT NULL
     AND p.operator = m.operator AND p.kind = m.kind AND p.outcome = m.outcome AND p.blueprint_id = m.blueprint_id
     AND p.service_id = m.service_id AND p.observed_at <= $5
   ORDER BY p.observed_at DESC, p.id DESC
   LIMIT 1)
  UNION ALL
  (SELECT p.id, p.reason, p.observed_at FROM proof_record p
   WHERE m.latest_observed_at > $5 AND m.service_id IS NULL
     AND p.operator = m.operator AND p.kind = m.kind AND p.outcome = m.outcome AND p.blueprint_id = m.blueprint_id
     AND p.service_id IS NULL AND p.observed_at <= $5
   ORDER BY p.observed_at DESC, p.id DESC
   LIMIT 1)
) earlier ON true
WHERE m.latest_observed_at <= $5 OR earlier.id IS NOT NULL`

/** Parameters of PROOF_SUMMARIES_SQL: the distinct operators, kinds, blueprints and services of the gap scopes. */
function proofGroupFilter(registrations: RegistrationFact[], memberships: MembershipFact[]): string[][] {
    const operators = new Set<string>()
    const kinds = new Set<string>()
    const blueprints = new Set<string>()
    const services = new Set<string>()
    for (const scope of gapScopes(registrations, memberships).values()) {
        operators.add(scope.operator)
        blueprints.add(scope.blueprintId)
        if (scope.serviceId !== null) services.add(scope.serviceId)
        for (const kind of kindsForProduct(scope.product)) kinds.add(kind)
    }
    return [[...operators], [...kinds], [...blueprints], [...services]]
}

/** Registrations and memberships that match a filter: the scopes of the gap computation and their operators. */
export interface ScopeFacts {
    registrations: RegistrationFact[]
    memberships: MembershipFact[]
}

/** Reads the registrations and memberships that match the filter at instant `at`, in one or two statements. */
export async function loadScopeFacts(sql: SqlRunner, filter: FactFilter, at: Date): Promise<ScopeFacts> {
    const operatorParam = filter.operator?.toLowerCase() ?? null
    const blueprintParam = filter.blueprintId ?? null
    const productParam = filter.product ?? null
    const serviceParam = filter.serviceId ?? null

    // A service filter narrows registrations to the service's blueprint through the memberships read below.
    const registrationRows = serviceParam === null ? await sql(REGISTRATIONS_SQL, [operatorParam, blueprintParam, productParam, at]) : []
    const membershipRows = await sql(MEMBERSHIPS_SQL, [operatorParam, blueprintParam, productParam, serviceParam, at])

    const registrations: RegistrationFact[] = registrationRows.map((row) => ({
        operator: asText(row.operator),
        blueprintId: asText(row.blueprint_id),
        product: asNullableText(row.product),
        status: asText(row.status),
    }))
    const memberships: MembershipFact[] = membershipRows.map((row) => ({
        operator: asText(row.operator),
        serviceId: asText(row.service_id),
        blueprintId: asText(row.blueprint_id),
        product: asNullableText(row.product),
        confidentiality: asInt(row.confidentiality),
        active: row.active === true,
        heartbeatIntervalSeconds: BigInt(asText(row.heartbeat_interval)),
        heartbeatMaxMissed: asInt(row.heartbeat_max_missed),
    }))
    return {registrations, memberships}
}

/**
 * Reads every fact the gap computation needs at instant `at`, in eight statements whatever the number of operators.
 * Operators are those with a registration or membership that matches the filter.
 */
export async function loadGapFacts(sql: SqlRunner, filter: FactFilter, at: Date): Promise<GapFacts> {
    return loadOperatorFacts(sql, await loadScopeFacts(sql, filter, at), at)
}

/** Reads the heartbeats, job results, redemptions, sidecars and proofs of the operators of `scopes`, in six statements. */
export async function loadOperatorFacts(sql: SqlRunner, scopes: ScopeFacts, at: Date): Promise<GapFacts> {
    const {registrations, memberships} = scopes
    const operators = [...new Set([...registrations.map((r) => r.operator), ...memberships.map((m) => m.operator)])].sort()
    if (operators.length === 0) {
        return {registrations, memberships, heartbeats: [], jobResults: [], liveTradingServices: [], redemptions: [], sidecars: [], proofs: []}
    }

    const [proofOperators, proofKinds, proofBlueprints, proofServices] = proofGroupFilter(registrations, memberships)
    const [heartbeatRows, jobRows, tradingRows, redemptionRows, sidecarRows, proofRows] = await Promise.all([
        sql(HEARTBEATS_SQL, [memberships.map((m) => m.operator), memberships.map((m) => m.serviceId), at]),
        sql(JOB_RESULTS_SQL, [operators, at]),
        sql(LIVE_TRADING_SQL, [at]),
        sql(REDEMPTIONS_SQL, [operators, at]),
        sql(SIDECARS_SQL, [operators, at]),
        sql(PROOF_SUMMARIES_SQL, [proofOperators, proofKinds, proofBlueprints, proofServices, at]),
    ])

    const heartbeats: HeartbeatFact[] = heartbeatRows.map((row) => ({
        operator: asText(row.operator),
        serviceId: asText(row.service_id),
        at: asDate(row.at),
        statusCode: asInt(row.status_code),
        blockNumber: asInt(row.block_number),
        heartbeatIntervalSeconds: BigInt(asText(row.heartbeat_interval)),
        heartbeatMaxMissed: asInt(row.heartbeat_max_missed),
    }))
    const proofs: ProofSummary[] = proofRows.map((row) => ({
        id: asText(row.id),
        operator: asText(row.operator),
        blueprintId: asText(row.blueprint_id),
        serviceId: asNullableText(row.service_id),
        kind: asText(row.kind),
        outcome: asText(row.outcome) as ProofOutcome,
        reason: asText(row.reason),
        observedAt: asDate(row.observed_at),
    }))

    return {
        registrations,
        memberships,
        heartbeats,
        jobResults: jobRows.map((row) => ({
            operator: asText(row.operator),
            serviceId: asText(row.service_id),
            resultCount: asInt(row.result_count),
        })),
        liveTradingServices: tradingRows.map((row) => asText(row.service_id)),
        redemptions: redemptionRows.map((row) => ({
            id: asText(row.id),
            issuer: asText(row.issuer),
            status: asText(row.status),
            deadline: BigInt(asText(row.deadline)),
            requestedAt: asDate(row.requested_at),
            settledAt: asNullableDate(row.settled_at),
            defaultedAt: asNullableDate(row.defaulted_at),
        })),
        sidecars: sidecarRows.map((row) => ({
            operator: asText(row.operator),
            serviceId: asText(row.service_id),
            urlCount: asInt(row.url_count),
        })),
        proofs,
    }
}
