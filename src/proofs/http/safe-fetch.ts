import {lookup} from 'node:dns/promises'
import {performance} from 'node:perf_hooks'
import type {ProbeErrorCode, ProbeRequest, ProbeResponse} from '../types'
import {
    type AddressPolicy,
    checkAddress,
    type CompiledAddressPolicy,
    toCompiledPolicy,
} from './address-policy'
import {parseIpAddress} from './classify-address'
import {describeInvalidUrl} from './invalid-url'
import {HostConcurrencyLimiter} from './host-limiter'
import {
    type ConnectFunction,
    connectToAddress,
    type ExchangeResult,
    performExchange,
} from './http-exchange'
import {redactUrl, redactUrlsInText, REDACTED} from './redact-url'
import {parseRetryAfterMs, retryDelayMs} from './retry-after'

export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000
export const DEFAULT_HEADERS_TIMEOUT_MS = 5_000
export const DEFAULT_TOTAL_TIMEOUT_MS = 10_000
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
export const DEFAULT_MAX_REDIRECTS = 5
export const DEFAULT_MAX_CONCURRENT_PER_HOST = 2
export const DEFAULT_MAX_RATE_LIMIT_RETRIES = 2
export const DEFAULT_RETRY_BASE_DELAY_MS = 500
export const DEFAULT_RETRY_MAX_BACKOFF_MS = 4_000
export const DEFAULT_USER_AGENT = 'proofgap-prober/0.1'

/** Returns every address a hostname resolves to, as IP address text. */
export type HostResolver = (hostname: string) => Promise<string[]>

/** Settings of safeFetch; every field is optional and documents its unit and default. */
export interface SafeFetchOptions {
    /** Addresses that may be connected to. Default: public addresses only. */
    policy?: AddressPolicy | CompiledAddressPolicy
    /** Hostname resolver. Default: `dns.promises.lookup` with all addresses. */
    resolveHost?: HostResolver
    /** Opens each connection. Default: TCP or TLS socket to the checked address. */
    connect?: ConnectFunction
    /** Shared per-host semaphore. Default: one module-wide limiter of `maxConcurrentPerHost` (2). */
    hostLimiter?: HostConcurrencyLimiter
    /** Used only when `hostLimiter` is absent. Default 2. */
    maxConcurrentPerHost?: number
    /** Redirects followed before TOO_MANY_REDIRECTS. Default 5. */
    maxRedirects?: number
    /**
     * Follow redirects to another hostname. Default false: a response from another host is no evidence about the one
     * probed, so the redirect response itself is returned. Redirects on the same hostname (another scheme, port or
     * path) are always followed.
     */
    crossHostRedirects?: boolean
    /** Milliseconds to establish TCP (and TLS). Default 3000. */
    connectTimeoutMs?: number
    /** Milliseconds from connection to complete response headers. Default 5000. */
    headersTimeoutMs?: number
    /** Milliseconds for the whole call: DNS, queueing, redirects, retries and body. Default 10000. */
    totalTimeoutMs?: number
    /** Bytes of body kept before BODY_TOO_LARGE. Default 1 MiB. */
    maxBodyBytes?: number
    /** Retries after 429 Too Many Requests. Default 2. */
    maxRateLimitRetries?: number
    /** First backoff delay in milliseconds, doubled per retry. Default 500. */
    retryBaseDelayMs?: number
    /** Maximum backoff delay in milliseconds (a longer Retry-After is still honoured). Default 4000. */
    retryMaxBackoffMs?: number
    /** Accept any TLS certificate, including self-signed and wrong-host ones. For tests only. Default false. */
    acceptInvalidCertificates?: boolean
    /** Trusted CA certificates in PEM, replacing the default root store. Default: Node's root store. */
    tlsCa?: string | Buffer | Array<string | Buffer>
    /** User-Agent header unless the request sets one. Default `proofgap-prober/0.1`. */
    userAgent?: string
}

interface ResolvedOptions {
    policy: CompiledAddressPolicy
    resolveHost: HostResolver
    connect: ConnectFunction
    hostLimiter: HostConcurrencyLimiter
    maxRedirects: number
    crossHostRedirects: boolean
    connectTimeoutMs: number
    headersTimeoutMs: number
    totalTimeoutMs: number
    maxBodyBytes: number
    maxRateLimitRetries: number
    retryBaseDelayMs: number
    retryMaxBackoffMs: number
    acceptInvalidCertificates: boolean
    tlsCa?: string | Buffer | Array<string | Buffer>
    userAgent: string
}

