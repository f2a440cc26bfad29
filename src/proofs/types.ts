/**
 * Shared shapes of the proof side. Evaluators are pure functions from a probe exchange (and chain facts read from
 * the indexed tables) to a verdict; the worker turns verdicts into signed proof records.
 */

/** Final outcome of one probe. */
export type ProofOutcome = 'PASS' | 'FAIL' | 'UNREACHABLE' | 'INCONCLUSIVE' | 'NOT_APPLICABLE'

/** One HTTP request the prober makes. `url` is absolute; the body, when present, is UTF-8 JSON text. */
export interface ProbeRequest {
    method: 'GET' | 'POST' | 'HEAD'
    url: string
    headers?: Record<string, string>
    body?: string
}

/**
 * What came back for one request. `error` is set when no HTTP response was received (refused address, DNS failure,
 * connection refused, timeout, size cap, TLS failure); `status` is then undefined.
 */
export interface ProbeResponse {
    request: ProbeRequest
    /** Final URL after redirects. */
    finalUrl: string
    status?: number
    /** Lower-case header names. */
    headers: Record<string, string>
    /** Full body as received, up to the size cap; `truncated` tells whether the cap cut it. */
    body: Uint8Array
    truncated: boolean
    latencyMs: number
    /** IP address the final exchange connected to, after the address policy allowed it. */
    remoteAddress?: string
    error?: ProbeErrorCode
    errorDetail?: string
}

/** Reasons a request produced no usable HTTP response. */
export type ProbeErrorCode =
    | 'ADDRESS_REFUSED'
    | 'SCHEME_REFUSED'
    | 'DNS_FAILED'
    | 'CONNECTION_REFUSED'
    | 'CONNECT_TIMEOUT'
    | 'HEADERS_TIMEOUT'
    | 'TOTAL_TIMEOUT'
    | 'BODY_TOO_LARGE'
    | 'TOO_MANY_REDIRECTS'
    | 'TLS_INVALID'
    | 'INVALID_URL'
    | 'NETWORK_ERROR'

/** Result of an evaluator: outcome, a stable reason code and the value actually observed (for people to read). */
export interface ProofVerdict {
    outcome: ProofOutcome
    reason: string
    observed: string
}
