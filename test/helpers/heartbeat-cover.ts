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

/**
 * Recomputes heartbeat_day_cover in JavaScript from every heartbeat, by the scorecard's rule. A heartbeat with status
 * 0 covers [t, t + interval × max missed), cut short by the next heartbeat of the same (operator, service) in
 * (timestamp, id) order. The latest heartbeat of each pair is left out.
 */
export async function recomputedHeartbeatCover(client: pg.Client | pg.Pool): Promise<string[]> {
    const {rows} = await client.query(
        `SELECT h.operator_id, h.service_id, h.status_code, floor(extract(epoch FROM h.timestamp) * 1000)::text AS at_ms,
                (s.heartbeat_interval * s.heartbeat_max_missed * 1000)::text AS grace_ms
         FROM heartbeat h JOIN service s ON s.id = h.service_id
         ORDER BY h.operator_id, h.service_id, h.timestamp, h.id`,
    )
    const cover = new Map<string, bigint>()
    for (const [index, row] of rows.entries()) {
        const next = rows[index + 1]
        if (next === undefined || next.operator_id !== row.operator_id || next.service_id !== row.service_id) continue
        if (row.status_code !== 0) continue
        const start = BigInt(row.at_ms)
        const graceEnd = start + BigInt(row.grace_ms)
        const nextAt = BigInt(next.at_ms)
        const end = graceEnd < nextAt ? graceEnd : nextAt
        for (let day = (start / BigInt(DAY_MS)) * BigInt(DAY_MS); day < end; day += BigInt(DAY_MS)) {
            const from = start > day ? start : day
            const to = end < day + BigInt(DAY_MS) ? end : day + BigInt(DAY_MS)
            if (to <= from) continue
            const key = `${row.operator_id}|${row.service_id}|${new Date(Number(day)).toISOString().slice(0, 10)}`
            cover.set(key, (cover.get(key) ?? 0n) + (to - from))
        }
    }
    return [...cover]
        .filter(([, ms]) => ms !== 0n)
        .map(([key, ms]) => `${key}|${ms}`)
        .sort(compareText)
}
