import type {ProofKind} from '../proofs/kinds'
import type {ProofOutcome} from '../proofs/types'

/** What the chain says an operator does. Each claim names the proofs that would back it. */
export const CLAIM_KINDS = [
    'REGISTERED',
    'SERVICE_MEMBER',
    'HEARTBEATING',
    'JOB_RESULTS_SUBMITTED',
    'TEE_REQUIRED',
    'TRADING_BOT_LIVE',
    'CREDIT_LOT_SOLD',
    'SIDECAR_PUBLISHED',
] as const

export type ClaimKind = (typeof CLAIM_KINDS)[number]

export const GAP_STATUSES = ['PROVEN', 'STALE', 'FAILING', 'CONTRADICTED', 'UNPROVEN', 'NOT_APPLICABLE'] as const

export type GapStatus = (typeof GAP_STATUSES)[number]

export function isGapStatus(value: unknown): value is GapStatus {
    return typeof value === 'string' && (GAP_STATUSES as readonly string[]).includes(value)
}

/** A claim of one operator, scoped to a service or (serviceId null) to a blueprint registration. */
export interface Claim {
    operator: string
    blueprintId: string
    serviceId: string | null
    /** Product of the blueprint from the network configuration, or null when unmapped. */
    product: string | null
    kind: ClaimKind
    /** Chain fact behind the claim, for people to read. */
    detail: string
    requiredKinds: ProofKind[]
}

/** One registration row as read from the chain tables. */
export interface RegistrationFact {
    operator: string
    blueprintId: string
    product: string | null
    /** PRE_REGISTERED, ACTIVE or UNREGISTERED, as of the query instant. */
    status: string
}

/** One service membership of an operator, with the heartbeat setting in force at the query instant. */
export interface MembershipFact {
    operator: string
    serviceId: string
    blueprintId: string
    product: string | null
    /** 0 Any, 1 TeeRequired, 2 StandardRequired, 3 TeePreferred. */
    confidentiality: number
    /** True when the membership and the service were both open at the query instant. */
    active: boolean
    /** Heartbeat interval in seconds in force at the query instant; liveness uses it when no heartbeat counts. */
    heartbeatIntervalSeconds: bigint
    heartbeatMaxMissed: number
}

/**
 * Sidecar URLs an operator published in one service at the query instant: an OperatorProvisioned endpoint not yet
 * deprovisioned, or a sandbox_create output of a sandbox not yet deleted. Empty URLs are left out.
 */
export interface SidecarFact {
    operator: string
    serviceId: string
    /** Number of distinct sidecar URLs. */
    urlCount: number
}

/**
 * Latest counted heartbeat of an operator in a service at or before the query instant: one sent while the operator
 * was a member of the service. It carries the heartbeat setting in force when it was sent.
 */
export interface HeartbeatFact {
    operator: string
    serviceId: string
    at: Date
    statusCode: number
    blockNumber: number
    heartbeatIntervalSeconds: bigint
    heartbeatMaxMissed: number
}

/** Count of job results an operator submitted in a service up to the query instant. */
export interface JobResultFact {
    operator: string
    serviceId: string
    resultCount: number
}

/** A redemption of a credit lot that the operator issued. */
export interface RedemptionFact {
    id: string
    issuer: string
    status: string
    /** Unix seconds. */
    deadline: bigint
    requestedAt: Date
    settledAt: Date | null
    defaultedAt: Date | null
}

/**
 * The latest proof record for one (operator, gap scope, kind, outcome), as of the query instant. A scope is a
 * blueprint registration or a service membership. Keeping the latest per outcome (at most five rows per scope and
 * kind) is enough to decide every status without reading the whole history.
 */
export interface ProofSummary {
    id: string
    operator: string
    blueprintId: string
    serviceId: string | null
    kind: string
    outcome: ProofOutcome
    reason: string
    observedAt: Date
}

/** Everything the gap computation reads, for one set of operators, as of one instant. */
export interface GapFacts {
    registrations: RegistrationFact[]
    memberships: MembershipFact[]
    heartbeats: HeartbeatFact[]
    jobResults: JobResultFact[]
    /** Services whose trading bot was started and not stopped at the query instant. */
    liveTradingServices: string[]
    redemptions: RedemptionFact[]
    sidecars: SidecarFact[]
    proofs: ProofSummary[]
}

/** Heartbeat liveness of one operator in one service at the query instant. */
export interface Liveness {
    operator: string
    serviceId: string
    lastHeartbeatAt: Date | null
    lastStatusCode: number | null
    /** Setting in force at the last counted heartbeat, or at the query instant when no heartbeat counts. */
    heartbeatIntervalSeconds: bigint
    heartbeatMaxMissed: number
    /** Last counted heartbeat + interval × max missed of that heartbeat's setting, or null without one. */
    deadline: Date | null
    live: boolean
    /** Live and the last status code is 0 (Healthy). */
    healthy: boolean
}

/** Gap of one (operator, service or blueprint, proof kind). */
export interface GapRow {
    operator: string
    blueprintId: string
    serviceId: string | null
    product: string | null
    kind: ProofKind
    status: GapStatus
    /** Stable reason code for the status. */
    reason: string
    claims: ClaimKind[]
    lastProofId: string | null
    lastProofAt: Date | null
    lastOutcome: ProofOutcome | null
    /** Latest PASS record at or before the query instant, which a STALE status rests on. */
    lastPassId: string | null
    lastPassAt: Date | null
}
