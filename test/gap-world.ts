import {keccak256, stringToHex, type Hex} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import type pg from 'pg'
import {signRecord, type ProofRecordFields} from '../src/proofs/record'
import type {ProofOutcome} from '../src/proofs/types'

// A small hand-made world for the gap, API, scorecard and evidence tests. Times are chosen so that the numbers in
// the scorecard test can be computed by hand from this file alone.

// Well-known anvil development key; it guards nothing.
export const PROBER_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
export const prober = privateKeyToAccount(PROBER_KEY)

export const GOOD = '0x00000000000000000000000000000000000000a1'
export const CONTRADICTED = '0x00000000000000000000000000000000000000b2'
export const NEVER_PROBED = '0x00000000000000000000000000000000000000c3'
export const STALE = '0x00000000000000000000000000000000000000d4'
export const OPERATORS = [GOOD, CONTRADICTED, NEVER_PROBED, STALE]

export const BLUEPRINT = '1'
export const SERVICE = '10'
/** The instant the gap tests query at: Wednesday of ISO week 2026-W02. */
export const AT = new Date('2026-01-07T12:00:00.000Z')
const SETUP = new Date('2026-01-01T00:00:00.000Z')

const minutes = (count: number) => count * 60_000

/** Builds a squid-style log id for a block number, a 5-hex-digit hash prefix and a log index. */
export function logId(block: number, logIndex: number): string {
    return `${String(block).padStart(10, '0')}-abcde-${String(logIndex).padStart(6, '0')}`
}

export const txHash = (n: number): string => keccak256(stringToHex(`tx-${n}`))

/** Inserts one row given as column names and values. */
export async function insert(client: pg.Client, table: string, row: Record<string, unknown>): Promise<void> {
    const columns = Object.keys(row)
    const placeholders = columns.map((_, index) => `$${index + 1}`)
    await client.query(
        `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${placeholders.join(', ')})`,
        Object.values(row),
    )
}

let heartbeatBlock = 1000

/** Inserts a heartbeat of `operator` in a service of the blueprint (the world's service by default) and returns its id. */
export async function heartbeat(client: pg.Client, operator: string, at: Date, statusCode: number, serviceId = SERVICE): Promise<string> {
    heartbeatBlock += 1
    const id = logId(heartbeatBlock, 0)
    await insert(client, 'heartbeat', {
        id,
        service_id: serviceId,
        operator_id: operator,
        blueprint_id: BLUEPRINT,
        reported_blueprint_id: BLUEPRINT,
        status_code: statusCode,
        event_timestamp: String(Math.floor(at.getTime() / 1000)),
        block_number: heartbeatBlock,
        timestamp: at,
        tx_hash: txHash(heartbeatBlock),
    })
    return id
}

let proofCounter = 0

/** Inserts a proof record signed with the test prober key (for the world's service by default) and returns its id. */
export async function proof(
    client: pg.Client,
    operator: string,
    kind: string,
    outcome: ProofOutcome,
    observedAt: Date,
    latencyMs: number,
    reason = outcome === 'PASS' ? 'OK' : 'UNREACHABLE',
    serviceId = SERVICE,
): Promise<string> {
    proofCounter += 1
    const fields: ProofRecordFields = {
        targetUrl: 'http://127.0.0.1:9/health',
        operator,
        blueprintId: BLUEPRINT,
        serviceId,
        kind,
        outcome,
        reason,
        observed: `outcome=${outcome}`,
        httpStatus: outcome === 'PASS' ? 200 : null,
        latencyMs,
        observedAt: observedAt.toISOString(),
        chainHead: '1234',
        excerpt: '',
        evidenceDigest: keccak256(stringToHex(`evidence-${proofCounter}`)),
    }
    const signed = await signRecord(fields, prober)
    const id = `proof-${String(proofCounter).padStart(3, '0')}`
    await insert(client, 'proof_record', {
        id,
        target_id: `RPC_ADDRESS:${BLUEPRINT}:${operator}:x`,
        round: null,
        url: fields.targetUrl,
        operator,
        blueprint_id: BLUEPRINT,
        service_id: serviceId,
        kind,
        outcome,
        reason,
        observed: fields.observed,
        http_status: fields.httpStatus,
        latency_ms: latencyMs,
        observed_at: observedAt,
        chain_head: fields.chainHead,
        excerpt: fields.excerpt,
        evidence_digest: fields.evidenceDigest,
        record_digest: signed.recordDigest,
        signature: signed.signature,
        signer: signed.signer,
    })
    return id
}

