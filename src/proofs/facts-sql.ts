import type {Pool, PoolClient} from 'pg'
import {
    type ChainFacts,
    type ConfidentialityValue,
    emptyChainFacts,
    type LeakedSecretFinding,
    type RedemptionFact,
} from './plans/facts'

/** The (service, operator) pair a probe needs chain facts for; serviceId null for operator-level targets. */
export interface FactsKey {
    serviceId: string | null
    /** Lower-case 0x address. */
    operator: string
}

/** Settings that come from configuration rather than from the chain. */
export interface FactsSettings {
    measurementAllowlist: string[]
    maxAttestationAgeSeconds: number
}

export function factsKey(serviceId: string | null, operator: string): string {
    return `${serviceId ?? '-'}:${operator.toLowerCase()}`
}

interface VaultRow {
    service_id: string
    id: string
    leverage_cap: string | null
    max_trades_per_hour: string | null
    max_slippage_bps: string | null
    total_signers: string | null
}

/**
 * Reads the chain facts of many (service, operator) pairs with one query per table, so a round of N targets costs
 * a constant number of queries. Secrets are never read: a leak is reported by its service, call, transaction and
 * field only.
 *
 * NOTE: venue facts are network-wide: the chain tables do not link a Surplus Market registration to a settlement
 * contract, so fill and proven-batch counts cover every indexed settlement contract; redemptions are those whose
 * issuer is the operator.
 */
