import {concat, keccak256, stringToBytes} from 'viem'
import {describe, expect, it} from 'vitest'
import {buildSimulatedTdxAttestationJson, PLACEHOLDER_ATTESTATION_JSON, SIMULATED_MRTD_HEX} from '../src/devnet/operators'
import {PROOF_KIND_INFO, PROOF_KINDS, type ProofKind} from '../src/proofs/kinds'
import {Confidentiality, emptyChainFacts, evaluate, followUpRequestsFor, requestsFor, type ChainFacts} from '../src/proofs/plans'
import type {ProbeErrorCode, ProbeRequest, ProbeResponse, ProofOutcome} from '../src/proofs/types'

const BASE = 'https://operator.example'
const NOW = 1_750_000_000n
const VAULT = '0x1111111111111111111111111111111111111111'
const TX_A = `0x${'a1'.repeat(32)}`
const TX_B = `0x${'b2'.repeat(32)}`

function request(path: string, method: ProbeRequest['method'] = 'GET', body?: string, base = BASE): ProbeRequest {
    return {method, url: `${base}${path}`, body}
}

/** Builds a response with a JSON body (objects are serialized) or raw text. */
function reply(path: string, status: number, body: unknown, options: {method?: ProbeRequest['method']; requestBody?: string; base?: string; headers?: Record<string, string>} = {}): ProbeResponse {
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    const req = request(path, options.method ?? 'GET', options.requestBody, options.base)
    return {request: req, finalUrl: req.url, status, headers: options.headers ?? {}, body: new TextEncoder().encode(text), truncated: false, latencyMs: 12}
}

function failed(path: string, error: ProbeErrorCode, base = BASE): ProbeResponse {
    const req = request(path, 'GET', undefined, base)
    return {request: req, finalUrl: req.url, headers: {}, body: new Uint8Array(), truncated: false, latencyMs: 3000, error}
}

function facts(overrides: Partial<ChainFacts> = {}): ChainFacts {
    return emptyChainFacts(NOW, overrides)
}

const healthyHealth = {status: 'ok', checks: {runtime: {status: 'ok'}, store: {status: 'ok'}}, runtime_backend: 'firecracker', runtime_error: null}
const bot = (overrides: Record<string, unknown> = {}) => ({
    id: 'bot-1',
    operator_address: '0x0000000000000000000000000000000000000001',
    vault_address: VAULT,
    paper_trade: false,
    trading_active: true,
    lifecycle_status: 'active',
    sandbox_state: 'running',
    service_id: '4',
    call_id: '0',
    chain_id: 31337,
    risk_params: {max_leverage: 2, max_trades_per_hour: 10, max_slippage_bps: 50},
    latest_execution: null,
    validator_endpoints: [],
    ...overrides,
})
const vaultFacts = (overrides: Partial<ChainFacts> = {}) =>
    facts({vaultAddress: VAULT, signerCount: 3, vaultPolicy: {leverageCap: 3n, maxTradesPerHour: 20n, maxSlippageBps: 100n}, ...overrides})
const instruments = [{id: 'm:input', model_id: 'm', token_kind: 'input', tick_size: 10, min_qty: 100}]
const bookReply = (bids: unknown[], asks: unknown[], instrumentId = 'm:input') =>
    reply('/book', 200, {book: {instrument_id: instrumentId, bids, asks, last_trade_price: 1000}, refMid: 1000, inventoryTokens: 0}, {method: 'POST', requestBody: JSON.stringify({instrumentId})})
const level = (price: unknown, qty: unknown) => ({price, qty, orders: 1})
const clobStatus = (me: string, epoch: number, threshold: number, operators: {address: string; url: string}[]) => ({me, epoch, epochSecs: 30, proposer: me, threshold, operators, poolSize: operators.length})
const PEERS = [
    {address: '0x00000000000000000000000000000000000000a1', url: BASE},
    {address: '0x00000000000000000000000000000000000000a2', url: 'https://peer-two.example'},
    {address: '0x00000000000000000000000000000000000000a3', url: 'https://peer-three.example'},
]

function delivery(overrides: Record<string, unknown> = {}) {
    const completion = 'The answer is 42.'
    const modelIdHash = keccak256(stringToBytes('m'))
    const messagesHash = keccak256(stringToBytes('[{"role":"user","content":"q"}]'))
    const outputHash = keccak256(stringToBytes(completion))
    const workCommitment = keccak256(concat([modelIdHash, messagesHash, outputHash]))
    return {completion, meteredTokens: 10, servedTokens: 10, workCommitment, modelIdHash, messagesHash, outputHash, receiptDigest: keccak256(workCommitment), ...overrides}
}

function teeFacts(json: string | null, overrides: Partial<ChainFacts> = {}): ChainFacts {
    return facts({
        confidentiality: Confidentiality.TeeRequired,
        attestationJson: json,
        attestationHash: json === null ? null : keccak256(stringToBytes(json)),
        measurementAllowlist: [SIMULATED_MRTD_HEX],
        ...overrides,
    })
}

interface EvaluatorCase {
    name: string
    kind: ProofKind
    responses: ProbeResponse[]
    facts?: ChainFacts
    outcome: ProofOutcome
    reason: string
    observedContains?: string
}

