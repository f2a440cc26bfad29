import type {ProbeRequest, ProbeResponse, ProofVerdict} from '../types'
import type {ChainFacts} from './facts'
import {MAX_FOLLOW_UP_REQUESTS, type KindPlan} from './plan-types'
import {
    asArray,
    asRecord,
    parseJsonBody,
    readArray,
    readBoolean,
    readInteger,
    readNullableString,
    readNumeric,
    readString,
    type JsonRecord,
} from './read-json'
import {getRequest, joinUrl, type ProbeTarget} from './target'
import {
    authProxyVerdict,
    fail,
    findByPathPattern,
    findByPathSuffix,
    inconclusive,
    missingResponse,
    notApplicable,
    pass,
    redactUrl,
    transportVerdict,
} from './verdicts'

/** Vaults are deployed only for services with at least this many signers. */
export const MIN_SIGNERS_FOR_VAULT = 3

const BOT_DETAIL_PATH = /\/api\/bots\/[^/]+$/
const REAL_TX_HASH = /^0x[0-9a-fA-F]{64}$/

/**
 * Values of `evidence.source` that mark the local fallback list the operator returns when its backend fails.
 * NOTE: the evidence fields are not documented; `fallback: true` is accepted as well.
 */
const FALLBACK_EVIDENCE_SOURCES = ['local', 'local_fallback', 'fallback', 'cache']

function botRoute(target: ProbeTarget, suffix = ''): string | null {
    if (target.botId === undefined) return null
    return joinUrl(target.baseUrl, `/api/bots/${encodeURIComponent(target.botId)}${suffix}`)
}

function botRequests(target: ProbeTarget, suffixes: string[]): ProbeRequest[] {
    return suffixes.flatMap((suffix) => {
        const url = botRoute(target, suffix)
        return url === null ? [] : [getRequest(url)]
    })
}

/** NOT_APPLICABLE for a service without a vault (fewer than three signers), INCONCLUSIVE when the vault is late. */
function vaultGate(facts: ChainFacts): ProofVerdict | null {
    if (facts.vaultAddress !== null) return null
    const signers = facts.signerCount ?? 'unknown'
    if (facts.signerCount !== null && facts.signerCount >= MIN_SIGNERS_FOR_VAULT) {
        return inconclusive('VAULT_NOT_DEPLOYED', `signers=${signers} no BotVaultDeployed yet`)
    }
    return notApplicable('NO_VAULT_SINGLE_OPERATOR', `signers=${signers} no vault, bots trade off chain only`)
}

/** Reads the bot object from `/api/bots/{id}`, or returns the verdict that stops the evaluation. */
function readBot(responses: ProbeResponse[]): {bot: JsonRecord} | {verdict: ProofVerdict} {
    const response = findByPathPattern(responses, BOT_DETAIL_PATH)
    if (response === undefined) return {verdict: missingResponse('/api/bots/{id}')}
    const early = transportVerdict(response) ?? authProxyVerdict(response)
    if (early !== null) return {verdict: early}
    if (response.status === 404) return {verdict: fail('BOT_NOT_FOUND', 'status=404 on /api/bots/{id}')}
    if (response.status !== 200) return {verdict: fail('UNEXPECTED_STATUS', `status=${response.status} on /api/bots/{id}`)}
    return {bot: asRecord(parseJsonBody(response), 'bot')}
}

function isPaperTxHash(txHash: string): boolean {
    return txHash.startsWith('0xpaper_') || txHash.startsWith('paper-clob:') || txHash.startsWith('paper')
}

interface ListedTrade {
    txHash: string | null
    paperTrade: boolean
    executionStatus: string | null
}

function readTrades(json: unknown): {trades: ListedTrade[]; fromFallback: boolean} {
    const body = asRecord(json, 'trades')
    const trades = readArray(body, 'trades', 'trades').map((entry, index) => {
        const path = `trades.trades[${index}]`
        const trade = asRecord(entry, path)
        return {
            txHash: readNullableString(trade, 'tx_hash', path),
            paperTrade: readBoolean(trade, 'paper_trade', path),
            executionStatus: readNullableString(trade, 'execution_status', path),
        }
    })
    const evidence = body.evidence
    let fromFallback = false
    if (typeof evidence === 'object' && evidence !== null && !Array.isArray(evidence)) {
        const record = evidence as JsonRecord
        fromFallback = record.fallback === true || (typeof record.source === 'string' && FALLBACK_EVIDENCE_SOURCES.includes(record.source))
    }
    return {trades, fromFallback}
}

