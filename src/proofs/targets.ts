import type {Pool, PoolClient} from 'pg'
import {keccak256, stringToBytes} from 'viem'
import {type Product, productFamily} from '../config/products'
import {redactUrl} from './http/redact-url'
import {type ProofKind, proofKindsForProduct} from './kinds'

/** Source on chain of a probe target's URL. */
export type ProbeTargetSource = 'RPC_ADDRESS' | 'SIDECAR' | 'VENUE'

/** One endpoint to probe, derived from the indexed chain tables. */
export interface DerivedTarget {
    id: string
    /**
     * Advertised URL with credentials removed (see redactUrl). The prober probes this form: credentials that a chain
     * row carries are public by accident and are neither used nor stored.
     */
    url: string
    source: ProbeTargetSource
    /** Lower-case 0x address. */
    operator: string
    /** Decimal string of the uint64. */
    blueprintId: string
    /** Decimal string; null for an operator-level endpoint without an active service. */
    serviceId: string | null
    product: Product | null
    /** Sandbox provision call id (decimal string), for the readiness route. */
    callId: string | null
}

/** Hex digits of keccak256(url) kept in a target id: 64 bits, enough to keep one operator's URLs apart. */
const URL_HASH_ID_HEX_DIGITS = 16

/** Builds the stable id `source:blueprint:operator:keccak(url) prefix`, so a URL keeps its id across restarts. */
export function probeTargetId(source: ProbeTargetSource, blueprintId: string, operator: string, url: string): string {
    const urlHash = keccak256(stringToBytes(url)).slice(2, 2 + URL_HASH_ID_HEX_DIGITS)
    return `${source}:${blueprintId}:${operator.toLowerCase()}:${urlHash}`
}

/**
 * Lists the proof kinds that apply to a target. Sidecars are meant to stay private, so only the exposure check
 * applies to them; an operator endpoint gets the kinds of its product family plus reachability; the private-port
 * check on an operator endpoint is a trading concern (its default URLs are the trading API ports).
 */
export function kindsForTarget(source: ProbeTargetSource, product: Product | null): ProofKind[] {
    if (source === 'SIDECAR') return ['PRIVATE_PORT_EXPOSURE']
    if (product === null) return ['ENDPOINT_REACHABILITY']
    // A validator blueprint runs no bot, so the per-bot trading kinds do not apply to it.
    if (product === 'trading-validator') return ['ENDPOINT_REACHABILITY']
    const family = productFamily(product)
    return proofKindsForProduct(family).filter((kind) => family === 'trading' || kind !== 'PRIVATE_PORT_EXPOSURE')
}

interface RegistrationRow {
    operator: string
    blueprint_id: string
    rpc_address: string
    service_id: string | null
}

interface SidecarRow {
    operator: string
    blueprint_id: string
    sidecar_url: string
    service_id: string
    call_id: string | null
}

/**
 * Active registrations with an advertised address. The service is the newest active service of that blueprint in
 * which the operator still has an active membership (null when there is none).
 */
const REGISTRATION_TARGETS_SQL = `
    SELECT r.operator_id AS operator, b.blueprint_id::text AS blueprint_id, r.rpc_address,
           svc.id AS service_id
    FROM registration r
    JOIN blueprint b ON b.id = r.blueprint_id
    LEFT JOIN LATERAL (
        SELECT s.id
        FROM service s
        JOIN service_membership m ON m.service_id = s.id AND m.operator_id = r.operator_id AND m.active
        WHERE s.blueprint_id = r.blueprint_id AND s.status = 'ACTIVE'
        ORDER BY s.service_id DESC
        LIMIT 1
    ) svc ON true
    WHERE r.status = 'ACTIVE' AND r.rpc_address IS NOT NULL AND r.rpc_address <> ''`

/** Sidecars of active services: OperatorProvisioned rows and sandbox_create outputs, newest first per URL. */
const SIDECAR_TARGETS_SQL = `
    SELECT p.operator_id AS operator, b.blueprint_id::text AS blueprint_id, p.sidecar_url,
           s.id AS service_id, NULL::text AS call_id
    FROM provisioned_endpoint p
    JOIN service s ON s.id = p.service_id AND s.status = 'ACTIVE'
    JOIN blueprint b ON b.id = s.blueprint_id
    WHERE p.active AND p.sidecar_url <> ''
    UNION ALL
    SELECT x.operator, b.blueprint_id::text, x.sidecar_url, s.id, x.call_id::text
    FROM sandbox x
    JOIN service s ON s.id = x.service_id AND s.status = 'ACTIVE'
    JOIN blueprint b ON b.id = s.blueprint_id
    WHERE x.status = 'ACTIVE' AND x.sidecar_url IS NOT NULL AND x.sidecar_url <> '' AND x.operator IS NOT NULL`