/** Resolves through the system resolver, returning every address so that all of them are checked. */
export const resolveWithSystemDns: HostResolver = async (hostname) => {
    const results = await lookup(hostname, {all: true, verbatim: true})
    return results.map((result) => result.address)
}

let sharedHostLimiter: HostConcurrencyLimiter | undefined

function defaultHostLimiter(maxPerHost: number): HostConcurrencyLimiter {
    if (sharedHostLimiter === undefined || sharedHostLimiter.maxPerHost !== maxPerHost) {
        sharedHostLimiter = new HostConcurrencyLimiter(maxPerHost)
    }
    return sharedHostLimiter
}

/**
 * Validates options and fills defaults. Throws RangeError for a setting that is not a non-negative integer (or
 * positive, where zero makes no sense), because that is a configuration mistake and not a network problem.
 */
export function resolveSafeFetchOptions(options: SafeFetchOptions = {}): ResolvedOptions {
    const positive = (name: keyof SafeFetchOptions, fallback: number): number =>
        integerSetting(name, options[name] as number | undefined, fallback, 1)
    const nonNegative = (name: keyof SafeFetchOptions, fallback: number): number =>
        integerSetting(name, options[name] as number | undefined, fallback, 0)

    const maxConcurrentPerHost = positive('maxConcurrentPerHost', DEFAULT_MAX_CONCURRENT_PER_HOST)
    return {
        policy: toCompiledPolicy(options.policy),
        resolveHost: options.resolveHost ?? resolveWithSystemDns,
        connect: options.connect ?? connectToAddress,
        hostLimiter: options.hostLimiter ?? defaultHostLimiter(maxConcurrentPerHost),
        maxRedirects: nonNegative('maxRedirects', DEFAULT_MAX_REDIRECTS),
        crossHostRedirects: options.crossHostRedirects ?? false,
        connectTimeoutMs: positive('connectTimeoutMs', DEFAULT_CONNECT_TIMEOUT_MS),
        headersTimeoutMs: positive('headersTimeoutMs', DEFAULT_HEADERS_TIMEOUT_MS),
        totalTimeoutMs: positive('totalTimeoutMs', DEFAULT_TOTAL_TIMEOUT_MS),
        maxBodyBytes: nonNegative('maxBodyBytes', DEFAULT_MAX_BODY_BYTES),
        maxRateLimitRetries: nonNegative('maxRateLimitRetries', DEFAULT_MAX_RATE_LIMIT_RETRIES),
        retryBaseDelayMs: nonNegative('retryBaseDelayMs', DEFAULT_RETRY_BASE_DELAY_MS),
        retryMaxBackoffMs: nonNegative('retryMaxBackoffMs', DEFAULT_RETRY_MAX_BACKOFF_MS),
        acceptInvalidCertificates: options.acceptInvalidCertificates ?? false,
        tlsCa: options.tlsCa,
        userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    }
}

function integerSetting(name: string, value: number | undefined, fallback: number, minimum: number): number {
    if (value === undefined) {
        return fallback
    }
    if (!Number.isSafeInteger(value) || value < minimum) {
        throw new RangeError(`safeFetch option ${name} is invalid: got ${value}, expected an integer >= ${minimum}`)
    }
    return value
}

/**
 * Returns a fetch function bound to one set of options, with its own per-host limiter unless one is given, so
 * that all probes of one worker share the concurrency limit.
 */
export function createSafeFetch(options: SafeFetchOptions = {}): (request: ProbeRequest) => Promise<ProbeResponse> {
    const hostLimiter =
        options.hostLimiter ??
        new HostConcurrencyLimiter(options.maxConcurrentPerHost ?? DEFAULT_MAX_CONCURRENT_PER_HOST)
    const resolved = resolveSafeFetchOptions({...options, hostLimiter})
    return (request) => fetchWithOptions(request, resolved)
}