function evaluateBotHealth(responses: ProbeResponse[]): ProofVerdict {
    const health = findByPathSuffix(responses, '/health')
    const meta = findByPathSuffix(responses, '/api/meta')
    if (health === undefined && meta === undefined) return missingResponse('/health and /api/meta')

    let operatorUp: ProofVerdict | null = null
    if (health !== undefined && health.status === 200 && !health.truncated) {
        const body = asRecord(parseJsonBody(health), 'health')
        const status = readString(body, 'status', 'health')
        if (status !== 'ok') return fail('HEALTH_DEGRADED', `status=200 health=${status}`)
        operatorUp = pass('HEALTH_OK', 'status=200 health=ok')
    } else if (meta !== undefined) {
        // The current operator API has no /health route although docs and installers poll it: /api/meta decides.
        const early = transportVerdict(meta) ?? authProxyVerdict(meta)
        if (early !== null) return early
        if (meta.status !== 200) return fail('UNEXPECTED_STATUS', `status=${meta.status} on /api/meta, health=${health?.status ?? health?.error ?? 'none'}`)
        const body = asRecord(parseJsonBody(meta), 'meta')
        const apiVersion = readString(body, 'api_version', 'meta')
        const healthSeen = health?.status ?? health?.error ?? 'not requested'
        operatorUp = pass('TRADING_META_OK_NO_HEALTH_ROUTE', `health=${healthSeen} meta=200 api_version=${apiVersion}`)
    } else if (health !== undefined) {
        const early = transportVerdict(health) ?? authProxyVerdict(health)
        if (early !== null) return early
        return fail('UNEXPECTED_STATUS', `status=${health.status} on /health`)
    }
    if (operatorUp === null) return missingResponse('/api/meta')

    if (findByPathPattern(responses, BOT_DETAIL_PATH) === undefined) return operatorUp
    const read = readBot(responses)
    if ('verdict' in read) return read.verdict
    const lifecycle = readString(read.bot, 'lifecycle_status', 'bot')
    const tradingActive = readBoolean(read.bot, 'trading_active', 'bot')
    const observed = `${operatorUp.observed} lifecycle_status=${lifecycle} trading_active=${tradingActive}`
    return lifecycle === 'active' && tradingActive ? pass('BOT_ACTIVE', observed) : fail('BOT_NOT_ACTIVE', observed)
}

function evaluateTradingMode(responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    const gate = vaultGate(facts)
    if (gate !== null) return gate
    const read = readBot(responses)
    if ('verdict' in read) return read.verdict

    const paperTrade = readBoolean(read.bot, 'paper_trade', 'bot')
    const onChainTrades = facts.onChainTradeTxHashes.length
    const observed = `paper_trade=${paperTrade} onchain_trades=${onChainTrades}`
    if (paperTrade) {
        return onChainTrades > 0 ? fail('PAPER_WITH_ONCHAIN_TRADES', observed) : pass('MODE_PAPER_CONSISTENT', observed)
    }
    return onChainTrades > 0 ? pass('MODE_LIVE_PROVEN', observed) : fail('LIVE_WITHOUT_ONCHAIN_TRADE', observed)
}

function evaluateTradeExecution(responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    const gate = vaultGate(facts)
    if (gate !== null) return gate
    const response = findByPathSuffix(responses, '/trades')
    if (response === undefined) return missingResponse('/api/bots/{id}/trades')
    const early = transportVerdict(response) ?? authProxyVerdict(response)
    if (early !== null) return early
    if (response.status === 404) return fail('BOT_NOT_FOUND', 'status=404 on /api/bots/{id}/trades')
    if (response.status !== 200) return fail('UNEXPECTED_STATUS', `status=${response.status} on /api/bots/{id}/trades`)

    const {trades, fromFallback} = readTrades(parseJsonBody(response))
    const onChain = new Set(facts.onChainTradeTxHashes.map((hash) => hash.toLowerCase()))
    if (fromFallback) {
        // The fallback list is what the operator has locally when its backend failed; it proves nothing.
        return inconclusive('TRADES_LOCAL_FALLBACK', `listed=${trades.length} onchain_trades=${onChain.size}`)
    }

    const liveTrades = trades.filter((trade) => !trade.paperTrade)
    const paperHashMarkedLive = liveTrades.find((trade) => trade.txHash !== null && isPaperTxHash(trade.txHash))
    if (paperHashMarkedLive !== undefined) {
        return fail('PAPER_HASH_MARKED_LIVE', `tx_hash=${paperHashMarkedLive.txHash} paper_trade=false`)
    }
    const claimedHashes = liveTrades.flatMap((trade) => (trade.txHash !== null && REAL_TX_HASH.test(trade.txHash) ? [trade.txHash.toLowerCase()] : []))
    const missing = claimedHashes.filter((hash) => !onChain.has(hash))
    const observed = `listed_live=${claimedHashes.length} matched=${claimedHashes.length - missing.length} onchain_trades=${onChain.size}`
    if (missing.length > 0) return fail('LIVE_TRADE_NOT_ON_CHAIN', `${observed} first_missing=${missing[0]}`)
    if (claimedHashes.length === 0) return inconclusive('NO_LIVE_TRADES_LISTED', observed)
    return pass('TRADES_MATCH_ONCHAIN', observed)
}