/** An operator in the operator table that never joined the world's service. */
export const OUTSIDER = '0x' + 'e5'.repeat(20)

/** Inserts OUTSIDER into the operator table, and returns a function that deletes it again. */
export async function insertOutsider(client: pg.Client): Promise<() => Promise<void>> {
    await insert(client, 'operator', {
        id: OUTSIDER, stake: '0', restaking_status: 'ACTIVE', unstake_scheduled: '0', leaving_ready_round: null,
        first_seen_block: 2, first_seen_at: SETUP,
    })
    return async () => {
        await client.query('DELETE FROM operator WHERE id = $1', [OUTSIDER])
    }
}

/** Kinds a sandbox operator in an active service with healthy heartbeats must prove. */
export const GOOD_KINDS = [
    'ENDPOINT_REACHABILITY',
    'PRIVATE_PORT_EXPOSURE',
    'SANDBOX_ENDPOINT_HEALTH',
    'SANDBOX_READINESS',
    'SANDBOX_SECRET_HANDLING',
    'SANDBOX_SIDECAR_CAPABILITIES',
]

/**
 * Seeds the world: one sandbox blueprint, one service with four members, heartbeats, proofs, jobs and a slash.
 * Every member heartbeats healthy one minute before AT (interval 60 s, max missed 3, so live until AT + 2 min).
 */
