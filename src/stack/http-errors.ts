/**
 * Responses of the Express app inside squid-graphql-server 4.11 to a request that fails before GraphQL reads it,
 * such as a body that is not JSON or is too large.
 *
 * Express's own final handler writes the error's stack trace into the response unless NODE_ENV=production, and into
 * the log unless NODE_ENV=test. Here a client error (status 4xx) gets only the status and its standard text, and no
 * log line, because it is neither the server's fault nor its business. A server error (5xx) gets the same short
 * response, and its stack trace goes to the log. Apollo's plain-text responses to requests without a readable operation
 * become GraphQL error responses with the code BAD_REQUEST (see apolloPlainTextAsJson).
 *
 * `api-preload.ts` applies this before squid-graphql-server loads.
 */
import {createRequire} from 'node:module'
import type {IncomingMessage, ServerResponse} from 'node:http'

type FinalHandler = (
    req: IncomingMessage,
    res: ServerResponse,
    options: {env: string; onerror: (err: unknown) => void},
) => (err?: unknown) => void

interface ExpressApplication {
    handle?: (this: unknown, req: IncomingMessage, res: ServerResponse, callback?: (err?: unknown) => void) => void
}

/**
 * Plain-text responses of Apollo Server 3 to a request it cannot read as a GraphQL operation (`POST {}`, a query that
 * is not a string, `GET` without a query, an unsupported method, a request blocked as cross-site request forgery).
 */
const APOLLO_PLAIN_TEXT_ERRORS: readonly string[] = [
    'POST body missing, invalid Content-Type, or JSON object has no keys.',
    'GET query missing.',
    'GraphQL queries must be strings.',
    'Variables are invalid JSON.',
    'Extensions are invalid JSON.',
    'Apollo Server supports only GET/POST requests.',
    'GET supports only query operation',
    'This operation has been blocked as a potential Cross-Site Request Forgery',
]

/**
 * Returns Apollo's plain-text response as a GraphQL error response (`{"errors": [...]}` with the code BAD_REQUEST),
 * which a GraphQL client can read. Returns undefined for any other body.
 */
export function apolloPlainTextAsJson(body: unknown): string | undefined {
    if (typeof body !== 'string' || !APOLLO_PLAIN_TEXT_ERRORS.some((message) => body.startsWith(message))) return undefined
    return JSON.stringify({errors: [{message: body, extensions: {code: 'BAD_REQUEST'}}]})
}

/** Returns the HTTP status that an error of Express or its body parsers sets, or 500 when it sets none. */
export function errorStatus(err: unknown): number {
    if (typeof err !== 'object' || err === null) return 500
    const {status, statusCode} = err as {status?: unknown; statusCode?: unknown}
    const value = typeof status === 'number' ? status : statusCode
    return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599 ? value : 500
}

/**
 * Patches the Express application prototype that squid-graphql-server uses. Returns false, and changes nothing, when
 * Express 4 or its final handler is not found. `logServerError` receives each 5xx error with its request.
 */
export function answerRequestErrorsBriefly(logServerError: (err: unknown, req: IncomingMessage) => void): boolean {
    // NOTE: relies on Express 4 (`application.handle(req, res, callback)`, which builds a `finalhandler` when no
    // callback is given), as @subsquid/openreader 5 loads it. Tests read the effect over HTTP.
    let application: ExpressApplication
    let finalhandler: FinalHandler
    try {
        const fromServer = createRequire(require.resolve('@subsquid/graphql-server/lib/server.js'))
        const fromOpenreader = createRequire(fromServer.resolve('@subsquid/openreader/lib/server.js'))
        const expressPath = fromOpenreader.resolve('express')
        application = (fromOpenreader(expressPath) as {application?: ExpressApplication}).application ?? {}
        finalhandler = createRequire(expressPath)('finalhandler') as FinalHandler
    } catch {
        return false
    }
    const handle = application.handle
    if (typeof handle !== 'function' || typeof finalhandler !== 'function') return false

    application.handle = function (this: unknown, req, res, callback) {
        const done =
            callback ??
            finalhandler(req, res, {
                // 'production' keeps the stack trace out of the response body.
                env: 'production',
                onerror: (err) => {
                    if (errorStatus(err) >= 500) logServerError(err, req)
                },
            })
        // Express gives `res` its prototype with `send` later, while routing; this own property runs first.
        Object.defineProperty(res, 'send', {
            configurable: true,
            writable: true,
            value: function (this: ServerResponse, body?: unknown) {
                const json = res.statusCode >= 400 ? apolloPlainTextAsJson(body) : undefined
                if (json !== undefined) this.setHeader('content-type', 'application/json; charset=utf-8')
                return (Object.getPrototypeOf(this) as {send: (body?: unknown) => unknown}).send.call(this, json ?? body)
            },
        })
        return handle.call(this, req, res, done)
    }
    return true
}
