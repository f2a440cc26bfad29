import type pg from 'pg'
import {compareText} from '../../src/gap/claims'

const DAY_MS = 86_400_000

/** Rows of heartbeat_day_cover as `operator|service|day|covered_ms`, sorted. */
export async function storedHeartbeatCover(client: pg.Client | pg.Pool): Promise<string[]> {
    const {rows} = await client.query(
        `SELECT concat_ws('|', operator_id, service_id, day::text, covered_ms) AS row FROM heartbeat_day_cover ORDER BY 1`,
    )
    return rows.map((row) => row.row as string)
}

/** A stored heartbeat with the two facts the cover rule reads about it, as countedHeartbeats computes them. */
export interface JudgedHeartbeat {
    id: string
    operator: string
    serviceId: string
    at: Date
    statusCode: number
    /** Sent while the operator was a member of the service. */
    counted: boolean
    /** Setting in force when it was sent. */
    heartbeatIntervalSeconds: bigint
    heartbeatMaxMissed: number
}

/**
 * Reads every heartbeat in (operator, service, timestamp, id) order and decides in JavaScript, from the raw rows,
 * whether it counts and which setting was in force. That setting is the service's latest heartbeat_config_change
 * before it in (timestamp, id) order, else 300 s and 3. It shares no SQL with the code under test.
 */
export async function countedHeartbeats(client: pg.Client | pg.Pool): Promise<JudgedHeartbeat[]> {
    const heartbeats = await client.query(
        `SELECT id, operator_id, service_id, status_code, timestamp FROM heartbeat ORDER BY operator_id, service_id, timestamp, id`,
    )
    const memberships = await client.query(`SELECT operator_id, service_id, joined_at, left_at FROM service_membership`)
    const changes = await client.query(
        `SELECT id, service_id, timestamp, interval::text AS interval, max_missed FROM heartbeat_config_change ORDER BY timestamp, id`,
    )
    return heartbeats.rows.map((row) => {
        const atMs = (row.timestamp as Date).getTime()
        const counted = memberships.rows.some(
            (m) =>
                m.operator_id === row.operator_id &&
                m.service_id === row.service_id &&
                (m.joined_at as Date).getTime() <= atMs &&
                (m.left_at === null || (m.left_at as Date).getTime() > atMs),
        )
        let setting = {interval: 300n, maxMissed: 3}
        for (const change of changes.rows) {
            if (change.service_id !== row.service_id) continue
            const changeMs = (change.timestamp as Date).getTime()
            const before = changeMs < atMs || (changeMs === atMs && (change.id as string) < (row.id as string))
            if (before) setting = {interval: BigInt(change.interval), maxMissed: change.max_missed}
        }
        return {
            id: row.id,
            operator: row.operator_id,
            serviceId: row.service_id,
            at: row.timestamp,
            statusCode: row.status_code,
            counted,
            heartbeatIntervalSeconds: setting.interval,
            heartbeatMaxMissed: setting.maxMissed,
        }
    })
}

/**
 * Recomputes heartbeat_day_cover in JavaScript from every counted heartbeat, by the scorecard's rule. A counted
 * heartbeat with status 0 covers [t, t + interval × max missed) of the setting in force when it was sent, cut short by
 * the next counted heartbeat of the same (operator, service) in (timestamp, id) order. The latest counted heartbeat
 * of each pair is left out.
 */
export async function recomputedHeartbeatCover(client: pg.Client | pg.Pool): Promise<string[]> {
    const rows = (await countedHeartbeats(client)).filter((row) => row.counted)
    const cover = new Map<string, bigint>()
    for (const [index, row] of rows.entries()) {
        const next = rows[index + 1]
        if (next === undefined || next.operator !== row.operator || next.serviceId !== row.serviceId) continue
        if (row.statusCode !== 0) continue
        const start = BigInt(row.at.getTime())
        const graceEnd = start + row.heartbeatIntervalSeconds * BigInt(row.heartbeatMaxMissed) * 1000n
        const nextAt = BigInt(next.at.getTime())
        const end = graceEnd < nextAt ? graceEnd : nextAt
        for (let day = (start / BigInt(DAY_MS)) * BigInt(DAY_MS); day < end; day += BigInt(DAY_MS)) {
            const from = start > day ? start : day
            const to = end < day + BigInt(DAY_MS) ? end : day + BigInt(DAY_MS)
            if (to <= from) continue
            const key = `${row.operator}|${row.serviceId}|${new Date(Number(day)).toISOString().slice(0, 10)}`
            cover.set(key, (cover.get(key) ?? 0n) + (to - from))
        }
    }
    return [...cover]
        .filter(([, ms]) => ms !== 0n)
        .map(([key, ms]) => `${key}|${ms}`)
        .sort(compareText)
}
