import {randomBytes} from 'node:crypto'
import {concat, keccak256, stringToBytes} from 'viem'
import type {OperatorBehaviour} from './behaviour'
import type {SimulatedReply, SimulatedRequest} from './loopback-server'

/** Length of one CLOB epoch of the simulated venues. */
const CLOB_EPOCH_SECONDS = 30
const ZERO_BYTES32 = `0x${'00'.repeat(32)}`

export interface ClobPeer {
    address: string
    url: string
}

export interface SurplusSimulationOptions {
    operatorAddress?: string
    /** 'dry' makes the settlement outbox report a dry-run venue. */
    settlementMode?: 'live' | 'dry'
    /** Fills waiting in the settlement outbox. */
    pendingFills?: number
    /** Shift of this venue's epoch, to stage peers that disagree. */
    epochOffset?: number
}

interface SimulatedInstrument {
    id: string
    model_id: string
    token_kind: 'input' | 'output'
    tick_size: number
    min_qty: number
}

const MODEL_ID = 'llama-3.1-70b'
const INSTRUMENTS: SimulatedInstrument[] = [
    {id: `${MODEL_ID}:input`, model_id: MODEL_ID, token_kind: 'input', tick_size: 10, min_qty: 1000},
    {id: `${MODEL_ID}:output`, model_id: MODEL_ID, token_kind: 'output', tick_size: 10, min_qty: 1000},
]

/** The product state of one simulated Surplus Market venue. */
export class SurplusOperatorState {
    private clobPeers: ClobPeer[] = []
    private clobThreshold = 0
    readonly operatorAddress: string

    constructor(private readonly options: SurplusSimulationOptions) {
        // A random default keeps the venues of one fleet apart in each other's /clob/status.
        this.operatorAddress = (options.operatorAddress ?? `0x${randomBytes(20).toString('hex')}`).toLowerCase()
    }

    /** Makes this venue a shared-book venue with these operators (itself included) and quorum threshold. */
    setClob(peers: ClobPeer[], threshold: number): void {
        this.clobPeers = peers.map((peer) => ({address: peer.address.toLowerCase(), url: peer.url}))
        this.clobThreshold = threshold
    }

    async route(request: SimulatedRequest, behaviour: OperatorBehaviour): Promise<SimulatedReply> {
        const path = request.url.pathname
        const method = request.method
        if (method === 'GET' && path === '/health') return health(behaviour)
        if (method === 'GET' && path === '/metrics') return {status: 200, body: '# TYPE settlement_fills_total counter\nsettlement_fills_total 0\n'}
        if (method === 'GET' && path === '/instruments') return instruments(behaviour)
        if (method === 'POST' && path === '/book') return book(request.body, behaviour)
        if (method === 'GET' && path === '/clob/status') return this.clobStatus(behaviour)
        if (method === 'GET' && path === '/settlement/outbox') return this.outbox(behaviour)
        if (method === 'GET' && path === '/credits') return {status: 200, body: {lots: []}}
        if (method === 'POST' && path === '/redeem') return redeem(request.body, behaviour)
        return {status: 404, body: {error: `no route ${method} ${path}`}}
    }

    private clobStatus(behaviour: OperatorBehaviour): SimulatedReply {
        if (this.clobPeers.length === 0) return {status: 404, body: {error: 'not a shared-book venue'}}
        if (behaviour === 'wrong-json') return {status: 200, body: {me: 1, epoch: 'now', epochSecs: '30', proposer: null, threshold: 'two', operators: {}, poolSize: -1}}
        const epoch = Math.floor(Date.now() / 1000 / CLOB_EPOCH_SECONDS) + (this.options.epochOffset ?? 0)
        return {
            status: 200,
            body: {
                me: this.operatorAddress,
                epoch,
                epochSecs: CLOB_EPOCH_SECONDS,
                proposer: this.clobPeers[epoch % this.clobPeers.length].address,
                threshold: this.clobThreshold,
                operators: this.clobPeers,
                poolSize: this.clobPeers.length,
            },
        }
    }

