import type {Hex} from 'viem'
import {DEFAULT_HEARTBEAT_INTERVAL_SECONDS, DEFAULT_HEARTBEAT_MAX_MISSED} from '../db/counted-heartbeats'
import type {ProofRecordFields} from '../proofs/record'
import type {ProofOutcome} from '../proofs/types'
import {canonicalJson, type CanonicalValue} from './canonical-json'
import type {GapConfig} from './config'
import {loadChainFacts, loadHeartbeatSettings, loadMembership, operatorExists, type ServiceActivation} from './evidence-chain'
import {computeGaps, proofMatchesScope} from './gaps'
import {loadGapFacts} from './load'
import {MAX_ID} from './query'
import {merkleLeaf, merkleRoot} from './merkle'
import {EVIDENCE_SETTLE_SECONDS} from './period'
import {SCORECARD_METHODOLOGY_VERSION} from './scorecard'
import {asDate, asInt, asNullableText, asText, type SqlRunner} from './sql'
import type {GapRow, ProofSummary} from './types'

/**
 * Format tag of a bundle file. A new layout gets a new tag, so that old bundles stay verifiable. Layout 2 adds the
 * chain facts and proof records that claims and gap statuses rest on, `chainFacts` to claims and `lastPassId` to gaps.
 */
export const EVIDENCE_BUNDLE_ENCODING = 'proofgap-evidence-bundle/2'

/** Format tags that `evidence verify` reads. */
export const READABLE_BUNDLE_ENCODINGS: readonly string[] = ['proofgap-evidence-bundle/1', EVIDENCE_BUNDLE_ENCODING]

/**
 * Version of the gap method the claims and statuses in a bundle were computed with. Version 2 judges liveness by the
 * heartbeat setting in force at each heartbeat and counts only heartbeats sent while the operator was a member.
 */
export const GAP_METHODOLOGY_VERSION = 'proofgap-gap/2'

/** Order of record types in a bundle; within a type, records are ordered by id. */
export const RECORD_TYPES = ['meta', 'chain', 'proof', 'claim', 'gap'] as const

export type EvidenceRecordType = (typeof RECORD_TYPES)[number]

/** One record of a bundle: a plain JSON object with a type and an id unique within its type. */
export type EvidenceRecord = {type: EvidenceRecordType; id: string} & {[key: string]: CanonicalValue}

export interface EvidenceEntry {
    leaf: Hex
    record: EvidenceRecord
}

export interface EvidenceBundle {
    encoding: string
    /** Merkle root over the record leaves; it is the bundle id. */
    root: Hex
    records: EvidenceEntry[]
}

export {EVIDENCE_SETTLE_SECONDS}

export interface EvidenceRequest {
    serviceId: string
    operator: string
    from: Date
    to: Date
}

