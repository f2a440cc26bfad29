/**
 * Loaded with `node --require` before squid-graphql-server. It makes the server listen on GQL_HOST (see
 * listen-host.ts). Without GQL_HOST, or with it empty, the server listens on every interface. A bad address stops
 * the process with status 2 before the server starts. It also keeps introspection on and persisted queries off (see
 * apollo-settings.ts), and it sends no stack trace in a response to a request that fails before GraphQL (see
 * http-errors.ts).
 */
import {createLogger} from '@subsquid/logger'
import {adjustApolloServer, adjustOpenreaderErrorLog} from './apollo-settings'
import {answerRequestErrorsBriefly} from './http-errors'
import {GQL_HOST_VARIABLE, listenOnHost} from './listen-host'

const log = createLogger('proofgap:api')

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

if (!adjustApolloServer()) {
    process.stderr.write('api-preload: the Apollo Server of squid-graphql-server was not found; introspection and persisted queries keep their defaults\n')
}

if (!adjustOpenreaderErrorLog()) {
    process.stderr.write('api-preload: the error log of OpenReader was not found; a negative limit or offset is logged as a server error\n')
}

if (!answerRequestErrorsBriefly((err, req) => log.error({err, method: req.method, path: req.url?.split('?')[0]}, 'request failed'))) {
    process.stderr.write('api-preload: the Express app of squid-graphql-server was not found; failed requests keep its default answers\n')
}
