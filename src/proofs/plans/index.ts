import type {ProofKind} from '../kinds'
import type {ProbeRequest, ProbeResponse, ProofVerdict} from '../types'
import type {ChainFacts} from './facts'
import {GENERIC_PLANS} from './generic'
import type {KindPlan} from './plan-types'
import {ResponseShapeError} from './read-json'
import {SANDBOX_PLANS} from './sandbox'
import {SURPLUS_PLANS} from './surplus'
import type {ProbeTarget} from './target'
import {TRADING_PLANS} from './trading'
import {fail, inconclusive} from './verdicts'

export type {ChainFacts, ConfidentialityValue, LeakedSecretFinding, RedemptionFact, VaultPolicyFact} from './facts'
export {Confidentiality, DEFAULT_MAX_ATTESTATION_AGE_SECONDS, emptyChainFacts} from './facts'
export type {Evaluator, FollowUpPlan, KindPlan, RequestPlan} from './plan-types'
export {MAX_FOLLOW_UP_REQUESTS} from './plan-types'
export type {ProbeTarget} from './target'

/** The request plan and evaluator of every proof kind. */
export const PROOF_PLANS: Readonly<Record<ProofKind, KindPlan>> = {
    ...SANDBOX_PLANS,
    ...TRADING_PLANS,
    ...SURPLUS_PLANS,
    ...GENERIC_PLANS,
}

/**
 * Lists the first requests of `kind` for `target`. Chain-only kinds (credit redemption, SP1 proof path) and
 * per-bot kinds without a bot id return none. Target fields that cannot form a URL yield no request.
 */
export function requestsFor(kind: ProofKind, target: ProbeTarget): ProbeRequest[] {
    try {
        return PROOF_PLANS[kind].requests(target)
    } catch {
        // encodeURIComponent rejects lone surrogates in chain-supplied ids; such a target gets no request.
        return []
    }
}

/**
 * Lists the requests that depend on the first responses: peers of an attester quorum, books of listed instruments,
 * validator endpoints. Returns none for other kinds. The URLs come from the operator and are as hostile as chain data.
 */
export function followUpRequestsFor(kind: ProofKind, target: ProbeTarget, firstResponses: ProbeResponse[]): ProbeRequest[] {
    const followUps = PROOF_PLANS[kind].followUps
    if (followUps === undefined) return []
    try {
        return followUps(target, firstResponses)
    } catch {
        return []
    }
}

/**
 * Evaluates the responses of one probe against the chain facts. Pure and total: a body that is not JSON gives
 * FAIL INVALID_JSON, JSON with wrong field types gives FAIL WRONG_SHAPE, and an evaluator bug gives INCONCLUSIVE
 * EVALUATOR_ERROR instead of an exception.
 */
export function evaluate(kind: ProofKind, responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    try {
        return PROOF_PLANS[kind].evaluate(responses, facts)
    } catch (error) {
        if (error instanceof ResponseShapeError) return fail(error.reason, error.detail)
        const name = error instanceof Error ? error.name : typeof error
        return inconclusive('EVALUATOR_ERROR', `${kind} evaluator raised ${name}`)
    }
}