/**
 * Sends a probe request to a hostile URL and returns what came back. Never throws for network problems: a refused
 * scheme or address, DNS failure, timeout, TLS failure, size cap or redirect loop comes back as `error`, with the
 * status, headers and body received so far. Only http and https are allowed; every hop is resolved once, all
 * resolved addresses are checked against the policy, and the connection goes to the checked address itself. The
 * returned `request`, `finalUrl` and `errorDetail` carry no URL credentials and no secret header values.
 * Throws synchronously, and only for invalid options: RangeError for a bad number, AddressPolicyError for a bad
 * policy entry.
 */
export function safeFetch(request: ProbeRequest, options: SafeFetchOptions = {}): Promise<ProbeResponse> {
    return fetchWithOptions(request, resolveSafeFetchOptions(options))
}

interface HopState {
    url: URL
    method: string
    headers: Record<string, string>
    body?: string
}

/**
 * Maximum wait for a free per-host slot, as a multiple of the total time limit. The wait is the prober's own queue,
 * so it counts neither against the target's time limit nor in its latency. This bound only keeps it finite.
 */
const SLOT_WAIT_LIMIT_FACTOR = 10

async function fetchWithOptions(request: ProbeRequest, options: ResolvedOptions): Promise<ProbeResponse> {
    const startedAt = performance.now()
    let waitedMs = 0
    const elapsedMs = (): number => performance.now() - startedAt - waitedMs
    const remainingMs = (): number => options.totalTimeoutMs - elapsedMs()
    const publicRequest = redactRequest(request)

    const respond = (hopUrl: string, result: Partial<ExchangeResult>): ProbeResponse => ({
        request: publicRequest,
        finalUrl: redactUrl(hopUrl),
        status: result.status,
        headers: redactResponseHeaders(result.headers ?? {}),
        body: result.body ?? new Uint8Array(0),
        truncated: result.truncated ?? false,
        latencyMs: Math.round(elapsedMs()),
        ...(result.remoteAddress === undefined ? {} : {remoteAddress: result.remoteAddress}),
        ...(result.error === undefined ? {} : {error: result.error}),
        ...(result.errorDetail === undefined ? {} : {errorDetail: redactUrlsInText(result.errorDetail)}),
    })
    const refuse = (hopUrl: string, error: ProbeErrorCode, errorDetail: string): ProbeResponse =>
        respond(hopUrl, {error, errorDetail})

    let url: URL
    try {
        url = new URL(request.url)
    } catch {
        return refuse(request.url, 'INVALID_URL', `${describeInvalidUrl(request.url)}: ${redactUrl(request.url)}`)
    }

    let hop: HopState = {url, method: request.method, headers: lowerCaseNames(request.headers ?? {}), body: request.body}
    let redirectCount = 0
    let retryCount = 0

    /** The redirect that led to the current hop, if any. */
    let lastRedirect: {url: URL; status: number; headers: Record<string, string>} | undefined

    // Each pass either returns, follows one redirect or waits for one retry; both counts are capped.
    for (;;) {
        const result = await fetchHop(hop, options, remainingMs(), (ms) => (waitedMs += ms))
        if (result.status === undefined && lastRedirect !== undefined) {
            // The endpoint did respond, with a redirect that led nowhere: the response keeps that status line.
            const errorDetail = `${result.errorDetail ?? result.error ?? 'no response'} (after status ${lastRedirect.status} from ${redactUrl(lastRedirect.url.toString())})`
            return respond(hop.url.toString(), {...result, status: lastRedirect.status, headers: lastRedirect.headers, errorDetail})
        }
        if (result.error !== undefined || result.status === undefined) {
            return respond(hop.url.toString(), result)
        }

        const location = result.headers['location']
        if (isRedirectStatus(result.status) && location !== undefined) {
            if (redirectCount >= options.maxRedirects) {
                return respond(hop.url.toString(), {
                    ...result,
                    error: 'TOO_MANY_REDIRECTS',
                    errorDetail: `more than ${options.maxRedirects} redirects; the last one pointed to ${redactUrl(location)}`,
                })
            }
            // A redirect that cannot be followed still came with a status line, so the response keeps it.
            let nextUrl: URL
            try {
                nextUrl = new URL(location, hop.url)
            } catch {
                return respond(hop.url.toString(), {...result, error: 'INVALID_URL', errorDetail: `redirect location is not a valid URL: ${redactUrl(location)}`})
            }
            if (nextUrl.protocol !== 'http:' && nextUrl.protocol !== 'https:') {
                const errorDetail = `redirect to a ${nextUrl.protocol} URL, not http or https: ${redactUrl(location)}`
                return respond(hop.url.toString(), {...result, error: 'SCHEME_REFUSED', errorDetail})
            }
            if (nextUrl.hostname !== url.hostname && !options.crossHostRedirects) {
                return respond(hop.url.toString(), result)
            }
            redirectCount++
            lastRedirect = {url: hop.url, status: result.status, headers: result.headers}
            hop = redirectedHop(hop, result.status, nextUrl)
            continue
        }

        if (result.status === 429 && retryCount < options.maxRateLimitRetries) {
            const retryAfterMs = parseRetryAfterMs(result.headers['retry-after'], Date.now())
            const delayMs = retryDelayMs(retryCount, retryAfterMs, options.retryBaseDelayMs, options.retryMaxBackoffMs)
            // A retry that cannot finish within the total time limit is pointless, so the 429 is the result.
            if (delayMs >= remainingMs()) {
                return respond(hop.url.toString(), result)
            }
            await sleep(delayMs)
            retryCount++
            continue
        }

        return respond(hop.url.toString(), result)
    }
}

