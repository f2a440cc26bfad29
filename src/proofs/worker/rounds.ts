import {keccak256, stringToBytes} from 'viem'

/**
 * A round is one interval-long time bucket: every worker that schedules at the same time computes the same round id,
 * so jobs, job ids and record ids agree across workers without any coordination beyond the database.
 */
export interface Round {
    /** `r<bucket number>`, e.g. `r28934112`. */
    id: string
    startsAt: Date
    endsAt: Date
}

export function roundAt(now: Date, intervalMs: number): Round {
    const bucket = Math.floor(now.getTime() / intervalMs)
    return {
        id: `r${bucket}`,
        startsAt: new Date(bucket * intervalMs),
        endsAt: new Date((bucket + 1) * intervalMs),
    }
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
