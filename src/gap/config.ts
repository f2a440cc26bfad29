import type {ProofKind} from '../proofs/kinds'
import {isProofKind} from '../proofs/kinds'

/** Windows and thresholds of the gap computation; every duration is in seconds. */
export interface GapConfig {
    /** A PASS older than this (relative to the query instant) no longer proves a claim. Default 21600 (6 h). */
    proofFreshnessSeconds: number
    /** Per-kind overrides of proofFreshnessSeconds. */
    proofFreshnessSecondsByKind: Partial<Record<ProofKind, number>>
}

export const DEFAULT_PROOF_FRESHNESS_SECONDS = 6 * 60 * 60

export const DEFAULT_GAP_CONFIG: GapConfig = {
    proofFreshnessSeconds: DEFAULT_PROOF_FRESHNESS_SECONDS,
    proofFreshnessSecondsByKind: {},
}

export class GapConfigError extends Error {
    override name = 'GapConfigError'
}

/** Returns the freshness window of `kind` in milliseconds. */
export function freshnessMs(config: GapConfig, kind: ProofKind): number {
    return (config.proofFreshnessSecondsByKind[kind] ?? config.proofFreshnessSeconds) * 1000
}

/** How far past the server's clock an evaluation instant (`at`) may be by default, for clients whose clocks run ahead. */
export const DEFAULT_FUTURE_TOLERANCE_SECONDS = 60

/**
 * Returns how many seconds past the clock an evaluation instant may be: PROOFGAP_FUTURE_TOLERANCE_SECONDS, a whole
 * number (0 allowed), or DEFAULT_FUTURE_TOLERANCE_SECONDS. Throws GapConfigError for any other value.
 */
export function futureToleranceSecondsFromEnv(env: Record<string, string | undefined> = process.env): number {
    const text = env.PROOFGAP_FUTURE_TOLERANCE_SECONDS
    if (text === undefined || text.trim() === '') return DEFAULT_FUTURE_TOLERANCE_SECONDS
    const value = Number(text)
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
        throw new GapConfigError(`PROOFGAP_FUTURE_TOLERANCE_SECONDS must be a whole number of seconds, got ${JSON.stringify(text)}`)
    }
    return value
}

function parsePositiveSeconds(name: string, text: string): number {
    const value = Number(text)
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0) {
        throw new GapConfigError(`${name} must be a positive whole number of seconds, got ${JSON.stringify(text)}`)
    }
    return value
}

/**
 * Reads the gap configuration from the environment, with defaults:
 * PROOFGAP_PROOF_FRESHNESS_SECONDS (default 21600) and PROOFGAP_PROOF_FRESHNESS_BY_KIND, a comma list of
 * KIND=SECONDS such as `SANDBOX_TEE_ATTESTATION=86400`.
 */
export function gapConfigFromEnv(env: Record<string, string | undefined> = process.env): GapConfig {
    const config: GapConfig = {proofFreshnessSeconds: DEFAULT_PROOF_FRESHNESS_SECONDS, proofFreshnessSecondsByKind: {}}
    const freshness = env.PROOFGAP_PROOF_FRESHNESS_SECONDS
    if (freshness !== undefined && freshness !== '') {
        config.proofFreshnessSeconds = parsePositiveSeconds('PROOFGAP_PROOF_FRESHNESS_SECONDS', freshness)
    }
    const byKind = env.PROOFGAP_PROOF_FRESHNESS_BY_KIND
    if (byKind !== undefined && byKind.trim() !== '') {
        for (const entry of byKind.split(',')) {
            const [kind, seconds] = entry.split('=').map((part) => part.trim())
            if (!isProofKind(kind) || seconds === undefined) {
                throw new GapConfigError(
                    `PROOFGAP_PROOF_FRESHNESS_BY_KIND entry ${JSON.stringify(entry)} is invalid: expected KIND=SECONDS with a proof kind name`,
                )
            }
            config.proofFreshnessSecondsByKind[kind] = parsePositiveSeconds(`PROOFGAP_PROOF_FRESHNESS_BY_KIND ${kind}`, seconds)
        }
    }
    return config
}
