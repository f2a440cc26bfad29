import {DEFAULT_HEARTBEAT_INTERVAL_SECONDS, DEFAULT_HEARTBEAT_MAX_MISSED, latestCountedHeartbeat, settingJoin} from '../db/counted-heartbeats'
import type * as m from '../model'

const DAY_MS = 86_400_000
const GRACE_MAX_EXACT = 2n ** 52n

/**
 * Name of the setting that makes the heartbeat INSERT trigger leave the cover of a transaction's heartbeats to the
 * writer, when the transaction sets it to `writer` (db/migrations/1796433000000-HeartbeatCoverByWriter.js and
 * 1796437000000-HeartbeatCoverBySetting.js).
 */
export const COVER_SETTING = 'proofgap.heartbeat_cover'

/** Adds CoverRow values, given as one JSON array parameter, to heartbeat_day_cover. */
export const ADD_COVER_SQL = `INSERT INTO heartbeat_day_cover AS t (operator_id, service_id, day, covered_ms)
    SELECT operator_id, service_id, day, covered_ms FROM json_populate_recordset(NULL::heartbeat_day_cover, $1::json)
    ORDER BY 1, 2, 3
    ON CONFLICT (operator_id, service_id, day) DO UPDATE SET covered_ms = t.covered_ms + EXCLUDED.covered_ms`

/** One row to add to heartbeat_day_cover: milliseconds of a UTC day covered by an (operator, service) pair. */
export interface CoverRow {
    operator_id: string
    service_id: string
    /** YYYY-MM-DD, UTC. */
    day: string
    covered_ms: number
}

/** SQL of the latest counted heartbeat stored for each (operator, service) pair of $1 and $2, with its grace. */
export const PREVIOUS_BEATS_SQL = `
SELECT pair.operator, pair.service, floor(extract(epoch FROM latest.timestamp) * 1000)::text AS at_ms,
       latest.status_code, (coalesce(setting.interval, ${DEFAULT_HEARTBEAT_INTERVAL_SECONDS})
         * coalesce(setting.max_missed, ${DEFAULT_HEARTBEAT_MAX_MISSED}) * 1000)::text AS grace_ms
FROM unnest($1::text[], $2::text[]) AS pair(operator, service)
CROSS JOIN LATERAL ${latestCountedHeartbeat('pair.operator', 'pair.service', "< 'infinity'")} latest
${settingJoin('setting', 'pair.service', 'latest.timestamp', 'latest.id')}`

/** A heartbeat as the cover computation reads it. */
export interface CoverBeat {
    atMs: number
    statusCode: number
    /** Interval × max missed in force when it was sent, in ms, or Infinity beyond 2^52 ms. */
    graceMs: number
}

/** Returns whether the operator was a member of the service at `atMs`, the rule of countedCondition. */
export type MembershipCheck = (serviceId: string, operatorId: string, atMs: number) => boolean

interface PairBeats {
    operatorId: string
    serviceId: string
    /** The batch's heartbeats of the pair, as three columns. */
    atMs: number[]
    statusCodes: number[]
    graceMs: number[]
}

/** Returns interval × max missed in milliseconds as a float, exact below 2^52 ms and Infinity above. */
export function graceMsOf(graceBig: bigint): number {
    // A longer grace outlasts any gap between two heartbeats, so it never cuts a cover short.
    return graceBig <= GRACE_MAX_EXACT ? Number(graceBig) : Infinity
}

/**
 * The heartbeat cover that a finalized batch adds, computed in memory by the rule of the INSERT trigger on heartbeat
 * (db/migrations/1796437000000-HeartbeatCoverBySetting.js). Only counted heartbeats take part, those sent while the
 * operator was a member. One with status 0 at t covers [t, t + grace), grace = interval × max missed in force when it
 * was sent, cut short by the pair's next counted heartbeat. A batch appends heartbeats after the latest stored one of
 * each pair, so only the latest counted stored one and the batch's own rows gain cover: each up to the next.
 *
 * The handler reports each heartbeat while the service row has the setting in force at it, because the batch's logs
 * are handled in chain order.
 */
