import {redactSecretsInText} from '../http/redact-url'
import type {ProbeResponse, ProofOutcome, ProofVerdict} from '../types'

/** Longest `observed` text; longer values are cut so a hostile endpoint cannot fill the proof table. */
export const OBSERVED_MAX_CHARS = 200

function verdict(outcome: ProofOutcome, reason: string, observed: string): ProofVerdict {
    return {outcome, reason, observed: clipObserved(observed)}
}

export const pass = (reason: string, observed: string) => verdict('PASS', reason, observed)
export const fail = (reason: string, observed: string) => verdict('FAIL', reason, observed)
export const inconclusive = (reason: string, observed: string) => verdict('INCONCLUSIVE', reason, observed)
export const unreachable = (reason: string, observed: string) => verdict('UNREACHABLE', reason, observed)
export const notApplicable = (reason: string, observed: string) => verdict('NOT_APPLICABLE', reason, observed)

/**
 * Replaces control characters and secrets (see redactSecretsInText) and cuts the text, so an operator-supplied string
 * is safe to store and show.
 */
export function clipObserved(text: string): string {
    const printable = redactSecretsInText(text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' '))
    return printable.length <= OBSERVED_MAX_CHARS ? printable : `${printable.slice(0, OBSERVED_MAX_CHARS - 1)}…`
}

/** Removes user info, query and fragment, which may carry credentials, from a URL shown in `observed`. */
export function redactUrl(url: string): string {
    try {
        const parsed = new URL(url)
        return `${parsed.protocol}//${parsed.host}${parsed.pathname}`
    } catch {
        return '<invalid url>'
    }
}

/**
 * Returns the verdict of a request without a usable response, with the error code as reason. It is UNREACHABLE when
 * no HTTP response came back, and FAIL when the endpoint sent a response that broke a limit (a body over the size
 * cap, a redirect loop).
 */
export function unreachableVerdict(response: ProbeResponse): ProofVerdict {
    const code = response.error ?? 'NETWORK_ERROR'
    // The HTTP client's detail (the rejected address and why, or the socket error) adds what the code alone omits.
    const detail = response.errorDetail === undefined || response.errorDetail === '' ? '' : `: ${response.errorDetail}`
    const status = response.status === undefined ? '' : ` status=${response.status}`
    const observed = clipObserved(`${response.request.method} ${redactUrl(response.request.url)}:${status} ${code}${detail}`)
    return response.status === undefined ? unreachable(code, observed) : fail(code, observed)
}

/**
 * Checks that apply to every response before its body is read: no HTTP response, rate limiting and a body cut by
 * the size cap. Returns null when the response can be read.
 */
export function transportVerdict(response: ProbeResponse): ProofVerdict | null {
    if (response.error !== undefined || response.status === undefined) return unreachableVerdict(response)
    if (response.status === 429) {
        const retryAfter = response.headers['retry-after'] ?? 'none'
        return inconclusive('RATE_LIMITED', `status=429 retry-after=${retryAfter}`)
    }
    if (response.truncated) return fail('BODY_TRUNCATED', `status=${response.status} body cut at ${response.body.length} bytes`)
    // The fetcher follows redirects on the same hostname only, so a redirect to another host reaches the evaluator
    // unfollowed (see redirectTarget). That host's response would prove nothing about the operator's endpoint.
    const target = redirectTarget(response)
    if (target !== undefined) return inconclusive('REDIRECTED_OFF_HOST', `status=${response.status} on ${pathOf(response)} to ${target}`)
    return null
}

/** Statuses whose Location the fetcher follows (on the same hostname). */
const FOLLOWED_REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])

/**
 * Returns where a redirect to another hostname points, resolved against the URL that sent it and without query or
 * credentials, or undefined for any other response (a 300 or 304 is no redirect the fetcher follows).
 */
export function redirectTarget(response: ProbeResponse): string | undefined {
    const location = response.headers['location']
    if (response.status === undefined || !FOLLOWED_REDIRECTS.has(response.status) || location === undefined) return undefined
    let target: URL
    try {
        target = new URL(location, response.finalUrl)
        // The fetcher refuses a redirect to another scheme with SCHEME_REFUSED, which errorDetail explains.
        if (target.protocol !== 'http:' && target.protocol !== 'https:') return undefined
        if (target.hostname === new URL(response.finalUrl).hostname) return undefined
    } catch {
        return undefined
    }
    return redactUrl(target.toString())
}

/** A 401 from the operator's auth proxy: the endpoint is up and guarded, but its product state is unknown. */
export function authProxyVerdict(response: ProbeResponse): ProofVerdict | null {
    if (response.status === 401) return inconclusive('AUTH_PROXY_401', `status=401 on ${pathOf(response)}`)
    if (response.status === 403) return inconclusive('AUTH_PROXY_403', `status=403 on ${pathOf(response)}`)
    return null
}

export function pathOf(response: ProbeResponse): string {
    try {
        return new URL(response.request.url).pathname
    } catch {
        return '<invalid url>'
    }
}

/** Finds the first response whose request path ends with `suffix` (base URLs may carry a path prefix). */
export function findByPathSuffix(responses: ProbeResponse[], suffix: string): ProbeResponse | undefined {
    return responses.find((response) => pathOf(response).endsWith(suffix))
}

export function findByPathPattern(responses: ProbeResponse[], pattern: RegExp): ProbeResponse | undefined {
    return responses.find((response) => pattern.test(pathOf(response)))
}

/** The verdict when the plan's request is missing from the responses the worker passed. */
export function missingResponse(route: string): ProofVerdict {
    return inconclusive('NO_RESPONSE_FOR_ROUTE', `no response for ${route}`)
}
