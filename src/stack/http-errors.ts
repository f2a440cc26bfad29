/**
 * How the Express app inside squid-graphql-server 4.11 answers a request that fails before GraphQL sees it, such as a
 * body that is not JSON or is too large.
 *
 * Express's own last handler puts the error's stack trace into the response unless NODE_ENV=production, and into the
 * log unless NODE_ENV=test. A client error (status 4xx) is neither the server's fault nor its internals: it gets the
 * status and its standard text only, and leaves no line in the log. A server error (5xx) gets the same short response,
 * and its stack trace goes to the log.
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

/** The HTTP status an error of Express or its body parsers asks for; 500 when it names none. */
export function errorStatus(err: unknown): number {
    if (typeof err !== 'object' || err === null) return 500
    const {status, statusCode} = err as {status?: unknown; statusCode?: unknown}
    const value = typeof status === 'number' ? status : statusCode
    return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599 ? value : 500
}

/**
 * Patches the Express application prototype that squid-graphql-server uses. Returns false, and changes nothing, when
 * Express or its final handler is not where Express 4 has them. `logServerError` receives each 5xx error.
 */
export function answerRequestErrorsBriefly(logServerError: (err: unknown) => void): boolean {
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
                    if (errorStatus(err) >= 500) logServerError(err)
                },
            })
        return handle.call(this, req, res, done)
    }
    return true
}
