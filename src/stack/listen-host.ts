/**
 * Listen addresses for servers that pass only a port to `listen` and so listen on every interface:
 * squid-graphql-server 4.11 (GQL_HOST, applied by `api-preload.ts`) and the metrics server of evm-processor
 * (PROMETHEUS_HOST, applied by `main.ts`). Neither has a setting for the address.
 */
import net from 'node:net'

/** Environment variable with the address the GraphQL server listens on. */
export const GQL_HOST_VARIABLE = 'GQL_HOST'

/**
 * Checks a listen address: an IPv4 or IPv6 literal, or `localhost`. Returns the problem, or undefined when it is
 * usable. Host names other than localhost are refused, because a name that resolves to several addresses would bind
 * only one of them.
 */
export function listenHostProblem(host: string): string | undefined {
    if (host === 'localhost' || net.isIP(host) !== 0) return undefined
    if (host.trim() === '') return 'empty; give an IP address such as 127.0.0.1 or 0.0.0.0'
    return `expected an IPv4 or IPv6 address (such as 127.0.0.1, 0.0.0.0 or ::) or localhost, received ${JSON.stringify(host)}`
}

let patchedHost: string | undefined
let listeningCallback: ((address: string, port: number) => void) | undefined

/**
 * Makes every later `server.listen(port)` and `server.listen(port, callback)` of this process, and
 * `server.listen({port})` without a host, listen on `host`. Calls that name a host or a path (Unix socket) are left
 * as they are. `setting` names the variable in the error for a bad address; `onListening` hears of each server
 * that got `host`, once it listens.
 */
export function listenOnHost(host: string, setting = GQL_HOST_VARIABLE, onListening?: (address: string, port: number) => void): void {
    const problem = listenHostProblem(host)
    if (problem) throw new Error(`${setting}: ${problem}`)
    listeningCallback = onListening
    if (patchedHost !== undefined) {
        patchedHost = host
        return
    }
    patchedHost = host
    const original = net.Server.prototype.listen
    net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
        const [first, second] = args
        const isPort = typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))
        let hostAdded = false
        if (isPort && (args.length === 1 || typeof second === 'function')) {
            args.splice(1, 0, patchedHost)
            hostAdded = true
        } else if (first !== null && typeof first === 'object' && !('path' in first) && !('host' in first) && !('fd' in first)) {
            args[0] = {...first, host: patchedHost}
            hostAdded = true
        }
        const callback = listeningCallback
        if (hostAdded && callback) {
            this.once('listening', () => {
                const bound = this.address()
                if (bound !== null && typeof bound === 'object') callback(bound.address, bound.port)
            })
        }
        return (original as (...a: unknown[]) => net.Server).apply(this, args)
    } as typeof original
}
