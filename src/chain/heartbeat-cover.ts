import type * as m from '../model'

const DAY_MS = 86_400_000
const GRACE_MAX_EXACT = 2n ** 52n

/**
 * Name of the setting that makes the heartbeat INSERT trigger leave the cover of a transaction's heartbeats to the
 * writer, when the transaction sets it to `writer` (db/migrations/1796433000000-HeartbeatCoverByWriter.js).
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

interface Beat {
    atMs: number
    statusCode: number | null
}

interface PairBeats {
    operatorId: string
    service: m.Service
    /** The pair's latest heartbeat stored before this batch, if any. */
    previous: Beat | undefined
    /** The batch's heartbeats of the pair, as two columns. */
    atMs: number[]
    statusCodes: number[]
}

/**
 * The heartbeat cover that a finalized batch adds, computed in memory by the rule of the INSERT trigger on heartbeat
 * (db/migrations/1796424742607-HeartbeatAggregates.js): a heartbeat with status 0 at t covers [t, t + grace), grace =
 * the service's interval × max missed, cut short by the next heartbeat of the pair. A batch appends heartbeats after
 * the latest stored one of each pair, so only that latest one and the batch's own rows gain cover: each up to the next.
 *
 * The handler reports each heartbeat before it updates the pair's state, which contains the latest stored heartbeat.
 */
export class HeartbeatCoverChange {
    /** By the id of the pair's state row. */
    private readonly pairs = new Map<string, PairBeats>()
    private unordered = false

    /**
     * Records a heartbeat at `atMs` (milliseconds since the epoch). `state` is the pair's row (its id names the pair) and
     * must still contain the pair's previous heartbeat.
     */
    add(state: m.OperatorServiceState, service: m.Service, operatorId: string, atMs: number, statusCode: number): void {
        let pair = this.pairs.get(state.id)
        if (!pair) {
            const previous = state.lastHeartbeatAt ? {atMs: state.lastHeartbeatAt.getTime(), statusCode: state.lastStatusCode ?? null} : undefined
            pair = {operatorId, service, previous, atMs: [], statusCodes: []}
            this.pairs.set(state.id, pair)
        }
        const lastMs = pair.atMs.length > 0 ? pair.atMs[pair.atMs.length - 1] : pair.previous?.atMs
        // EVM chains do not let a block's timestamp go below its parent's. A node that breaks the rule gives rows that are
        // not appends, and the trigger places those.
        if (lastMs !== undefined && atMs < lastMs) this.unordered = true
        pair.atMs.push(atMs)
        pair.statusCodes.push(statusCode)
    }

    /** True when no heartbeat was recorded. */
    get isEmpty(): boolean {
        return this.pairs.size === 0
    }

    /**
     * Returns the rows to add, with each service's grace as it is at the end of the batch, or undefined when the batch's
     * heartbeats are not all appends in time order and the trigger has to compute their cover.
     */
    rows(): CoverRow[] | undefined {
        if (this.unordered) return undefined
        const cover: CoverRow[] = []
        const dayTexts = new Map<number, string>()
        for (const pair of this.pairs.values()) {
            const graceBig = pair.service.heartbeatInterval * BigInt(pair.service.heartbeatMaxMissed) * 1000n
            // Exact in floating point below 2^52 ms, with timestamps below that too. A longer grace outlasts any gap
            // between two heartbeats, so it never cuts a cover short.
            const graceMs = graceBig <= GRACE_MAX_EXACT ? Number(graceBig) : Infinity
            const atMs = pair.previous ? [pair.previous.atMs, ...pair.atMs] : pair.atMs
            const statusCodes = pair.previous ? [pair.previous.statusCode, ...pair.statusCodes] : pair.statusCodes
            // A pair's rows by day; pairs never share a row.
            const days = new Map<number, CoverRow>()
            for (let i = 0; i + 1 < atMs.length; i++) {
                if (statusCodes[i] !== 0) continue
                const beatMs = atMs[i]
                const nextMs = atMs[i + 1]
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
                    days.set(day, {operator_id: pair.operatorId, service_id: pair.service.id, day: dayText, covered_ms: covered})
                }
            }
            for (const row of days.values()) cover.push(row)
        }
        return cover
    }
}
