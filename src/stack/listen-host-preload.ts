/**
 * Loaded with `node --require` before squid-graphql-server: makes it listen on GQL_HOST (see listen-host.ts). Without
 * GQL_HOST, or with it empty, it changes nothing. A bad address stops the process with status 2 before the server starts.
 */
import {GQL_HOST_VARIABLE, listenOnHost} from './listen-host'

const host = process.env[GQL_HOST_VARIABLE]
if (host !== undefined && host !== '') {
    try {
        listenOnHost(host)
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`)
        process.exit(2)
    }
}
