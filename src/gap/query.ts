import {isProofKind} from '../proofs/kinds'
import {isProduct, PRODUCTS} from '../config/products'
import {compareDecimal, compareText} from './claims'
import type {GapConfig} from './config'
import {compareGapRows, computeGaps, countByStatus, gapScopes, isClaimProven, kindsForProduct, type GapRowKey} from './gaps'
import {loadGapFacts, loadOperatorFacts, loadScopeFacts, type FactFilter, type ScopeFacts} from './load'
import type {SqlRunner} from './sql'
import {isGapStatus, type Claim, type GapRow, type GapStatus, type Liveness} from './types'

/** Largest page a caller may request; a larger limit is rejected, not clipped. */
export const MAX_PAGE_LIMIT = 1000
export const DEFAULT_PAGE_LIMIT = 100

/** Sort keys callers may name. Sorting happens on computed rows; no key ever reaches SQL. */
export const GAP_SORT_KEYS = {
    operator_ASC: (a: GapRow, b: GapRow) => compareText(a.operator, b.operator),
    operator_DESC: (a: GapRow, b: GapRow) => compareText(b.operator, a.operator),
    blueprint_ASC: (a: GapRow, b: GapRow) => compareDecimal(a.blueprintId, b.blueprintId),
    service_ASC: (a: GapRow, b: GapRow) => compareDecimal(a.serviceId ?? '', b.serviceId ?? ''),
    kind_ASC: (a: GapRow, b: GapRow) => compareText(a.kind, b.kind),
    status_ASC: (a: GapRow, b: GapRow) => compareText(a.status, b.status),
    lastProofAt_DESC: (a: GapRow, b: GapRow) => (b.lastProofAt?.getTime() ?? -Infinity) - (a.lastProofAt?.getTime() ?? -Infinity),
    lastProofAt_ASC: (a: GapRow, b: GapRow) => (a.lastProofAt?.getTime() ?? -Infinity) - (b.lastProofAt?.getTime() ?? -Infinity),
} as const

export type GapSortKey = keyof typeof GAP_SORT_KEYS

export class GapQueryError extends Error {
    override name = 'GapQueryError'
}

export interface GapQuery extends FactFilter {
    kind?: string
    status?: string
    at?: Date
    limit?: number
    offset?: number
    orderBy?: string
}

const OPERATOR_PATTERN = /^0x[0-9a-fA-F]{40}$/
/** A decimal id as the chain tables store it: no sign, no leading zero, at most 20 digits. */
export const DECIMAL_PATTERN = /^(0|[1-9]\d{0,19})$/

/** The largest blueprint and service id: both are uint64 on chain. */
export const MAX_ID = 2n ** 64n - 1n

/** Returns why `value` is no blueprint or service id (named `name` in the message), or undefined when it is one. */
export function idError(name: string, value: string): string | undefined {
    if (/^[1-9]\d*$/.test(value) && (value.length > 20 || BigInt(value) > MAX_ID)) {
        const valueText = value.length > 40 ? `${value.slice(0, 40)}… (${value.length} digits)` : value
        return `${name} ${valueText} is out of range: ids are uint64, at most ${MAX_ID}`
    }
    if (!DECIMAL_PATTERN.test(value)) return `${name} ${JSON.stringify(value)} is invalid: expected a decimal id such as "12"`
    return undefined
}

/** Checks every query argument and throws GapQueryError naming the first invalid one and its accepted form. */
export function validateGapQuery(query: GapQuery): {limit: number; offset: number; orderBy: GapSortKey | null} {
    if (query.operator !== undefined && !OPERATOR_PATTERN.test(query.operator)) {
        throw new GapQueryError(`operator ${JSON.stringify(query.operator)} is invalid: expected a 0x address of 40 hex digits`)
    }
    for (const [name, value] of [['blueprint', query.blueprintId], ['service', query.serviceId]] as const) {
        const error = value === undefined ? undefined : idError(name, value)
        if (error !== undefined) throw new GapQueryError(error)
    }
    if (query.kind !== undefined && !isProofKind(query.kind)) {
        throw new GapQueryError(`kind ${JSON.stringify(query.kind)} is not a proof kind, such as ENDPOINT_REACHABILITY`)
    }
    if (query.product !== undefined && !isProduct(query.product)) {
        throw new GapQueryError(`product ${JSON.stringify(query.product)} is invalid: expected one of ${PRODUCTS.join(', ')}`)
    }
    if (query.status !== undefined && !isGapStatus(query.status)) {
        throw new GapQueryError(
            `status ${JSON.stringify(query.status)} is invalid: expected PROVEN, STALE, FAILING, CONTRADICTED, UNPROVEN or NOT_APPLICABLE`,
        )
    }
    if (query.at !== undefined && Number.isNaN(query.at.getTime())) {
        throw new GapQueryError('at is not a valid instant: pass an ISO 8601 time such as 2026-01-05T00:00:00Z')
    }
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
        throw new GapQueryError(`limit ${limit} is out of range: pass 1 to ${MAX_PAGE_LIMIT} and page with offset`)
    }
    const offset = query.offset ?? 0
    if (!Number.isInteger(offset) || offset < 0) {
        throw new GapQueryError(`offset ${offset} is invalid: expected a non-negative integer`)
    }
    let orderBy: GapSortKey | null = null
    if (query.orderBy !== undefined) {
        if (!Object.prototype.hasOwnProperty.call(GAP_SORT_KEYS, query.orderBy)) {
            throw new GapQueryError(
                `orderBy ${JSON.stringify(query.orderBy)} is not a sort key: use one of ${Object.keys(GAP_SORT_KEYS).join(', ')}`,
            )
        }
        orderBy = query.orderBy as GapSortKey
    }
    return {limit, offset, orderBy}
}

