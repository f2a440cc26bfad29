import {RpcClient, RpcError} from '@subsquid/rpc-client'

/**
 * JSON-RPC error codes that providers return for passing conditions: -32005 limit exceeded (rate or quota),
 * -32019 block out of range (a node behind its load balancer's peers), -32503 service unavailable.
 */
export const TRANSIENT_RPC_ERROR_CODES: readonly number[] = [-32005, -32019, -32503]

/** Whether an RPC error is one a later retry of the same request can get past. */
export function isTransientRpcError(err: unknown): boolean {
    return err instanceof RpcError && TRANSIENT_RPC_ERROR_CODES.includes(err.code)
}

let installed = false

/**
 * Make the RPC client retry the transient errors above with its own backoff schedule, as it does for HTTP 429 and
 * timeouts. @subsquid/rpc-client 4.x retries only errors whose message it recognises and stops the processor on the
 * rest, so a passing -32005 would end indexing.
 *
 * NOTE: this wraps RpcClient.prototype.isConnectionError, an internal method of @subsquid/rpc-client 4.x; when it is
 * missing the processor keeps the SDK's behaviour (stop, and resume from the last commit on restart).
 */
export function retryTransientRpcErrors(): boolean {
    if (installed) return true
    const prototype = RpcClient.prototype as unknown as {isConnectionError?: (err: unknown) => boolean}
    const original = prototype.isConnectionError
    if (typeof original !== 'function') return false
    prototype.isConnectionError = function (this: unknown, err: unknown): boolean {
        return original.call(this, err) || isTransientRpcError(err)
    }
    installed = true
    return true
}
