import type {Hex} from 'viem'
import {DEFAULT_HEARTBEAT_INTERVAL_SECONDS, DEFAULT_HEARTBEAT_MAX_MISSED} from '../db/counted-heartbeats'
import type {ProofRecordFields} from '../proofs/record'
import type {ProofOutcome} from '../proofs/types'
import {canonicalJson, type CanonicalValue} from './canonical-json'
import type {GapConfig} from './config'
import {computeGaps} from './gaps'
import {loadGapFacts} from './load'
import {merkleLeaf, merkleRoot} from './merkle'
import {EVIDENCE_SETTLE_SECONDS} from './period'
import {SCORECARD_METHODOLOGY_VERSION} from './scorecard'
import {asDate, asInt, asNullableText, asText, type SqlRunner} from './sql'

/** Format tag of a bundle file; a new layout gets a new tag so old bundles stay verifiable. */
export const EVIDENCE_BUNDLE_ENCODING = 'proofgap-evidence-bundle/1'

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

/** Splits a squid log id (`<height 10 digits>-<5 hex of block hash>-<log index 6 digits>`) into its parts. */
export function parseLogId(logId: string): {blockNumber: number; blockHashPrefix: string; logIndex: number} | null {
    const match = /^(\d{10})-([0-9a-f]{5})-(\d{6})$/.exec(logId)
    if (match === null) return null
    return {blockNumber: Number(match[1]), blockHashPrefix: `0x${match[2]}`, logIndex: Number(match[3])}
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

/** SQL expression of the chain_block id (`<height 10 digits>-<5 hex of hash>`) that a squid log id starts with. */
const BLOCK_ID_OF_LOG_ID = (column: string): string => `left(${column}, 16)`

/**
 * Builds a chain-fact record from a row that carries a squid log id. `blockHash` is the full hash from chain_block;
 * it is null only when the block row is missing (an index written before chain_block existed).
 */
function chainRecord(
    event: string,
    row: Record<string, unknown>,
    fields: Record<string, CanonicalValue>,
): EvidenceRecord {
    const logId = asText(row.id)
    const position = parseLogId(logId)
    return {
        type: 'chain',
        id: logId,
        event,
        blockNumber: position?.blockNumber ?? null,
        blockHash: asNullableText(row.block_hash),
        blockHashPrefix: position?.blockHashPrefix ?? null,
        logIndex: position?.logIndex ?? null,
        txHash: asText(row.tx_hash),
        timestamp: asDate(row.timestamp).toISOString(),
        fields,
    }
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

/**
 * Reads every chain fact, proof record, claim and gap status of one operator in one service over [from, to) and
 * assembles them into a bundle. Deterministic: the same database and request always give the same bytes.
 */
export async function buildEvidenceBundle(sql: SqlRunner, request: EvidenceRequest, config: GapConfig): Promise<EvidenceBundle> {
    const operator = request.operator.toLowerCase()
    const {serviceId, from, to} = request
    if (!/^0x[0-9a-f]{40}$/.test(operator)) throw new EvidenceError(`operator ${JSON.stringify(request.operator)} is not a 0x address`)
    if (!/^\d+$/.test(serviceId)) throw new EvidenceError(`service ${JSON.stringify(serviceId)} is not a decimal service id`)
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
        `SELECT id, blueprint_id, confidentiality, activated_at_block, activated_at, activated_tx FROM service WHERE id = $1`,
        [serviceId],
    )
    if (service === undefined) throw new EvidenceError(`service ${serviceId} not found in the indexed chain tables`)
    const blueprintId = asText(service.blueprint_id)
    const window = [serviceId, operator, from, to]

    const [settings, heartbeats, results, statusEvents, slashes, proofs] = await Promise.all([
        sql(
            // The setting in force at `from` and every change before `to`, in chain order.
            `SELECT c.id, c.tx_hash, c.timestamp, c.interval::text AS interval, c.max_missed, b.hash AS block_hash
             FROM (
               (SELECT * FROM heartbeat_config_change WHERE service_id = $1 AND timestamp <= $2 ORDER BY timestamp DESC, id DESC LIMIT 1)
               UNION ALL
               (SELECT * FROM heartbeat_config_change WHERE service_id = $1 AND timestamp > $2 AND timestamp < $3)
             ) c LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('c.id')}
             ORDER BY c.timestamp, c.id`,
            [serviceId, from, to],
        ),
        sql(
            `SELECT h.id, h.block_number, h.tx_hash, h.timestamp, h.status_code, h.blueprint_id::text AS blueprint_id,
                    h.reported_blueprint_id::text AS reported_blueprint_id, h.event_timestamp::text AS event_timestamp,
                    b.hash AS block_hash
             FROM heartbeat h LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('h.id')}
             WHERE h.service_id = $1 AND h.operator_id = $2 AND h.timestamp >= $3 AND h.timestamp < $4
             ORDER BY h.id`,
            window,
        ),
        sql(
            `SELECT r.id, r.tx_hash, r.timestamp, c.call_id::text AS call_id, r.output_hash, r.output_size, r.aggregated,
                    r.latency_seconds, b.hash AS block_hash
             FROM job_result r JOIN job_call c ON c.id = r.call_id
             LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('r.id')}
             WHERE r.service_id = $1 AND r.operator_id = $2 AND r.timestamp >= $3 AND r.timestamp < $4
             ORDER BY r.id`,
            window,
        ),
        sql(
            `SELECT e.id, e.tx_hash, e.timestamp, e.kind, e.old_status, e.new_status, e.missed_beats, e.reason,
                    b.hash AS block_hash
             FROM status_event e LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('e.id')}
             WHERE e.service_id = $1 AND e.operator_id = $2 AND e.timestamp >= $3 AND e.timestamp < $4
             ORDER BY e.id`,
            window,
        ),
        sql(
            // A rolled-back block's chain_block row is deleted with the rows it carried, so one height gives one block.
            `SELECT s.id, s.slash_id::text AS slash_id, s.proposer, s.slash_bps, s.effective_slash_bps, s.evidence,
                    s.execute_after::text AS execute_after, s.proposed_at_block, s.proposed_at, s.proposed_tx,
                    b.hash AS block_hash
             FROM slash s LEFT JOIN chain_block b ON b.height = s.proposed_at_block
             WHERE s.service_id::text = $1 AND s.operator_id = $2 AND s.proposed_at >= $3 AND s.proposed_at < $4
             ORDER BY s.slash_id`,
            window,
        ),
        sql(
            `SELECT * FROM proof_record
             WHERE operator = $2 AND (service_id = $1 OR (service_id IS NULL AND blueprint_id = $5))
               AND observed_at >= $3 AND observed_at < $4
             ORDER BY id`,
            [...window, blueprintId],
        ),
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
                confidentiality: asInt(service.confidentiality),
                heartbeatSettings: heartbeatSettingsOf(settings, from),
                activatedAtBlock: asInt(service.activated_at_block),
                activatedAt: asDate(service.activated_at).toISOString(),
                activatedTx: asText(service.activated_tx),
            },
        },
    ]

    for (const row of settings) {
        records.push(
            chainRecord('HeartbeatConfigUpdated', row, {
                serviceId,
                interval: asText(row.interval),
                maxMissed: asInt(row.max_missed),
            }),
        )
    }
    for (const row of heartbeats) {
        records.push(
            chainRecord('HeartbeatReceived', row, {
                serviceId,
                operator,
                blueprintId: asText(row.blueprint_id),
                reportedBlueprintId: asText(row.reported_blueprint_id),
                statusCode: asInt(row.status_code),
                timestamp: asText(row.event_timestamp),
            }),
        )
    }
    for (const row of results) {
        records.push(
            chainRecord('JobResultSubmitted', row, {
                serviceId,
                operator,
                callId: asText(row.call_id),
                outputHash: asText(row.output_hash),
                outputSize: asInt(row.output_size),
                aggregated: row.aggregated === true,
                latencySeconds: asInt(row.latency_seconds),
            }),
        )
    }
    for (const row of statusEvents) {
        records.push(
            chainRecord(`OperatorStatus:${asText(row.kind)}`, row, {
                serviceId,
                operator,
                oldStatus: row.old_status === null ? null : asInt(row.old_status),
                newStatus: row.new_status === null ? null : asInt(row.new_status),
                missedBeats: row.missed_beats === null ? null : asInt(row.missed_beats),
                reason: asNullableText(row.reason),
            }),
        )
    }
    for (const row of slashes) {
        const blockHash = asNullableText(row.block_hash)
        records.push({
            type: 'chain',
            id: `slash-${asText(row.slash_id)}`,
            event: 'SlashProposed',
            blockNumber: asInt(row.proposed_at_block),
            blockHash,
            blockHashPrefix: blockHash === null ? null : blockHash.slice(0, 7),
            // NOTE: the slash table stores no log index, so the RPC recheck finds the log by slash id in the receipt.
            logIndex: null,
            txHash: asText(row.proposed_tx),
            timestamp: asDate(row.proposed_at).toISOString(),
            fields: {
                slashId: asText(row.slash_id),
                serviceId,
                operator,
                proposer: asText(row.proposer),
                slashBps: asInt(row.slash_bps),
                effectiveSlashBps: asInt(row.effective_slash_bps),
                evidence: asText(row.evidence),
                executeAfter: asText(row.execute_after),
            },
        })
    }
    for (const row of proofs) {
        const fields = proofFieldsFromRow(row)
        records.push({
            type: 'proof',
            id: asText(row.id),
            fields: fields as unknown as CanonicalValue,
            recordDigest: asText(row.record_digest),
            signature: asText(row.signature),
            signer: asText(row.signer),
        })
    }

    const facts = await loadGapFacts(sql, {operator, serviceId}, to)
    const computed = computeGaps(facts, to, config)
    for (const claim of computed.claims.filter((c) => c.serviceId === serviceId)) {
        records.push({
            type: 'claim',
            id: claim.kind,
            blueprintId: claim.blueprintId,
            serviceId,
            operator,
            product: claim.product,
            detail: claim.detail,
            requiredKinds: claim.requiredKinds,
        })
    }
    for (const gap of computed.gaps.filter((g) => g.serviceId === serviceId)) {
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
            lastPassAt: gap.lastPassAt?.toISOString() ?? null,
        })
    }
    return assembleBundle(records)
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