/** Newest sandbox provision call per (service, operator), for the readiness route of the operator API. */
const PROVISION_CALLS_SQL = `
    SELECT DISTINCT ON (service_id, operator) service_id, operator, call_id::text AS call_id
    FROM sandbox
    WHERE status = 'ACTIVE' AND call_id IS NOT NULL AND operator IS NOT NULL AND service_id = ANY($1::text[])
    ORDER BY service_id, operator, created_at_block DESC`

/**
 * Reads every probe target from the chain tables: three queries for the whole network, whatever its size.
 * `blueprints` maps blueprint ids to products (from the network configuration); unknown blueprints keep a null
 * product and get only the reachability check.
 */
export async function deriveProbeTargets(
    db: Pool | PoolClient,
    blueprints: Readonly<Record<string, Product>>,
): Promise<DerivedTarget[]> {
    const registrations = (await db.query<RegistrationRow>(REGISTRATION_TARGETS_SQL)).rows
    const sidecars = (await db.query<SidecarRow>(SIDECAR_TARGETS_SQL)).rows

    const serviceIds = [...new Set(registrations.map((row) => row.service_id).filter((id): id is string => id !== null))]
    const provisionCalls = new Map<string, string>()
    if (serviceIds.length > 0) {
        const rows = (await db.query<{service_id: string; operator: string; call_id: string}>(PROVISION_CALLS_SQL, [serviceIds])).rows
        for (const row of rows) provisionCalls.set(`${row.service_id}:${row.operator.toLowerCase()}`, row.call_id)
    }

    const targets = new Map<string, DerivedTarget>()
    const add = (derived: Omit<DerivedTarget, 'id'>): void => {
        const url = redactUrl(derived.url)
        const id = probeTargetId(derived.source, derived.blueprintId, derived.operator, url)
        // The first row wins: provisioned endpoints come before sandbox rows for the same URL.
        if (!targets.has(id)) targets.set(id, {...derived, id, url})
    }

    for (const row of registrations) {
        const product = blueprints[row.blueprint_id] ?? null
        const operator = row.operator.toLowerCase()
        add({
            url: row.rpc_address,
            source: product === 'surplus-market' ? 'VENUE' : 'RPC_ADDRESS',
            operator,
            blueprintId: row.blueprint_id,
            serviceId: row.service_id,
            product,
            callId: row.service_id === null ? null : (provisionCalls.get(`${row.service_id}:${operator}`) ?? null),
        })
    }
    for (const row of sidecars) {
        add({
            url: row.sidecar_url,
            source: 'SIDECAR',
            operator: row.operator.toLowerCase(),
            blueprintId: row.blueprint_id,
            serviceId: row.service_id,
            product: blueprints[row.blueprint_id] ?? null,
            callId: row.call_id,
        })
    }
    return [...targets.values()]
}

/** Counts of one target refresh. */
export interface TargetRefreshResult {
    active: number
    deactivated: number
}

/**
 * Upserts the derived targets into probe_target and marks every other active target inactive: its operator
 * unregistered, its service terminated or its URL changed. Rows are never deleted, so proof history keeps its target.
 */
export async function syncProbeTargets(db: Pool | PoolClient, targets: DerivedTarget[], now: Date): Promise<TargetRefreshResult> {
    const ids = targets.map((target) => target.id)
    if (targets.length > 0) {
        await db.query(
            `INSERT INTO probe_target (id, url, source, operator, blueprint_id, service_id, product, active, first_seen_at, last_seen_at)
             SELECT t.id, t.url, t.source, t.operator, t.blueprint_id, t.service_id, t.product, true, $8, $8
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                  AS t(id, url, source, operator, blueprint_id, service_id, product)
             ON CONFLICT (id) DO UPDATE SET
                 active = true, last_seen_at = EXCLUDED.last_seen_at,
                 service_id = EXCLUDED.service_id, product = EXCLUDED.product`,
            [
                ids,
                targets.map((target) => target.url),
                targets.map((target) => target.source),
                targets.map((target) => target.operator),
                targets.map((target) => target.blueprintId),
                targets.map((target) => target.serviceId),
                targets.map((target) => target.product),
                now,
            ],
        )
    }
    const deactivated = await db.query(`UPDATE probe_target SET active = false WHERE active AND NOT (id = ANY($1::text[]))`, [ids])
    return {active: targets.length, deactivated: deactivated.rowCount ?? 0}
}
