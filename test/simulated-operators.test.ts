import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {startOperatorFleet, startSimulatedOperator, type OperatorFleet} from '../src/devnet/operators'
import {emptyChainFacts, evaluate, requestsFor} from '../src/proofs/plans'
import type {ProbeResponse} from '../src/proofs/types'

/** A throwaway key, as a prober uses to open a session. */
const PROBER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'

async function getJson(url: string, init?: RequestInit): Promise<{status: number; body: any}> {
    const response = await fetch(url, init)
    return {status: response.status, body: await response.json()}
}

async function postJson(url: string, body: unknown): Promise<{status: number; body: any}> {
    return getJson(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})
}

/** Fetches `url` and returns the error code of the failure, e.g. ECONNREFUSED, or undefined on success. */
async function fetchErrorCode(url: string): Promise<string | undefined> {
    try {
        await fetch(url)
        return undefined
    } catch (error) {
        return ((error as {cause?: {code?: string}}).cause)?.code
    }
}

/** Fetches a planned request and builds the ProbeResponse the evaluators take (no redirect or size guards). */
async function probe(url: string, method: 'GET' | 'POST' = 'GET', body?: string): Promise<ProbeResponse> {
    const request = {method, url, body}
    try {
        const response = await fetch(url, {method, body, headers: body === undefined ? undefined : {'content-type': 'application/json'}})
        const bytes = new Uint8Array(await response.arrayBuffer())
        return {request, finalUrl: url, status: response.status, headers: Object.fromEntries(response.headers), body: bytes, truncated: false, latencyMs: 0}
    } catch {
        return {request, finalUrl: url, headers: {}, body: new Uint8Array(), truncated: false, latencyMs: 0, error: 'CONNECTION_REFUSED'}
    }
}

