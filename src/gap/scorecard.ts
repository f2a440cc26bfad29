import type {ProofOutcome} from '../proofs/types'
import type {GapConfig} from './config'
import {computeGaps, isClaimProven} from './gaps'
import type {Period} from './period'
import {formatPpm, nearestRankPercentile, ratioPpm} from './stats'
import type {GapFacts} from './types'

/** Version of the scorecard method in docs/scorecard.md; it changes whenever a number would be computed differently. */
export const SCORECARD_METHODOLOGY_VERSION = 'proofgap-scorecard/4'

/** Kinds whose outcome shows whether the operator endpoint responds; probe uptime is computed over these. */
export const AVAILABILITY_KINDS: readonly string[] = ['ENDPOINT_REACHABILITY', 'SANDBOX_ENDPOINT_HEALTH', 'TRADING_BOT_HEALTH']

/** Outcomes that count in probe uptime: the probe decided whether the endpoint responds. */
export const DECISIVE_OUTCOMES: readonly ProofOutcome[] = ['PASS', 'FAIL', 'UNREACHABLE']

/** Outcomes whose latency is left out of the latency percentiles. */
export const LATENCY_EXCLUDED_OUTCOMES: readonly ProofOutcome[] = ['NOT_APPLICABLE']

/** One membership with the service times that bound the heartbeat window. */
export interface ScorecardMembership {
    serviceId: string
    blueprintId: string
    joinedAt: Date
    leftAt: Date | null
    activatedAt: Date
    terminatedAt: Date | null
}

/** A membership with the milliseconds of its window (membershipWindow) that healthy heartbeats cover. */
export interface CoveredMembership extends ScorecardMembership {
    coveredMs: number
}

/** A counted heartbeat (sent while the operator was a member) with the setting in force when it was sent. */
export interface ScorecardHeartbeat {
    serviceId: string
    at: Date
    statusCode: number
    heartbeatIntervalSeconds: bigint
    heartbeatMaxMissed: number
}

/** Returns interval × max missed in milliseconds, or Infinity when it exceeds 2^52 ms, which outlasts any window. */
export function heartbeatGraceMs(intervalSeconds: bigint, maxMissed: number): number {
    const graceMs = intervalSeconds * BigInt(maxMissed) * 1000n
    return graceMs <= 2n ** 52n ? Number(graceMs) : Infinity
}

/**
 * Probe figures of one operator over one period, counted from its proof records. Uptime counts the records of an
 * availability kind with a decisive outcome and the PASS among them. The nearest-rank latency percentiles cover every
 * record that got an HTTP response and has an outcome outside LATENCY_EXCLUDED_OUTCOMES.
 */
export interface ScorecardProbes {
    availabilityProbes: number
    availabilityPassed: number
    latencySamples: number
    latencyP50Ms: number | null
    latencyP95Ms: number | null
    latencyP99Ms: number | null
}

/** Probe figures of a period without records. */
export const NO_PROBES: ScorecardProbes = {
    availabilityProbes: 0,
    availabilityPassed: 0,
    latencySamples: 0,
    latencyP50Ms: null,
    latencyP95Ms: null,
    latencyP99Ms: null,
}

export interface ScorecardJob {
    serviceId: string
    callId: string
    /** Latency of the operator's first result in seconds, or null when the operator submitted none by the period end. */
    resultLatencySeconds: number | null
}

/** Every row a scorecard of one operator over one period is computed from. */
export interface ScorecardInputs {
    operator: string
    blueprintId: string | null
    period: Period
    memberships: CoveredMembership[]
    probes: ScorecardProbes
    jobs: ScorecardJob[]
    slashesProposed: number
    slashesExecuted: number
    /** Facts for the gap computation at the period end. */
    gapFacts: GapFacts
}

export interface ScorecardMetrics {
    period: {from: string; to: string; label: string}
    heartbeatUptime: {coveredMs: number; expectedMs: number; ratio: string | null}
    probeUptime: {passed: number; probes: number; ratio: string | null}
    probeLatencyMs: {samples: number; p50: number | null; p95: number | null; p99: number | null}
    jobs: {submitted: number; completed: number; completionRate: string | null; medianResultLatencySeconds: number | null}
    proofCoverage: {claims: number; proven: number; ratio: string | null}
    contradictions: {count: number; kinds: string[]}
    failingKinds: string[]
    slashes: {proposed: number; executed: number}
}

export interface Scorecard extends ScorecardMetrics {
    methodologyVersion: string
    operator: string
    blueprintId: string | null
    /** The same metrics over the previous period; null when the operator did not exist yet during it. */
    previous: ScorecardMetrics | null
    /**
     * Current minus previous; ratios as signed decimal strings, counts as integers, null when either side is null.
     * Null as a whole when `previous` is.
     */
    change: {
        heartbeatUptime: string | null
        probeUptime: string | null
        probeLatencyP95Ms: number | null
        completionRate: string | null
        proofCoverage: string | null
        contradictions: number
        slashesProposed: number
        slashesExecuted: number
    } | null
}

/**
 * Returns the milliseconds of `window` during which the operator was heartbeat-live and healthy. A heartbeat with
 * status 0 covers [t, t + interval × max missed) with the setting in force when it was sent, cut short by the next
 * heartbeat, which replaces the state. A heartbeat with another status covers nothing. `heartbeats` must be the
 * counted ones only, because a heartbeat from a non-member neither covers nor cuts short.
 */
