import type {CanonicalValue} from './canonical-json'
import type {EvidenceRecord} from './evidence'
import {asDate, asInt, asNullableText, asText, type SqlRunner} from './sql'
import type {Claim, ClaimKind} from './types'

/** Splits a squid log id (`<height 10 digits>-<5 hex of block hash>-<log index 6 digits>`) into its parts. */
export function parseLogId(logId: string): {blockNumber: number; blockHashPrefix: string; logIndex: number} | null {
    const match = /^(\d{10})-([0-9a-f]{5})-(\d{6})$/.exec(logId)
    if (match === null) return null
    return {blockNumber: Number(match[1]), blockHashPrefix: `0x${match[2]}`, logIndex: Number(match[3])}
}

/** SQL expression of the chain_block id (`<height 10 digits>-<5 hex of hash>`) that a squid log id starts with. */
const BLOCK_ID_OF_LOG_ID = (column: string): string => `left(${column}, 16)`

/** SQL expression of the log id that ends a service_membership id (`<service>-<operator>-<log id>`). */
const LOG_ID_OF_MEMBERSHIP_ID = (column: string): string => `right(${column}, 23)`

/**
 * Builds a chain-fact record from a row that carries a squid log id. `blockHash` is the full hash from chain_block;
 * it is null only when the block row is missing (an index written before chain_block existed). `txHash` is null for
 * an OperatorJoinedService fact, because the membership table stores no transaction hash.
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
        txHash: asNullableText(row.tx_hash),
        timestamp: asDate(row.timestamp).toISOString(),
        fields,
    }
}

/** One operator in one service over [from, to). */
export interface ChainFactRequest {
    serviceId: string
    operator: string
    from: Date
    to: Date
}

/** The service_membership row that the claims at `to` rest on. */
export interface MembershipRow {
    logId: string
    source: string
    exposureBps: number | null
    joinedAtBlock: number
    joinedAt: Date
    blockHash: string | null
}

/** Service columns that a ServiceActivated fact carries. */
export interface ServiceActivation {
    blueprintId: string
    activationRequestId: string
    confidentiality: number
    activatedAt: Date
    activatedTx: string
}

/** Chain records of a bundle and, for each claim kind, the ids of the chain records the claim rests on. */
export interface ChainFacts {
    records: EvidenceRecord[]
    claimFacts: Map<ClaimKind, string[]>
}

/**
 * Reads the membership of `operator` in `serviceId` that the gap computation uses at `to`: the one open at `to`, else
 * the latest that began at or before `to`. Returns null when the operator never joined the service by then.
 */
export async function loadMembership(sql: SqlRunner, serviceId: string, operator: string, to: Date): Promise<MembershipRow | null> {
    const [row] = await sql(
        `SELECT ${LOG_ID_OF_MEMBERSHIP_ID('m.id')} AS log_id, m.source, m.exposure_bps, m.joined_at_block, m.joined_at,
                b.hash AS block_hash
         FROM service_membership m LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID(LOG_ID_OF_MEMBERSHIP_ID('m.id'))}
         WHERE m.service_id = $1 AND m.operator_id = $2 AND m.joined_at <= $3
         ORDER BY (m.left_at IS NULL OR m.left_at > $3) DESC, m.joined_at DESC, m.id DESC
         LIMIT 1`,
        [serviceId, operator, to],
    )
    if (row === undefined) return null
    return {
        logId: asText(row.log_id),
        source: asText(row.source),
        exposureBps: row.exposure_bps === null ? null : asInt(row.exposure_bps),
        joinedAtBlock: asInt(row.joined_at_block),
        joinedAt: asDate(row.joined_at),
        blockHash: asNullableText(row.block_hash),
    }
}

/** Returns true when the indexed operator table contains `operator` (lower-case address). */
export async function operatorExists(sql: SqlRunner, operator: string): Promise<boolean> {
    const rows = await sql('SELECT 1 FROM operator WHERE id = $1', [operator])
    return rows.length > 0
}

