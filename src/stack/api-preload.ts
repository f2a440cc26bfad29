/**
 * Loaded with `node --require` before squid-graphql-server. It makes the server listen on GQL_HOST (see
 * listen-host.ts). Without GQL_HOST, or with it empty, the server listens on every interface. A bad address stops
 * the process with status 2 before the server starts, and so does a bad gap setting (PROOFGAP_*). It also keeps introspection on and persisted queries off (see
 * apollo-settings.ts), and it sends no stack trace in a response to a request that fails before GraphQL (see
 * http-errors.ts). It also leaves pg's warning about queued queries out of the log (see below).
 */
import {createLogger} from '@subsquid/logger'
import {futureToleranceSecondsFromEnv, gapConfigFromEnv} from '../gap/config'
import {adjustApolloServer, adjustOpenreaderErrorLog} from './apollo-settings'
import {answerRequestErrorsBriefly} from './http-errors'
import {GQL_HOST_VARIABLE, listenOnHost} from './listen-host'

const log = createLogger('proofgap:api')

/** Start of pg 8's warning about a query sent while the connection still runs another. */
const PG_QUEUED_QUERY_DEPRECATION = 'Calling client.query() when the client is already executing a query is deprecated'

const host = process.env[GQL_HOST_VARIABLE]
if (host !== undefined && host !== '') {
    try {
        // squid-graphql-server logs only the port; the address matters as much.
        listenOnHost(host, GQL_HOST_VARIABLE, (address, port) => log.info({address, port}, `GraphQL server listening on ${address}:${port}`))
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`)
        process.exit(2)
    }
}

// The gap settings are read at each request; a bad one would fail every request that reads it as the caller's fault.
try {
    gapConfigFromEnv()
    futureToleranceSecondsFromEnv()
} catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exit(2)
}

if (!adjustApolloServer()) {
    process.stderr.write('api-preload: the Apollo Server of squid-graphql-server was not found; introspection and persisted queries keep their defaults\n')
}

if (!adjustOpenreaderErrorLog()) {
    process.stderr.write('api-preload: the error log of OpenReader was not found; a negative limit or offset is logged as a server error\n')
}

// NOTE: OpenReader runs the root fields of one request at once on one pg connection. pg 8 queues those queries and
// warns that pg 9 will reject them. Only OpenReader can change that, so the warning is dropped from the log.
// Moving to pg 9 needs a change in OpenReader first.
const emitWarning = process.emitWarning
process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning.message
    if (text.startsWith(PG_QUEUED_QUERY_DEPRECATION)) return
    return (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest)
} as typeof process.emitWarning

if (!answerRequestErrorsBriefly((err, req) => log.error({err, method: req.method, path: req.url?.split('?')[0]}, 'request failed'))) {
    process.stderr.write('api-preload: the Express app of squid-graphql-server was not found; failed requests keep its default answers\n')
}