export async function readChainFacts(
    db: Pool | PoolClient,
    keys: FactsKey[],
    settings: FactsSettings,
    now: Date,
): Promise<Map<string, ChainFacts>> {
    const serviceIds = [...new Set(keys.map((key) => key.serviceId).filter((id): id is string => id !== null))]
    const operators = [...new Set(keys.map((key) => key.operator.toLowerCase()))]

    const confidentiality = new Map<string, ConfidentialityValue>()
    for (const row of (await db.query<{id: string; confidentiality: number}>(
        `SELECT id, confidentiality FROM service WHERE id = ANY($1::text[])`,
        [serviceIds],
    )).rows) {
        confidentiality.set(row.id, row.confidentiality as ConfidentialityValue)
    }

    const attestationHash = new Map<string, string>()
    for (const row of (await db.query<{service_id: string; operator_id: string; attestation_hash: string}>(
        `SELECT DISTINCT ON (service_id, operator_id) service_id, operator_id, attestation_hash
         FROM tee_attestation WHERE service_id = ANY($1::text[])
         ORDER BY service_id, operator_id, block_number DESC, id DESC`,
        [serviceIds],
    )).rows) {
        attestationHash.set(factsKey(row.service_id, row.operator_id), row.attestation_hash.toLowerCase())
    }

    // The attestation JSON the operator published in its newest sandbox_create output for the service. A sandbox
    // without TEE publishes an empty string there, which is no attestation.
    const attestationJson = new Map<string, string>()
    for (const row of (await db.query<{service_id: string; operator_id: string; tee: string}>(
        `SELECT DISTINCT ON (service_id, operator_id) service_id, operator_id, output->'json'->>'teeAttestationJson' AS tee
         FROM job_result
         WHERE service_id = ANY($1::text[]) AND operator_id IS NOT NULL
           AND output->'json'->>'teeAttestationJson' <> ''
         ORDER BY service_id, operator_id, block_number DESC, id DESC`,
        [serviceIds],
    )).rows) {
        attestationJson.set(factsKey(row.service_id, row.operator_id), row.tee)
    }

    const vaults = new Map<string, VaultRow>()
    for (const row of (await db.query<VaultRow>(
        `SELECT DISTINCT ON (service_id) service_id::text AS service_id, id, leverage_cap::text, max_trades_per_hour::text,
                max_slippage_bps::text, total_signers::text
         FROM bot_vault WHERE service_id = ANY($1::numeric[])
         ORDER BY service_id, created_at_block DESC, id`,
        [serviceIds],
    )).rows) {
        vaults.set(row.service_id, row)
    }

    const memberCount = new Map<string, number>()
    for (const row of (await db.query<{service_id: string; members: string}>(
        `SELECT service_id, count(DISTINCT operator_id)::text AS members
         FROM service_membership WHERE active AND service_id = ANY($1::text[]) GROUP BY service_id`,
        [serviceIds],
    )).rows) {
        memberCount.set(row.service_id, Number(row.members))
    }

    const vaultIds = [...vaults.values()].map((vault) => vault.id)
    const tradesByVault = new Map<string, {txHashes: string[]; intentHashes: string[]}>()
    for (const row of (await db.query<{vault_id: string; tx_hash: string; intent_hash: string}>(
        `SELECT vault_id, tx_hash, intent_hash FROM trade
         WHERE vault_id = ANY($1::text[]) AND kind = 'TRADE' ORDER BY block_number, id`,
        [vaultIds],
    )).rows) {
        const entry = tradesByVault.get(row.vault_id) ?? {txHashes: [], intentHashes: []}
        entry.txHashes.push(row.tx_hash.toLowerCase())
        entry.intentHashes.push(row.intent_hash.toLowerCase())
        tradesByVault.set(row.vault_id, entry)
    }

    const redemptionsByIssuer = new Map<string, RedemptionFact[]>()
    for (const row of (await db.query<{id: string; issuer: string; deadline: string; status: string}>(
        `SELECT id, lower(issuer) AS issuer, deadline::text, status FROM redemption
         WHERE lower(issuer) = ANY($1::text[]) ORDER BY requested_at_block, id`,
        [operators],
    )).rows) {
        const list = redemptionsByIssuer.get(row.issuer) ?? []
        list.push({
            redemptionId: row.id,
            deadline: BigInt(row.deadline),
            settled: row.status === 'SETTLED',
            attested: row.status === 'ATTESTED' || row.status === 'CHALLENGED',
            defaulted: row.status === 'DEFAULTED',
        })
        redemptionsByIssuer.set(row.issuer, list)
    }

    const counts = (await db.query<{fills: string; proven: string}>(
        `SELECT (SELECT count(*) FROM settlement_fill)::text AS fills,
                (SELECT count(*) FROM settlement_batch WHERE proven)::text AS proven`,
    )).rows[0]

    // A leak counts against the operator whose result published it. An aggregated result names no operator: it counts
    // against every member of the service, since the stored row does not say which signers it had.
    const leaksByService = new Map<string, Array<{operator: string | null; finding: LeakedSecretFinding}>>()
    for (const row of (await db.query<{service_id: string; call_id: string; tx_hash: string; id: string; kind: string; operator: string | null}>(
        // INPUT_ kinds were published by a job's caller, not by an operator: they do not count against its secret handling.
        `SELECT service_id, call_id::text, tx_hash, id, kind, lower(operator) AS operator FROM secret_exposure
         WHERE service_id = ANY($1::text[]) AND kind NOT LIKE 'INPUT\\_%' ORDER BY block_number, id`,
        [serviceIds],
    )).rows) {
        const list = leaksByService.get(row.service_id) ?? []
        list.push({
            operator: row.operator,
            finding: {serviceId: row.service_id, callId: row.call_id, txHash: row.tx_hash, field: exposureField(row.id, row.kind)},
        })
        leaksByService.set(row.service_id, list)
    }
    const leaksOf = (serviceId: string, operator: string): LeakedSecretFinding[] =>
        (leaksByService.get(serviceId) ?? []).filter((leak) => leak.operator === null || leak.operator === operator).map((leak) => leak.finding)

    const nowUnixSeconds = BigInt(Math.floor(now.getTime() / 1000))
    const result = new Map<string, ChainFacts>()
    for (const key of keys) {
        const operator = key.operator.toLowerCase()
        const id = factsKey(key.serviceId, operator)
        const serviceId = key.serviceId
        const vault = serviceId === null ? undefined : vaults.get(serviceId)
        const trades = vault === undefined ? undefined : tradesByVault.get(vault.id)
        result.set(
            id,
            emptyChainFacts(nowUnixSeconds, {
                serviceId,
                operator,
                confidentiality: serviceId === null ? null : (confidentiality.get(serviceId) ?? null),
                attestationHash: attestationHash.get(id) ?? null,
                attestationJson: attestationJson.get(id) ?? null,
                measurementAllowlist: settings.measurementAllowlist,
                maxAttestationAgeSeconds: settings.maxAttestationAgeSeconds,
                vaultAddress: vault?.id ?? null,
                vaultPolicy:
                    vault !== undefined && vault.leverage_cap !== null && vault.max_trades_per_hour !== null && vault.max_slippage_bps !== null
                        ? {
                              leverageCap: BigInt(vault.leverage_cap),
                              maxTradesPerHour: BigInt(vault.max_trades_per_hour),
                              maxSlippageBps: BigInt(vault.max_slippage_bps),
                          }
                        : null,
                signerCount: signerCount(vault, serviceId === null ? undefined : memberCount.get(serviceId)),
                onChainTradeTxHashes: trades?.txHashes ?? [],
                onChainTradeIntentHashes: trades?.intentHashes ?? [],
                redemptions: redemptionsByIssuer.get(operator) ?? [],
                settledFillCount: BigInt(counts?.fills ?? '0'),
                provenBatchCount: BigInt(counts?.proven ?? '0'),
                leakedSecrets: serviceId === null ? [] : leaksOf(serviceId, operator),
            }),
        )
    }
    return result
}

/** The vault's signer count when the chain states it, else the service's active operators. */
function signerCount(vault: VaultRow | undefined, members: number | undefined): number | null {
    if (vault?.total_signers != null) return Number(vault.total_signers)
    return members ?? null
}

/** The job-output field a secret was found in: the secret_exposure id is `<log id>-<field>`. */
function exposureField(id: string, kind: string): string {
    const dash = id.lastIndexOf('-')
    return dash >= 0 && dash < id.length - 1 ? id.slice(dash + 1) : kind
}
