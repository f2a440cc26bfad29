import {utcDate, wholeUtcDays, type Period} from './period'
import {coveredHeartbeatMs, membershipWindow, type ScorecardHeartbeat, type ScorecardMembership} from './scorecard'
import {asDate, asInt, type SqlRunner} from './sql'

/** A membership of one operator. */
export interface OperatorMembership {
    operator: string
    membership: ScorecardMembership
}

// For the whole UTC days of each membership window, the cover of every heartbeat that has a next one is summed from
// heartbeat_day_cover (kept by triggers, see db/migrations/*-HeartbeatAggregates.js). The table leaves out the latest
// heartbeat of each (operator, service), so the statement returns it too.
const WHOLE_DAYS_SQL = `
SELECT w.i,
       coalesce((SELECT sum(c.covered_ms) FROM heartbeat_day_cover c
                 WHERE c.operator_id = w.operator AND c.service_id = w.service AND c.day >= w.day_from AND c.day < w.day_to), 0)::bigint
         AS covered_ms,
       latest.timestamp AS latest_at, latest.status_code AS latest_status
FROM unnest($1::int[], $2::text[], $3::text[], $4::date[], $5::date[]) AS w(i, operator, service, day_from, day_to)
LEFT JOIN LATERAL (
  SELECT h.timestamp, h.status_code FROM heartbeat h
  WHERE h.operator_id = w.operator AND h.service_id = w.service
  ORDER BY h.timestamp DESC, h.id DESC
  LIMIT 1
) latest ON true`

// Heartbeats that can cover part of a window shorter than a whole day: from its start − interval × max missed up to
// its end. The bound is compared in numeric epoch seconds because the interval is a uint64: as a PostgreSQL interval
// it would overflow.
const PART_DAY_HEARTBEATS_SQL = `
SELECT e.i, h.timestamp AS at, h.status_code
FROM unnest($1::int[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS e(i, operator, service, part_from, part_to)
JOIN service s ON s.id = e.service
JOIN heartbeat h ON h.operator_id = e.operator AND h.service_id = e.service AND h.timestamp < e.part_to
 AND extract(epoch FROM h.timestamp) >= extract(epoch FROM e.part_from) - s.heartbeat_interval * s.heartbeat_max_missed
ORDER BY e.i, h.timestamp, h.id`

/**
 * Returns, for each membership, the milliseconds of its window in `period` (membershipWindow) that healthy heartbeats
 * cover, as coveredHeartbeatMs computes them from the heartbeats sent before the period end. Whole UTC days are read
 * from heartbeat_day_cover; the parts of the window before its first and after its last midnight are computed from
 * their heartbeats. One or two statements whatever the number of memberships.
 */
export async function loadHeartbeatCover(sql: SqlRunner, memberships: OperatorMembership[], period: Period): Promise<number[]> {
    const covered = memberships.map(() => 0)
    const days = {i: [] as number[], operator: [] as string[], service: [] as string[], from: [] as string[], to: [] as string[]}
    const parts = {i: [] as number[], operator: [] as string[], service: [] as string[], from: [] as Date[], to: [] as Date[]}
    const addPart = (index: number, fromMs: number, toMs: number) => {
        if (toMs <= fromMs) return
        const {operator, membership} = memberships[index]
        parts.i.push(index)
        parts.operator.push(operator)
        parts.service.push(membership.serviceId)
        parts.from.push(new Date(fromMs))
        parts.to.push(new Date(toMs))
    }
    const windows = memberships.map(({operator, membership}, index) => {
        const [fromMs, toMs] = membershipWindow(membership, period)
        const whole = wholeUtcDays(fromMs, toMs)
        if (whole.toMs > whole.fromMs) {
            days.i.push(index)
            days.operator.push(operator)
            days.service.push(membership.serviceId)
            days.from.push(utcDate(whole.fromMs))
            days.to.push(utcDate(whole.toMs))
            addPart(index, fromMs, whole.fromMs)
            addPart(index, whole.toMs, toMs)
        } else {
            addPart(index, fromMs, toMs)
        }
        return whole
    })
    // A part is keyed by its membership and its bounds, because a window can have one part at each end.
    const partBounds = parts.i.map((index, part) => ({index, fromMs: parts.from[part].getTime(), toMs: parts.to[part].getTime()}))

    const [dayRows, partRows] = await Promise.all([
        days.i.length === 0 ? [] : sql(WHOLE_DAYS_SQL, [days.i, days.operator, days.service, days.from, days.to]),
        parts.i.length === 0 ? [] : sql(PART_DAY_HEARTBEATS_SQL, [partBounds.map((_, part) => part), parts.operator, parts.service, parts.from, parts.to]),
    ])

    for (const row of dayRows) {
        const index = asInt(row.i)
        const {membership} = memberships[index]
        covered[index] += asInt(row.covered_ms)
        // The latest heartbeat covers [t, t + grace) when it has status 0 and was sent before the period end, as in
        // coveredHeartbeatMs, which is given only the heartbeats sent before the period end.
        if (row.latest_at === null || asInt(row.latest_status) !== 0) continue
        const latestMs = asDate(row.latest_at).getTime()
        if (latestMs >= period.to.getTime()) continue
        const graceMs = Number(membership.heartbeatIntervalSeconds * BigInt(membership.heartbeatMaxMissed) * 1000n)
        const whole = windows[index]
        covered[index] += Math.max(0, Math.min(latestMs + graceMs, whole.toMs) - Math.max(latestMs, whole.fromMs))
    }

    const heartbeatsOfPart = new Map<number, ScorecardHeartbeat[]>()
    for (const row of partRows) {
        const part = asInt(row.i)
        const heartbeat = {serviceId: parts.service[part], at: asDate(row.at), statusCode: asInt(row.status_code)}
        const group = heartbeatsOfPart.get(part)
        if (group === undefined) heartbeatsOfPart.set(part, [heartbeat])
        else group.push(heartbeat)
    }
    for (const [part, {index, fromMs, toMs}] of partBounds.entries()) {
        covered[index] += coveredHeartbeatMs(heartbeatsOfPart.get(part) ?? [], memberships[index].membership, fromMs, toMs)
    }
    return covered
}
