import {randomBytes, randomUUID} from 'node:crypto'
import type {OperatorBehaviour} from './behaviour'
import type {SimulatedReply, SimulatedRequest} from './loopback-server'

/** Most bots one `/api/bots` page returns, as the operator API caps `limit`. */
const MAX_BOTS_PAGE_SIZE = 200
const LIVE_TRADES_LISTED = 3

export interface TradingSimulationOptions {
    botId?: string
    operatorAddress?: string
    serviceId?: string
    callId?: string
    chainId?: number
    /** Vault of the bot; null for a 1-operator service. */
    vaultAddress?: string | null
    /** Transaction hashes of live trades that are on chain; when given, the healthy bot trades live and lists them. */
    liveTradeTxHashes?: string[]
    validatorEndpoints?: string[]
    riskParams?: Record<string, number>
}

function realLookingTxHash(): string {
    return `0x${randomBytes(32).toString('hex')}`
}

/** The product state of one simulated trading operator (operator API 9200 and trading API 9100 surfaces). */
export class TradingOperatorState {
    readonly botId: string
    /** Hashes listed by 'live-no-trades': well-formed, but no chain has them. */
    private readonly fabricatedTxHashes = Array.from({length: LIVE_TRADES_LISTED}, realLookingTxHash)
    private readonly paperTxHashes = [`0xpaper_${randomUUID()}`, `paper-clob:${randomUUID()}`]

    constructor(private readonly options: TradingSimulationOptions) {
        this.botId = options.botId ?? 'bot-1'
    }

    private isLive(behaviour: OperatorBehaviour): boolean {
        return behaviour === 'live-no-trades' || (this.options.liveTradeTxHashes ?? []).length > 0
    }

    private botSummary(behaviour: OperatorBehaviour): Record<string, unknown> {
        if (behaviour === 'wrong-json') {
            return {id: 1, operator_address: null, vault_address: 7, paper_trade: 'yes', trading_active: 'true', lifecycle_status: 3, sandbox_state: [], service_id: 1, call_id: 0, chain_id: '31337'}
        }
        return {
            id: this.botId,
            operator_address: (this.options.operatorAddress ?? '0x0000000000000000000000000000000000000001').toLowerCase(),
            vault_address: this.options.vaultAddress ?? null,
            paper_trade: !this.isLive(behaviour),
            trading_active: behaviour !== 'degraded',
            lifecycle_status: behaviour === 'degraded' ? 'winding_down' : 'active',
            sandbox_state: 'running',
            service_id: this.options.serviceId ?? '1',
            call_id: this.options.callId ?? '0',
            chain_id: this.options.chainId ?? 31337,
        }
    }

    private trades(behaviour: OperatorBehaviour): Record<string, unknown>[] {
        if (behaviour === 'wrong-json') return [{tx_hash: 12, paper_trade: 'no', execution_status: false}]
        const live = behaviour === 'live-no-trades' ? this.fabricatedTxHashes : (this.options.liveTradeTxHashes ?? [])
        if (live.length > 0) return live.map((txHash) => ({tx_hash: txHash, paper_trade: false, execution_status: 'executed', symbol: 'ETH-USD', side: 'buy'}))
        return this.paperTxHashes.map((txHash) => ({tx_hash: txHash, paper_trade: true, execution_status: 'simulated', symbol: 'ETH-USD', side: 'buy'}))
    }

