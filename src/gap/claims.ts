import {isProduct, productFamily, type Product, type ProductFamily} from '../config/products'
import type {ProofKind} from '../proofs/kinds'
import {kindsForTarget, type ProbeTargetSource} from '../proofs/targets'
import {livenessForMemberships} from './liveness'
import type {Claim, ClaimKind, GapFacts, Liveness, MembershipFact} from './types'

/** Confidentiality value of a service that requires a TEE. */
export const CONFIDENTIALITY_TEE_REQUIRED = 1

/** Product-independent kinds of a registration. Only the subset the prober runs is required (see requiredKindsFor). */
const ENDPOINT_KINDS: ProofKind[] = ['ENDPOINT_REACHABILITY', 'PRIVATE_PORT_EXPOSURE']

/** Proofs that back membership of an active service, by product family. */
const MEMBER_KINDS: Record<ProductFamily, ProofKind[]> = {
    sandbox: ['SANDBOX_ENDPOINT_HEALTH', 'SANDBOX_READINESS', 'SANDBOX_SECRET_HANDLING', 'SANDBOX_SIDECAR_CAPABILITIES'],
    trading: ['TRADING_BOT_HEALTH', 'TRADING_VAULT_POLICY', 'TRADING_MODEL_SPEND'],
    surplus: ['MARKET_ORDER_BOOK', 'MARKET_ATTESTER_QUORUM'],
}

/** Proofs that a healthy heartbeat should agree with: the endpoint responds and the product reports healthy. */
const HEARTBEAT_KINDS: Record<ProductFamily, ProofKind[]> = {
    sandbox: ['ENDPOINT_REACHABILITY', 'SANDBOX_ENDPOINT_HEALTH'],
    trading: ['ENDPOINT_REACHABILITY', 'TRADING_BOT_HEALTH'],
    surplus: ['ENDPOINT_REACHABILITY', 'MARKET_ORDER_BOOK'],
}

/** Proofs that job results were real work. */
const JOB_RESULT_KINDS: Record<ProductFamily, ProofKind[]> = {
    sandbox: ['SANDBOX_READINESS', 'SANDBOX_SECRET_HANDLING'],
    trading: ['TRADING_BOT_HEALTH'],
    surplus: ['MARKET_FILL_SETTLEMENT'],
}

/** Returns the product family of a configured product name, or null when the blueprint is unmapped. */
export function familyOf(product: string | null): ProductFamily | null {
    return product !== null && isProduct(product) ? productFamily(product) : null
}

/** Source of the target the prober derives from a registration's advertised address, as deriveProbeTargets does. */
function registrationSource(product: string | null): ProbeTargetSource {
    return product === 'surplus-market' ? 'VENUE' : 'RPC_ADDRESS'
}

/**
 * Lists the kinds the prober runs on the target that a claim is checked on: the sidecar URL for SIDECAR_PUBLISHED,
 * the advertised address for every other claim. kindsForTarget is the prober's own table, so a claim never requires
 * a kind that no probe of the product can establish.
 */
function kindsProbedFor(claim: ClaimKind, product: string | null): ReadonlySet<ProofKind> {
    const known: Product | null = product !== null && isProduct(product) ? product : null
    const source = claim === 'SIDECAR_PUBLISHED' ? 'SIDECAR' : registrationSource(product)
    return new Set(kindsForTarget(source, known))
}

/** Kinds that would back a claim, before the filter to what the prober runs. */
function kindsBackingClaim(claim: ClaimKind, family: ProductFamily | null, validatorBlueprint: boolean): ProofKind[] {
    switch (claim) {
        case 'REGISTERED':
            return ENDPOINT_KINDS
        case 'SIDECAR_PUBLISHED':
            return ['PRIVATE_PORT_EXPOSURE']
        case 'SERVICE_MEMBER':
            if (family === null) return ['ENDPOINT_REACHABILITY']
            // The prober checks validator status on the trading bot's endpoint, so a validator blueprint's own
            // address gets only the reachability check.
            if (validatorBlueprint) return ['ENDPOINT_REACHABILITY']
            return MEMBER_KINDS[family]
        case 'HEARTBEATING':
            return family === null ? ['ENDPOINT_REACHABILITY'] : HEARTBEAT_KINDS[family]
        case 'JOB_RESULTS_SUBMITTED':
            return family === null ? [] : JOB_RESULT_KINDS[family]
        case 'TEE_REQUIRED':
            // Only the sandbox publishes an attestation the prober can check; the docker-runtime contradiction is
            // found by the sandbox health and readiness evaluators.
            return family === 'sandbox' ? ['SANDBOX_TEE_ATTESTATION', 'SANDBOX_ENDPOINT_HEALTH'] : []
        case 'TRADING_BOT_LIVE':
            return ['TRADING_MODE', 'TRADING_TRADE_EXECUTION']
        case 'CREDIT_LOT_SOLD':
            return ['MARKET_CREDIT_REDEMPTION', 'MARKET_INFERENCE_DELIVERY', 'MARKET_SP1_PROOF_PATH']
    }
}

/**
 * Lists the proof kinds a claim requires: the kinds that back it, limited to those the prober runs on the claim's
 * target. So a sandbox or surplus registration requires reachability only, a trading registration also the
 * private-port check, and a published sidecar the private-port check of the sidecar. An unmapped product requires
 * only reachability.
 */
