import {countedCondition, latestCountedHeartbeat, settingColumns, settingJoin} from '../db/counted-heartbeats'
import {utcDate, wholeUtcDays, type Period} from './period'
import {coveredHeartbeatMs, heartbeatGraceMs, membershipWindow, type ScorecardHeartbeat, type ScorecardMembership} from './scorecard'
import {asDate, asInt, asText, type SqlRunner} from './sql'

/** A membership of one operator. */
export interface OperatorMembership {
    operator: string
    membership: ScorecardMembership
}

// For the whole UTC days of each membership window, the cover of every counted heartbeat that has a next one is summed
// from heartbeat_day_cover (kept by triggers, see db/migrations/*-HeartbeatCoverBySetting.js). The table leaves out
// the latest counted heartbeat of each (operator, service), so the statement returns it too, with its setting.
const WHOLE_DAYS_SQL = `
SELECT w.i,
       coalesce((SELECT sum(c.covered_ms) FROM heartbeat_day_cover c
                 WHERE c.operator_id = w.operator AND c.service_id = w.service AND c.day >= w.day_from AND c.day < w.day_to), 0)::bigint
         AS covered_ms,
       latest.timestamp AS latest_at, latest.status_code AS latest_status, ${settingColumns('setting')}
FROM unnest($1::int[], $2::text[], $3::text[], $4::date[], $5::date[]) AS w(i, operator, service, day_from, day_to)
LEFT JOIN LATERAL ${latestCountedHeartbeat('w.operator', 'w.service', "< 'infinity'")} latest ON true
${settingJoin('setting', 'w.service', 'latest.timestamp', 'latest.id')}`

// The counted heartbeats that can cover part of a window shorter than a whole day: the latest one before the part,
// whose cover may reach into it, and those inside it. Each comes with the setting in force when it was sent.
const PART_DAY_HEARTBEATS_SQL = `
SELECT e.i, beat.timestamp AS at, beat.status_code, ${settingColumns('setting')}
FROM unnest($1::int[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS e(i, operator, service, part_from, part_to)
CROSS JOIN LATERAL (
  SELECT earlier.id, earlier.timestamp, earlier.status_code
  FROM ${latestCountedHeartbeat('e.operator', 'e.service', '< e.part_from')} earlier
  UNION ALL
  SELECT h.id, h.timestamp, h.status_code FROM heartbeat h
  WHERE h.operator_id = e.operator AND h.service_id = e.service AND h.timestamp >= e.part_from AND h.timestamp < e.part_to
    AND ${countedCondition('h')}
) beat
${settingJoin('setting', 'e.service', 'beat.timestamp', 'beat.id')}
ORDER BY e.i, beat.timestamp, beat.id`

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
        covered[index] += asInt(row.covered_ms)
        // The latest counted heartbeat covers [t, t + grace) when it has status 0 and was sent before the period end,
        // as in coveredHeartbeatMs, which is given only the heartbeats sent before the period end.
        if (row.latest_at === null || asInt(row.latest_status) !== 0) continue
        const latestMs = asDate(row.latest_at).getTime()
        if (latestMs >= period.to.getTime()) continue
        const graceMs = heartbeatGraceMs(BigInt(asText(row.heartbeat_interval)), asInt(row.heartbeat_max_missed))
        const whole = windows[index]
        covered[index] += Math.max(0, Math.min(latestMs + graceMs, whole.toMs) - Math.max(latestMs, whole.fromMs))
    }

    const heartbeatsOfPart = new Map<number, ScorecardHeartbeat[]>()
    for (const row of partRows) {
        const part = asInt(row.i)
        const heartbeat = {
            serviceId: parts.service[part],
            at: asDate(row.at),
            statusCode: asInt(row.status_code),
            heartbeatIntervalSeconds: BigInt(asText(row.heartbeat_interval)),
            heartbeatMaxMissed: asInt(row.heartbeat_max_missed),
        }
        const group = heartbeatsOfPart.get(part)
        if (group === undefined) heartbeatsOfPart.set(part, [heartbeat])
        else group.push(heartbeat)
    }
    for (const [part, {index, fromMs, toMs}] of partBounds.entries()) {
        covered[index] += coveredHeartbeatMs(heartbeatsOfPart.get(part) ?? [], memberships[index].membership, fromMs, toMs)
    }
    return covered
}
