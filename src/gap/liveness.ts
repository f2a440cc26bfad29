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

/**
 * Computes heartbeat liveness of one membership at `at` from its latest counted heartbeat at or before `at`.
 *
 * The deadline uses the interval and max missed in force when that heartbeat was sent, even when the service changed
 * them later. The operator sent it under that setting and could not know a later one. It also makes liveness at every
 * instant agree with heartbeat uptime, whose cover of each heartbeat is fixed when the heartbeat is written.
 */
export function heartbeatLiveness(membership: MembershipFact, heartbeat: HeartbeatFact | undefined, at: Date): Liveness {
    const base = {operator: membership.operator, serviceId: membership.serviceId}
    if (heartbeat === undefined) {
        return {
            ...base,
            lastHeartbeatAt: null,
            lastStatusCode: null,
            heartbeatIntervalSeconds: membership.heartbeatIntervalSeconds,
            heartbeatMaxMissed: membership.heartbeatMaxMissed,
            deadline: null,
            live: false,
            healthy: false,
        }
    }
    const deadline = livenessDeadline(heartbeat.at, heartbeat.heartbeatIntervalSeconds, heartbeat.heartbeatMaxMissed)
    const live = heartbeat.at.getTime() <= at.getTime() && at.getTime() <= deadline.getTime()
    return {
        ...base,
        lastHeartbeatAt: heartbeat.at,
        lastStatusCode: heartbeat.statusCode,
        heartbeatIntervalSeconds: heartbeat.heartbeatIntervalSeconds,
        heartbeatMaxMissed: heartbeat.heartbeatMaxMissed,
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
