import type {ProofKind} from '../proofs/kinds'
import type {ProofOutcome} from '../proofs/types'
import {freshnessMs, type GapConfig} from './config'
import type {GapStatus, Liveness, ProofSummary, RedemptionFact} from './types'

/**
 * FAIL reasons of the evaluators that mean the product disproves what the chain states, rather than merely failing
 * a check: a TEE-required service on a docker runtime, a bot reported live with no on-chain trade, a redemption past
 * its deadline unsettled.
 */
export const CONTRADICTION_REASONS: ReadonlySet<string> = new Set([
    'TEE_REQUIRED_DOCKER_RUNTIME',
    'LIVE_WITHOUT_ONCHAIN_TRADE',
    'LIVE_TRADE_NOT_ON_CHAIN',
    'PAPER_HASH_MARKED_LIVE',
    'REDEMPTION_UNSERVED_PAST_DEADLINE',
])


const DECISIVE_OUTCOMES: ReadonlySet<ProofOutcome> = new Set(['PASS', 'FAIL', 'UNREACHABLE'])

export interface GapStatusInput {
    kind: ProofKind
    /** True when at least one claim of the scope requires this kind. */
    required: boolean
    /** Latest proof per outcome for this scope and kind, at or before `at` (any order). */
    proofs: ProofSummary[]
    /** Liveness of the operator in the services of the scope. */
    liveness: Liveness[]
    /** Redemptions of lots the operator issued; only read for MARKET_CREDIT_REDEMPTION. */
    redemptions: RedemptionFact[]
    at: Date
    config: GapConfig
}

export interface GapStatusResult {
    status: GapStatus
    reason: string
    lastProof: ProofSummary | null
    lastPass: ProofSummary | null
}

function latest(proofs: ProofSummary[], accept: (proof: ProofSummary) => boolean): ProofSummary | null {
    let found: ProofSummary | null = null
    for (const proof of proofs) {
        if (!accept(proof)) continue
        if (found === null || proof.observedAt.getTime() > found.observedAt.getTime()) found = proof
        // Equal instants: the larger id wins so the choice does not depend on row order.
        else if (proof.observedAt.getTime() === found.observedAt.getTime() && proof.id > found.id) found = proof
    }
    return found
}

/** Returns the first redemption that was open past its deadline at `at`, or null. */
export function overdueRedemption(redemptions: RedemptionFact[], at: Date): RedemptionFact | null {
    const atSeconds = BigInt(Math.floor(at.getTime() / 1000))
    for (const redemption of redemptions) {
        if (redemption.requestedAt.getTime() > at.getTime()) continue
        const closedAt = [redemption.settledAt, redemption.defaultedAt].filter((d): d is Date => d !== null)
        const closedByAt = closedAt.some((d) => d.getTime() <= at.getTime())
        // NOTE: an attestation has no timestamp column, so an ATTESTED redemption counts as served at every instant.
        const open = !closedByAt && redemption.status !== 'ATTESTED'
        if (open && redemption.deadline < atSeconds) return redemption
    }
    return null
}

/**
 * Decides the gap status of one (operator, scope, kind) at `at`. The order of the rules matters:
 *
 * 1. NOT_APPLICABLE when no claim requires the kind, or the latest fresh record is NOT_APPLICABLE.
 * 2. CONTRADICTED when the chain claims what the product disproves: a live, healthy heartbeat while the latest fresh
 *    record is UNREACHABLE; a fresh FAIL with a contradiction reason; an issued redemption open past its deadline.
 * 3. UNPROVEN when no record exists, or only INCONCLUSIVE ones and nothing decisive.
 * 4. The latest fresh decisive record: PASS gives PROVEN, FAIL or UNREACHABLE gives FAILING.
 * 5. STALE when the latest decisive record is older than the freshness window.
 */
export function decideGapStatus(input: GapStatusInput): GapStatusResult {
    const {proofs, at} = input
    const atMs = at.getTime()
    const visible = proofs.filter((proof) => proof.observedAt.getTime() <= atMs)
    const windowStartMs = atMs - freshnessMs(input.config, input.kind)
    const fresh = (proof: ProofSummary | null): proof is ProofSummary =>
        proof !== null && proof.observedAt.getTime() >= windowStartMs

    const lastProof = latest(visible, () => true)
    const lastPass = latest(visible, (proof) => proof.outcome === 'PASS')
    const lastDecisive = latest(visible, (proof) => DECISIVE_OUTCOMES.has(proof.outcome))
    const result = (status: GapStatus, reason: string): GapStatusResult => ({status, reason, lastProof, lastPass})

    if (!input.required) return result('NOT_APPLICABLE', 'NO_CLAIM_REQUIRES_KIND')
    if (fresh(lastProof) && lastProof.outcome === 'NOT_APPLICABLE') {
        return result('NOT_APPLICABLE', `PROBER_NOT_APPLICABLE:${lastProof.reason}`)
    }

    const healthyHeartbeat = input.liveness.some((state) => state.healthy)
    if (healthyHeartbeat && fresh(lastProof) && lastProof.outcome === 'UNREACHABLE') {
        return result('CONTRADICTED', 'HEARTBEAT_HEALTHY_ENDPOINT_UNREACHABLE')
    }
    if (fresh(lastDecisive) && lastDecisive.outcome === 'FAIL' && CONTRADICTION_REASONS.has(lastDecisive.reason)) {
        return result('CONTRADICTED', lastDecisive.reason)
    }
    if (input.kind === 'MARKET_CREDIT_REDEMPTION') {
        const overdue = overdueRedemption(input.redemptions, at)
        if (overdue !== null) return result('CONTRADICTED', 'REDEMPTION_PAST_DEADLINE_UNSETTLED')
    }

    if (lastProof === null) return result('UNPROVEN', 'NEVER_PROBED')
    if (lastDecisive === null) return result('UNPROVEN', 'ONLY_INCONCLUSIVE')

    if (fresh(lastDecisive)) {
        if (lastDecisive.outcome === 'PASS') return result('PROVEN', lastDecisive.reason)
        return result('FAILING', `${lastDecisive.outcome}:${lastDecisive.reason}`)
    }
    if (lastPass !== null) return result('STALE', 'LAST_PASS_TOO_OLD')
    return result('STALE', 'LAST_FAILURE_TOO_OLD')
}