describe('simulated operators', () => {
    let fleet: OperatorFleet

    beforeAll(async () => {
        fleet = await startOperatorFleet([
            {name: 'sandbox', product: 'sandbox', sandbox: {provisionCallIds: ['7']}},
            {name: 'trading', product: 'trading', trading: {vaultAddress: '0x1111111111111111111111111111111111111111'}},
            {name: 'venue-a', product: 'surplus', surplus: {clobGroup: 'g'}},
            {name: 'venue-b', product: 'surplus', surplus: {clobGroup: 'g'}},
        ])
    })

    afterAll(async () => {
        await fleet.close()
    })

    it('binds every operator to loopback', () => {
        for (const operator of fleet.operators) expect(new URL(operator.url).hostname).toBe('127.0.0.1')
    })

    it('sandbox health and readiness shapes', async () => {
        const sandbox = fleet.byName('sandbox')
        const health = await getJson(`${sandbox.url}/health`)
        expect(health.status).toBe(200)
        expect(health.body.status).toBe('ok')
        expect(health.body.checks.runtime.status).toBe('ok')
        expect(health.body.checks.store.status).toBe('ok')
        expect(health.body.runtime_backend).toBe('firecracker')
        expect(health.body.runtime_error).toBeNull()
        const ready = await getJson(`${sandbox.url}/readyz`)
        expect(ready).toEqual({status: 200, body: {status: 'ready'}})
    })

    it('sandbox capabilities and provisions', async () => {
        const sandbox = fleet.byName('sandbox')
        const capabilities = await getJson(`${sandbox.url}/api/capabilities`)
        expect(capabilities.body.harnesses.map((h: {id: string}) => h.id)).toEqual(['claude-code', 'codex', 'opencode', 'kimi-code', 'gemini'])
        expect(typeof capabilities.body.capabilities[0].description).toBe('string')
        const provision = await getJson(`${sandbox.url}/api/provisions/7`)
        expect(provision.body.phase).toBe('ready')
        expect(provision.body.sidecar_url).toBe(sandbox.sidecarUrl)
        expect((await getJson(`${sandbox.url}/api/provisions/8`)).status).toBe(404)
        const metrics = await (await fetch(`${sandbox.url}/metrics`)).text()
        expect(metrics).toContain('sandbox_active_sandboxes')
    })

    it('sandbox auth session opens', async () => {
        const sandbox = fleet.byName('sandbox')
        expect((await getJson(`${sandbox.url}/api/sandboxes`)).status).toBe(401)
        const challenge = await postJson(`${sandbox.url}/api/auth/challenge`, {})
        const account = privateKeyToAccount(PROBER_KEY)
        const signature = await account.signMessage({message: challenge.body.message})
        const session = await postJson(`${sandbox.url}/api/auth/session`, {nonce: challenge.body.nonce, signature})
        expect(session.status).toBe(200)
        expect(session.body.address).toBe(account.address.toLowerCase())
        const list = await getJson(`${sandbox.url}/api/sandboxes`, {headers: {authorization: `Bearer ${session.body.token}`}})
        expect(list).toEqual({status: 200, body: {sandboxes: []}})
        const replay = await postJson(`${sandbox.url}/api/auth/session`, {nonce: challenge.body.nonce, signature})
        expect(replay.status).toBe(401)
    })

    it('trading operator routes', async () => {
        const trading = fleet.byName('trading')
        expect((await fetch(`${trading.url}/health`)).status).toBe(404)
        const meta = await getJson(`${trading.url}/api/meta`)
        expect(meta.body.api_version).toBe('1')
        const bots = await getJson(`${trading.url}/api/bots?limit=200`)
        expect(bots.body.total).toBe(1)
        expect(bots.body.bots[0].paper_trade).toBe(true)
        expect((await getJson(`${trading.url}/api/bots?limit=201`)).status).toBe(400)
        const detail = await getJson(`${trading.url}/api/bots/${trading.botId}`)
        expect(detail.body.vault_address).toBe('0x1111111111111111111111111111111111111111')
        expect(detail.body.risk_params.max_slippage_bps).toBe(50)
        const trades = await getJson(`${trading.url}/api/bots/${trading.botId}/trades`)
        expect(trades.body.trades.every((t: {tx_hash: string}) => t.tx_hash.includes('paper'))).toBe(true)
        const runs = await getJson(`${trading.url}/api/bots/${trading.botId}/runs`)
        expect(runs.body.runs[0].cost_usd).toBeGreaterThan(0)
    })

    it('trading api closed unless exposed', async () => {
        const trading = fleet.byName('trading')
        expect(await fetchErrorCode(`${trading.tradingApiUrl}/health`)).toBe('ECONNREFUSED')
    })

    it('surplus venue routes', async () => {
        const venue = fleet.byName('venue-a')
        expect((await getJson(`${venue.url}/health`)).body).toEqual({ok: true, onion: null, privacy: 'standard'})
        const instruments = await getJson(`${venue.url}/instruments`)
        expect(instruments.body[0].tick_size).toBe(10)
        const book = await postJson(`${venue.url}/book`, {instrumentId: instruments.body[0].id})
        expect(book.body.book.instrument_id).toBe(instruments.body[0].id)
        expect(book.body.book.bids[0].price).toBeLessThan(book.body.book.asks[0].price)
        const outbox = await getJson(`${venue.url}/settlement/outbox`)
        expect(outbox.body.count).toBe(0)
        const status = await getJson(`${venue.url}/clob/status`)
        expect(status.body.operators).toHaveLength(2)
        expect(status.body.threshold).toBe(2)
        expect(status.body.me).toBe(venue.operatorAddress)
    })

    it('surplus evaluators pass on venue', async () => {
        const venue = fleet.byName('venue-a')
        const [instruments] = requestsFor('MARKET_ORDER_BOOK', {baseUrl: venue.url, instrumentIds: []})
        const book = requestsFor('MARKET_ORDER_BOOK', {baseUrl: venue.url, instrumentIds: ['llama-3.1-70b:input']})[1]
        const responses = [await probe(instruments.url), await probe(book.url, 'POST', book.body)]
        expect(evaluate('MARKET_ORDER_BOOK', responses, emptyChainFacts(0n)).reason).toBe('BOOK_CONSISTENT')
        const redeem = await probe(`${venue.url}/redeem`, 'POST', JSON.stringify({messages: [{role: 'user', content: 'hi'}]}))
        expect(evaluate('MARKET_INFERENCE_DELIVERY', [redeem], emptyChainFacts(0n)).reason).toBe('DELIVERY_HASHES_MATCH')
    })
})