export function coveredHeartbeatMs(
    heartbeats: ScorecardHeartbeat[],
    membership: ScorecardMembership,
    windowFromMs: number,
    windowToMs: number,
): number {
    if (windowToMs <= windowFromMs) return 0
    const sorted = heartbeats
        .filter((heartbeat) => heartbeat.serviceId === membership.serviceId)
        .sort((a, b) => a.at.getTime() - b.at.getTime())
    let covered = 0
    for (const [index, heartbeat] of sorted.entries()) {
        if (heartbeat.statusCode !== 0) continue
        const start = heartbeat.at.getTime()
        const next = sorted[index + 1]
        const graceMs = heartbeatGraceMs(heartbeat.heartbeatIntervalSeconds, heartbeat.heartbeatMaxMissed)
        const end = Math.min(start + graceMs, next === undefined ? Infinity : next.at.getTime())
        covered += Math.max(0, Math.min(end, windowToMs) - Math.max(start, windowFromMs))
    }
    return covered
}

/** Returns the part of the period during which the membership and its service were both open, as [from, to) ms. */
export function membershipWindow(membership: ScorecardMembership, period: Period): [number, number] {
    const from = Math.max(period.from.getTime(), membership.joinedAt.getTime(), membership.activatedAt.getTime())
    const ends = [period.to.getTime(), membership.leftAt?.getTime(), membership.terminatedAt?.getTime()]
    const to = Math.min(...ends.filter((end): end is number => end !== undefined))
    return [from, Math.max(from, to)]
}

/** Computes the metrics of one period from its inputs. Pure and exact: integers and parts per million only. */
export function computeScorecardMetrics(inputs: ScorecardInputs, config: GapConfig): ScorecardMetrics {
    const {period} = inputs

    let coveredMs = 0
    let expectedMs = 0
    for (const membership of inputs.memberships) {
        const [from, to] = membershipWindow(membership, period)
        expectedMs += to - from
        coveredMs += membership.coveredMs
    }

    const {probes} = inputs
    const completedJobs = inputs.jobs.filter((job) => job.resultLatencySeconds !== null)
    const resultLatencies = completedJobs.map((job) => job.resultLatencySeconds as number)

    const gapComputation = computeGaps(inputs.gapFacts, period.to, config)
    const scoped = gapComputation.gaps.filter((gap) => gap.operator === inputs.operator)
    const claims = gapComputation.claims.filter((claim) => claim.operator === inputs.operator && claim.requiredKinds.length > 0)
    const proven = claims.filter((claim) => isClaimProven(claim, scoped)).length
    const contradictedKinds = [...new Set(scoped.filter((gap) => gap.status === 'CONTRADICTED').map((gap) => gap.kind))].sort()
    const failingKinds = [...new Set(scoped.filter((gap) => gap.status === 'FAILING').map((gap) => gap.kind))].sort()

    return {
        period: {from: period.from.toISOString(), to: period.to.toISOString(), label: period.label},
        heartbeatUptime: {coveredMs, expectedMs, ratio: formatPpm(ratioPpm(BigInt(coveredMs), BigInt(expectedMs)))},
        probeUptime: {
            passed: probes.availabilityPassed,
            probes: probes.availabilityProbes,
            ratio: formatPpm(ratioPpm(BigInt(probes.availabilityPassed), BigInt(probes.availabilityProbes))),
        },
        probeLatencyMs: {samples: probes.latencySamples, p50: probes.latencyP50Ms, p95: probes.latencyP95Ms, p99: probes.latencyP99Ms},
        jobs: {
            submitted: inputs.jobs.length,
            completed: completedJobs.length,
            completionRate: formatPpm(ratioPpm(BigInt(completedJobs.length), BigInt(inputs.jobs.length))),
            medianResultLatencySeconds: nearestRankPercentile(resultLatencies, 50),
        },
        proofCoverage: {claims: claims.length, proven, ratio: formatPpm(ratioPpm(BigInt(proven), BigInt(claims.length)))},
        contradictions: {count: scoped.filter((gap) => gap.status === 'CONTRADICTED').length, kinds: contradictedKinds},
        failingKinds,
        slashes: {proposed: inputs.slashesProposed, executed: inputs.slashesExecuted},
    }
}

function ratioDelta(current: string | null, previous: string | null): string | null {
    if (current === null || previous === null) return null
    const toPpm = (text: string) => BigInt(text.replace('.', ''))
    return formatPpm(toPpm(current) - toPpm(previous))
}

/**
 * Combines the metrics of a period and of the period before it into a scorecard. `previous` is null when the operator
 * did not exist yet in the period before, and the card's `previous` and `change` are then null too.
 */
export function buildScorecard(current: ScorecardInputs, previous: ScorecardInputs | null, config: GapConfig): Scorecard {
    const now = computeScorecardMetrics(current, config)
    const identity = {methodologyVersion: SCORECARD_METHODOLOGY_VERSION, operator: current.operator, blueprintId: current.blueprintId}
    if (previous === null) return {...identity, ...now, previous: null, change: null}
    const before = computeScorecardMetrics(previous, config)
    const p95Now = now.probeLatencyMs.p95
    const p95Before = before.probeLatencyMs.p95
    return {
        ...identity,
        ...now,
        previous: before,
        change: {
            heartbeatUptime: ratioDelta(now.heartbeatUptime.ratio, before.heartbeatUptime.ratio),
            probeUptime: ratioDelta(now.probeUptime.ratio, before.probeUptime.ratio),
            probeLatencyP95Ms: p95Now === null || p95Before === null ? null : p95Now - p95Before,
            completionRate: ratioDelta(now.jobs.completionRate, before.jobs.completionRate),
            proofCoverage: ratioDelta(now.proofCoverage.ratio, before.proofCoverage.ratio),
            contradictions: now.contradictions.count - before.contradictions.count,
            slashesProposed: now.slashes.proposed - before.slashes.proposed,
            slashesExecuted: now.slashes.executed - before.slashes.executed,
        },
    }
}