const CASES: EvaluatorCase[] = [
    // SANDBOX_ENDPOINT_HEALTH
    {name: 'sandbox health ok', kind: 'SANDBOX_ENDPOINT_HEALTH', responses: [reply('/health', 200, healthyHealth)], outcome: 'PASS', reason: 'HEALTH_OK', observedContains: 'runtime_backend=firecracker'},
    {
        name: 'sandbox health 503 degraded',
        kind: 'SANDBOX_ENDPOINT_HEALTH',
        responses: [reply('/health', 503, {...healthyHealth, status: 'degraded', checks: {runtime: {status: 'error'}, store: {status: 'ok'}}, runtime_backend: 'docker', runtime_error: 'no runtime'})],
        outcome: 'FAIL',
        reason: 'HEALTH_DEGRADED',
        observedContains: 'status=503 health=degraded runtime=error store=ok runtime_backend=docker',
    },
    {name: 'sandbox health auth proxy 401', kind: 'SANDBOX_ENDPOINT_HEALTH', responses: [reply('/health', 401, 'Unauthorized')], outcome: 'INCONCLUSIVE', reason: 'AUTH_PROXY_401'},
    {name: 'sandbox health connection refused', kind: 'SANDBOX_ENDPOINT_HEALTH', responses: [failed('/health', 'CONNECTION_REFUSED')], outcome: 'UNREACHABLE', reason: 'CONNECTION_REFUSED'},
    {name: 'sandbox health timeout', kind: 'SANDBOX_ENDPOINT_HEALTH', responses: [failed('/health', 'TOTAL_TIMEOUT')], outcome: 'UNREACHABLE', reason: 'TOTAL_TIMEOUT'},
    {name: 'sandbox health invalid json', kind: 'SANDBOX_ENDPOINT_HEALTH', responses: [reply('/health', 200, '<html>ok</html>')], outcome: 'FAIL', reason: 'INVALID_JSON'},
    {name: 'sandbox health invalid utf8', kind: 'SANDBOX_ENDPOINT_HEALTH', responses: [{...reply('/health', 200, ''), body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])}], outcome: 'FAIL', reason: 'INVALID_JSON'},
    {
        name: 'sandbox health wrong types',
        kind: 'SANDBOX_ENDPOINT_HEALTH',
        responses: [reply('/health', 200, {status: 1, checks: {runtime: {status: true}, store: {status: null}}, runtime_backend: 42, runtime_error: false})],
        outcome: 'FAIL',
        reason: 'WRONG_SHAPE',
        observedContains: 'health.status: expected string, got number',
    },
    {name: 'sandbox health rate limited', kind: 'SANDBOX_ENDPOINT_HEALTH', responses: [reply('/health', 429, {}, {headers: {'retry-after': '30'}})], outcome: 'INCONCLUSIVE', reason: 'RATE_LIMITED', observedContains: 'retry-after=30'},
    {name: 'sandbox health truncated body', kind: 'SANDBOX_ENDPOINT_HEALTH', responses: [{...reply('/health', 200, healthyHealth), truncated: true}], outcome: 'FAIL', reason: 'BODY_TRUNCATED'},
    {
        name: 'tee required docker runtime',
        kind: 'SANDBOX_ENDPOINT_HEALTH',
        responses: [reply('/health', 200, {...healthyHealth, runtime_backend: 'docker'})],
        facts: facts({confidentiality: Confidentiality.TeeRequired}),
        outcome: 'FAIL',
        reason: 'TEE_REQUIRED_DOCKER_RUNTIME',
    },
    {
        name: 'tee preferred docker allowed',
        kind: 'SANDBOX_ENDPOINT_HEALTH',
        responses: [reply('/health', 200, {...healthyHealth, runtime_backend: 'docker'})],
        facts: facts({confidentiality: Confidentiality.TeePreferred}),
        outcome: 'PASS',
        reason: 'HEALTH_OK',
    },
    {name: 'sandbox invalid runtime backend', kind: 'SANDBOX_ENDPOINT_HEALTH', responses: [reply('/health', 200, {...healthyHealth, runtime_backend: 'invalid'})], outcome: 'FAIL', reason: 'RUNTIME_BACKEND_INVALID'},

    // SANDBOX_READINESS
    {name: 'readiness ready', kind: 'SANDBOX_READINESS', responses: [reply('/readyz', 200, {status: 'ready'})], outcome: 'PASS', reason: 'READY'},
    {
        name: 'readiness not ready 503',
        kind: 'SANDBOX_READINESS',
        responses: [reply('/readyz', 503, {status: 'not_ready', runtime_backend: 'firecracker', runtime: 'error', store: 'ok', runtime_error: 'kvm missing'})],
        outcome: 'FAIL',
        reason: 'NOT_READY',
        observedContains: 'runtime_error=kvm missing',
    },
    {name: 'readiness auth proxy 401', kind: 'SANDBOX_READINESS', responses: [reply('/readyz', 401, '')], outcome: 'INCONCLUSIVE', reason: 'AUTH_PROXY_401'},
    {
        name: 'readiness tee docker contradiction',
        kind: 'SANDBOX_READINESS',
        responses: [reply('/readyz', 503, {status: 'not_ready', runtime_backend: 'docker', runtime: 'ok', store: 'ok', runtime_error: null})],
        facts: facts({confidentiality: Confidentiality.TeeRequired}),
        outcome: 'FAIL',
        reason: 'TEE_REQUIRED_DOCKER_RUNTIME',
    },
    {
        name: 'provision ready',
        kind: 'SANDBOX_READINESS',
        responses: [reply('/readyz', 200, {status: 'ready'}), reply('/api/provisions/7', 200, {call_id: '7', sandbox_id: 's', phase: 'ready', progress_pct: 100, sidecar_url: null})],
        outcome: 'PASS',
        reason: 'PROVISION_READY',
    },
    {
        name: 'provision failed phase',
        kind: 'SANDBOX_READINESS',
        responses: [reply('/readyz', 200, {status: 'ready'}), reply('/api/provisions/7', 200, {call_id: 7, sandbox_id: 's', phase: 'failed', progress_pct: 40, sidecar_url: null})],
        outcome: 'FAIL',
        reason: 'PROVISION_FAILED',
    },
    {
        name: 'provision in progress',
        kind: 'SANDBOX_READINESS',
        responses: [reply('/readyz', 200, {status: 'ready'}), reply('/api/provisions/7', 200, {call_id: '7', sandbox_id: 's', phase: 'image_pull', progress_pct: 20, sidecar_url: null})],
        outcome: 'INCONCLUSIVE',
        reason: 'PROVISION_IN_PROGRESS',
    },
    {name: 'provision unknown call', kind: 'SANDBOX_READINESS', responses: [reply('/readyz', 200, {status: 'ready'}), reply('/api/provisions/9', 404, {error: 'none'})], outcome: 'FAIL', reason: 'PROVISION_NOT_FOUND'},

    // SANDBOX_SECRET_HANDLING
    {name: 'protected route rejects anonymous', kind: 'SANDBOX_SECRET_HANDLING', responses: [reply('/api/sandboxes', 401, {error: 'unauthorized'})], outcome: 'PASS', reason: 'PROTECTED_ROUTE_REJECTS_ANONYMOUS'},
    {name: 'protected route open', kind: 'SANDBOX_SECRET_HANDLING', responses: [reply('/api/sandboxes', 200, {sandboxes: []})], outcome: 'FAIL', reason: 'PROTECTED_ROUTE_OPEN'},
    {
        name: 'token leaked on chain',
        kind: 'SANDBOX_SECRET_HANDLING',
        responses: [reply('/api/sandboxes', 401, {})],
        facts: facts({leakedSecrets: [{serviceId: '4', callId: '12', txHash: TX_A, field: 'token'}, {serviceId: '4', callId: '13', txHash: TX_B, field: 'token'}]}),
        outcome: 'FAIL',
        reason: 'TOKEN_LEAKED_ON_CHAIN',
        observedContains: `service=4 call=12 tx=${TX_A} field=token (+1 more)`,
    },
    {
        name: 'leak reported while unreachable',
        kind: 'SANDBOX_SECRET_HANDLING',
        responses: [failed('/api/sandboxes', 'CONNECTION_REFUSED')],
        facts: facts({leakedSecrets: [{serviceId: '4', callId: '12', txHash: TX_A, field: 'token'}]}),
        outcome: 'FAIL',
        reason: 'TOKEN_LEAKED_ON_CHAIN',
    },

    // SANDBOX_TEE_ATTESTATION
    {
        name: 'tee attestation matches onchain',
        kind: 'SANDBOX_TEE_ATTESTATION',
        responses: [reply('/health', 200, {...healthyHealth, runtime_backend: 'tee'})],
        facts: teeFacts(buildSimulatedTdxAttestationJson(Number(NOW) - 60)),
        outcome: 'PASS',
        reason: 'ATTESTATION_MATCHES_ONCHAIN',
        observedContains: 'age_s=60',
    },
    {name: 'tee attestation placeholder', kind: 'SANDBOX_TEE_ATTESTATION', responses: [], facts: teeFacts(PLACEHOLDER_ATTESTATION_JSON), outcome: 'FAIL', reason: 'ATTESTATION_PLACEHOLDER'},
    {
        name: 'tee attestation hash mismatch',
        kind: 'SANDBOX_TEE_ATTESTATION',
        responses: [],
        facts: teeFacts(buildSimulatedTdxAttestationJson(Number(NOW) - 60), {attestationHash: keccak256(stringToBytes('other'))}),
        outcome: 'FAIL',
        reason: 'ATTESTATION_HASH_MISMATCH',
    },
    {name: 'tee attestation type none', kind: 'SANDBOX_TEE_ATTESTATION', responses: [], facts: teeFacts('{"tee_type":"None","evidence":{},"measurement":"","timestamp":1}'), outcome: 'FAIL', reason: 'ATTESTATION_TEE_NONE'},
    {
        name: 'tee measurement not allowed',
        kind: 'SANDBOX_TEE_ATTESTATION',
        responses: [],
        facts: teeFacts(buildSimulatedTdxAttestationJson(Number(NOW) - 60), {measurementAllowlist: ['ff'.repeat(48)]}),
        outcome: 'FAIL',
        reason: 'MEASUREMENT_NOT_ALLOWED',
    },
    {
        name: 'tee allowlist empty',
        kind: 'SANDBOX_TEE_ATTESTATION',
        responses: [],
        facts: teeFacts(buildSimulatedTdxAttestationJson(Number(NOW) - 60), {measurementAllowlist: []}),
        outcome: 'INCONCLUSIVE',
        reason: 'MEASUREMENT_ALLOWLIST_EMPTY',
    },
    {
        name: 'tee attestation stale',
        kind: 'SANDBOX_TEE_ATTESTATION',
        responses: [],
        facts: teeFacts(buildSimulatedTdxAttestationJson(Number(NOW) - 90_000)),
        outcome: 'FAIL',
        reason: 'ATTESTATION_STALE',
        observedContains: 'age_s=90000',
    },
    {
        name: 'tee reported measurement differs',
        kind: 'SANDBOX_TEE_ATTESTATION',
        responses: [],
        facts: teeFacts(JSON.stringify({...JSON.parse(buildSimulatedTdxAttestationJson(Number(NOW))), measurement: '0x' + 'ee'.repeat(48)})),
        outcome: 'FAIL',
        reason: 'ATTESTATION_MEASUREMENT_MISMATCH',
    },
    {
        name: 'tee quote unparsable',
        kind: 'SANDBOX_TEE_ATTESTATION',
        responses: [],
        facts: teeFacts('{"tee_type":"Tdx","evidence":{"quote":"0x0400","collateral":null},"measurement":"","timestamp":1750000000}'),
        outcome: 'FAIL',
        reason: 'ATTESTATION_EVIDENCE_UNPARSABLE',
    },
    {
        name: 'tee docker runtime attestation',
        kind: 'SANDBOX_TEE_ATTESTATION',
        responses: [reply('/health', 200, {...healthyHealth, runtime_backend: 'docker'})],
        facts: teeFacts(buildSimulatedTdxAttestationJson(Number(NOW) - 60)),
        outcome: 'FAIL',
        reason: 'TEE_REQUIRED_DOCKER_RUNTIME',
    },
    {name: 'tee required no attestation', kind: 'SANDBOX_TEE_ATTESTATION', responses: [], facts: teeFacts(null), outcome: 'FAIL', reason: 'ATTESTATION_MISSING'},
    {name: 'tee not required', kind: 'SANDBOX_TEE_ATTESTATION', responses: [], facts: facts({confidentiality: Confidentiality.Any}), outcome: 'NOT_APPLICABLE', reason: 'TEE_NOT_REQUIRED'},

    // SANDBOX_SIDECAR_CAPABILITIES
    {
        name: 'capabilities listed',
        kind: 'SANDBOX_SIDECAR_CAPABILITIES',
        responses: [reply('/api/capabilities', 200, {capabilities: [{id: 'exec', label: 'Exec', description: 'd'}], harnesses: [{id: 'codex', label: 'Codex', mcp: true, skills: true, subagents: false}]})],
        outcome: 'PASS',
        reason: 'CAPABILITIES_CLAIMED',
        observedContains: 'harnesses=codex',
    },
    {name: 'capabilities no harness', kind: 'SANDBOX_SIDECAR_CAPABILITIES', responses: [reply('/api/capabilities', 200, {capabilities: [], harnesses: []})], outcome: 'FAIL', reason: 'NO_HARNESSES_LISTED'},
    {name: 'capabilities wrong types', kind: 'SANDBOX_SIDECAR_CAPABILITIES', responses: [reply('/api/capabilities', 200, {capabilities: 'all', harnesses: 5})], outcome: 'FAIL', reason: 'WRONG_SHAPE'},

    // TRADING_BOT_HEALTH
    {name: 'trading health route ok', kind: 'TRADING_BOT_HEALTH', responses: [reply('/health', 200, {status: 'ok'}), reply('/api/meta', 200, {api_version: '1'})], outcome: 'PASS', reason: 'HEALTH_OK'},
    {
        name: 'trading meta without health',
        kind: 'TRADING_BOT_HEALTH',
        responses: [reply('/health', 404, {error: 'not found'}), reply('/api/meta', 200, {api_version: '1', features: []})],
        outcome: 'PASS',
        reason: 'TRADING_META_OK_NO_HEALTH_ROUTE',
        observedContains: 'health=404 meta=200',
    },
    {name: 'trading api down', kind: 'TRADING_BOT_HEALTH', responses: [failed('/health', 'CONNECTION_REFUSED'), failed('/api/meta', 'CONNECTION_REFUSED')], outcome: 'UNREACHABLE', reason: 'CONNECTION_REFUSED'},
    {name: 'trading meta 500', kind: 'TRADING_BOT_HEALTH', responses: [reply('/health', 404, ''), reply('/api/meta', 500, '')], outcome: 'FAIL', reason: 'UNEXPECTED_STATUS'},
    {
        name: 'trading bot active',
        kind: 'TRADING_BOT_HEALTH',
        responses: [reply('/health', 404, ''), reply('/api/meta', 200, {api_version: '1'}), reply('/api/bots/bot-1', 200, bot())],
        outcome: 'PASS',
        reason: 'BOT_ACTIVE',
    },
    {
        name: 'trading bot stopped',
        kind: 'TRADING_BOT_HEALTH',
        responses: [reply('/health', 404, ''), reply('/api/meta', 200, {api_version: '1'}), reply('/api/bots/bot-1', 200, bot({lifecycle_status: 'stopped', trading_active: false}))],
        outcome: 'FAIL',
        reason: 'BOT_NOT_ACTIVE',
    },

    // TRADING_MODE
    {name: 'live mode proven', kind: 'TRADING_MODE', responses: [reply('/api/bots/bot-1', 200, bot())], facts: vaultFacts({onChainTradeTxHashes: [TX_A]}), outcome: 'PASS', reason: 'MODE_LIVE_PROVEN'},
    {name: 'paper mode consistent', kind: 'TRADING_MODE', responses: [reply('/api/bots/bot-1', 200, bot({paper_trade: true}))], facts: vaultFacts(), outcome: 'PASS', reason: 'MODE_PAPER_CONSISTENT'},
    {name: 'live without onchain trade', kind: 'TRADING_MODE', responses: [reply('/api/bots/bot-1', 200, bot())], facts: vaultFacts(), outcome: 'FAIL', reason: 'LIVE_WITHOUT_ONCHAIN_TRADE'},
    {name: 'paper with onchain trades', kind: 'TRADING_MODE', responses: [reply('/api/bots/bot-1', 200, bot({paper_trade: true}))], facts: vaultFacts({onChainTradeTxHashes: [TX_A]}), outcome: 'FAIL', reason: 'PAPER_WITH_ONCHAIN_TRADES'},
    {name: 'no vault single operator', kind: 'TRADING_MODE', responses: [reply('/api/bots/bot-1', 200, bot())], facts: facts({signerCount: 1}), outcome: 'NOT_APPLICABLE', reason: 'NO_VAULT_SINGLE_OPERATOR'},
    {name: 'vault not deployed yet', kind: 'TRADING_MODE', responses: [reply('/api/bots/bot-1', 200, bot())], facts: facts({signerCount: 3}), outcome: 'INCONCLUSIVE', reason: 'VAULT_NOT_DEPLOYED'},
    {name: 'trading bot unknown', kind: 'TRADING_MODE', responses: [reply('/api/bots/bot-9', 404, {error: 'not found'})], facts: vaultFacts(), outcome: 'FAIL', reason: 'BOT_NOT_FOUND'},
    {name: 'trading mode wrong types', kind: 'TRADING_MODE', responses: [reply('/api/bots/bot-1', 200, bot({paper_trade: 'yes'}))], facts: vaultFacts(), outcome: 'FAIL', reason: 'WRONG_SHAPE'},

    // TRADING_MODEL_SPEND
    {
        name: 'model spend reported',
        kind: 'TRADING_MODEL_SPEND',
        responses: [reply('/api/bots/bot-1/runs', 200, {runs: [{input_tokens: 100, output_tokens: 20, model: 'm', provider: 'p', cost_usd: 0.01}, {input_tokens: 50, output_tokens: 5, model: 'm', provider: 'p', cost_usd: '0.02'}]})],
        outcome: 'PASS',
        reason: 'MODEL_SPEND_REPORTED',
        observedContains: 'runs=2 input_tokens=150 output_tokens=25 cost_usd_estimate=0.0300',
    },
    {name: 'model spend no runs', kind: 'TRADING_MODEL_SPEND', responses: [reply('/api/bots/bot-1/runs', 200, [])], outcome: 'INCONCLUSIVE', reason: 'NO_MODEL_RUNS'},
    {name: 'model spend negative', kind: 'TRADING_MODEL_SPEND', responses: [reply('/api/bots/bot-1/runs', 200, {runs: [{input_tokens: 1, output_tokens: 1, model: 'm', provider: 'p', cost_usd: -1}]})], outcome: 'FAIL', reason: 'SPEND_NEGATIVE'},
    {name: 'model spend wrong types', kind: 'TRADING_MODEL_SPEND', responses: [reply('/api/bots/bot-1/runs', 200, {runs: [{input_tokens: 'many', output_tokens: 1, model: 'm', provider: 'p', cost_usd: 1}]})], outcome: 'FAIL', reason: 'WRONG_SHAPE'},

    // TRADING_VAULT_POLICY
    {name: 'vault policy consistent', kind: 'TRADING_VAULT_POLICY', responses: [reply('/api/bots/bot-1', 200, bot())], facts: vaultFacts(), outcome: 'PASS', reason: 'VAULT_POLICY_CONSISTENT'},
    {
        name: 'risk params exceed policy',
        kind: 'TRADING_VAULT_POLICY',
        responses: [reply('/api/bots/bot-1', 200, bot({risk_params: {max_leverage: 2, max_trades_per_hour: 10, max_slippage_bps: 150}}))],
        facts: vaultFacts(),
        outcome: 'FAIL',
        reason: 'RISK_PARAMS_EXCEED_POLICY',
        observedContains: 'max_slippage_bps=150 > maxSlippageBps=100',
    },
    {name: 'fractional leverage over cap', kind: 'TRADING_VAULT_POLICY', responses: [reply('/api/bots/bot-1', 200, bot({risk_params: {max_leverage: 3.5}}))], facts: vaultFacts(), outcome: 'FAIL', reason: 'RISK_PARAMS_EXCEED_POLICY'},
    {name: 'vault address mismatch', kind: 'TRADING_VAULT_POLICY', responses: [reply('/api/bots/bot-1', 200, bot({vault_address: '0x2222222222222222222222222222222222222222'}))], facts: vaultFacts(), outcome: 'FAIL', reason: 'VAULT_ADDRESS_MISMATCH'},
    {name: 'vault policy no vault', kind: 'TRADING_VAULT_POLICY', responses: [reply('/api/bots/bot-1', 200, bot())], facts: facts({signerCount: 1}), outcome: 'NOT_APPLICABLE', reason: 'NO_VAULT_SINGLE_OPERATOR'},

    // TRADING_TRADE_EXECUTION
    {
        name: 'trades match onchain',
        kind: 'TRADING_TRADE_EXECUTION',
        responses: [reply('/api/bots/bot-1/trades', 200, {trades: [{tx_hash: TX_A, paper_trade: false, execution_status: 'executed'}], total: 1, evidence: {source: 'indexer'}})],
        facts: vaultFacts({onChainTradeTxHashes: [TX_A]}),
        outcome: 'PASS',
        reason: 'TRADES_MATCH_ONCHAIN',
    },
    {
        name: 'live trade not on chain',
        kind: 'TRADING_TRADE_EXECUTION',
        responses: [reply('/api/bots/bot-1/trades', 200, {trades: [{tx_hash: TX_B, paper_trade: false, execution_status: 'executed'}], total: 1, evidence: {}})],
        facts: vaultFacts({onChainTradeTxHashes: [TX_A]}),
        outcome: 'FAIL',
        reason: 'LIVE_TRADE_NOT_ON_CHAIN',
        observedContains: `first_missing=${TX_B}`,
    },
    {
        name: 'trades local fallback',
        kind: 'TRADING_TRADE_EXECUTION',
        responses: [reply('/api/bots/bot-1/trades', 200, {trades: [{tx_hash: TX_A, paper_trade: false, execution_status: 'executed'}], total: 1, evidence: {source: 'local_fallback'}})],
        facts: vaultFacts({onChainTradeTxHashes: [TX_A]}),
        outcome: 'INCONCLUSIVE',
        reason: 'TRADES_LOCAL_FALLBACK',
    },
    {
        name: 'paper hash marked live',
        kind: 'TRADING_TRADE_EXECUTION',
        responses: [reply('/api/bots/bot-1/trades', 200, {trades: [{tx_hash: '0xpaper_123', paper_trade: false, execution_status: 'executed'}], total: 1, evidence: {}})],
        facts: vaultFacts(),
        outcome: 'FAIL',
        reason: 'PAPER_HASH_MARKED_LIVE',
    },
    {
        name: 'only paper trades listed',
        kind: 'TRADING_TRADE_EXECUTION',
        responses: [reply('/api/bots/bot-1/trades', 200, {trades: [{tx_hash: 'paper-clob:1', paper_trade: true, execution_status: 'simulated'}], total: 1, evidence: {}})],
        facts: vaultFacts(),
        outcome: 'INCONCLUSIVE',
        reason: 'NO_LIVE_TRADES_LISTED',
    },

    // TRADING_VALIDATOR_STATUS
    {
        name: 'validators healthy',
        kind: 'TRADING_VALIDATOR_STATUS',
        responses: [
            reply('/api/bots/bot-1', 200, bot({validator_endpoints: ['https://v1.example', {url: 'https://v2.example'}]})),
            reply('/health', 200, {status: 'ok'}, {base: 'https://v1.example'}),
            reply('/health', 200, {status: 'ok'}, {base: 'https://v2.example'}),
        ],
        facts: vaultFacts(),
        outcome: 'PASS',
        reason: 'VALIDATORS_HEALTHY',
        observedContains: 'ok=2/2',
    },
    {
        name: 'validator unreachable',
        kind: 'TRADING_VALIDATOR_STATUS',
        responses: [
            reply('/api/bots/bot-1', 200, bot({validator_endpoints: ['https://v1.example', 'https://v2.example']})),
            reply('/health', 200, {status: 'ok'}, {base: 'https://v1.example'}),
            failed('/health', 'CONNECT_TIMEOUT', 'https://v2.example'),
        ],
        facts: vaultFacts(),
        outcome: 'FAIL',
        reason: 'VALIDATOR_UNHEALTHY',
        observedContains: 'CONNECT_TIMEOUT',
    },
    {name: 'validators none listed', kind: 'TRADING_VALIDATOR_STATUS', responses: [reply('/api/bots/bot-1', 200, bot())], facts: vaultFacts(), outcome: 'FAIL', reason: 'NO_VALIDATOR_ENDPOINTS'},

    // MARKET_ORDER_BOOK
    {
        name: 'book consistent',
        kind: 'MARKET_ORDER_BOOK',
        responses: [reply('/instruments', 200, instruments), bookReply([level(990, 100), level(980, '200')], [level(1010, 150), level('1020', 300)])],
        outcome: 'PASS',
        reason: 'BOOK_CONSISTENT',
        observedContains: 'books=1 levels=4',
    },
    {name: 'book crossed', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([level(1030, 100)], [level(1010, 100)])], outcome: 'FAIL', reason: 'BOOK_CROSSED'},
    {name: 'book locked counts as crossed', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([level(1010, 100)], [level(1010, 100)])], outcome: 'FAIL', reason: 'BOOK_CROSSED'},
    {name: 'bids not descending', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([level(980, 100), level(990, 100)], [])], outcome: 'FAIL', reason: 'BIDS_NOT_DESCENDING'},
    {name: 'bids equal prices', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([level(990, 100), level(990, 100)], [])], outcome: 'FAIL', reason: 'BIDS_NOT_DESCENDING'},
    {name: 'asks not ascending', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([], [level(1020, 100), level(1010, 100)])], outcome: 'FAIL', reason: 'ASKS_NOT_ASCENDING'},
    {name: 'price off tick', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([level(995, 100)], [])], outcome: 'FAIL', reason: 'PRICE_OFF_TICK'},
    {name: 'decimal price off tick', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([level('990.5', 100)], [])], outcome: 'FAIL', reason: 'PRICE_OFF_TICK'},
    {name: 'quantity below minimum', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([level(990, 99)], [])], outcome: 'FAIL', reason: 'QTY_BELOW_MIN'},
    {name: 'quantity zero', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([level(990, 0)], [])], outcome: 'FAIL', reason: 'QTY_NOT_POSITIVE'},
    {name: 'book unknown instrument', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([], [], 'x:output')], outcome: 'FAIL', reason: 'BOOK_INSTRUMENT_UNKNOWN'},
    {name: 'book wrong types', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, instruments), bookReply([level('abc', 100)], [])], outcome: 'FAIL', reason: 'WRONG_SHAPE'},
    {name: 'instruments wrong tick type', kind: 'MARKET_ORDER_BOOK', responses: [reply('/instruments', 200, [{...instruments[0], tick_size: 'ten'}])], outcome: 'FAIL', reason: 'WRONG_SHAPE'},

    // MARKET_FILL_SETTLEMENT
    {name: 'fills settled on chain', kind: 'MARKET_FILL_SETTLEMENT', responses: [reply('/settlement/outbox', 200, {count: 2, fillsHash: '0x00', fills: []})], facts: facts({settledFillCount: 5n}), outcome: 'PASS', reason: 'FILLS_SETTLED_ON_CHAIN', observedContains: 'onchain_fills=5 outbox_pending=2'},
    {name: 'fills pending none settled', kind: 'MARKET_FILL_SETTLEMENT', responses: [reply('/settlement/outbox', 200, {count: 3, fillsHash: '0x00', fills: []})], outcome: 'FAIL', reason: 'FILLS_NOT_SETTLED'},
    {name: 'settlement dry run', kind: 'MARKET_FILL_SETTLEMENT', responses: [reply('/settlement/outbox', 200, {count: 0, fillsHash: '0x00', fills: [], mode: 'dry'})], outcome: 'FAIL', reason: 'SETTLEMENT_DRY_RUN'},
    {name: 'no fills yet', kind: 'MARKET_FILL_SETTLEMENT', responses: [reply('/settlement/outbox', 200, {count: 0, fillsHash: '0x00', fills: []})], outcome: 'INCONCLUSIVE', reason: 'NO_FILLS_YET'},

    // MARKET_CREDIT_REDEMPTION
    {
        name: 'redemptions served',
        kind: 'MARKET_CREDIT_REDEMPTION',
        responses: [],
        facts: facts({redemptions: [{redemptionId: TX_A, deadline: NOW - 10n, settled: true, attested: false, defaulted: false}, {redemptionId: TX_B, deadline: NOW + 100n, settled: false, attested: false, defaulted: false}]}),
        outcome: 'PASS',
        reason: 'REDEMPTIONS_SERVED',
        observedContains: 'served=1 pending=1',
    },
    {
        name: 'redemption past deadline unsettled',
        kind: 'MARKET_CREDIT_REDEMPTION',
        responses: [],
        facts: facts({redemptions: [{redemptionId: TX_A, deadline: NOW - 1n, settled: false, attested: false, defaulted: false}]}),
        outcome: 'FAIL',
        reason: 'REDEMPTION_UNSERVED_PAST_DEADLINE',
        observedContains: `first=${TX_A}`,
    },
    {
        name: 'redemption defaulted',
        kind: 'MARKET_CREDIT_REDEMPTION',
        responses: [],
        facts: facts({redemptions: [{redemptionId: TX_A, deadline: NOW - 1n, settled: false, attested: false, defaulted: true}]}),
        outcome: 'FAIL',
        reason: 'REDEMPTION_DEFAULTED',
    },
    {name: 'no redemptions', kind: 'MARKET_CREDIT_REDEMPTION', responses: [], outcome: 'NOT_APPLICABLE', reason: 'NO_REDEMPTIONS'},

    // MARKET_ATTESTER_QUORUM
    {
        name: 'quorum reached',
        kind: 'MARKET_ATTESTER_QUORUM',
        responses: [
            reply('/clob/status', 200, clobStatus(PEERS[0].address, 77, 2, PEERS)),
            reply('/clob/status', 200, clobStatus(PEERS[1].address, 77, 2, PEERS), {base: PEERS[1].url}),
            failed('/clob/status', 'CONNECTION_REFUSED', PEERS[2].url),
        ],
        outcome: 'PASS',
        reason: 'QUORUM_REACHED',
        observedContains: 'agree=2/3 threshold=2 epoch=77',
    },
    {
        name: 'quorum epoch disagreement',
        kind: 'MARKET_ATTESTER_QUORUM',
        responses: [
            reply('/clob/status', 200, clobStatus(PEERS[0].address, 77, 3, PEERS)),
            reply('/clob/status', 200, clobStatus(PEERS[1].address, 78, 3, PEERS), {base: PEERS[1].url}),
            reply('/clob/status', 200, clobStatus(PEERS[2].address, 77, 3, PEERS), {base: PEERS[2].url}),
        ],
        outcome: 'FAIL',
        reason: 'QUORUM_NOT_REACHED',
        observedContains: 'epoch=78',
    },
    {
        name: 'quorum peers unreachable',
        kind: 'MARKET_ATTESTER_QUORUM',
        responses: [
            reply('/clob/status', 200, clobStatus(PEERS[0].address, 77, 2, PEERS)),
            failed('/clob/status', 'CONNECTION_REFUSED', PEERS[1].url),
            failed('/clob/status', 'TOTAL_TIMEOUT', PEERS[2].url),
        ],
        outcome: 'FAIL',
        reason: 'QUORUM_NOT_REACHED',
    },
    {name: 'quorum peers not probed', kind: 'MARKET_ATTESTER_QUORUM', responses: [reply('/clob/status', 200, clobStatus(PEERS[0].address, 77, 2, PEERS))], outcome: 'INCONCLUSIVE', reason: 'PEERS_NOT_PROBED'},
    {name: 'quorum threshold unsatisfiable', kind: 'MARKET_ATTESTER_QUORUM', responses: [reply('/clob/status', 200, clobStatus(PEERS[0].address, 77, 4, PEERS))], outcome: 'FAIL', reason: 'QUORUM_UNSATISFIABLE'},
    {name: 'not shared book venue', kind: 'MARKET_ATTESTER_QUORUM', responses: [reply('/clob/status', 404, {error: 'no'})], outcome: 'NOT_APPLICABLE', reason: 'NOT_SHARED_BOOK_VENUE'},

    // MARKET_SP1_PROOF_PATH
    {name: 'sp1 proven batch', kind: 'MARKET_SP1_PROOF_PATH', responses: [], facts: facts({provenBatchCount: 1n}), outcome: 'PASS', reason: 'SP1_PROVEN_BATCH'},
    {name: 'sp1 not enabled', kind: 'MARKET_SP1_PROOF_PATH', responses: [], outcome: 'NOT_APPLICABLE', reason: 'SP1_NOT_ENABLED'},

    // MARKET_INFERENCE_DELIVERY
    {name: 'delivery hashes match', kind: 'MARKET_INFERENCE_DELIVERY', responses: [reply('/redeem', 200, delivery(), {method: 'POST', requestBody: '{}'})], outcome: 'PASS', reason: 'DELIVERY_HASHES_MATCH'},
    {name: 'delivery output hash wrong', kind: 'MARKET_INFERENCE_DELIVERY', responses: [reply('/redeem', 200, delivery({completion: 'Something else.'}), {method: 'POST', requestBody: '{}'})], outcome: 'FAIL', reason: 'OUTPUT_HASH_MISMATCH'},
    {name: 'delivery commitment wrong', kind: 'MARKET_INFERENCE_DELIVERY', responses: [reply('/redeem', 200, delivery({workCommitment: TX_A}), {method: 'POST', requestBody: '{}'})], outcome: 'FAIL', reason: 'WORK_COMMITMENT_MISMATCH'},
    {name: 'delivery hash not bytes32', kind: 'MARKET_INFERENCE_DELIVERY', responses: [reply('/redeem', 200, delivery({outputHash: '0x1234'}), {method: 'POST', requestBody: '{}'})], outcome: 'FAIL', reason: 'WRONG_SHAPE'},
    {name: 'delivery without redeem request', kind: 'MARKET_INFERENCE_DELIVERY', responses: [], outcome: 'INCONCLUSIVE', reason: 'NO_REDEEM_REQUEST'},

    // ENDPOINT_REACHABILITY
    {name: 'reachability ok', kind: 'ENDPOINT_REACHABILITY', responses: [reply('/health', 200, healthyHealth)], outcome: 'PASS', reason: 'ENDPOINT_ANSWERED'},
    {name: 'reachability auth proxy 401', kind: 'ENDPOINT_REACHABILITY', responses: [reply('/health', 401, 'Unauthorized')], outcome: 'PASS', reason: 'ENDPOINT_GUARDED'},
    {name: 'reachability trading 404', kind: 'ENDPOINT_REACHABILITY', responses: [reply('/health', 404, '')], outcome: 'PASS', reason: 'ENDPOINT_ANSWERED'},
    {name: 'reachability refused', kind: 'ENDPOINT_REACHABILITY', responses: [failed('/health', 'CONNECTION_REFUSED')], outcome: 'UNREACHABLE', reason: 'CONNECTION_REFUSED'},
    {name: 'reachability address refused', kind: 'ENDPOINT_REACHABILITY', responses: [failed('/health', 'ADDRESS_REFUSED')], outcome: 'UNREACHABLE', reason: 'ADDRESS_REFUSED'},
    {name: 'reachability gateway error', kind: 'ENDPOINT_REACHABILITY', responses: [reply('/health', 502, '')], outcome: 'FAIL', reason: 'UPSTREAM_GATEWAY_ERROR'},

    // PRIVATE_PORT_EXPOSURE
    {
        name: 'private ports closed',
        kind: 'PRIVATE_PORT_EXPOSURE',
        responses: [failed('/health', 'CONNECTION_REFUSED', 'http://operator.example:9100'), failed('/api/meta', 'CONNECT_TIMEOUT', 'http://operator.example:9200')],
        outcome: 'PASS',
        reason: 'PORTS_CLOSED',
    },
    {
        name: 'private port exposed',
        kind: 'PRIVATE_PORT_EXPOSURE',
        responses: [failed('/health', 'CONNECTION_REFUSED', 'http://operator.example:9100'), reply('/api/meta', 200, {api_version: '1'}, {base: 'http://operator.example:9200'})],
        outcome: 'FAIL',
        reason: 'PORT_EXPOSED',
        observedContains: 'http://operator.example:9200/api/meta status=200',
    },
    {name: 'sidecar exposed with 401', kind: 'PRIVATE_PORT_EXPOSURE', responses: [reply('/exec', 401, '', {base: 'http://sidecar.example:8080'})], outcome: 'FAIL', reason: 'PORT_EXPOSED'},
    {name: 'port check address refused', kind: 'PRIVATE_PORT_EXPOSURE', responses: [failed('/health', 'ADDRESS_REFUSED', 'http://10.0.0.1:9100')], outcome: 'INCONCLUSIVE', reason: 'PORT_CHECK_INCONCLUSIVE'},
    {name: 'port exposure credentials redacted', kind: 'PRIVATE_PORT_EXPOSURE', responses: [reply('/health', 200, {}, {base: 'http://user:secret@operator.example:9100'})], outcome: 'FAIL', reason: 'PORT_EXPOSED'},
]