    private outbox(behaviour: OperatorBehaviour): SimulatedReply {
        if (behaviour === 'wrong-json') return {status: 200, body: {count: '3', fillsHash: 0, fills: 'none'}}
        const count = this.options.pendingFills ?? 0
        const body: Record<string, unknown> = {count, fillsHash: ZERO_BYTES32, fills: []}
        if (this.options.settlementMode === 'dry') body.mode = 'dry'
        return {status: 200, body}
    }
}

function health(behaviour: OperatorBehaviour): SimulatedReply {
    if (behaviour === 'wrong-json') return {status: 200, body: {ok: 'yes', onion: 5, privacy: false}}
    if (behaviour === 'degraded') return {status: 503, body: {ok: false, onion: null, privacy: 'standard', reasons: ['settlement RPC unreachable']}}
    return {status: 200, body: {ok: true, onion: null, privacy: 'standard'}}
}

function instruments(behaviour: OperatorBehaviour): SimulatedReply {
    if (behaviour === 'wrong-json') return {status: 200, body: INSTRUMENTS.map((instrument) => ({...instrument, tick_size: 'ten', min_qty: null}))}
    return {status: 200, body: INSTRUMENTS}
}

/** Levels of a correct book around 2,000,000 micro-USD per 1M tokens; 'crossed-book' lifts the bids over the asks. */
function book(requestBody: string, behaviour: OperatorBehaviour): SimulatedReply {
    let instrumentId: unknown
    try {
        instrumentId = (JSON.parse(requestBody) as {instrumentId?: unknown}).instrumentId
    } catch {
        return {status: 400, body: {error: 'body must be JSON {instrumentId}'}}
    }
    const instrument = INSTRUMENTS.find((candidate) => candidate.id === instrumentId)
    if (instrument === undefined) return {status: 404, body: {error: `unknown instrument ${String(instrumentId)}`}}

    const bidShift = behaviour === 'crossed-book' ? 200 : 0
    const bids = [1_999_990, 1_999_950, 1_999_900].map((price, index) => ({price: price + bidShift, qty: 5000 * (index + 1), orders: index + 1}))
    const asks = [2_000_010, 2_000_050, 2_000_100].map((price, index) => ({price, qty: 4000 * (index + 1), orders: index + 1}))
    if (behaviour === 'wrong-json') {
        return {status: 200, body: {book: {instrument_id: instrument.id, bids: 'none', asks: {}, last_trade_price: 'n/a'}, refMid: null, inventoryTokens: '0'}}
    }
    return {
        status: 200,
        body: {book: {instrument_id: instrument.id, bids, asks, last_trade_price: 2_000_000}, refMid: 2_000_000, inventoryTokens: 1_000_000},
    }
}

/**
 * Serves a simulated completion with hashes that recompute exactly.
 * NOTE: the EIP-712 signature of the redeem request is not checked; any JSON object body is served.
 */
function redeem(requestBody: string, behaviour: OperatorBehaviour): SimulatedReply {
    let request: unknown
    try {
        request = JSON.parse(requestBody)
    } catch {
        return {status: 400, body: {error: 'body must be a JSON redeem request'}}
    }
    if (typeof request !== 'object' || request === null) return {status: 400, body: {error: 'body must be a JSON object'}}

    const messages = JSON.stringify((request as {messages?: unknown}).messages ?? [])
    const completion = `Simulated completion for ${messages.length} bytes of messages.`
    const modelIdHash = keccak256(stringToBytes(MODEL_ID))
    const messagesHash = keccak256(stringToBytes(messages))
    const outputHash = keccak256(stringToBytes(completion))
    const workCommitment = keccak256(concat([modelIdHash, messagesHash, outputHash]))
    const receiptDigest = keccak256(concat([workCommitment, modelIdHash]))
    if (behaviour === 'wrong-json') {
        return {status: 200, body: {completion: 42, meteredTokens: 'some', servedTokens: null, workCommitment: 1, modelIdHash, messagesHash, outputHash, receiptDigest}}
    }
    return {status: 200, body: {completion, meteredTokens: 64, servedTokens: 64, workCommitment, modelIdHash, messagesHash, outputHash, receiptDigest}}
}