/**
 * Checks scheme and addresses of one hop, then performs the exchange inside a per-host slot. The time spent waiting
 * for the slot goes to `onSlotWait`, and `remainingMs` counts from when the slot is free.
 */
async function fetchHop(
    hop: HopState,
    options: ResolvedOptions,
    remainingMs: number,
    onSlotWait: (ms: number) => void,
): Promise<ExchangeResult> {
    const refused = (error: ProbeErrorCode, errorDetail: string): ExchangeResult => ({
        headers: {},
        body: new Uint8Array(0),
        truncated: false,
        error,
        errorDetail,
    })

    const {url} = hop
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return refused('SCHEME_REFUSED', `scheme ${url.protocol} is not allowed; only http: and https: are probed`)
    }
    if (remainingMs <= 0) {
        return refused('TOTAL_TIMEOUT', `total time limit of ${options.totalTimeoutMs} ms reached`)
    }

    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
    const secure = url.protocol === 'https:'
    const defaultPort = secure ? 443 : 80
    const port = url.port === '' ? defaultPort : Number(url.port)
    const literal = parseIpAddress(hostname) !== undefined

    const resolution = literal ? {addresses: [hostname]} : await resolveWithin(options.resolveHost, hostname, remainingMs)
    if ('error' in resolution) {
        return refused(resolution.error, resolution.errorDetail)
    }

    for (const address of resolution.addresses) {
        const decision = checkAddress(options.policy, address)
        if (!decision.allowed) {
            const addressDescription = parseIpAddress(address) === undefined ? 'not an IP address' : `a ${decision.addressClass} address`
            return refused(
                'ADDRESS_REFUSED',
                `${hostname} resolves to ${address}, ${addressDescription}, which the address policy does not allow`,
            )
        }
    }
    // NOTE: only the first allowed address is tried; a host whose first address is down counts as unreachable.
    const address = resolution.addresses[0] as string

    const slotKey = `${hostname.toLowerCase()}:${port}`
    const queuedAt = performance.now()
    const waitLimitMs = options.totalTimeoutMs * SLOT_WAIT_LIMIT_FACTOR
    const release = await options.hostLimiter.acquire(slotKey, waitLimitMs)
    onSlotWait(performance.now() - queuedAt)
    if (release === undefined) {
        return refused('TOTAL_TIMEOUT', `no connection slot to ${slotKey} became free within ${waitLimitMs} ms (the prober's own queue)`)
    }
    try {
        return await performExchange(
            {
                target: {
                    address,
                    port,
                    secure,
                    servername: secure && !literal ? hostname : undefined,
                    rejectUnauthorized: !options.acceptInvalidCertificates,
                    ca: options.tlsCa,
                },
                method: hop.method,
                path: `${url.pathname}${url.search}`,
                headers: requestHeaders(hop, options.userAgent),
                body: hop.body,
                readBody: (status, headers) =>
                    hop.method !== 'HEAD' && !(isRedirectStatus(status) && headers['location'] !== undefined),
                connectTimeoutMs: options.connectTimeoutMs,
                headersTimeoutMs: options.headersTimeoutMs,
                remainingMs,
                maxBodyBytes: options.maxBodyBytes,
            },
            options.connect,
        )
    } finally {
        release()
    }
}

