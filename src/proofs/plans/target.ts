import type {ProbeRequest} from '../types'

/** What the prober knows about one endpoint before it sends a request. Every URL here is hostile chain input. */
export interface ProbeTarget {
    /** The operator's advertised endpoint (`rpcAddress`), without a trailing path to a route. */
    baseUrl: string
    /** Trading bot id, for the per-bot routes. */
    botId?: string
    /** Sandbox provision call id (decimal string), for `/api/provisions/{callId}`. */
    callId?: string
    /** Sandbox sidecar URL published in a job result or `OperatorProvisioned`. */
    sidecarUrl?: string
    /** Instruments whose books to read; when absent, the books of the first listed instruments are read. */
    instrumentIds?: string[]
    /**
     * URLs of surfaces that must not answer from outside. When absent, the trading API (9100) and the
     * operator API (9200) on the host of `baseUrl` are tried.
     */
    privatePortUrls?: string[]
    /** JSON body of a signed `/redeem` request, prepared by the worker; without it no delivery can be tested. */
    redeemRequestBody?: string
}

/**
 * Appends a route to a base URL, keeping any path prefix of the base and dropping its query and fragment. An
 * unparsable base is concatenated as is, so the HTTP layer rejects it with INVALID_URL instead of this throwing.
 */
export function joinUrl(baseUrl: string, route: string): string {
    let parsed: URL
    try {
        parsed = new URL(baseUrl)
    } catch {
        return `${baseUrl}${route}`
    }
    const prefix = parsed.pathname.replace(/\/+$/, '')
    return `${parsed.protocol}//${parsed.host}${prefix}${route}`
}

export function getRequest(url: string): ProbeRequest {
    return {method: 'GET', url, headers: {accept: 'application/json'}}
}

export function postJsonRequest(url: string, body: string): ProbeRequest {
    return {method: 'POST', url, headers: {accept: 'application/json', 'content-type': 'application/json'}, body}
}
