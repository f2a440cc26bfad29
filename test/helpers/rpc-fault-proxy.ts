import http from 'node:http'
import type net from 'node:net'

/*
 * A JSON-RPC proxy on 127.0.0.1 in front of a real node (anvil) that injects the faults public RPC providers show:
 * rate limits, provider error codes, hung requests, missing blocks, incomplete or repeated logs and a head that goes
 * back. Everything it does not fault is forwarded to the node unchanged.
 */

/** One JSON-RPC call as it arrives, alone or inside a batch. */
export interface RpcCall {
    jsonrpc: '2.0'
    id: number | string | null
    method: string
    params?: unknown[]
}

/** One JSON-RPC response. */
export interface RpcResponse {
    jsonrpc: '2.0'
    id: number | string | null
    result?: unknown
    error?: {code: number; message: string; data?: unknown}
}

/** A log as `eth_getLogs` returns it (the fields the faults read). */
export interface RpcLogObject {
    blockNumber: string
    blockHash: string
    logIndex: string
    [field: string]: unknown
}

export type FaultAction =
    /** Responds to the whole HTTP request with status 429 and a `retry-after` header. */
    | {kind: 'http429'; retryAfterSeconds: number}
    /** Returns a JSON-RPC error for the call, e.g. -32005 limit exceeded. */
    | {kind: 'rpcError'; code: number; message: string}
    /** Holds the whole HTTP request for `holdMs`, then closes the connection without a response. */
    | {kind: 'timeout'; holdMs: number}
    /** Returns `null` from `eth_getBlockByNumber` of the newest block that `eth_blockNumber` has advertised. */
    | {kind: 'nullNewestBlock'}
    /** Removes from an `eth_getLogs` result the first log that `select` accepts (default: the first log). */
    | {kind: 'dropLog'; select?: (log: RpcLogObject) => boolean}
    /** Repeats in an `eth_getLogs` result the first log that `select` accepts (default: the first log). */
    | {kind: 'duplicateLog'; select?: (log: RpcLogObject) => boolean}
    /** Returns from `eth_blockNumber` the node's head minus `blocks`, as a node that lags behind would. */
    | {kind: 'lowerHead'; blocks: number}

export interface FaultRule {
    /** JSON-RPC method the rule applies to. */
    method: string
    /** Extra condition on the call; `callNumber` counts calls of this method from 1, faulted or not. */
    when?: (call: RpcCall, callNumber: number) => boolean
    action: FaultAction
    /** Number of matching calls that get the fault; `Infinity` faults every matching call. */
    times: number
}

export interface BlockRequest {
    /** First parameter of the call: a hex height or a tag such as `latest`. */
    block: string
    /** Highest head `eth_blockNumber` had returned when the call arrived; -1 before the first. */
    advertisedHead: number
    /** Whether the proxy answered the call with a fault. */
    faulted: boolean
}

export interface RpcFaultProxy {
    url: string
    /** Calls received per method, counting each call of a batch. */
    callCounts(): Record<string, number>
    /** Every `eth_getBlockByNumber` call in arrival order: the height or tag requested and the head advertised then. */
    blockRequests(): BlockRequest[]
    /** Faults applied per rule, in the order of the rules given. */
    faultCounts(): number[]
    /** Replaces the rules; counts of applied faults restart from zero. */
    setRules(rules: FaultRule[]): void
    stop(): Promise<void>
}

/** Upper bound for a held request, so a test can never hang on a `timeout` fault. */
export const MAX_HOLD_MS = 60_000

const HTTP_LEVEL_KINDS = new Set<FaultAction['kind']>(['http429', 'timeout'])

interface ActiveRule extends FaultRule {
    applied: number
}