export function requiredKindsFor(claim: ClaimKind, product: string | null, validatorBlueprint = false): ProofKind[] {
    // Computed once per (claim, product, validator), because a blueprint page derives thousands of claims.
    const key = `${claim}|${product ?? ''}|${validatorBlueprint}`
    let kinds = REQUIRED_KINDS.get(key)
    if (kinds === undefined) {
        const probed = kindsProbedFor(claim, product)
        kinds = kindsBackingClaim(claim, familyOf(product), validatorBlueprint).filter((kind) => probed.has(kind))
        REQUIRED_KINDS.set(key, kinds)
    }
    return [...kinds]
}

const REQUIRED_KINDS = new Map<string, readonly ProofKind[]>()

function serviceClaim(membership: MembershipFact, kind: ClaimKind, detail: string): Claim {
    const validator = membership.product === 'trading-validator'
    return {
        operator: membership.operator,
        blueprintId: membership.blueprintId,
        serviceId: membership.serviceId,
        product: membership.product,
        kind,
        detail,
        requiredKinds: requiredKindsFor(kind, membership.product, validator),
    }
}

/**
 * Derives every claim the chain makes for the operators in `facts` at instant `at`. Pure: the same facts and instant
 * always give the same claims, in a stable order (operator, blueprint, service, claim kind). `liveness` is that of
 * facts.memberships at `at`, index for index; a caller that has computed it passes it in.
 */
export function deriveClaims(
    facts: GapFacts,
    at: Date,
    liveness: Liveness[] = livenessForMemberships(facts.memberships, facts.heartbeats, at),
): Claim[] {
    const claims: Claim[] = []

    for (const registration of facts.registrations) {
        if (registration.status !== 'ACTIVE') continue
        claims.push({
            operator: registration.operator,
            blueprintId: registration.blueprintId,
            serviceId: null,
            product: registration.product,
            kind: 'REGISTERED',
            detail: `registered for blueprint ${registration.blueprintId}`,
            requiredKinds: requiredKindsFor('REGISTERED', registration.product),
        })

        if (familyOf(registration.product) === 'surplus') {
            const sold = facts.redemptions.filter(
                (redemption) => redemption.issuer === registration.operator && redemption.requestedAt.getTime() <= at.getTime(),
            )
            if (sold.length > 0) {
                claims.push({
                    operator: registration.operator,
                    blueprintId: registration.blueprintId,
                    serviceId: null,
                    product: registration.product,
                    kind: 'CREDIT_LOT_SOLD',
                    detail: `${sold.length} redemption(s) of credit lots issued by the operator`,
                    requiredKinds: requiredKindsFor('CREDIT_LOT_SOLD', registration.product),
                })
            }
        }
    }

    const liveTrading = new Set(facts.liveTradingServices)
    // One row per (operator, service): the job result statement groups by both.
    const jobResults = new Map(facts.jobResults.map((row) => [`${row.operator}|${row.serviceId}`, row]))
    const sidecarUrls = new Map(facts.sidecars.map((sidecar) => [`${sidecar.operator}|${sidecar.serviceId}`, sidecar.urlCount]))
    for (const [index, membership] of facts.memberships.entries()) {
        if (!membership.active) continue
        claims.push(serviceClaim(membership, 'SERVICE_MEMBER', `member of active service ${membership.serviceId}`))

        const state = liveness[index]
        if (state !== undefined && state.live) {
            claims.push(
                serviceClaim(
                    membership,
                    'HEARTBEATING',
                    `heartbeat status ${state.lastStatusCode} at ${state.lastHeartbeatAt?.toISOString()}, live until ${state.deadline?.toISOString()}`,
                ),
            )
        }

        const results = jobResults.get(`${membership.operator}|${membership.serviceId}`)
        if (results !== undefined && results.resultCount > 0) {
            claims.push(serviceClaim(membership, 'JOB_RESULTS_SUBMITTED', `${results.resultCount} job result(s) submitted`))
        }

        if (membership.confidentiality === CONFIDENTIALITY_TEE_REQUIRED) {
            claims.push(serviceClaim(membership, 'TEE_REQUIRED', 'service confidentiality is TeeRequired'))
        }

        if (familyOf(membership.product) === 'trading' && liveTrading.has(membership.serviceId)) {
            claims.push(serviceClaim(membership, 'TRADING_BOT_LIVE', 'trading started on chain and not stopped'))
        }

        const urlCount = sidecarUrls.get(`${membership.operator}|${membership.serviceId}`) ?? 0
        if (urlCount > 0) {
            claims.push(serviceClaim(membership, 'SIDECAR_PUBLISHED', `${urlCount} sidecar URL(s) published on chain`))
        }
    }

    return claims.sort(compareClaims)
}

function compareClaims(a: Claim, b: Claim): number {
    return (
        compareText(a.operator, b.operator) ||
        compareDecimal(a.blueprintId, b.blueprintId) ||
        compareDecimal(a.serviceId ?? '', b.serviceId ?? '') ||
        compareText(a.kind, b.kind)
    )
}

export function compareText(a: string, b: string): number {
    if (a < b) return -1
    if (a > b) return 1
    return 0
}

/** Orders decimal strings numerically; the empty string (no service) sorts first. */
export function compareDecimal(a: string, b: string): number {
    return a.length - b.length || compareText(a, b)
}