function evaluateModelSpend(responses: ProbeResponse[]): ProofVerdict {
    const response = findByPathSuffix(responses, '/runs')
    if (response === undefined) return missingResponse('/api/bots/{id}/runs')
    const early = transportVerdict(response) ?? authProxyVerdict(response)
    if (early !== null) return early
    if (response.status === 404) return fail('BOT_NOT_FOUND', 'status=404 on /api/bots/{id}/runs')
    if (response.status !== 200) return fail('UNEXPECTED_STATUS', `status=${response.status} on /api/bots/{id}/runs`)

    const json = parseJsonBody(response)
    const runs = Array.isArray(json) ? json : readArray(asRecord(json, 'runs'), 'runs', 'runs')
    let inputTokens = 0n
    let outputTokens = 0n
    let costUsd = 0
    const models = new Set<string>()
    let negative = false
    runs.forEach((entry, index) => {
        const path = `runs[${index}]`
        const run = asRecord(entry, path)
        const input = readInteger(run, 'input_tokens', path)
        const output = readInteger(run, 'output_tokens', path)
        const cost = readNumeric(run, 'cost_usd', path)
        models.add(`${readString(run, 'provider', path)}/${readString(run, 'model', path)}`)
        if (input < 0n || output < 0n || cost < 0) negative = true
        inputTokens += input
        outputTokens += output
        costUsd += cost
    })

    // cost_usd is the operator's own estimate; it is summed as a float for display only.
    const observed = `runs=${runs.length} input_tokens=${inputTokens} output_tokens=${outputTokens} cost_usd_estimate=${costUsd.toFixed(4)} models=${[...models].join(',')}`
    if (negative) return fail('SPEND_NEGATIVE', observed)
    if (runs.length === 0) return inconclusive('NO_MODEL_RUNS', observed)
    return pass('MODEL_SPEND_REPORTED', observed)
}

/** True when a risk value (a JSON number, possibly fractional) is at most an integer cap, compared exactly. */
function withinCap(value: number, cap: bigint): boolean {
    // For an integer cap, value <= cap exactly when ceil(value) <= cap.
    return BigInt(Math.ceil(value)) <= cap
}

/**
 * Risk parameter names compared with the vault policy.
 * NOTE: the field names inside `risk_params` are assumed, because only the object itself is documented.
 */
const RISK_PARAM_LIMITS = [
    {names: ['max_leverage', 'leverage'], policyField: 'leverageCap'},
    {names: ['max_trades_per_hour'], policyField: 'maxTradesPerHour'},
    {names: ['max_slippage_bps', 'slippage_bps'], policyField: 'maxSlippageBps'},
] as const

function evaluateVaultPolicy(responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    const gate = vaultGate(facts)
    if (gate !== null) return gate
    const read = readBot(responses)
    if ('verdict' in read) return read.verdict

    const botVault = readNullableString(read.bot, 'vault_address', 'bot')
    const chainVault = (facts.vaultAddress as string).toLowerCase()
    if (botVault === null || botVault.toLowerCase() !== chainVault) {
        return fail('VAULT_ADDRESS_MISMATCH', `bot vault_address=${botVault ?? 'null'} onchain=${chainVault}`)
    }
    if (facts.vaultPolicy === null) return inconclusive('VAULT_POLICY_UNKNOWN', `vault=${chainVault} policy not indexed`)

    const riskParams = asRecord(read.bot.risk_params, 'bot.risk_params')
    const compared: string[] = []
    for (const limit of RISK_PARAM_LIMITS) {
        const name = limit.names.find((candidate) => riskParams[candidate] !== undefined && riskParams[candidate] !== null)
        if (name === undefined) continue
        const value = readNumeric(riskParams, name, 'bot.risk_params')
        const cap = facts.vaultPolicy[limit.policyField]
        if (!withinCap(value, cap)) return fail('RISK_PARAMS_EXCEED_POLICY', `${name}=${value} > ${limit.policyField}=${cap}`)
        compared.push(`${name}=${value}<=${cap}`)
    }
    if (compared.length === 0) return inconclusive('RISK_PARAMS_NOT_COMPARABLE', `vault=${chainVault} no known risk_params field`)
    return pass('VAULT_POLICY_CONSISTENT', `vault=${chainVault} ${compared.join(' ')}`)
}

