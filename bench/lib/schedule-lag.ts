import {percentile} from './machine'

/** Timeline of one target in the measured round, epoch milliseconds. */
export interface TargetTimeline {
    targetId: string
    /** Planned start: round start plus the target's jitter. */
    plannedMs: number
    /** When the scheduler inserted the job (pgboss `created_on`); undefined when no job row was found. */
    createdMs?: number
    /** When a worker took the job (pgboss `started_on`). */
    startedMs?: number
    /** `observed_at` of the stored record. */
    observedMs: number
}

/**
 * Parts of one target's schedule lag, milliseconds. Their sum is the lag when the job row was found:
 * - insert: the job was inserted after its planned time (the scheduler was late);
 * - fetch: from the later of planned and inserted until a worker took the job (queue wait);
 * - probe: from the fetch until the record's observed_at (request, signing, waiting for the batch's other jobs).
 */
export interface LagParts {
    lagMs: number
    insertMs?: number
    fetchMs?: number
    probeMs?: number
}

export function lagParts(timeline: TargetTimeline): LagParts {
    const lagMs = timeline.observedMs - timeline.plannedMs
    if (timeline.createdMs === undefined || timeline.startedMs === undefined) return {lagMs}
    const dueMs = Math.max(timeline.plannedMs, timeline.createdMs)
    return {
        lagMs,
        insertMs: Math.max(0, timeline.createdMs - timeline.plannedMs),
        fetchMs: timeline.startedMs - dueMs,
        probeMs: timeline.observedMs - timeline.startedMs,
    }
}

/** Lag statistics of the targets planned in one slice of the round. */
export interface OffsetBucket {
    /** Planned offset range within the round, seconds: [fromS, toS). */
    fromS: number
    toS: number
    targets: number
    lagP50Ms: number
    lagP99Ms: number
    lagMaxMs: number
    /** p99 of each lag part, so the bucket shows which part dominates. */
    insertP99Ms: number
    fetchP99Ms: number
    probeP99Ms: number
}

/** Groups targets by planned offset within the round (buckets of `bucketMs`) and summarizes their lag. */
export function lagByPlannedOffset(timelines: readonly TargetTimeline[], roundStartMs: number, bucketMs: number): OffsetBucket[] {
    const groups = new Map<number, LagParts[]>()
    for (const timeline of timelines) {
        const bucket = Math.floor((timeline.plannedMs - roundStartMs) / bucketMs)
        const parts = groups.get(bucket) ?? []
        parts.push(lagParts(timeline))
        groups.set(bucket, parts)
    }
    const p99 = (values: Array<number | undefined>) =>
        percentile(values.filter((value): value is number => value !== undefined).sort((a, b) => a - b), 0.99)
    return [...groups.entries()]
        .sort(([a], [b]) => a - b)
        .map(([bucket, parts]) => {
            const lags = parts.map((part) => part.lagMs).sort((a, b) => a - b)
            return {
                fromS: (bucket * bucketMs) / 1000,
                toS: ((bucket + 1) * bucketMs) / 1000,
                targets: parts.length,
                lagP50Ms: percentile(lags, 0.5),
                lagP99Ms: percentile(lags, 0.99),
                lagMaxMs: lags[lags.length - 1],
                insertP99Ms: p99(parts.map((part) => part.insertMs)),
                fetchP99Ms: p99(parts.map((part) => part.fetchMs)),
                probeP99Ms: p99(parts.map((part) => part.probeMs)),
            }
        })
}

/** The `count` targets with the largest lag, with their planned offset and lag parts. */
export function worstTargets(
    timelines: readonly TargetTimeline[],
    roundStartMs: number,
    count: number,
): Array<{targetId: string; plannedOffsetMs: number} & LagParts> {
    return timelines
        .map((timeline) => ({targetId: timeline.targetId, plannedOffsetMs: timeline.plannedMs - roundStartMs, ...lagParts(timeline)}))
        .sort((a, b) => b.lagMs - a.lagMs)
        .slice(0, count)
}

/** Formats the buckets and the worst targets as a plain-text table for the console. */
export function formatLagReport(buckets: readonly OffsetBucket[], worst: ReturnType<typeof worstTargets>): string {
    const seconds = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '-' : (ms / 1000).toFixed(2))
    const lines = ['planned offset (s) | targets | lag p50 / p99 / max (s) | p99 insert / fetch / probe (s)']
    for (const bucket of buckets) {
        lines.push(
            `${bucket.fromS}-${bucket.toS} | ${bucket.targets} | ${seconds(bucket.lagP50Ms)} / ${seconds(bucket.lagP99Ms)} / ${seconds(bucket.lagMaxMs)} | ` +
                `${seconds(bucket.insertP99Ms)} / ${seconds(bucket.fetchP99Ms)} / ${seconds(bucket.probeP99Ms)}`,
        )
    }
    lines.push('worst targets: planned offset (s) | lag (s) | insert / fetch / probe (s) | target')
    for (const target of worst) {
        lines.push(
            `${seconds(target.plannedOffsetMs)} | ${seconds(target.lagMs)} | ${seconds(target.insertMs)} / ${seconds(target.fetchMs)} / ${seconds(target.probeMs)} | ${target.targetId}`,
        )
    }
    return lines.join('\n')
}