describe('evaluate', () => {
    it.each(CASES)('$kind $name', (testCase) => {
        const verdict = evaluate(testCase.kind, testCase.responses, testCase.facts ?? facts())
        expect(verdict.reason).toBe(testCase.reason)
        expect(verdict.outcome).toBe(testCase.outcome)
        if (testCase.observedContains !== undefined) expect(verdict.observed).toContain(testCase.observedContains)
        expect(verdict.observed.length).toBeGreaterThan(0)
    })

    it('covers every kind with pass and non-pass', () => {
        for (const kind of PROOF_KINDS) {
            const outcomes = CASES.filter((testCase) => testCase.kind === kind).map((testCase) => testCase.outcome)
            expect(outcomes, kind).toContain('PASS')
            expect(outcomes.some((outcome) => outcome !== 'PASS'), kind).toBe(true)
        }
    })

    it('never returns a leaked token', () => {
        const token = 'sk-live-0123456789abcdef'
        const verdict = evaluate('SANDBOX_SECRET_HANDLING', [reply('/api/sandboxes', 401, {token})], facts({leakedSecrets: [{serviceId: '4', callId: '12', txHash: TX_A, field: 'token'}]}))
        expect(verdict.observed).not.toContain(token)
    })

    it('redacts URL credentials in observed', () => {
        const verdict = evaluate('PRIVATE_PORT_EXPOSURE', [reply('/health', 200, {}, {base: 'http://user:secret@operator.example:9100'})], facts())
        expect(verdict.observed).not.toContain('secret')
    })

    it('clips hostile observed text', () => {
        const longError = 'x'.repeat(10_000) + '\u0000\n'
        const verdict = evaluate('SANDBOX_READINESS', [reply('/readyz', 503, {status: 'not_ready', runtime_backend: 'firecracker', runtime_error: longError})], facts())
        expect(verdict.reason).toBe('NOT_READY')
        expect(verdict.observed.length).toBeLessThanOrEqual(200)
        expect(verdict.observed).not.toMatch(/[\u0000-\u001f]/)
    })

    it('answer over a limit fails', () => {
        const huge: ProbeResponse = {...reply('/health', 200, ''), truncated: true, error: 'BODY_TOO_LARGE', errorDetail: 'body exceeds 1048576 bytes'}
        const health = evaluate('SANDBOX_ENDPOINT_HEALTH', [huge], facts())
        expect(health.outcome).toBe('FAIL')
        expect(health.reason).toBe('BODY_TOO_LARGE')
        expect(health.observed).toBe('GET https://operator.example/health: status=200 BODY_TOO_LARGE: body exceeds 1048576 bytes')
        const reachability = evaluate('ENDPOINT_REACHABILITY', [huge], facts())
        expect(reachability.outcome).toBe('PASS')
        expect(reachability.reason).toBe('ENDPOINT_ANSWERED')
    })

    it('reachability names the redirect target', () => {
        const moved = reply('/health', 301, '', {headers: {location: '//other.example/health?token=REDACTED'}})
        const verdict = evaluate('ENDPOINT_REACHABILITY', [moved], facts())
        expect(verdict.outcome).toBe('PASS')
        expect(verdict.reason).toBe('ENDPOINT_ANSWERED')
        expect(verdict.observed).toBe('status=301 to https://other.example/health')
    })

    it.each([300, 304])('status %i with a Location is no off-host redirect', (status) => {
        const verdict = evaluate('SANDBOX_ENDPOINT_HEALTH', [reply('/health', status, '', {headers: {location: 'https://other.example/x'}})], facts())
        expect(verdict.reason).not.toBe('REDIRECTED_OFF_HOST')
    })

    it('non-http Location is no off-host redirect', () => {
        const redirect: ProbeResponse = {...reply('/health', 302, '', {headers: {location: 'javascript:alert(1)'}}), error: 'SCHEME_REFUSED'}
        expect(evaluate('ENDPOINT_REACHABILITY', [redirect], facts()).observed).toBe('status=302')
    })

    it('same-host Location is no off-host redirect', () => {
        const verdict = evaluate('SANDBOX_ENDPOINT_HEALTH', [reply('/health', 302, '', {headers: {location: '/health-same'}})], facts())
        expect(verdict.reason).not.toBe('REDIRECTED_OFF_HOST')
    })

    it('unfollowable redirect fails, reachability passes', () => {
        const invalid: ProbeResponse = {...reply('/health', 302, '', {headers: {location: 'http://[::1'}}), error: 'INVALID_URL', errorDetail: 'redirect location is not a valid URL'}
        const health = evaluate('SANDBOX_ENDPOINT_HEALTH', [invalid], facts())
        expect(health.outcome).toBe('FAIL')
        expect(health.reason).toBe('INVALID_URL')
        const reachability = evaluate('ENDPOINT_REACHABILITY', [invalid], facts())
        expect(reachability.outcome).toBe('PASS')
        expect(reachability.observed).toBe('status=302')
    })

    it('no status line is unreachable', () => {
        const verdict = evaluate('SANDBOX_ENDPOINT_HEALTH', [failed('/health', 'CONNECTION_REFUSED')], facts())
        expect(verdict.outcome).toBe('UNREACHABLE')
        expect(verdict.reason).toBe('CONNECTION_REFUSED')
        expect(verdict.observed).toBe('GET https://operator.example/health: CONNECTION_REFUSED')
    })

    it.each(['SANDBOX_ENDPOINT_HEALTH', 'TRADING_BOT_HEALTH', 'MARKET_ORDER_BOOK'] as const)('%s redirect off host inconclusive', (kind) => {
        const paths = ['/health', '/api/meta', '/api/bots/b', '/instruments']
        const responses = paths.map((path) => reply(path, 302, '', {headers: {location: 'https://other.example/elsewhere?token=REDACTED'}}))
        const verdict = evaluate(kind, responses, facts())
        expect(verdict.outcome).toBe('INCONCLUSIVE')
        expect(verdict.reason).toBe('REDIRECTED_OFF_HOST')
        expect(verdict.observed).toMatch(/^status=302 on \/[a-z/]+ to https:\/\/other\.example\/elsewhere$/)
    })

    it('survives random bodies for every kind', () => {
        const bodies = ['', 'null', '[]', '{}', '"text"', '{"status":{}}', '{"book":[]}', '[{"id":1}]', '\u0000']
        for (const kind of PROOF_KINDS) {
            for (const body of bodies) {
                const paths = ['/health', '/readyz', '/api/meta', '/api/bots/b', '/api/bots/b/trades', '/instruments', '/clob/status', '/redeem']
                const verdict = evaluate(kind, paths.map((path) => reply(path, 200, body)), facts({vaultAddress: VAULT, signerCount: 3}))
                expect(PROOF_KIND_INFO[kind]).toBeDefined()
                expect(['PASS', 'FAIL', 'UNREACHABLE', 'INCONCLUSIVE', 'NOT_APPLICABLE']).toContain(verdict.outcome)
                expect(verdict.reason).toMatch(/^[A-Z0-9_]+$/)
            }
        }
    })
})