/** Validator endpoints from the bot object: strings or objects with a `url`. */
function readValidatorEndpoints(bot: JsonRecord): string[] {
    const entries = bot.validator_endpoints === undefined || bot.validator_endpoints === null ? [] : asArray(bot.validator_endpoints, 'bot.validator_endpoints')
    return entries.map((entry, index) => {
        if (typeof entry === 'string') return entry
        return readString(asRecord(entry, `bot.validator_endpoints[${index}]`), 'url', `bot.validator_endpoints[${index}]`)
    })
}

function validatorHealthUrl(endpoint: string): string {
    return joinUrl(endpoint, '/health')
}

function followUpValidators(_target: ProbeTarget, firstResponses: ProbeResponse[]): ProbeRequest[] {
    try {
        const read = readBot(firstResponses)
        if ('verdict' in read) return []
        return readValidatorEndpoints(read.bot).slice(0, MAX_FOLLOW_UP_REQUESTS).map((endpoint) => getRequest(validatorHealthUrl(endpoint)))
    } catch {
        return []
    }
}

function validatorAnswer(response: ProbeResponse | undefined): string {
    if (response === undefined) return 'not probed'
    const early = transportVerdict(response)
    if (early !== null) return early.reason
    if (response.status !== 200) return `status=${response.status}`
    try {
        const status = asRecord(parseJsonBody(response), 'health').status
        return status === 'ok' ? 'ok' : `health=${String(status)}`
    } catch {
        return 'invalid health body'
    }
}

function evaluateValidatorStatus(responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    const gate = vaultGate(facts)
    if (gate !== null) return gate
    const read = readBot(responses)
    if ('verdict' in read) return read.verdict

    const endpoints = readValidatorEndpoints(read.bot).slice(0, MAX_FOLLOW_UP_REQUESTS)
    if (endpoints.length === 0) return fail('NO_VALIDATOR_ENDPOINTS', `signers=${facts.signerCount ?? 'unknown'} validator_endpoints=[]`)

    const answers = endpoints.map((endpoint) => {
        const url = validatorHealthUrl(endpoint)
        return {endpoint, answer: validatorAnswer(responses.find((response) => response.request.url === url))}
    })
    const healthy = answers.filter((entry) => entry.answer === 'ok').length
    const observed = `ok=${healthy}/${endpoints.length} signers=${facts.signerCount ?? 'unknown'}`
    if (answers.every((entry) => entry.answer === 'not probed')) return inconclusive('VALIDATORS_NOT_PROBED', observed)
    const firstBad = answers.find((entry) => entry.answer !== 'ok')
    if (firstBad !== undefined) return fail('VALIDATOR_UNHEALTHY', `${observed} ${redactUrl(firstBad.endpoint)}: ${firstBad.answer}`)
    return pass('VALIDATORS_HEALTHY', observed)
}

export const TRADING_PLANS = {
    TRADING_BOT_HEALTH: {
        requests: (target) => [
            getRequest(joinUrl(target.baseUrl, '/health')),
            getRequest(joinUrl(target.baseUrl, '/api/meta')),
            ...botRequests(target, ['']),
        ],
        evaluate: evaluateBotHealth,
    },
    TRADING_MODE: {
        requests: (target) => botRequests(target, ['']),
        evaluate: evaluateTradingMode,
    },
    TRADING_MODEL_SPEND: {
        requests: (target) => botRequests(target, ['/runs']),
        evaluate: evaluateModelSpend,
    },
    TRADING_VAULT_POLICY: {
        requests: (target) => botRequests(target, ['']),
        evaluate: evaluateVaultPolicy,
    },
    TRADING_TRADE_EXECUTION: {
        requests: (target) => botRequests(target, ['/trades']),
        evaluate: evaluateTradeExecution,
    },
    TRADING_VALIDATOR_STATUS: {
        requests: (target) => botRequests(target, ['']),
        followUps: followUpValidators,
        evaluate: evaluateValidatorStatus,
    },
} satisfies Record<string, KindPlan>
