import type {ProbeRequest, ProbeResponse, ProofVerdict} from '../types'
import type {ChainFacts} from './facts'
import type {ProbeTarget} from './target'

/** The requests of one kind for one target; chain-only kinds return none. */
export type RequestPlan = (target: ProbeTarget) => ProbeRequest[]

/**
 * Requests that depend on the first answers (peers listed by `/clob/status`, books of listed instruments,
 * validator endpoints of a bot). Every URL in them comes from the operator and must pass the same address checks.
 */
export type FollowUpPlan = (target: ProbeTarget, firstResponses: ProbeResponse[]) => ProbeRequest[]

/**
 * A pure evaluator. `responses` are in request order: the plan's requests first, then the follow-ups. It may
 * throw `ResponseShapeError`; the dispatcher turns that into a verdict.
 */
export type Evaluator = (responses: ProbeResponse[], facts: ChainFacts) => ProofVerdict

export interface KindPlan {
    requests: RequestPlan
    followUps?: FollowUpPlan
    evaluate: Evaluator
}

/** Most follow-up requests one probe may add, so an operator listing thousands of peers cannot fan the prober out. */
export const MAX_FOLLOW_UP_REQUESTS = 16