const HEARTBEAT_COLUMNS = `h.id, h.block_number, h.tx_hash, h.timestamp, h.status_code, h.blueprint_id::text AS blueprint_id,
                    h.reported_blueprint_id::text AS reported_blueprint_id, h.event_timestamp::text AS event_timestamp,
                    b.hash AS block_hash`

/**
 * Reads the chain facts of a bundle: the operator's heartbeats, status events and slashes of the period, and the facts
 * that the claims at `to` rest on, even when older than `from`. Those are the latest heartbeat, every job result, the
 * event that opened the membership, the service activation, the latest TradingStarted and the published sidecars.
 */
export async function loadChainFacts(
    sql: SqlRunner,
    request: ChainFactRequest,
    membership: MembershipRow,
    activation: ServiceActivation,
    claims: readonly Claim[],
): Promise<ChainFacts> {
    const {serviceId, operator, from, to} = request
    const window = [serviceId, operator, from, to]
    const upToEnd = [serviceId, operator, to]
    const claimKinds = new Set(claims.map((claim) => claim.kind))

    const [heartbeats, latestHeartbeats, results, statusEvents, slashes, closes, activationLogs, trading, provisioned, sandboxResults] = await Promise.all([
        sql(
            `SELECT ${HEARTBEAT_COLUMNS}
             FROM heartbeat h LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('h.id')}
             WHERE h.service_id = $1 AND h.operator_id = $2 AND h.timestamp >= $3 AND h.timestamp < $4
             ORDER BY h.id`,
            window,
        ),
        // Liveness at `to` reads the latest heartbeat at or before `to`, as loadGapFacts does.
        sql(
            `SELECT ${HEARTBEAT_COLUMNS}
             FROM heartbeat h LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('h.id')}
             WHERE h.service_id = $1 AND h.operator_id = $2 AND h.timestamp <= $3
             ORDER BY h.timestamp DESC, h.id DESC
             LIMIT 1`,
            upToEnd,
        ),
        // Every result up to `to`, because the JOB_RESULTS_SUBMITTED claim counts them all.
        sql(
            `SELECT r.id, r.tx_hash, r.timestamp, c.call_id::text AS call_id, r.output_hash, r.output_size, r.aggregated,
                    r.latency_seconds, b.hash AS block_hash
             FROM job_result r JOIN job_call c ON c.id = r.call_id
             LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('r.id')}
             WHERE r.service_id = $1 AND r.operator_id = $2 AND r.timestamp <= $3
             ORDER BY r.id`,
            upToEnd,
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
        // The logs that closed the pair's memberships before `to`, so a reader can tell which heartbeats counted.
        sql(
            `SELECT m.left_log_id AS id, m.left_tx AS tx_hash, m.left_at AS timestamp, m.close_reason, s.termination_reason,
                    b.hash AS block_hash
             FROM service_membership m JOIN service s ON s.id = m.service_id
             LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('m.left_log_id')}
             WHERE m.service_id = $1 AND m.operator_id = $2 AND m.left_log_id IS NOT NULL AND m.left_at < $3
             ORDER BY m.left_log_id`,
            upToEnd,
        ),
        // The ServiceActivated log id is known from the memberships it opened: the operators approved by request.
        sql(
            `SELECT ${LOG_ID_OF_MEMBERSHIP_ID('m.id')} AS id, b.hash AS block_hash
             FROM service_membership m LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID(LOG_ID_OF_MEMBERSHIP_ID('m.id'))}
             WHERE m.service_id = $1 AND m.source = 'APPROVAL'
             ORDER BY m.id
             LIMIT 1`,
            [serviceId],
        ),
        claimKinds.has('TRADING_BOT_LIVE')
            ? sql(
                  `SELECT e.id, e.kind, e.tx_hash, e.timestamp, b.hash AS block_hash
                   FROM product_event e LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('e.id')}
                   WHERE e.kind IN ('TradingStarted', 'TradingStopped') AND e.service_id = $1::numeric AND e.timestamp <= $2
                   ORDER BY e.block_number DESC, e.id DESC
                   LIMIT 1`,
                  [serviceId, to],
              )
            : [],
        claimKinds.has('SIDECAR_PUBLISHED')
            ? sql(
                  `SELECT p.id, p.tx_hash, p.timestamp, p.sandbox_id, p.sidecar_url, b.hash AS block_hash
                   FROM provisioned_endpoint p LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('p.id')}
                   WHERE p.service_id = $1 AND p.operator_id = $2 AND p.sidecar_url <> '' AND p.timestamp <= $3
                     AND (p.deprovisioned_at IS NULL OR p.deprovisioned_at > $3)
                   ORDER BY p.id`,
                  upToEnd,
              )
            : [],
        // A sidecar URL published in a sandbox_create output rests on the job result that carried it.
        claimKinds.has('SIDECAR_PUBLISHED')
            ? sql(
                  `SELECT r.id
                   FROM sandbox x JOIN job_result r ON r.call_id = x.service_id || '-' || x.call_id::text AND r.operator_id = x.operator
                   WHERE x.service_id = $1 AND x.operator = $2 AND x.sidecar_url IS NOT NULL AND x.sidecar_url <> ''
                     AND x.created_at <= $3 AND (x.deleted_at IS NULL OR x.deleted_at > $3) AND r.timestamp <= $3
                   ORDER BY r.id`,
                  upToEnd,
              )
            : [],
    ])

    const records = new Map<string, EvidenceRecord>()
    const add = (record: EvidenceRecord): string => {
        records.set(record.id, record)
        return record.id
    }
    const claimFacts = new Map<ClaimKind, string[]>()

    for (const row of [...heartbeats, ...latestHeartbeats]) add(heartbeatRecord(row, serviceId, operator))
    const latest = latestHeartbeats[0]
    if (latest !== undefined) claimFacts.set('HEARTBEATING', [asText(latest.id)])

    claimFacts.set(
        'JOB_RESULTS_SUBMITTED',
        results.map((row) => add(jobResultRecord(row, serviceId, operator))),
    )
    for (const row of statusEvents) add(statusRecord(row, serviceId, operator))
    for (const row of closes) add(closeRecord(row, serviceId, operator))
    for (const row of slashes) add(slashRecord(row, serviceId, operator))

    // A membership id that does not end in a log id (a hand-made row) names no log, so it gives no chain fact.
    const activationRow = activationLogs.find((row) => parseLogId(asText(row.id)) !== null)
    const activationId =
        activationRow === undefined ? null : add(activationRecord(activationRow, serviceId, activation))
    let membershipId = activationId
    if (membership.source === 'JOINED') {
        membershipId = parseLogId(membership.logId) === null ? null : add(joinRecord(membership, serviceId, operator))
    }
    claimFacts.set('SERVICE_MEMBER', membershipId === null ? [] : [membershipId])
    // NOTE: a service created from quotes opens no membership at activation, so its ServiceActivated log id is unknown
    // and TEE_REQUIRED names no chain fact. The meta record carries the service's confidentiality and activation tx.
    claimFacts.set('TEE_REQUIRED', activationId === null ? [] : [activationId])

    const tradingRow = trading[0]
    if (tradingRow !== undefined && asText(tradingRow.kind) === 'TradingStarted') {
        claimFacts.set('TRADING_BOT_LIVE', [add(chainRecord('TradingStarted', tradingRow, {serviceId}))])
    }

    const sidecarFacts = provisioned.map((row) =>
        add(
            chainRecord('OperatorProvisioned', row, {
                serviceId,
                operator,
                sandboxId: asText(row.sandbox_id),
                sidecarUrl: asText(row.sidecar_url),
            }),
        ),
    )
    claimFacts.set('SIDECAR_PUBLISHED', [...sidecarFacts, ...sandboxResults.map((row) => asText(row.id))].sort())

    return {records: [...records.values()], claimFacts}
}

/**
 * Loads the heartbeat settings of a service in force during [from, to): the change in force at `from` and every change
 * before `to`, in chain order, with their HeartbeatConfigUpdated chain records.
 */
export async function loadHeartbeatSettings(
    sql: SqlRunner,
    serviceId: string,
    from: Date,
    to: Date,
): Promise<{rows: Record<string, unknown>[]; records: EvidenceRecord[]}> {
    const rows = await sql(
        `SELECT c.id, c.tx_hash, c.timestamp, c.interval::text AS interval, c.max_missed, b.hash AS block_hash
         FROM (
           (SELECT * FROM heartbeat_config_change WHERE service_id = $1 AND timestamp <= $2 ORDER BY timestamp DESC, id DESC LIMIT 1)
           UNION ALL
           (SELECT * FROM heartbeat_config_change WHERE service_id = $1 AND timestamp > $2 AND timestamp < $3)
         ) c LEFT JOIN chain_block b ON b.id = ${BLOCK_ID_OF_LOG_ID('c.id')}
         ORDER BY c.timestamp, c.id`,
        [serviceId, from, to],
    )
    const records = rows.map((row) =>
        chainRecord('HeartbeatConfigUpdated', row, {serviceId, interval: asText(row.interval), maxMissed: asInt(row.max_missed)}),
    )
    return {rows, records}
}

/** Builds the chain fact of the log that closed a membership: a leave, a forced exit or the service's termination. */
function closeRecord(row: Record<string, unknown>, serviceId: string, operator: string): EvidenceRecord {
    const reason = asText(row.close_reason)
    if (reason === 'LEFT') return chainRecord('OperatorLeftService', row, {serviceId, operator})
    if (reason === 'EXIT_FORCED') return chainRecord('ExitForced', row, {serviceId, operator})
    const event = asNullableText(row.termination_reason) === 'NON_PAYMENT' ? 'ServiceTerminatedForNonPayment' : 'ServiceTerminated'
    return chainRecord(event, row, {serviceId})
}

function heartbeatRecord(row: Record<string, unknown>, serviceId: string, operator: string): EvidenceRecord {
    return chainRecord('HeartbeatReceived', row, {
        serviceId,
        operator,
        blueprintId: asText(row.blueprint_id),
        reportedBlueprintId: asText(row.reported_blueprint_id),
        statusCode: asInt(row.status_code),
        timestamp: asText(row.event_timestamp),
    })
}

function jobResultRecord(row: Record<string, unknown>, serviceId: string, operator: string): EvidenceRecord {
    return chainRecord('JobResultSubmitted', row, {
        serviceId,
        operator,
        callId: asText(row.call_id),
        outputHash: asText(row.output_hash),
        outputSize: asInt(row.output_size),
        aggregated: row.aggregated === true,
        latencySeconds: asInt(row.latency_seconds),
    })
}

function statusRecord(row: Record<string, unknown>, serviceId: string, operator: string): EvidenceRecord {
    return chainRecord(`OperatorStatus:${asText(row.kind)}`, row, {
        serviceId,
        operator,
        oldStatus: row.old_status === null ? null : asInt(row.old_status),
        newStatus: row.new_status === null ? null : asInt(row.new_status),
        missedBeats: row.missed_beats === null ? null : asInt(row.missed_beats),
        reason: asNullableText(row.reason),
    })
}

function slashRecord(row: Record<string, unknown>, serviceId: string, operator: string): EvidenceRecord {
    const blockHash = asNullableText(row.block_hash)
    return {
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
    }
}

function activationRecord(row: Record<string, unknown>, serviceId: string, activation: ServiceActivation): EvidenceRecord {
    return chainRecord(
        'ServiceActivated',
        {id: row.id, block_hash: row.block_hash, tx_hash: activation.activatedTx, timestamp: activation.activatedAt},
        {
            serviceId,
            requestId: activation.activationRequestId,
            blueprintId: activation.blueprintId,
            confidentiality: activation.confidentiality,
        },
    )
}

function joinRecord(membership: MembershipRow, serviceId: string, operator: string): EvidenceRecord {
    return chainRecord(
        'OperatorJoinedService',
        {id: membership.logId, block_hash: membership.blockHash, tx_hash: null, timestamp: membership.joinedAt},
        {serviceId, operator, exposureBps: membership.exposureBps},
    )
}