describe('requestsFor', () => {
    it('keeps base path prefix', () => {
        const [health] = requestsFor('SANDBOX_ENDPOINT_HEALTH', {baseUrl: 'https://host.example/op/?x=1'})
        expect(health.url).toBe('https://host.example/op/health')
    })

    it('plans provision with call id', () => {
        const urls = requestsFor('SANDBOX_READINESS', {baseUrl: BASE, callId: '7'}).map((r) => r.url)
        expect(urls).toEqual([`${BASE}/readyz`, `${BASE}/api/provisions/7`])
    })

    it('plans no bot routes without id', () => {
        expect(requestsFor('TRADING_MODE', {baseUrl: BASE})).toEqual([])
    })

    it('plans trading health and meta', () => {
        const urls = requestsFor('TRADING_BOT_HEALTH', {baseUrl: BASE, botId: 'bot 1'}).map((r) => r.url)
        expect(urls).toEqual([`${BASE}/health`, `${BASE}/api/meta`, `${BASE}/api/bots/bot%201`])
    })

    it('plans default private ports', () => {
        const urls = requestsFor('PRIVATE_PORT_EXPOSURE', {baseUrl: 'https://operator.example:443', sidecarUrl: 'http://operator.example:8080'}).map((r) => r.url)
        expect(urls).toEqual(['http://operator.example:9100/health', 'http://operator.example:9200/api/meta', 'http://operator.example:8080/health'])
    })

    it('does not mutate target port list', () => {
        const target = {baseUrl: BASE, privatePortUrls: ['http://a.example:1/'], sidecarUrl: 'http://b.example:2'}
        requestsFor('PRIVATE_PORT_EXPOSURE', target)
        expect(target.privatePortUrls).toEqual(['http://a.example:1/'])
    })

    it('plans chain-only kinds without requests', () => {
        expect(requestsFor('MARKET_SP1_PROOF_PATH', {baseUrl: BASE})).toEqual([])
        expect(requestsFor('MARKET_CREDIT_REDEMPTION', {baseUrl: BASE})).toEqual([])
    })

    it('plans redeem only with request body', () => {
        expect(requestsFor('MARKET_INFERENCE_DELIVERY', {baseUrl: BASE})).toEqual([])
        const [redeem] = requestsFor('MARKET_INFERENCE_DELIVERY', {baseUrl: BASE, redeemRequestBody: '{"a":1}'})
        expect(redeem.method).toBe('POST')
        expect(redeem.body).toBe('{"a":1}')
    })

    it('rejects lone surrogate ids quietly', () => {
        expect(requestsFor('TRADING_MODE', {baseUrl: BASE, botId: '\ud800'})).toEqual([])
    })

    it('describes every kind', () => {
        for (const kind of PROOF_KINDS) expect(PROOF_KIND_INFO[kind].description.length).toBeGreaterThan(10)
    })
})