export interface GapPage {
    at: Date
    totalCount: number
    gaps: GapRow[]
}

/** Reads facts, computes gaps at `query.at` (default now), then filters, sorts and pages the rows. */
export async function queryGaps(sql: SqlRunner, query: GapQuery, config: GapConfig): Promise<GapPage> {
    const {limit, offset, orderBy} = validateGapQuery(query)
    const at = query.at ?? new Date()
    const scopes = await loadScopeFacts(sql, normalizeFilter(query), at)
    // Without a status filter and in operator order, the scopes alone decide which rows are on a page. So only the
    // operators on the page need their facts read and their gaps computed.
    if (query.status === undefined && (orderBy === null || orderBy === 'operator_ASC')) {
        return pageInScopeOrder(sql, scopes, query, {at, limit, offset}, config)
    }
    const facts = await loadOperatorFacts(sql, scopes, at)
    let rows = filterGapRows(computeGaps(facts, at, config).gaps, query)
    if (orderBy !== null) {
        const compare = GAP_SORT_KEYS[orderBy]
        rows = [...rows].sort((a, b) => compare(a, b) || compareGapRows(a, b))
    }
    return {at, totalCount: rows.length, gaps: rows.slice(offset, offset + limit)}
}

function filterGapRows(rows: GapRow[], query: GapQuery): GapRow[] {
    if (query.serviceId !== undefined) rows = rows.filter((row) => row.serviceId === query.serviceId)
    if (query.kind !== undefined) rows = rows.filter((row) => row.kind === query.kind)
    if (query.status !== undefined) rows = rows.filter((row) => row.status === (query.status as GapStatus))
    return rows
}

/**
 * Pages rows in computeGaps order (operator, blueprint, service, kind). The row keys come from the scopes and the
 * kinds of their products, as computeGaps derives them. Gaps are then computed for the operators on the page only.
 */
async function pageInScopeOrder(
    sql: SqlRunner,
    scopes: ScopeFacts,
    query: GapQuery,
    page: {at: Date; limit: number; offset: number},
    config: GapConfig,
): Promise<GapPage> {
    const keys: GapRowKey[] = []
    for (const scope of gapScopes(scopes.registrations, scopes.memberships).values()) {
        if (query.serviceId !== undefined && scope.serviceId !== query.serviceId) continue
        for (const kind of kindsForProduct(scope.product)) {
            if (query.kind !== undefined && kind !== query.kind) continue
            keys.push({operator: scope.operator, blueprintId: scope.blueprintId, serviceId: scope.serviceId, kind})
        }
    }
    keys.sort(compareGapRows)
    const pageKeys = keys.slice(page.offset, page.offset + page.limit)
    if (pageKeys.length === 0) return {at: page.at, totalCount: keys.length, gaps: []}

    const operators = new Set(pageKeys.map((key) => key.operator))
    const facts = await loadOperatorFacts(
        sql,
        {
            registrations: scopes.registrations.filter((row) => operators.has(row.operator)),
            memberships: scopes.memberships.filter((row) => operators.has(row.operator)),
        },
        page.at,
    )
    const rows = filterGapRows(computeGaps(facts, page.at, config).gaps, query)
    // In `keys`, the rows of the page's operators start at the first key of the page's first operator.
    const firstOperatorStart = keys.findIndex((key) => key.operator === pageKeys[0].operator)
    const operatorKeys = keys.filter((key) => operators.has(key.operator)).length
    if (rows.length !== operatorKeys) {
        // An invariant, not bad input: computeGaps and the key enumeration above disagree on the scopes or kinds.
        throw new Error(`gap page of ${operators.size} operators is invalid: computed ${rows.length} rows, expected ${operatorKeys} from their scopes`)
    }
    const start = page.offset - firstOperatorStart
    return {at: page.at, totalCount: keys.length, gaps: rows.slice(start, start + page.limit)}
}

function normalizeFilter(query: GapQuery): FactFilter {
    return {
        operator: query.operator?.toLowerCase(),
        blueprintId: query.blueprintId,
        serviceId: query.serviceId,
        product: query.product,
    }
}

export interface OperatorSummary {
    operator: string
    at: Date
    claims: Claim[]
    claimsProven: number
    gapCounts: Record<GapStatus, number>
    liveness: Liveness[]
    gaps: GapRow[]
    /** Proof records of the operator observed at or before `at`, by outcome. */
    proofCounts: Record<string, number>
}

/** Computes claims, gap counts by status, liveness per service and proof counts of one operator at `at`. */
export async function operatorSummary(sql: SqlRunner, operator: string, at: Date, config: GapConfig): Promise<OperatorSummary> {
    validateGapQuery({operator})
    const address = operator.toLowerCase()
    const facts = await loadGapFacts(sql, {operator: address}, at)
    const computed = computeGaps(facts, at, config)
    const proofRows = await sql(
        'SELECT outcome, count(*)::int AS n FROM proof_record WHERE operator = $1 AND observed_at <= $2 GROUP BY outcome',
        [address, at],
    )
    const proofCounts: Record<string, number> = {}
    for (const row of proofRows) proofCounts[String(row.outcome)] = Number(row.n)
    return {
        operator: address,
        at,
        claims: computed.claims,
        claimsProven: computed.claims.filter((claim) => isClaimProven(claim, computed.gaps)).length,
        gapCounts: countByStatus(computed.gaps),
        liveness: computed.liveness.filter((state) => state.operator === address),
        gaps: computed.gaps,
        proofCounts,
    }
}