/** Starts the proxy on a free port of 127.0.0.1, forwarding to `upstreamUrl`. */
export async function startRpcFaultProxy(upstreamUrl: string, rules: FaultRule[] = []): Promise<RpcFaultProxy> {
    let active: ActiveRule[] = rules.map((rule) => ({...rule, applied: 0}))
    const counts: Record<string, number> = {}
    const blockRequests: BlockRequest[] = []
    // Highest head the proxy has passed on; `nullNewestBlock` hides exactly this block.
    let advertisedHead = -1
    const sockets = new Set<net.Socket>()
    const holds = new Set<NodeJS.Timeout>()

    /** Returns the first rule that matches the call and still has faults left, counting the fault. */
    function takeRule(call: RpcCall, callNumber: number, kinds: 'http' | 'call'): ActiveRule | undefined {
        for (const rule of active) {
            if (rule.method !== call.method || rule.applied >= rule.times) continue
            if (HTTP_LEVEL_KINDS.has(rule.action.kind) !== (kinds === 'http')) continue
            if (rule.action.kind === 'nullNewestBlock' && !asksForBlock(call, advertisedHead)) continue
            if (rule.when && !rule.when(call, callNumber)) continue
            rule.applied += 1
            return rule
        }
        return undefined
    }

    async function forward(calls: RpcCall[]): Promise<RpcResponse[]> {
        if (calls.length === 0) return []
        const response = await fetch(upstreamUrl, {
            method: 'POST',
            headers: {'content-type': 'application/json'},
            body: JSON.stringify(calls),
        })
        const body = (await response.json()) as RpcResponse[]
        if (!Array.isArray(body)) throw new Error(`upstream ${upstreamUrl} returned for a batch ${JSON.stringify(body).slice(0, 200)}`)
        return body
    }

    async function answer(calls: RpcCall[], callNumbers: number[]): Promise<RpcResponse[]> {
        const planned = calls.map((call, i) => takeRule(call, callNumbers[i], 'call'))
        calls.forEach((call, i) => {
            if (call.method !== 'eth_getBlockByNumber') return
            blockRequests.push({block: String(call.params?.[0]), advertisedHead, faulted: planned[i] !== undefined})
        })
        const local = new Map<number, RpcResponse>()
        const upstreamIndexes: number[] = []
        calls.forEach((call, i) => {
            const action = planned[i]?.action
            if (action?.kind === 'rpcError') {
                local.set(i, {jsonrpc: '2.0', id: call.id, error: {code: action.code, message: action.message}})
            } else if (action?.kind === 'nullNewestBlock') {
                local.set(i, {jsonrpc: '2.0', id: call.id, result: null})
            } else {
                upstreamIndexes.push(i)
            }
        })
        const upstream = await forward(upstreamIndexes.map((i) => calls[i]))
        const byId = new Map(upstream.map((r) => [JSON.stringify(r.id), r]))
        return calls.map((call, i) => {
            const done = local.get(i)
            if (done) return done
            const response = byId.get(JSON.stringify(call.id))
            if (!response) return {jsonrpc: '2.0', id: call.id, error: {code: -32603, message: 'proxy: upstream left the call unanswered'}}
            return rewrite(call, response, planned[i]?.action)
        })
    }

    function rewrite(call: RpcCall, response: RpcResponse, action: FaultAction | undefined): RpcResponse {
        if (call.method === 'eth_blockNumber' && typeof response.result === 'string') {
            let head = Number(BigInt(response.result))
            if (action?.kind === 'lowerHead') head = Math.max(0, head - action.blocks)
            advertisedHead = Math.max(advertisedHead, head)
            return {...response, result: '0x' + head.toString(16)}
        }
        if (!action || !Array.isArray(response.result)) return response
        const logs = response.result as RpcLogObject[]
        const select = action.kind === 'dropLog' || action.kind === 'duplicateLog' ? (action.select ?? (() => true)) : undefined
        const target = select ? logs.findIndex(select) : -1
        if (target < 0) return response
        if (action.kind === 'dropLog') return {...response, result: logs.filter((_, i) => i !== target)}
        if (action.kind === 'duplicateLog') return {...response, result: [...logs.slice(0, target + 1), ...logs.slice(target)]}
        return response
    }

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (chunk: Buffer) => chunks.push(chunk))
        req.on('end', () => {
            void handle(Buffer.concat(chunks).toString('utf8'), req, res)
        })
    })

    async function handle(text: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        let parsed: RpcCall | RpcCall[]
        try {
            parsed = JSON.parse(text) as RpcCall | RpcCall[]
        } catch {
            res.writeHead(400, {'content-type': 'application/json'})
            res.end(JSON.stringify({jsonrpc: '2.0', id: null, error: {code: -32700, message: 'parse error'}}))
            return
        }
        const calls = Array.isArray(parsed) ? parsed : [parsed]
        const callNumbers = calls.map((call) => (counts[call.method] = (counts[call.method] ?? 0) + 1))

        // A fault of the HTTP layer hits the whole request, batch or not.
        let httpFault: FaultAction | undefined
        for (let i = 0; i < calls.length && !httpFault; i++) httpFault = takeRule(calls[i], callNumbers[i], 'http')?.action
        if (httpFault?.kind === 'http429') {
            res.writeHead(429, {'content-type': 'text/plain', 'retry-after': String(httpFault.retryAfterSeconds)})
            res.end('Too Many Requests')
            return
        }
        if (httpFault?.kind === 'timeout') {
            const hold = setTimeout(() => {
                holds.delete(hold)
                req.socket.destroy()
            }, Math.min(httpFault.holdMs, MAX_HOLD_MS))
            holds.add(hold)
            return
        }

        try {
            const responses = await answer(calls, callNumbers)
            res.writeHead(200, {'content-type': 'application/json'})
            res.end(JSON.stringify(Array.isArray(parsed) ? responses : responses[0]))
        } catch (err) {
            res.writeHead(502, {'content-type': 'text/plain'})
            res.end(`proxy: upstream failed: ${(err as Error).message}`)
        }
    }

    server.on('connection', (socket) => {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => resolve())
    })
    const port = (server.address() as net.AddressInfo).port

    return {
        url: `http://127.0.0.1:${port}`,
        callCounts: () => ({...counts}),
        blockRequests: () => [...blockRequests],
        faultCounts: () => active.map((rule) => rule.applied),
        setRules(next) {
            active = next.map((rule) => ({...rule, applied: 0}))
        },
        async stop() {
            for (const hold of holds) clearTimeout(hold)
            holds.clear()
            for (const socket of sockets) socket.destroy()
            await new Promise<void>((resolve) => server.close(() => resolve()))
        },
    }
}

/** Checks whether the call is `eth_getBlockByNumber` for the given height (`latest` counts as the newest block). */
function asksForBlock(call: RpcCall, height: number): boolean {
    if (call.method !== 'eth_getBlockByNumber' || height < 0) return false
    const tag = call.params?.[0]
    if (tag === 'latest') return true
    return typeof tag === 'string' && tag.startsWith('0x') && Number(BigInt(tag)) === height
}

/** Selects the log at `logIndex` of block `blockNumber`, for faults that must hit the same log on every call. */
export function logAt(blockNumber: number, logIndex: number): (log: RpcLogObject) => boolean {
    return (log) => Number(BigInt(log.blockNumber)) === blockNumber && Number(BigInt(log.logIndex)) === logIndex
}