export async function seedWorld(client: pg.Client): Promise<void> {
    await insert(client, 'blueprint', {
        id: BLUEPRINT, blueprint_id: BLUEPRINT, owner: '0x' + '11'.repeat(20), manager: null, metadata_uri: null,
        metadata_uri_raw: null, metadata_hash: null, product: 'sandbox-cloud', shape: 'current', active: true,
        created_at_block: 1, created_at: SETUP, created_tx: txHash(1), deactivated_at: null,
    })
    await insert(client, 'service', {
        id: SERVICE, service_id: SERVICE, blueprint_id: BLUEPRINT, activation_request_id: '0', request_id: null,
        from_quote: false, confidentiality: 0, status: 'ACTIVE', termination_reason: null, heartbeat_interval: '60',
        heartbeat_max_missed: 3, heartbeat_configured: true, activated_at_block: 5, activated_at: SETUP,
        activated_tx: txHash(5), terminated_at: null, terminated_tx: null,
    })
    // The HeartbeatConfigUpdated that set the service's interval and max missed, in the block that activated it.
    await insert(client, 'heartbeat_config_change', {
        id: logId(5, 9), service_id: SERVICE, interval: '60', max_missed: 3, block_number: 5, timestamp: SETUP, tx_hash: txHash(5),
    })
    for (const [index, operator] of OPERATORS.entries()) {
        await insert(client, 'operator', {
            id: operator, stake: '1000000000000000000000', restaking_status: 'ACTIVE', unstake_scheduled: '0',
            leaving_ready_round: null, first_seen_block: 2, first_seen_at: SETUP,
        })
        await insert(client, 'registration', {
            id: `${BLUEPRINT}-${operator}`, blueprint_id: BLUEPRINT, operator_id: operator, status: 'ACTIVE',
            rpc_address: 'http://127.0.0.1:9', rpc_address_raw: null, rpc_address_valid_utf8: true, ecdsa_public_key: null,
            registration_count: 1, registered_at_block: 3, registered_at: SETUP, unregistered_at: null, updated_at: SETUP,
        })
        await insert(client, 'service_membership', {
            id: `${SERVICE}-${operator}-${logId(5, index)}`, service_id: SERVICE, operator_id: operator, source: 'APPROVAL',
            exposure_bps: 10000, active: true, joined_at_block: 5, joined_at: SETUP, close_reason: null, left_at_block: null,
            left_at: null, exit_scheduled_after: null, exit_canceled_at: null,
        })
        await heartbeat(client, operator, new Date(AT.getTime() - minutes(1)), 0)
    }

    // Heartbeats of GOOD on Monday of 2026-W02 (interval 60 s, max missed 3, so each healthy one covers up to 180 s).
    const monday = new Date('2026-01-05T00:00:00.000Z').getTime()
    await heartbeat(client, GOOD, new Date(monday), 0)
    await heartbeat(client, GOOD, new Date(monday + minutes(1)), 0)
    await heartbeat(client, GOOD, new Date(monday + minutes(2)), 1)
    await heartbeat(client, GOOD, new Date(monday + minutes(10)), 0)

    // GOOD: every required kind PASSes ten minutes before AT, latencies 10..60 ms; one older UNREACHABLE at 1000 ms.
    for (const [index, kind] of GOOD_KINDS.entries()) {
        await proof(client, GOOD, kind, 'PASS', new Date(AT.getTime() - minutes(10)), (index + 1) * 10)
    }
    await proof(client, GOOD, 'ENDPOINT_REACHABILITY', 'UNREACHABLE', new Date('2026-01-06T00:00:00.000Z'), 1000)

    // CONTRADICTED: heartbeats healthy, yet the endpoint is UNREACHABLE five minutes before AT.
    await proof(client, CONTRADICTED, 'ENDPOINT_REACHABILITY', 'UNREACHABLE', new Date(AT.getTime() - minutes(5)), 5000)
    // STALE: one PASS seven hours before AT, outside the default six-hour window.
    await proof(client, STALE, 'ENDPOINT_REACHABILITY', 'PASS', new Date(AT.getTime() - minutes(7 * 60)), 15)

    // Three job calls on Tuesday; GOOD submits results for two of them, after 12 s and 30 s.
    const calls = [
        ['1', '2026-01-06T10:00:00.000Z', 12],
        ['2', '2026-01-06T11:00:00.000Z', 30],
        ['3', '2026-01-06T12:00:00.000Z', null],
    ] as const
    for (const [index, [callId, time, latency]] of calls.entries()) {
        const block = 2000 + index * 10
        await insert(client, 'job_call', {
            id: `${SERVICE}-${callId}`, service_id: SERVICE, call_id: callId, job_index: 0, job_name: 'sandbox_create',
            caller: '0x' + '22'.repeat(20), from_quote: false, quoted_operators: null, total_price: null, inputs_size: 0,
            inputs_hash: txHash(block), shape: 'current', completed: latency !== null, completed_at: null,
            result_count: latency === null ? 0 : 1, block_number: block, timestamp: new Date(time), tx_hash: txHash(block),
        })
        if (latency !== null) {
            await insert(client, 'job_result', {
                id: logId(block + 1, 0), call_id: `${SERVICE}-${callId}`, service_id: SERVICE, operator_id: GOOD,
                aggregated: false, signer_bitmap: null, output_hash: txHash(block + 1), output_size: 10, output: null,
                output_error: null, latency_blocks: 1, latency_seconds: latency, block_number: block + 1,
                timestamp: new Date(new Date(time).getTime() + latency * 1000), tx_hash: txHash(block + 1),
            })
        }
    }

    // One slash of GOOD, proposed Thursday and executed Friday of 2026-W02.
    await insert(client, 'slash', {
        id: '1', slash_id: '1', service_id: SERVICE, operator_id: GOOD, proposer: '0x' + '33'.repeat(20), slash_bps: 100,
        effective_slash_bps: 100, evidence: '0x' + '00'.repeat(32), execute_after: '0', status: 'EXECUTED', disputer: null,
        dispute_reason: null, canceller: null, cancel_reason: null, actual_slashed: '5', proposed_at_block: 3000,
        proposed_at: new Date('2026-01-08T00:00:00.000Z'), proposed_tx: txHash(3000), disputed_at: null, cancelled_at: null,
        executed_at: new Date('2026-01-09T00:00:00.000Z'),
    })
}
