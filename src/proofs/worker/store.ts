import {PROCESSOR_STATE_SCHEMA} from '../../config'
import type {Pool, PoolClient} from 'pg'
import type {SignedProofRecord} from '../record'

/** One signed record with the bookkeeping columns that the signature does not cover. */
export interface StoredProof {
    id: string
    targetId: string
    roundId: string
    record: SignedProofRecord
}

/**
 * Inserts records in one statement. A record whose id (round, target, kind) is already stored is skipped, so a job
 * retried after a crash never duplicates a proof. Returns the number of rows actually inserted.
 */
export async function insertProofRecords(db: Pool | PoolClient, proofs: StoredProof[]): Promise<number> {
    if (proofs.length === 0) return 0
    const column = <T>(pick: (proof: StoredProof) => T): T[] => proofs.map(pick)
    const result = await db.query(
        `INSERT INTO proof_record (id, target_id, round, url, operator, blueprint_id, service_id, kind, outcome, reason,
             observed, http_status, latency_ms, observed_at, chain_head, excerpt, evidence_digest, record_digest,
             signature, signer)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
             $8::text[], $9::text[], $10::text[], $11::text[], $12::int[], $13::int[], $14::timestamptz[],
             $15::numeric[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[])
         ON CONFLICT (id) DO NOTHING`,
        [
            column((p) => p.id),
            column((p) => p.targetId),
            column((p) => p.roundId),
            column((p) => p.record.fields.targetUrl),
            column((p) => p.record.fields.operator),
            column((p) => p.record.fields.blueprintId),
            column((p) => p.record.fields.serviceId),
            column((p) => p.record.fields.kind),
            column((p) => p.record.fields.outcome),
            column((p) => p.record.fields.reason),
            column((p) => p.record.fields.observed),
            column((p) => p.record.fields.httpStatus),
            column((p) => p.record.fields.latencyMs),
            column((p) => p.record.fields.observedAt),
            column((p) => p.record.fields.chainHead),
            column((p) => p.record.fields.excerpt),
            column((p) => p.record.fields.evidenceDigest),
            column((p) => p.record.recordDigest),
            column((p) => p.record.signature),
            column((p) => p.record.signer),
        ],
    )
    return result.rowCount ?? 0
}

/** Sets last_probed_at of the probed targets. */
export async function markTargetsProbed(db: Pool | PoolClient, targetIds: string[], at: Date): Promise<void> {
    if (targetIds.length === 0) return
    await db.query(`UPDATE probe_target SET last_probed_at = $2 WHERE id = ANY($1::text[])`, [targetIds, at])
}

/** The squid processor's state schema. One network per database, so the name does not depend on the network. */
export function processorStateSchema(_networkName: string): string {
    return PROCESSOR_STATE_SCHEMA
}

/**
 * Reads the chain head the indexed tables reflect: the processor's own status height when its state schema exists,
 * else the highest block of the registration and service tables (tests seed tables without a processor).
 */
export async function readChainHead(db: Pool | PoolClient, networkName: string): Promise<bigint> {
    const schema = processorStateSchema(networkName)
    const exists = await db.query<{present: boolean}>(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${schema}.status`])
    if (exists.rows[0]?.present === true) {
        const status = await db.query<{height: string | null}>(`SELECT max(height)::text AS height FROM "${schema}".status`)
        const height = status.rows[0]?.height
        if (height != null && BigInt(height) >= 0n) return BigInt(height)
    }
    const fallback = await db.query<{height: string | null}>(
        `SELECT GREATEST(
             (SELECT max(registered_at_block) FROM registration),
             (SELECT max(activated_at_block) FROM service),
             (SELECT max(block_number) FROM job_result),
             0)::text AS height`,
    )
    return BigInt(fallback.rows[0]?.height ?? '0')
}