    routeOperatorApi(request: SimulatedRequest, behaviour: OperatorBehaviour): SimulatedReply {
        const path = request.url.pathname
        if (request.method !== 'GET') return {status: 404, body: {error: `no route ${request.method} ${path}`}}
        // The current operator API has no /health route although its docs poll one.
        if (path === '/api/meta') return this.meta(behaviour)
        if (path === '/api/bots') return this.listBots(request, behaviour)

        const match = /^\/api\/bots\/([^/]+)(\/trades|\/runs|\/performance)?$/.exec(path)
        if (match === null) return {status: 404, body: {error: `no route GET ${path}`}}
        if (decodeURIComponent(match[1]) !== this.botId) return {status: 404, body: {error: `bot ${match[1]} not found`}}
        if (match[2] === '/trades') return this.tradeList(behaviour)
        if (match[2] === '/runs') return runs(behaviour)
        if (match[2] === '/performance') return {status: 200, body: {bot_id: this.botId, pnl_usd: 0, trades: this.trades(behaviour).length}}
        return this.botDetail(behaviour)
    }

    private meta(behaviour: OperatorBehaviour): SimulatedReply {
        if (behaviour === 'wrong-json') return {status: 200, body: {api_version: 1, features: 'bots'}}
        return {status: 200, body: {api_version: '1', features: ['bots', 'trades', 'runs', 'performance'], chain_id: this.options.chainId ?? 31337}}
    }

    private listBots(request: SimulatedRequest, behaviour: OperatorBehaviour): SimulatedReply {
        const limit = Number(request.url.searchParams.get('limit') ?? '50')
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BOTS_PAGE_SIZE) {
            return {status: 400, body: {error: `limit must be an integer from 1 to ${MAX_BOTS_PAGE_SIZE}`}}
        }
        const offset = Number(request.url.searchParams.get('offset') ?? '0')
        const bots = offset === 0 ? [this.botSummary(behaviour)] : []
        return {status: 200, body: {bots, total: 1, limit, offset}}
    }

    private botDetail(behaviour: OperatorBehaviour): SimulatedReply {
        const detail = {
            ...this.botSummary(behaviour),
            risk_params: behaviour === 'wrong-json' ? 'default' : (this.options.riskParams ?? {max_leverage: 2, max_trades_per_hour: 10, max_slippage_bps: 50}),
            latest_execution: null,
            validator_endpoints: this.options.validatorEndpoints ?? [],
        }
        return {status: 200, body: detail}
    }

    private tradeList(behaviour: OperatorBehaviour): SimulatedReply {
        const trades = this.trades(behaviour)
        return {status: 200, body: {trades, total: trades.length, evidence: {source: 'indexer'}}}
    }

    routeTradingApi(request: SimulatedRequest, behaviour: OperatorBehaviour): SimulatedReply {
        const path = request.url.pathname
        const mode = this.isLive(behaviour) ? 'live' : 'paper'
        const degraded = behaviour === 'degraded'
        if (request.method === 'GET' && (path === '/health' || path === '/ready')) {
            if (behaviour === 'wrong-json') return {status: 200, body: {status: 0, mode: true, rpc_ready: 'yes', simulation_ready: null}}
            const body = {status: degraded ? 'degraded' : 'ok', mode, rpc_ready: !degraded, simulation_ready: true}
            // /ready is 503 without RPC, while /health still returns 200 with status degraded.
            return {status: path === '/ready' && degraded ? 503 : 200, body}
        }
        if (request.method === 'GET' && path === '/metrics/prometheus') {
            const executed = this.trades(behaviour).length
            return {status: 200, body: `# TYPE trading_executions_total counter\ntrading_executions_total{status="executed"} ${executed}\n`}
        }
        return {status: 404, body: {error: `no route ${request.method} ${path}`}}
    }
}

function runs(behaviour: OperatorBehaviour): SimulatedReply {
    if (behaviour === 'wrong-json') return {status: 200, body: {runs: [{input_tokens: 'many', output_tokens: null, model: 3, provider: false, cost_usd: 'cheap'}]}}
    return {
        status: 200,
        body: {
            runs: [
                {input_tokens: 1200, output_tokens: 300, model: 'claude-sonnet', provider: 'anthropic', cost_usd: 0.0081},
                {input_tokens: 900, output_tokens: 250, model: 'claude-sonnet', provider: 'anthropic', cost_usd: 0.0064},
            ],
        },
    }
}
