import type {Period} from './period'
import {wholeUtcDays} from './period'
import {AVAILABILITY_KINDS, DECISIVE_OUTCOMES, LATENCY_EXCLUDED_OUTCOMES, type ScorecardProbes} from './scorecard'
import {asInt, asText, type SqlRunner} from './sql'

// For the whole UTC days of the period, $5 to $6, probe figures come from the day counts that triggers on proof_record
// keep (probe_day_outcome and probe_day_latency, see db/migrations/*-ProofAggregates.js). The parts of the period
// before $5 and from $6 on are counted from proof_record itself. An ISO week has no such part.
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
    WHERE ${EDGE_FILTER} AND latency_ms IS NOT NULL AND http_status IS NOT NULL AND outcome <> ALL($7::text[])
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

/** Reads the probe figures of each operator over `period`, in two statements; an operator without records is absent. */
export async function loadProbeFigures(
    sql: SqlRunner,
    operators: string[],
    blueprintId: string | null,
    period: Period,
): Promise<Map<string, ScorecardProbes>> {
    const days = wholeUtcDays(period.from.getTime(), period.to.getTime())
    const params = [operators, blueprintId, period.from, period.to, new Date(days.fromMs), new Date(days.toMs)]
    const [counts, latencies] = await Promise.all([
        sql(PROBE_COUNTS_SQL, [...params, AVAILABILITY_KINDS, DECISIVE_OUTCOMES]),
        sql(PROBE_LATENCY_SQL, [...params, LATENCY_EXCLUDED_OUTCOMES]),
    ])
    const countsOf = new Map(counts.map((row) => [asText(row.operator), row]))
    const latenciesOf = new Map(latencies.map((row) => [asText(row.operator), row]))
    const figures = new Map<string, ScorecardProbes>()
    for (const operator of new Set([...countsOf.keys(), ...latenciesOf.keys()])) {
        figures.set(operator, probeFigures(countsOf.get(operator), latenciesOf.get(operator)))
    }
    return figures
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
