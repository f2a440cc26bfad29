import {PROOF_KINDS, proofKindsForProduct, type ProofKind} from '../proofs/kinds'
import type {ProductFamily} from '../config/products'
import {compareDecimal, compareText, deriveClaims, familyOf} from './claims'
import type {GapConfig} from './config'
import {livenessForMemberships} from './liveness'
import {decideGapStatus} from './status'
import type {
    Claim,
    ClaimKind,
    GapFacts,
    GapRow,
    GapStatus,
    Liveness,
    MembershipFact,
    ProofSummary,
    RedemptionFact,
    RegistrationFact,
} from './types'

/** One scope a gap is computed for: a blueprint registration (serviceId null) or a service membership. */
export interface GapScope {
    operator: string
    blueprintId: string
    serviceId: string | null
    product: string | null
}

/** Lists the kinds that can apply to a product; an unmapped product gets only the product-independent kinds. */
export function kindsForProduct(product: string | null): readonly ProofKind[] {
    const family = familyOf(product)
    if (family === null) return UNMAPPED_PRODUCT_KINDS
    // Computed once per family, because a blueprint page needs the kinds of thousands of scopes.
    let kinds = KINDS_BY_FAMILY.get(family)
    if (kinds === undefined) {
        kinds = proofKindsForProduct(family)
        KINDS_BY_FAMILY.set(family, kinds)
    }
    return kinds
}

const UNMAPPED_PRODUCT_KINDS: readonly ProofKind[] = PROOF_KINDS.filter(
    (kind) => kind === 'ENDPOINT_REACHABILITY' || kind === 'PRIVATE_PORT_EXPOSURE',
)
const KINDS_BY_FAMILY = new Map<ProductFamily, readonly ProofKind[]>()

function scopeKey(operator: string, blueprintId: string, serviceId: string | null): string {
    return `${operator}|${blueprintId}|${serviceId ?? ''}`
}

/** A proof counts for a service scope when it names that service, or names no service but the same blueprint. */
export function proofMatchesScope(proof: ProofSummary, scope: GapScope): boolean {
    if (scope.serviceId === null) return proof.blueprintId === scope.blueprintId
    if (proof.serviceId !== null) return proof.serviceId === scope.serviceId
    return proof.blueprintId === scope.blueprintId
}

/**
 * Returns the scopes computeGaps evaluates, keyed by operator, blueprint and service: every active registration
 * (blueprint scope) and every active service membership (service scope).
 */
export function gapScopes(registrations: readonly RegistrationFact[], memberships: readonly MembershipFact[]): Map<string, GapScope> {
    const scopes = new Map<string, GapScope>()
    for (const registration of registrations) {
        if (registration.status !== 'ACTIVE') continue
        const scope = {operator: registration.operator, blueprintId: registration.blueprintId, serviceId: null, product: registration.product}
        scopes.set(scopeKey(scope.operator, scope.blueprintId, null), scope)
    }
    for (const membership of memberships) {
        if (!membership.active) continue
        const scope = {
            operator: membership.operator,
            blueprintId: membership.blueprintId,
            serviceId: membership.serviceId,
            product: membership.product,
        }
        scopes.set(scopeKey(scope.operator, scope.blueprintId, scope.serviceId), scope)
    }
    return scopes
}

/** The fields that identify a gap row. */
export type GapRowKey = Pick<GapRow, 'operator' | 'blueprintId' | 'serviceId' | 'kind'>

export interface GapComputation {
    claims: Claim[]
    liveness: Liveness[]
    gaps: GapRow[]
}

/**
 * Computes claims, liveness and one gap row per (operator, scope, kind) at `at`. Scopes are every active
 * registration (blueprint scope) and every active service membership (service scope); kinds are those of the
 * scope's product. Pure: the result depends only on the arguments.
 */
