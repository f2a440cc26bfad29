import {DEFAULT_MAX_ATTESTATION_AGE_SECONDS} from '../plans/facts'

/** Worker settings; every field documents its unit and default. */
export interface ProberSettings {
    /** Length of a round: every active target is probed once per round. Milliseconds, default 300,000 (5 min). */
    intervalMs: number
    /** Each target starts at a fixed, hash-derived delay in [0, jitterMs) after the round starts. Default 30,000. */
    jitterMs: number
    /** Whole-call limit of one HTTP request, milliseconds. Default 10,000. */
    timeoutMs: number
    /**
     * Time from sending a request until the status line and headers have arrived, milliseconds. Default 5,000, or
     * timeoutMs when that is smaller. A value set by PROBE_HEADERS_TIMEOUT_MS must be smaller than timeoutMs.
     */
    headersTimeoutMs: number
    /** Probe jobs one worker process takes from the queue at once. Default 8. */
    concurrency: number
    /** How often an idle worker polls the queue, milliseconds (pg-boss allows at least 500). Default 2,000. */
    pollIntervalMs: number
    /**
     * A job still active this long after a worker took it is treated as lost (the worker died) and is retried by any
     * worker. Seconds, default 120; must exceed the longest probe (timeoutMs times the requests of a target).
     */
    jobExpireSeconds: number
    /** Retries of a failed or expired job. Default 3. */
    retryLimit: number
    /** Delay before a retry, seconds. Default 5. */
    retryDelaySeconds: number
    /** How often pg-boss looks for expired jobs, seconds. Default 30. */
    maintenanceIntervalSeconds: number
    /** TEE measurements (TDX MRTD, SEV launch digest) that count as allowed, hex. Default none. */
    measurementAllowlist: string[]
    /** Oldest acceptable attestation report, seconds. Default 86,400. */
    maxAttestationAgeSeconds: number
    /** Probe requests in flight per host at once. Default 2. */
    maxConcurrentPerHost: number
    /**
     * JSON body of a signed `POST /redeem` request that every venue is sent for the inference delivery check.
     * Default null: the chain holds no signed request, so without one the check records NO_REDEEM_REQUEST.
     * NOTE: a request is signed for one venue's credit lot, so other venues are expected to reject it (REDEEM_REJECTED).
     */
    redeemRequestBody: string | null
}

export const DEFAULT_PROBER_SETTINGS: Readonly<ProberSettings> = {
    intervalMs: 300_000,
    jitterMs: 30_000,
    timeoutMs: 10_000,
    headersTimeoutMs: 5_000,
    // Measured by bench/probing.ts: 8 jobs a batch with a 2 s poll fell behind 10,000 probes a minute; 32 and 500 ms kept up.
    concurrency: 32,
    pollIntervalMs: 500,
    jobExpireSeconds: 120,
    retryLimit: 3,
    retryDelaySeconds: 5,
    maintenanceIntervalSeconds: 30,
    measurementAllowlist: [],
    maxAttestationAgeSeconds: DEFAULT_MAX_ATTESTATION_AGE_SECONDS,
    maxConcurrentPerHost: 2,
    redeemRequestBody: null,
}

/** Environment variable of each numeric setting, with the smallest value it accepts. */
const NUMERIC_VARIABLES: ReadonlyArray<{name: string; key: keyof ProberSettings; minimum: number; unit: string}> = [
    {name: 'PROBE_INTERVAL_MS', key: 'intervalMs', minimum: 1_000, unit: 'milliseconds'},
    {name: 'PROBE_JITTER_MS', key: 'jitterMs', minimum: 0, unit: 'milliseconds'},
    {name: 'PROBE_TIMEOUT_MS', key: 'timeoutMs', minimum: 100, unit: 'milliseconds'},
    {name: 'PROBE_HEADERS_TIMEOUT_MS', key: 'headersTimeoutMs', minimum: 100, unit: 'milliseconds'},
    {name: 'PROBER_CONCURRENCY', key: 'concurrency', minimum: 1, unit: 'jobs'},
    {name: 'PROBER_POLL_INTERVAL_MS', key: 'pollIntervalMs', minimum: 500, unit: 'milliseconds'},
    {name: 'PROBER_JOB_EXPIRE_SECONDS', key: 'jobExpireSeconds', minimum: 1, unit: 'seconds'},
    {name: 'PROBER_RETRY_LIMIT', key: 'retryLimit', minimum: 0, unit: 'retries'},
    {name: 'PROBER_RETRY_DELAY_SECONDS', key: 'retryDelaySeconds', minimum: 0, unit: 'seconds'},
    {name: 'PROBER_MAINTENANCE_INTERVAL_SECONDS', key: 'maintenanceIntervalSeconds', minimum: 1, unit: 'seconds'},
    {name: 'PROBE_MAX_ATTESTATION_AGE_SECONDS', key: 'maxAttestationAgeSeconds', minimum: 1, unit: 'seconds'},
    {name: 'PROBE_MAX_CONCURRENT_PER_HOST', key: 'maxConcurrentPerHost', minimum: 1, unit: 'requests'},
]

