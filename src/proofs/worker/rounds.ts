import {keccak256, stringToBytes} from 'viem'

/**
 * A round is one interval-long time bucket: every worker that schedules at the same time computes the same round id,
 * so jobs, job ids and record ids agree across workers without any coordination beyond the database.
 */
export interface Round {
    /** `r<bucket number>`, e.g. `r28934112`. */
    id: string
    /** Bucket number: milliseconds since the Unix epoch divided by the interval, rounded down. */
    bucket: number
    startsAt: Date
    endsAt: Date
}

export function roundAt(now: Date, intervalMs: number): Round {
    return roundOfBucket(Math.floor(now.getTime() / intervalMs), intervalMs)
}

function roundOfBucket(bucket: number, intervalMs: number): Round {
    return {
        id: `r${bucket}`,
        bucket,
        startsAt: new Date(bucket * intervalMs),
        endsAt: new Date((bucket + 1) * intervalMs),
    }
}

/** Upper bound of the time before a round's start at which its jobs are inserted, milliseconds. */
export const MAX_SCHEDULE_LEAD_MS = 30_000

/**
 * Time before a round's start at which its jobs are inserted: MAX_SCHEDULE_LEAD_MS, or half the interval when that is
 * shorter, so the window never reaches back into the round before the current one.
 */
export function scheduleLeadMs(intervalMs: number): number {
    return Math.min(MAX_SCHEDULE_LEAD_MS, Math.floor(intervalMs / 2))
}

/**
 * Rounds whose jobs a scheduler inserts at `now`: the current round, and the next one once `now` is within `leadMs`
 * of its start, so targets planned early in a round find their jobs already queued. Rounds up to
 * `scheduledThrough` (the bucket of the last round this scheduler inserted) are left out.
 */
export function roundsDue(now: Date, intervalMs: number, leadMs: number, scheduledThrough: number | undefined): Round[] {
    const current = roundAt(now, intervalMs)
    const last = roundAt(new Date(now.getTime() + leadMs), intervalMs)
    const rounds: Round[] = []
    for (let bucket = current.bucket; bucket <= last.bucket; bucket++) {
        if (scheduledThrough === undefined || bucket > scheduledThrough) rounds.push(roundOfBucket(bucket, intervalMs))
    }
    return rounds
}

/** Deterministic per-target delay inside a round, in [0, jitterMs), so targets of one host do not all start at once. */
export function jitterMsFor(targetId: string, roundId: string, jitterMs: number): number {
    if (jitterMs <= 0) return 0
    const hash = keccak256(stringToBytes(`${roundId}:${targetId}`))
    return Number(BigInt(hash.slice(0, 14)) % BigInt(jitterMs))
}

/** Formats 16 hash bytes as a UUID, so the queue's job id is a pure function of its inputs. */
function uuidFromText(text: string): string {
    const hex = keccak256(stringToBytes(text)).slice(2, 34)
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/** Job id of one target in one round: a second insert of the same (round, target) is dropped by the queue. */
export function probeJobId(roundId: string, targetId: string): string {
    return uuidFromText(`proofgap-probe-job:${roundId}:${targetId}`)
}

/** Singleton key of one target in one round. */
export function probeSingletonKey(roundId: string, targetId: string): string {
    return `${targetId}@${roundId}`
}

/** proof_record id: unique per (round, target, kind), so a retried job inserts nothing twice. */
export function proofRecordId(roundId: string, targetId: string, kind: string): string {
    return keccak256(stringToBytes(`${roundId}\u0000${targetId}\u0000${kind}`))
}