export function computeGaps(facts: GapFacts, at: Date, config: GapConfig): GapComputation {
    const liveness = livenessForMemberships(facts.memberships, facts.heartbeats, at)
    const claims = deriveClaims(facts, at, liveness)

    const scopes = gapScopes(facts.registrations, facts.memberships)

    const claimsByScope = new Map<string, Claim[]>()
    for (const claim of claims) {
        const key = scopeKey(claim.operator, claim.blueprintId, claim.serviceId)
        const group = claimsByScope.get(key)
        if (group === undefined) claimsByScope.set(key, [claim])
        else group.push(claim)
    }
    // By operator, then kind: nested maps spare building a composite key string for each of the rows below.
    const proofsByOperatorKind = new Map<string, Map<string, ProofSummary[]>>()
    for (const proof of facts.proofs) {
        let byKind = proofsByOperatorKind.get(proof.operator)
        if (byKind === undefined) {
            byKind = new Map()
            proofsByOperatorKind.set(proof.operator, byKind)
        }
        const group = byKind.get(proof.kind)
        if (group === undefined) byKind.set(proof.kind, [proof])
        else group.push(proof)
    }

    // Grouped by operator once, so that the loop below costs scopes + rows and not scopes × rows.
    const livenessByOperator = new Map<string, {state: Liveness; membership: MembershipFact}[]>()
    liveness.forEach((state, index) => {
        const membership = facts.memberships[index]
        if (membership === undefined) return
        const group = livenessByOperator.get(state.operator)
        if (group === undefined) livenessByOperator.set(state.operator, [{state, membership}])
        else group.push({state, membership})
    })
    const redemptionsByOperator = new Map<string, RedemptionFact[]>()
    for (const redemption of facts.redemptions) {
        const group = redemptionsByOperator.get(redemption.issuer)
        if (group === undefined) redemptionsByOperator.set(redemption.issuer, [redemption])
        else group.push(redemption)
    }

    const gaps: GapRow[] = []
    for (const [key, scope] of scopes) {
        const scopeClaims = claimsByScope.get(key) ?? []
        const scopeLiveness = (livenessByOperator.get(scope.operator) ?? [])
            .filter(({state, membership}) =>
                scope.serviceId === null ? membership.blueprintId === scope.blueprintId : state.serviceId === scope.serviceId,
            )
            .map(({state}) => state)
        const redemptions = redemptionsByOperator.get(scope.operator) ?? []

        for (const kind of kindsForProduct(scope.product)) {
            const requiring: ClaimKind[] = scopeClaims
                .filter((claim) => claim.requiredKinds.includes(kind))
                .map((claim) => claim.kind)
            const proofs = (proofsByOperatorKind.get(scope.operator)?.get(kind) ?? []).filter((proof) =>
                proofMatchesScope(proof, scope),
            )
            const decision = decideGapStatus({
                kind,
                required: requiring.length > 0,
                proofs,
                liveness: scopeLiveness,
                redemptions,
                at,
                config,
            })
            // Plain properties, not a spread of `scope`: V8 builds spread objects on a slow path, which took about half
            // the time of a 14,000-row blueprint computation.
            gaps.push({
                operator: scope.operator,
                blueprintId: scope.blueprintId,
                serviceId: scope.serviceId,
                product: scope.product,
                kind,
                status: decision.status,
                reason: decision.reason,
                claims: requiring,
                lastProofId: decision.lastProof?.id ?? null,
                lastProofAt: decision.lastProof?.observedAt ?? null,
                lastOutcome: decision.lastProof?.outcome ?? null,
                lastPassId: decision.lastPass?.id ?? null,
                lastPassAt: decision.lastPass?.observedAt ?? null,
            })
        }
    }
    gaps.sort(compareGapRows)
    return {claims, liveness, gaps}
}

/** Orders gap rows, or their keys, by operator, blueprint, service and kind. */
export function compareGapRows(a: GapRowKey, b: GapRowKey): number {
    return (
        compareText(a.operator, b.operator) ||
        compareDecimal(a.blueprintId, b.blueprintId) ||
        compareDecimal(a.serviceId ?? '', b.serviceId ?? '') ||
        compareText(a.kind, b.kind)
    )
}

/** Counts gap rows by status, with every status present (zero when absent). */
export function countByStatus(gaps: GapRow[]): Record<GapStatus, number> {
    const counts: Record<GapStatus, number> = {PROVEN: 0, STALE: 0, FAILING: 0, CONTRADICTED: 0, UNPROVEN: 0, NOT_APPLICABLE: 0}
    for (const gap of gaps) counts[gap.status] += 1
    return counts
}

/** A claim is proven when it requires at least one kind and every required kind is PROVEN in its scope. */
export function isClaimProven(claim: Claim, gaps: GapRow[]): boolean {
    if (claim.requiredKinds.length === 0) return false
    return claim.requiredKinds.every((kind) =>
        gaps.some(
            (gap) =>
                gap.operator === claim.operator &&
                gap.blueprintId === claim.blueprintId &&
                gap.serviceId === claim.serviceId &&
                gap.kind === kind &&
                gap.status === 'PROVEN',
        ),
    )
}