type Resolution = {addresses: string[]} | {error: ProbeErrorCode; errorDetail: string}

async function resolveWithin(resolveHost: HostResolver, hostname: string, timeoutMs: number): Promise<Resolution> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<Resolution>((resolve) => {
        timer = setTimeout(
            () => resolve({error: 'TOTAL_TIMEOUT', errorDetail: `total time limit reached while resolving ${hostname}`}),
            timeoutMs,
        )
    })
    const lookupResult = resolveHost(hostname).then(
        (addresses): Resolution =>
            addresses.length === 0
                ? {error: 'DNS_FAILED', errorDetail: `${hostname} resolved to no addresses`}
                : {addresses},
        (error: unknown): Resolution => ({
            error: 'DNS_FAILED',
            errorDetail: `resolving ${hostname} failed: ${error instanceof Error ? error.message : String(error)}`,
        }),
    )
    try {
        return await Promise.race([lookupResult, timeout])
    } finally {
        clearTimeout(timer)
    }
}

function isRedirectStatus(status: number): boolean {
    return status === 301 || status === 302 || status === 303 || status === 307 || status === 308
}

/** Headers that carry credentials; they are dropped on cross-origin redirects and redacted in results. */
const SECRET_HEADER = /^(?:authorization|proxy-authorization|cookie)$|token|secret|api[-_]?key|password|session/i

/**
 * Builds the next hop as browsers do: 303 (and 301/302 after POST) switch to GET without a body, 307/308 keep
 * method and body. Credential headers never follow a redirect to another origin.
 */
function redirectedHop(hop: HopState, status: number, nextUrl: URL): HopState {
    const switchToGet = (status === 303 && hop.method !== 'HEAD') || ((status === 301 || status === 302) && hop.method === 'POST')
    const headers = {...hop.headers}
    if (switchToGet) {
        delete headers['content-type']
    }
    if (nextUrl.origin !== hop.url.origin) {
        for (const name of Object.keys(headers)) {
            if (SECRET_HEADER.test(name)) {
                delete headers[name]
            }
        }
    }
    return {
        url: nextUrl,
        method: switchToGet ? 'GET' : hop.method,
        headers,
        body: switchToGet ? undefined : hop.body,
    }
}

/** Headers the prober controls itself; caller values for these are replaced. */
const CONTROLLED_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'accept-encoding'])

function requestHeaders(hop: HopState, userAgent: string): Record<string, string> {
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(hop.headers)) {
        if (!CONTROLLED_HEADERS.has(name)) {
            headers[name] = value
        }
    }
    headers['host'] = hop.url.host
    headers['connection'] = 'close'
    // The body is evidence byte for byte, so no content coding that the prober would have to undo.
    headers['accept-encoding'] = 'identity'
    headers['user-agent'] ??= userAgent
    if (hop.body !== undefined) {
        headers['content-length'] = String(Buffer.byteLength(hop.body))
        headers['content-type'] ??= 'application/json'
    }
    return headers
}

function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
    const lowered: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers)) {
        lowered[name.toLowerCase()] = value
    }
    return lowered
}

/** Copies the request for storage, with the URL credentials removed and secret header values replaced. */
function redactRequest(request: ProbeRequest): ProbeRequest {
    const redacted: ProbeRequest = {method: request.method, url: redactUrl(request.url)}
    if (request.headers !== undefined) {
        redacted.headers = {}
        for (const [name, value] of Object.entries(request.headers)) {
            redacted.headers[name] = SECRET_HEADER.test(name) ? REDACTED : value
        }
    }
    if (request.body !== undefined) {
        redacted.body = request.body
    }
    return redacted
}

/** Copies response headers for storage, with URL credentials removed and cookies replaced. */
function redactResponseHeaders(headers: Record<string, string>): Record<string, string> {
    const redacted: Record<string, string> = {...headers}
    for (const name of ['location', 'content-location']) {
        const value = redacted[name]
        if (value !== undefined) {
            redacted[name] = redactUrl(value)
        }
    }
    if (redacted['set-cookie'] !== undefined) {
        redacted['set-cookie'] = REDACTED
    }
    return redacted
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms))
}
