/**
 * Chain facts an evaluator may compare an HTTP answer with. The worker fills them from the indexed chain tables for
 * one (service, operator) pair; evaluators only read them. Chain numbers stay exact (bigint).
 */

/** `ServiceActivated.confidentiality`: whether the service asked for a TEE. */
export const Confidentiality = {
    Any: 0,
    TeeRequired: 1,
    StandardRequired: 2,
    TeePreferred: 3,
} as const

export type ConfidentialityValue = (typeof Confidentiality)[keyof typeof Confidentiality]

/** The policy a trading vault enforces on chain, in the contract's own units. */
export interface VaultPolicyFact {
    leverageCap: bigint
    maxTradesPerHour: bigint
    maxSlippageBps: bigint
}

/** One `RedemptionRequested` and what the chain shows happened to it afterwards. */
export interface RedemptionFact {
    /** bytes32 hex. */
    redemptionId: string
    /** Unix seconds. */
    deadline: bigint
    settled: boolean
    attested: boolean
    defaulted: boolean
}

/**
 * Where a secret was found in public chain data. It never holds the secret itself, only its location, so it can be
 * shown in an API answer as is.
 */
export interface LeakedSecretFinding {
    serviceId: string
    callId: string
    txHash: string
    /** The field of the job output that carried the secret, e.g. `token`. */
    field: string
}

export interface ChainFacts {
    /** The prober's clock at probe time, unix seconds. */
    nowUnixSeconds: bigint
    serviceId: string | null
    /** Lower-case 0x address of the probed operator. */
    operator: string | null
    /** null when the service activation was not indexed. */
    confidentiality: ConfidentialityValue | null
    /** keccak256 of the attestation JSON from `TeeAttestationStored` for (service, operator), bytes32 hex. */
    attestationHash: string | null
    /** The attestation JSON the operator published on chain (the `teeAttestationJson` field of its job result). */
    attestationJson: string | null
    /** Measurements the user allows (TDX MRTD, SEV launch digest), hex with or without 0x, any case. */
    measurementAllowlist: string[]
    /** Oldest acceptable attestation report, seconds. */
    maxAttestationAgeSeconds: number
    /** From `BotVaultDeployed`; null when the service has no vault. */
    vaultAddress: string | null
    vaultPolicy: VaultPolicyFact | null
    /** Operators that sign for the service; null when unknown. */
    signerCount: number | null
    /** Transaction hashes of the vault's `TradeExecuted` events, lower-case. */
    onChainTradeTxHashes: string[]
    /** Intent hashes of the vault's `TradeExecuted` events, lower-case. */
    onChainTradeIntentHashes: string[]
    redemptions: RedemptionFact[]
    /** `FillSettled` events of the venue. */
    settledFillCount: bigint
    /** `BatchSettled` events with `proven = true`. */
    provenBatchCount: bigint
    leakedSecrets: LeakedSecretFinding[]
}

/** One day: a TEE report older than that is treated as stale unless configured otherwise. */
export const DEFAULT_MAX_ATTESTATION_AGE_SECONDS = 86_400

/** Builds facts for a target the chain says nothing about yet; tests and callers override what they know. */
export function emptyChainFacts(nowUnixSeconds: bigint, overrides: Partial<ChainFacts> = {}): ChainFacts {
    return {
        nowUnixSeconds,
        serviceId: null,
        operator: null,
        confidentiality: null,
        attestationHash: null,
        attestationJson: null,
        measurementAllowlist: [],
        maxAttestationAgeSeconds: DEFAULT_MAX_ATTESTATION_AGE_SECONDS,
        vaultAddress: null,
        vaultPolicy: null,
        signerCount: null,
        onChainTradeTxHashes: [],
        onChainTradeIntentHashes: [],
        redemptions: [],
        settledFillCount: 0n,
        provenBatchCount: 0n,
        leakedSecrets: [],
        ...overrides,
    }
}