describe('followUpRequestsFor', () => {
    it('asks listed clob peers except self', () => {
        const first = [reply('/clob/status', 200, clobStatus(PEERS[0].address, 1, 2, PEERS))]
        const urls = followUpRequestsFor('MARKET_ATTESTER_QUORUM', {baseUrl: BASE}, first).map((r) => r.url)
        expect(urls).toEqual(['https://peer-two.example/clob/status', 'https://peer-three.example/clob/status'])
    })

    it('caps peer fan-out', () => {
        const many = Array.from({length: 100}, (_, i) => ({address: `0x${i.toString(16).padStart(40, '0')}`, url: `https://p${i}.example`}))
        const first = [reply('/clob/status', 200, clobStatus('0xself', 1, 2, many))]
        expect(followUpRequestsFor('MARKET_ATTESTER_QUORUM', {baseUrl: BASE}, first)).toHaveLength(16)
    })

    it('reads books of listed instruments', () => {
        const first = [reply('/instruments', 200, instruments)]
        const [book] = followUpRequestsFor('MARKET_ORDER_BOOK', {baseUrl: BASE}, first)
        expect(book.method).toBe('POST')
        expect(book.url).toBe(`${BASE}/book`)
        expect(JSON.parse(book.body ?? '')).toEqual({instrumentId: 'm:input'})
    })

    it('asks validator health endpoints', () => {
        const first = [reply('/api/bots/bot-1', 200, bot({validator_endpoints: ['https://v1.example/']}))]
        expect(followUpRequestsFor('TRADING_VALIDATOR_STATUS', {baseUrl: BASE, botId: 'bot-1'}, first).map((r) => r.url)).toEqual(['https://v1.example/health'])
    })

    it('returns none on invalid first body', () => {
        expect(followUpRequestsFor('MARKET_ATTESTER_QUORUM', {baseUrl: BASE}, [reply('/clob/status', 200, 'nope')])).toEqual([])
    })
})