describe('simulated operator behaviours', () => {
    it('down refuses connections', async () => {
        const operator = await startSimulatedOperator({product: 'surplus', behaviour: 'down'})
        try {
            expect(await fetchErrorCode(`${operator.url}/health`)).toBe('ECONNREFUSED')
            await operator.setBehaviour('healthy')
            expect((await fetch(`${operator.url}/health`)).status).toBe(200)
            await operator.setBehaviour('down')
            expect(await fetchErrorCode(`${operator.url}/health`)).toBe('ECONNREFUSED')
        } finally {
            await operator.close()
        }
    })

    it('guarded answers 401 everywhere', async () => {
        const operator = await startSimulatedOperator({product: 'sandbox', behaviour: 'guarded'})
        try {
            for (const path of ['/health', '/readyz', '/api/capabilities']) expect((await fetch(`${operator.url}${path}`)).status).toBe(401)
        } finally {
            await operator.close()
        }
    })

    it('degraded sandbox answers 503', async () => {
        const operator = await startSimulatedOperator({product: 'sandbox', behaviour: 'degraded'})
        try {
            const health = await getJson(`${operator.url}/health`)
            expect(health.status).toBe(503)
            expect(health.body.runtime_error).toContain('kvm')
            expect((await getJson(`${operator.url}/readyz`)).body.status).toBe('not_ready')
        } finally {
            await operator.close()
        }
    })

    it('slow answers after delay', async () => {
        const operator = await startSimulatedOperator({product: 'surplus', behaviour: 'slow', slowDelayMs: 300})
        try {
            const started = performance.now()
            const timedOut = await fetch(`${operator.url}/health`, {signal: AbortSignal.timeout(100)}).then(() => false, () => true)
            expect(timedOut).toBe(true)
            expect((await fetch(`${operator.url}/health`)).status).toBe(200)
            expect(performance.now() - started).toBeGreaterThanOrEqual(250)
        } finally {
            await operator.close()
        }
    })

    it('wrong-json keeps keys', async () => {
        const operator = await startSimulatedOperator({product: 'sandbox', behaviour: 'wrong-json'})
        try {
            const health = await probe(`${operator.url}/health`)
            const verdict = evaluate('SANDBOX_ENDPOINT_HEALTH', [health], emptyChainFacts(0n))
            expect(verdict.reason).toBe('WRONG_SHAPE')
        } finally {
            await operator.close()
        }
    })

    it('crossed-book crosses', async () => {
        const operator = await startSimulatedOperator({product: 'surplus', behaviour: 'crossed-book'})
        try {
            const book = await postJson(`${operator.url}/book`, {instrumentId: 'llama-3.1-70b:output'})
            expect(book.body.book.bids[0].price).toBeGreaterThan(book.body.book.asks[0].price)
        } finally {
            await operator.close()
        }
    })

    it('placeholder-tee publishes placeholder', async () => {
        const operator = await startSimulatedOperator({product: 'sandbox', behaviour: 'placeholder-tee', sandbox: {runtimeBackend: 'tee'}})
        try {
            expect(operator.teeAttestationJson(1)).toBe('{"tee_type":"tdx","status":"pending"}')
            await operator.setBehaviour('healthy')
            expect(JSON.parse(operator.teeAttestationJson(1) ?? '{}').tee_type).toBe('Tdx')
        } finally {
            await operator.close()
        }
    })

    it('live-no-trades lists real-looking hashes', async () => {
        const operator = await startSimulatedOperator({product: 'trading', behaviour: 'live-no-trades'})
        try {
            const bot = await getJson(`${operator.url}/api/bots/${operator.botId}`)
            expect(bot.body.paper_trade).toBe(false)
            const trades = await getJson(`${operator.url}/api/bots/${operator.botId}/trades`)
            expect(trades.body.trades.length).toBeGreaterThan(0)
            for (const trade of trades.body.trades) expect(trade.tx_hash).toMatch(/^0x[0-9a-f]{64}$/)
        } finally {
            await operator.close()
        }
    })

    it('sidecar-outside opens sidecar', async () => {
        const operator = await startSimulatedOperator({product: 'sandbox'})
        try {
            expect(await fetchErrorCode(`${operator.sidecarUrl}/health`)).toBe('ECONNREFUSED')
            await operator.setBehaviour('sidecar-outside')
            expect(await getJson(`${operator.sidecarUrl}/health`)).toEqual({status: 200, body: {status: 'ok'}})
            expect((await fetch(`${operator.sidecarUrl}/exec`)).status).toBe(401)
        } finally {
            await operator.close()
        }
    })

    it('docker-runtime reports docker', async () => {
        const operator = await startSimulatedOperator({product: 'sandbox', behaviour: 'docker-runtime'})
        try {
            expect((await getJson(`${operator.url}/health`)).body.runtime_backend).toBe('docker')
        } finally {
            await operator.close()
        }
    })

    it('token-leak looks healthy over http', async () => {
        const operator = await startSimulatedOperator({product: 'sandbox', behaviour: 'token-leak'})
        try {
            expect((await getJson(`${operator.url}/health`)).body.status).toBe('ok')
        } finally {
            await operator.close()
        }
    })

    it('rejects unknown behaviour', async () => {
        const operator = await startSimulatedOperator({product: 'surplus'})
        try {
            await expect(operator.setBehaviour('melting' as never)).rejects.toThrow(/unknown operator behaviour "melting"/)
        } finally {
            await operator.close()
        }
    })
})