export class HeartbeatCoverChange {
    /** By `<serviceId>-<operatorId>`. */
    private readonly pairs = new Map<string, PairBeats>()
    private unordered = false

    /** Records a heartbeat at `atMs` (milliseconds since the epoch), with the grace of the service's present setting. */
    add(service: m.Service, operatorId: string, atMs: number, statusCode: number): void {
        const key = `${service.id}-${operatorId}`
        let pair = this.pairs.get(key)
        if (!pair) {
            pair = {operatorId, serviceId: service.id, atMs: [], statusCodes: [], graceMs: []}
            this.pairs.set(key, pair)
        }
        // EVM chains do not let a block's timestamp go below its parent's. A node that breaks the rule gives rows that are
        // not appends, and the trigger places those.
        if (pair.atMs.length > 0 && atMs < pair.atMs[pair.atMs.length - 1]) this.unordered = true
        pair.atMs.push(atMs)
        pair.statusCodes.push(statusCode)
        pair.graceMs.push(graceMsOf(service.heartbeatInterval * BigInt(service.heartbeatMaxMissed) * 1000n))
    }

    /** True when no heartbeat was recorded. */
    get isEmpty(): boolean {
        return this.pairs.size === 0
    }

    /** Returns the (operator, service) pairs with heartbeats in the batch, as the two array parameters of PREVIOUS_BEATS_SQL. */
    pairParameters(): [string[], string[]] {
        const pairs = [...this.pairs.values()]
        return [pairs.map((pair) => pair.operatorId), pairs.map((pair) => pair.serviceId)]
    }

    /**
     * Returns the rows to add, or undefined when the batch's counted heartbeats are not all appends in time order and
     * the trigger has to compute their cover. `previous` contains the latest counted heartbeat stored before the
     * batch, by `<serviceId>-<operatorId>`, and `isMember` decides which of the batch's heartbeats count.
     */
    rows(previous: ReadonlyMap<string, CoverBeat>, isMember: MembershipCheck): CoverRow[] | undefined {
        if (this.unordered) return undefined
        const cover: CoverRow[] = []
        const dayTexts = new Map<number, string>()
        for (const [key, pair] of this.pairs) {
            const beats: CoverBeat[] = []
            const stored = previous.get(key)
            if (stored) beats.push(stored)
            for (let i = 0; i < pair.atMs.length; i++) {
                if (!isMember(pair.serviceId, pair.operatorId, pair.atMs[i])) continue
                if (stored && pair.atMs[i] < stored.atMs) return undefined
                beats.push({atMs: pair.atMs[i], statusCode: pair.statusCodes[i], graceMs: pair.graceMs[i]})
            }
            // A pair's rows by day; pairs never share a row.
            const days = new Map<number, CoverRow>()
            for (let i = 0; i + 1 < beats.length; i++) {
                const {atMs: beatMs, statusCode, graceMs} = beats[i]
                if (statusCode !== 0) continue
                const nextMs = beats[i + 1].atMs
                const endMs = graceMs < nextMs - beatMs ? beatMs + graceMs : nextMs
                for (let day = Math.floor(beatMs / DAY_MS) * DAY_MS; day < endMs; day += DAY_MS) {
                    const covered = Math.min(endMs, day + DAY_MS) - Math.max(beatMs, day)
                    if (covered <= 0) continue
                    const row = days.get(day)
                    if (row) {
                        row.covered_ms += covered
                        continue
                    }
                    let dayText = dayTexts.get(day)
                    if (dayText === undefined) dayTexts.set(day, (dayText = new Date(day).toISOString().slice(0, 10)))
                    days.set(day, {operator_id: pair.operatorId, service_id: pair.serviceId, day: dayText, covered_ms: covered})
                }
            }
            for (const row of days.values()) cover.push(row)
        }
        return cover
    }
}