export class ProberSettingsError extends Error {
    override name = 'ProberSettingsError'
    constructor(readonly problems: string[]) {
        super(`invalid prober configuration:\n  ${problems.join('\n  ')}`)
    }
}

/**
 * Reads the prober settings from environment variables, fills defaults and validates them in one pass. Throws
 * ProberSettingsError listing every invalid variable with the value received and what is expected.
 */
export function proberSettingsFromEnv(env: NodeJS.ProcessEnv): ProberSettings {
    const settings: ProberSettings = {...DEFAULT_PROBER_SETTINGS, measurementAllowlist: []}
    const problems: string[] = []
    for (const variable of NUMERIC_VARIABLES) {
        const text = env[variable.name]
        if (text === undefined || text.trim() === '') continue
        const value = Number(text)
        if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < variable.minimum) {
            problems.push(`${variable.name}: expected an integer >= ${variable.minimum} (${variable.unit}), received ${JSON.stringify(text)}`)
            continue
        }
        ;(settings[variable.key] as number) = value
    }
    const allowlist = env.PROBE_MEASUREMENT_ALLOWLIST
    if (allowlist !== undefined && allowlist.trim() !== '') {
        const entries = allowlist.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
        const invalid = entries.find((entry) => !/^(0x)?[0-9a-fA-F]+$/.test(entry))
        if (invalid !== undefined) {
            problems.push(`PROBE_MEASUREMENT_ALLOWLIST: expected comma-separated hex measurements, received ${JSON.stringify(invalid)}`)
        } else {
            settings.measurementAllowlist = entries
        }
    }
    const redeemRequest = env.PROBE_REDEEM_REQUEST_JSON
    if (redeemRequest !== undefined && redeemRequest.trim() !== '') {
        if (isJsonObjectText(redeemRequest)) settings.redeemRequestBody = redeemRequest
        else problems.push(`PROBE_REDEEM_REQUEST_JSON: expected a JSON object (a signed redeem request), received ${redeemRequest.length} characters that are not one`)
    }
    if (problems.length === 0 && settings.jitterMs >= settings.intervalMs) {
        problems.push(`PROBE_JITTER_MS: must be smaller than PROBE_INTERVAL_MS (${settings.intervalMs}), received ${settings.jitterMs}`)
    }
    const headersTimeoutText = env.PROBE_HEADERS_TIMEOUT_MS
    const headersTimeoutSet = headersTimeoutText !== undefined && headersTimeoutText.trim() !== ''
    if (problems.length === 0 && headersTimeoutSet && settings.headersTimeoutMs >= settings.timeoutMs) {
        problems.push(`PROBE_HEADERS_TIMEOUT_MS: must be smaller than PROBE_TIMEOUT_MS (${settings.timeoutMs}), received ${settings.headersTimeoutMs}`)
    }
    // Without an explicit value the default follows a shorter total timeout, so PROBE_TIMEOUT_MS alone stays valid.
    if (!headersTimeoutSet) settings.headersTimeoutMs = Math.min(settings.headersTimeoutMs, settings.timeoutMs)
    if (problems.length > 0) throw new ProberSettingsError(problems)
    return settings
}

function isJsonObjectText(text: string): boolean {
    try {
        const value = JSON.parse(text) as unknown
        return typeof value === 'object' && value !== null && !Array.isArray(value)
    } catch {
        return false
    }
}
