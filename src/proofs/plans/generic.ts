import type {ProbeErrorCode, ProbeRequest, ProbeResponse, ProofVerdict} from '../types'
import type {KindPlan} from './plan-types'
import {getRequest, joinUrl, type ProbeTarget} from './target'
import {fail, inconclusive, missingResponse, pass, redactUrl, redirectTarget, unreachableVerdict} from './verdicts'

/** The trading API and the operator API. Only ports 22 and 443 of a trading operator's host should accept outside connections. */
export const TRADING_PRIVATE_PORTS = [
    {port: 9100, route: '/health'},
    {port: 9200, route: '/api/meta'},
] as const

/** Errors that show the port refused or dropped the connection: nothing listens for outsiders. */
const CLOSED_PORT_ERRORS: ProbeErrorCode[] = ['CONNECTION_REFUSED', 'CONNECT_TIMEOUT']

/**
 * Errors that mean something accepted the connection and spoke: a TLS peer, an HTTP server behind a redirect loop or
 * a huge body, or a listener that took the connection and never sent headers.
 */
const OPEN_PORT_ERRORS: ProbeErrorCode[] = ['TLS_INVALID', 'BODY_TOO_LARGE', 'TOO_MANY_REDIRECTS', 'HEADERS_TIMEOUT']

function defaultPrivateUrls(baseUrl: string): string[] {
    let parsed: URL
    try {
        parsed = new URL(baseUrl)
    } catch {
        return []
    }
    return TRADING_PRIVATE_PORTS.map(({port, route}) => `http://${parsed.hostname}:${port}${route}`)
}

function privateSurfaceRequests(target: ProbeTarget): ProbeRequest[] {
    const urls = [...(target.privatePortUrls ?? defaultPrivateUrls(target.baseUrl))]
    if (target.sidecarUrl !== undefined) urls.push(joinUrl(target.sidecarUrl, '/health'))
    return urls.map((url) => getRequest(url))
}

function evaluateReachability(responses: ProbeResponse[]): ProofVerdict {
    const response = responses[0]
    if (response === undefined) return missingResponse('/health')
    // A status line is a response, even when a limit then stopped the exchange (a body over the cap, a redirect loop).
    if (response.status === undefined) return unreachableVerdict(response)

    const status = response.status
    // A gateway error is the proxy telling that the operator's service behind it is unreachable.
    if (status === 502 || status === 504) return fail('UPSTREAM_GATEWAY_ERROR', `status=${status}`)
    // An auth proxy that rejects anonymous requests is up: liveness is proven, readiness is not.
    if (status === 401 || status === 403) return pass('ENDPOINT_GUARDED', `status=${status}`)
    // A redirect to another host is a response of this endpoint, so it passes, and observed shows where it points.
    const target = redirectTarget(response)
    return pass('ENDPOINT_ANSWERED', target === undefined ? `status=${status}` : `status=${status} to ${target}`)
}

function evaluatePrivatePortExposure(responses: ProbeResponse[]): ProofVerdict {
    if (responses.length === 0) return inconclusive('NO_PRIVATE_SURFACES', 'no private port or sidecar URL to try')

    const exposed = responses.filter(
        (response) => response.status !== undefined || (response.error !== undefined && OPEN_PORT_ERRORS.includes(response.error)),
    )
    if (exposed.length > 0) {
        const first = exposed[0]
        const answer = first.status !== undefined ? `status=${first.status}` : first.error
        const more = exposed.length > 1 ? ` (+${exposed.length - 1} more)` : ''
        return fail('PORT_EXPOSED', `${redactUrl(first.request.url)} ${answer}${more}`)
    }

    const undecided = responses.filter((response) => response.error === undefined || !CLOSED_PORT_ERRORS.includes(response.error))
    if (undecided.length > 0) {
        const first = undecided[0]
        return inconclusive('PORT_CHECK_INCONCLUSIVE', `${redactUrl(first.request.url)} ${first.error ?? 'no answer'}`)
    }
    return pass('PORTS_CLOSED', `closed=${responses.length}: ${responses.map((response) => response.error).join(',')}`)
}

export const GENERIC_PLANS = {
    ENDPOINT_REACHABILITY: {
        requests: (target) => [getRequest(joinUrl(target.baseUrl, '/health'))],
        evaluate: evaluateReachability,
    },
    PRIVATE_PORT_EXPOSURE: {
        requests: privateSurfaceRequests,
        evaluate: evaluatePrivatePortExposure,
    },
} satisfies Record<string, KindPlan>
