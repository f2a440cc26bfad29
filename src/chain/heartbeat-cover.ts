import type * as m from '../model'

const DAY_MS = 86_400_000

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
    beats: Beat[]
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
    private readonly pairs = new Map<string, PairBeats>()
    private unordered = false

    /** Records a heartbeat. `state` must still contain the pair's previous heartbeat. */
    add(state: m.OperatorServiceState, service: m.Service, operatorId: string, at: Date, statusCode: number): void {
        const key = `${service.id}\u0000${operatorId}`
        let pair = this.pairs.get(key)
        if (!pair) {
            const previous = state.lastHeartbeatAt ? {atMs: state.lastHeartbeatAt.getTime(), statusCode: state.lastStatusCode ?? null} : undefined
            pair = {operatorId, service, previous, beats: []}
            this.pairs.set(key, pair)
        }
        const last = pair.beats[pair.beats.length - 1] ?? pair.previous
        // EVM chains do not let a block's timestamp go below its parent's. A node that breaks the rule gives rows that are
        // not appends, and the trigger places those.
        if (last && at.getTime() < last.atMs) this.unordered = true
        pair.beats.push({atMs: at.getTime(), statusCode})
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
        const cover = new Map<string, CoverRow>()
        const dayTexts = new Map<number, string>()
        for (const pair of this.pairs.values()) {
            const graceMs = pair.service.heartbeatInterval * BigInt(pair.service.heartbeatMaxMissed) * 1000n
            const beats = pair.previous ? [pair.previous, ...pair.beats] : pair.beats
            for (let i = 0; i + 1 < beats.length; i++) {
                const beat = beats[i]
                if (beat.statusCode !== 0) continue
                const nextMs = beats[i + 1].atMs
                const endMs = BigInt(beat.atMs) + graceMs < BigInt(nextMs) ? beat.atMs + Number(graceMs) : nextMs
                for (let day = Math.floor(beat.atMs / DAY_MS) * DAY_MS; day < endMs; day += DAY_MS) {
                    const covered = Math.min(endMs, day + DAY_MS) - Math.max(beat.atMs, day)
                    if (covered <= 0) continue
                    let dayText = dayTexts.get(day)
                    if (dayText === undefined) dayTexts.set(day, (dayText = new Date(day).toISOString().slice(0, 10)))
                    const key = `${pair.operatorId}\u0000${pair.service.id}\u0000${dayText}`
                    const row = cover.get(key)
                    if (row) row.covered_ms += covered
                    else cover.set(key, {operator_id: pair.operatorId, service_id: pair.service.id, day: dayText, covered_ms: covered})
                }
            }
        }
        return [...cover.values()]
    }
}