function compareRecords(a: EvidenceRecord, b: EvidenceRecord): number {
    const byType = RECORD_TYPES.indexOf(a.type) - RECORD_TYPES.indexOf(b.type)
    if (byType !== 0) return byType
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** Orders records, hashes each into a leaf and computes the root. Throws on duplicate (type, id). */
export function assembleBundle(records: EvidenceRecord[]): EvidenceBundle {
    const sorted = [...records].sort(compareRecords)
    for (let index = 1; index < sorted.length; index += 1) {
        const previous = sorted[index - 1] as EvidenceRecord
        const current = sorted[index] as EvidenceRecord
        if (previous.type === current.type && previous.id === current.id) {
            throw new Error(`evidence record ${current.type}:${current.id} appears twice; record ids must be unique per type`)
        }
    }
    const entries = sorted.map((record) => ({leaf: merkleLeaf(canonicalJson(record)), record}))
    return {encoding: EVIDENCE_BUNDLE_ENCODING, root: merkleRoot(entries.map((entry) => entry.leaf)), records: entries}
}

/** Serializes a bundle as canonical JSON followed by a newline. */
export function serializeBundle(bundle: EvidenceBundle): string {
    return `${canonicalJson(bundle as unknown as CanonicalValue)}\n`
}

/** Converts a proof_record row to the signed fields that verifyRecord checks. */
export function proofFieldsFromRow(row: Record<string, unknown>): ProofRecordFields {
    return {
        targetUrl: asText(row.url),
        operator: asText(row.operator),
        blueprintId: asText(row.blueprint_id),
        serviceId: asNullableText(row.service_id),
        kind: asText(row.kind),
        outcome: asText(row.outcome) as ProofOutcome,
        reason: asText(row.reason),
        observed: asText(row.observed),
        httpStatus: row.http_status === null ? null : asInt(row.http_status),
        latencyMs: row.latency_ms === null ? 0 : asInt(row.latency_ms),
        observedAt: asDate(row.observed_at).toISOString(),
        chainHead: asText(row.chain_head),
        excerpt: asNullableText(row.excerpt) ?? '',
        evidenceDigest: asText(row.evidence_digest) as Hex,
    }
}

/**
 * Lists the heartbeat settings in force during a bundle's period, in chain order: the one in force at `from`, then
 * each change before `to`. `changeId` names the change's chain record. The first entry has none (and `since` null)
 * when the service used the default setting at `from`.
 */
function heartbeatSettingsOf(rows: Record<string, unknown>[], from: Date): CanonicalValue[] {
    const settings: CanonicalValue[] = rows.map((row) => ({
        changeId: asText(row.id),
        since: asDate(row.timestamp).toISOString(),
        interval: asText(row.interval),
        maxMissed: asInt(row.max_missed),
    }))
    const first = rows[0]
    if (first === undefined || asDate(first.timestamp).getTime() > from.getTime()) {
        const unconfigured = {
            changeId: null,
            since: null,
            interval: DEFAULT_HEARTBEAT_INTERVAL_SECONDS.toString(),
            maxMissed: DEFAULT_HEARTBEAT_MAX_MISSED,
        }
        settings.unshift(unconfigured)
    }
    return settings
}

export class EvidenceError extends Error {
    override name = 'EvidenceError'
}

/** Error of a bundle request whose service is not indexed, or whose operator never joined that service. */
export class EvidenceNotFoundError extends EvidenceError {
    override name = 'EvidenceNotFoundError'
}

/**
 * Reads the chain facts, proof records, claims and gap statuses of one operator in one service over [from, to) and
 * assembles them into a bundle. Besides the records of the period, it contains every chain fact and proof record that
 * its claim and gap records name, even when older than `from`. Deterministic: the same database and request always
 * give the same bytes.
 */
export async function buildEvidenceBundle(sql: SqlRunner, request: EvidenceRequest, config: GapConfig): Promise<EvidenceBundle> {
    const operator = request.operator.toLowerCase()
    const {serviceId, from, to} = request
    if (!/^0x[0-9a-f]{40}$/.test(operator)) throw new EvidenceError(`operator ${JSON.stringify(request.operator)} is not a 0x address`)
    if (!/^\d+$/.test(serviceId)) throw new EvidenceError(`service ${JSON.stringify(serviceId)} is not a decimal service id`)
    if (serviceId.length > 100 || BigInt(serviceId) > MAX_ID) {
        throw new EvidenceError(`service ${serviceId.slice(0, 40)}${serviceId.length > 40 ? '…' : ''} is out of range: ids are uint64, at most ${MAX_ID}`)
    }
    if (!(to.getTime() > from.getTime())) throw new EvidenceError('to must be after from')
    // Rows of the last minutes can still arrive (the processor's lag, a prober lane's records stored when its slowest
    // job ends), and a bundle built before them would not be built again with the same root.
    const latest = Date.now() - EVIDENCE_SETTLE_SECONDS * 1000
    if (to.getTime() > latest) {
        throw new EvidenceError(
            `to ${to.toISOString()} is too recent: a bundle covers a period that ended at least ${EVIDENCE_SETTLE_SECONDS / 60} minutes ago, ` +
                `so that every record of it is stored and the bundle can be built again with the same root; pass a time up to ${new Date(latest).toISOString()}`,
        )
    }

    const [service] = await sql(
        `SELECT id, blueprint_id, activation_request_id::text AS activation_request_id, confidentiality,
                activated_at_block, activated_at, activated_tx
         FROM service WHERE id = $1`,
        [serviceId],
    )
    if (service === undefined) throw new EvidenceNotFoundError(`service ${serviceId} not found in the indexed chain tables`)
    const membership = await loadMembership(sql, serviceId, operator, to)
    if (membership === null) {
        if (!(await operatorExists(sql, operator))) {
            throw new EvidenceNotFoundError(`operator ${operator} not found in the indexed chain tables (check the address)`)
        }
        throw new EvidenceNotFoundError(
            `operator ${operator} is not a member of service ${serviceId} (it did not join the service before ${to.toISOString()})`,
        )
    }
    const blueprintId = asText(service.blueprint_id)
    const activation: ServiceActivation = {
        blueprintId,
        activationRequestId: asText(service.activation_request_id),
        confidentiality: asInt(service.confidentiality),
        activatedAt: asDate(service.activated_at),
        activatedTx: asText(service.activated_tx),
    }

    const facts = await loadGapFacts(sql, {operator, serviceId}, to)
    const computed = computeGaps(facts, to, config)
    const claims = computed.claims.filter((claim) => claim.serviceId === serviceId)
    const gaps = computed.gaps.filter((gap) => gap.serviceId === serviceId)
    const [chain, settings, proofs] = await Promise.all([
        loadChainFacts(sql, {serviceId, operator, from, to}, membership, activation, claims),
        loadHeartbeatSettings(sql, serviceId, from, to),
        loadProofRecords(sql, {serviceId, operator, from, to, blueprintId}, decisionProofIds(facts.proofs, gaps, serviceId)),
    ])

    const records: EvidenceRecord[] = [
        {
            type: 'meta',
            id: 'request',
            serviceId,
            blueprintId,
            operator,
            from: from.toISOString(),
            to: to.toISOString(),
            gapMethodologyVersion: GAP_METHODOLOGY_VERSION,
            scorecardMethodologyVersion: SCORECARD_METHODOLOGY_VERSION,
            proofFreshnessSeconds: config.proofFreshnessSeconds,
            service: {
                confidentiality: activation.confidentiality,
                heartbeatSettings: heartbeatSettingsOf(settings.rows, from),
                activatedAtBlock: asInt(service.activated_at_block),
                activatedAt: activation.activatedAt.toISOString(),
                activatedTx: activation.activatedTx,
            },
        },
        ...chain.records,
        ...settings.records,
        ...proofs,
    ]
    for (const claim of claims) {
        records.push({
            type: 'claim',
            id: claim.kind,
            blueprintId: claim.blueprintId,
            serviceId,
            operator,
            product: claim.product,
            detail: claim.detail,
            requiredKinds: claim.requiredKinds,
            chainFacts: chain.claimFacts.get(claim.kind) ?? [],
        })
    }
    for (const gap of gaps) {
        records.push({
            type: 'gap',
            id: gap.kind,
            status: gap.status,
            reason: gap.reason,
            claims: gap.claims,
            at: to.toISOString(),
            lastProofId: gap.lastProofId,
            lastProofAt: gap.lastProofAt?.toISOString() ?? null,
            lastOutcome: gap.lastOutcome,
            lastPassId: gap.lastPassId,
            lastPassAt: gap.lastPassAt?.toISOString() ?? null,
        })
    }
    return assembleBundle(records)
}

/**
 * Lists the ids of the proof records that the gap statuses of the service were decided from: for each kind of a gap
 * row, the latest record of each outcome at or before `to` that counts for the service.
 */
function decisionProofIds(proofs: readonly ProofSummary[], gaps: readonly GapRow[], serviceId: string): string[] {
    const ids = new Set<string>()
    for (const gap of gaps) {
        const scope = {operator: gap.operator, blueprintId: gap.blueprintId, serviceId, product: gap.product}
        for (const proof of proofs) {
            if (proof.operator === gap.operator && proof.kind === gap.kind && proofMatchesScope(proof, scope)) ids.add(proof.id)
        }
        if (gap.lastProofId !== null) ids.add(gap.lastProofId)
        if (gap.lastPassId !== null) ids.add(gap.lastPassId)
    }
    return [...ids].sort()
}

/**
 * Reads the signed proof records of the period for the service or its blueprint, and the records of `decisionIds`
 * that are older than the period.
 */
async function loadProofRecords(
    sql: SqlRunner,
    request: {serviceId: string; operator: string; from: Date; to: Date; blueprintId: string},
    decisionIds: string[],
): Promise<EvidenceRecord[]> {
    const {serviceId, operator, from, to, blueprintId} = request
    const rows = await sql(
        `SELECT * FROM proof_record
         WHERE (operator = $2 AND (service_id = $1 OR (service_id IS NULL AND blueprint_id = $5))
                AND observed_at >= $3 AND observed_at < $4)
            OR id = ANY($6::text[])
         ORDER BY id`,
        [serviceId, operator, from, to, blueprintId, decisionIds],
    )
    return rows.map((row) => ({
        type: 'proof',
        id: asText(row.id),
        fields: proofFieldsFromRow(row) as unknown as CanonicalValue,
        recordDigest: asText(row.record_digest),
        signature: asText(row.signature),
        signer: asText(row.signer),
    }))
}

/** Lists slashes whose evidence equals a bundle root; the processor stores evidence as lower-case hex. */
export async function findSlashesByEvidence(sql: SqlRunner, root: string): Promise<Record<string, unknown>[]> {
    return sql(
        `SELECT id, slash_id::text AS slash_id, service_id::text AS service_id, operator_id AS operator, status, evidence,
                proposed_at_block, proposed_at, proposed_tx
         FROM slash WHERE evidence = lower($1) ORDER BY slash_id`,
        [root],
    )
}
