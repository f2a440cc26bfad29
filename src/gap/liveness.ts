import type {HeartbeatFact, Liveness, MembershipFact} from './types'

/** Registry status code of a healthy heartbeat. */
export const HEALTHY_STATUS_CODE = 0

/**
 * Returns the instant after which an operator counts as missing: last heartbeat + interval × max missed. The interval
 * is a uint64 of seconds, so the product is computed in bigint before it becomes milliseconds.
 */
export function livenessDeadline(lastHeartbeatAt: Date, intervalSeconds: bigint, maxMissed: number): Date {
    const graceMs = intervalSeconds * BigInt(maxMissed) * 1000n
    const deadlineMs = BigInt(lastHeartbeatAt.getTime()) + graceMs
    // Dates end at 8.64e15 ms; a larger deadline means "live for the foreseeable future".
    const maxDateMs = 8_640_000_000_000_000n
    return new Date(Number(deadlineMs > maxDateMs ? maxDateMs : deadlineMs))
}

/** Computes heartbeat liveness of one membership at `at` from its latest heartbeat at or before `at`. */
export function heartbeatLiveness(membership: MembershipFact, heartbeat: HeartbeatFact | undefined, at: Date): Liveness {
    const base = {
        operator: membership.operator,
        serviceId: membership.serviceId,
        heartbeatIntervalSeconds: membership.heartbeatIntervalSeconds,
        heartbeatMaxMissed: membership.heartbeatMaxMissed,
    }
    if (heartbeat === undefined) {
        return {...base, lastHeartbeatAt: null, lastStatusCode: null, deadline: null, live: false, healthy: false}
    }
    const deadline = livenessDeadline(heartbeat.at, membership.heartbeatIntervalSeconds, membership.heartbeatMaxMissed)
    const live = heartbeat.at.getTime() <= at.getTime() && at.getTime() <= deadline.getTime()
    return {
        ...base,
        lastHeartbeatAt: heartbeat.at,
        lastStatusCode: heartbeat.statusCode,
        deadline,
        live,
        healthy: live && heartbeat.statusCode === HEALTHY_STATUS_CODE,
    }
}

/** Computes liveness for every membership, matching heartbeats by (service, operator). */
export function livenessForMemberships(memberships: MembershipFact[], heartbeats: HeartbeatFact[], at: Date): Liveness[] {
    const latest = new Map<string, HeartbeatFact>()
    for (const heartbeat of heartbeats) {
        const key = `${heartbeat.serviceId}-${heartbeat.operator}`
        const known = latest.get(key)
        if (known === undefined || known.at.getTime() < heartbeat.at.getTime()) latest.set(key, heartbeat)
    }
    return memberships.map((membership) =>
        heartbeatLiveness(membership, latest.get(`${membership.serviceId}-${membership.operator}`), at),
    )
}
