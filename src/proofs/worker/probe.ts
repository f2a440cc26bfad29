import {performance} from 'node:perf_hooks'
import type {LocalAccount} from 'viem'
import type {ProofKind} from '../kinds'
import {evaluate, followUpRequestsFor, requestsFor, MAX_FOLLOW_UP_REQUESTS, type ChainFacts, type ProbeTarget} from '../plans'
import {getRequest, joinUrl} from '../plans/target'
import {unreachable} from '../plans/verdicts'
import {redactUrlsInText} from '../http/redact-url'
import {describeInvalidUrl} from '../http/invalid-url'
import {buildProofRecordFields, signRecord, type SignedProofRecord} from '../record'
import type {DerivedTarget} from '../targets'
import type {ProbeRequest, ProbeResponse, ProofVerdict} from '../types'

export type Fetcher = (request: ProbeRequest) => Promise<ProbeResponse>

/** Most bots listed per discovery request; the operator API caps a page at 200. */
const BOT_DISCOVERY_LIMIT = 50

/**
 * Finds the bot id of a trading operator: the chain does not name bots, so the operator's own `/api/bots` listing
 * (filtered by operator, and by service when known) is read. Returns undefined when nothing usable comes back; the
 * per-bot kinds then record BOT_NOT_LISTED unless the chain facts decide them first (no vault).
 * NOTE: only the first listed bot is probed; an operator running several bots gets proofs for one of them.
 */
export async function discoverBotId(fetcher: Fetcher, target: DerivedTarget): Promise<string | undefined> {
    const query = new URLSearchParams({operator: target.operator, limit: String(BOT_DISCOVERY_LIMIT)})
    const response = await fetcher(getRequest(joinUrl(target.url, `/api/bots?${query.toString()}`)))
    if (response.status !== 200 || response.truncated) return undefined
    try {
        const body = JSON.parse(new TextDecoder().decode(response.body)) as {bots?: unknown}
        if (!Array.isArray(body.bots)) return undefined
        const ids = body.bots
            .filter((bot): bot is {id: unknown; service_id?: unknown} => typeof bot === 'object' && bot !== null)
            .filter((bot) => target.serviceId === null || bot.service_id === undefined || String(bot.service_id) === target.serviceId)
            .map((bot) => bot.id)
            .filter((id): id is string | number => typeof id === 'string' || typeof id === 'number')
        return ids.length === 0 ? undefined : String(ids[0])
    } catch {
        return undefined
    }
}

/**
 * Builds the request plan's view of a derived target. `redeemRequestBody` is the configured signed redeem request,
 * or null when none is configured.
 */
export function planTarget(target: DerivedTarget, botId: string | undefined, redeemRequestBody: string | null = null): ProbeTarget {
    if (target.source === 'SIDECAR') {
        // A sidecar target is the sidecar itself: the exposure check tries only it, not the trading ports.
        return {baseUrl: target.url, sidecarUrl: target.url, privatePortUrls: []}
    }
    return {
        baseUrl: target.url,
        ...(botId === undefined ? {} : {botId}),
        ...(target.callId === null ? {} : {callId: target.callId}),
        ...(redeemRequestBody === null || target.source !== 'VENUE' ? {} : {redeemRequestBody}),
    }
}

/** Outcome of one kind on one target, before signing. */
export interface KindProbeResult {
    kind: ProofKind
    verdict: ProofVerdict
    /** The exchange the record's evidence digest covers. */
    evidence: ProbeResponse
    durationMs: number
}

/**
 * Evidence of a kind that sent no request (chain-only kinds, or a per-bot kind without a bot): an exchange with no
 * response at the target URL, so the record's evidence digest still has a defined input.
 */
function noExchange(url: string): ProbeResponse {
    return {
        request: {method: 'GET', url},
        finalUrl: url,
        headers: {},
        body: new Uint8Array(0),
        truncated: false,
        latencyMs: 0,
    }
}

/**
 * Returns why an advertised endpoint cannot be probed at all, or null when it is an http or https URL. `localhost:8080`
 * parses with the scheme `localhost:`, and a route appended to it would read as another URL.
 */
function unusableEndpoint(text: string): ProofVerdict | null {
    const advertised = redactUrlsInText(text)
    let parsed: URL
    try {
        parsed = new URL(text)
    } catch {
        return unreachable('INVALID_URL', `the advertised endpoint is ${describeInvalidUrl(text)}: ${advertised}`)
    }
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return null
    return unreachable('SCHEME_REFUSED', `the advertised endpoint is not an http or https URL: ${advertised}`)
}

/** Returns whether two URLs have the same scheme, host and port; false when either does not parse. */
function sameOrigin(a: string, b: string): boolean {
    try {
        return new URL(a).origin === new URL(b).origin
    } catch {
        return false
    }
}

/** Kinds that read only per-bot routes, so they send no request when the operator lists no bot. */
const PER_BOT_KINDS: ReadonlySet<ProofKind> = new Set([
    'TRADING_MODE',
    'TRADING_MODEL_SPEND',
    'TRADING_VAULT_POLICY',
    'TRADING_TRADE_EXECUTION',
    'TRADING_VALIDATOR_STATUS',
])

/**
 * Names the cause when a per-bot kind had no bot to ask about: `/api/bots` listed none for the operator and
 * service, so "no response for the route" would hide that the route was never requested.
 */
function explainMissingBot(kind: ProofKind, target: ProbeTarget, verdict: ProofVerdict): ProofVerdict {
    if (!PER_BOT_KINDS.has(kind) || target.botId !== undefined || verdict.reason !== 'NO_RESPONSE_FOR_ROUTE') return verdict
    return {outcome: 'INCONCLUSIVE', reason: 'BOT_NOT_LISTED', observed: 'GET /api/bots listed no bot of this operator and service'}
}

/**
 * Runs one kind: the plan's requests, its follow-ups (capped), then the pure evaluator. Never throws for network
 * problems, because the fetcher returns them as data.
 * NOTE: the record covers one exchange, the first request's; the follow-ups and further requests of multi-request
 * kinds feed the verdict but not the evidence digest.
 */
export async function probeKind(fetcher: Fetcher, kind: ProofKind, target: ProbeTarget, facts: ChainFacts): Promise<KindProbeResult> {
    const requests = requestsFor(kind, target)
    const unusable = requests.length > 0 ? unusableEndpoint(target.baseUrl) : null
    if (unusable !== null) {
        // No route can be appended to such text, and "no response for the route" would hide the cause.
        return {kind, verdict: unusable, evidence: noExchange(redactUrlsInText(target.baseUrl)), durationMs: 0}
    }
    const first = await Promise.all(requests.map((request) => fetcher(request)))
    const followUps = followUpRequestsFor(kind, target, first).slice(0, MAX_FOLLOW_UP_REQUESTS)
    const later = await Promise.all(followUps.map((request) => fetcher(request)))
    const responses = [...first, ...later]
    const verdict = explainMissingBot(kind, target, evaluate(kind, responses, facts))
    // The probe's time: the slowest first request, then the slowest follow-up, each as the fetcher measured it, so
    // without the time a request waited for a per-host slot in the prober's own queue. The record's latency counts
    // only follow-ups to the target's own origin: a quorum check also requests other operators' venues, and a slow
    // peer must not make this operator look slow.
    const slowest = (batch: ProbeResponse[]): number => batch.reduce((most, response) => Math.max(most, response.latencyMs), 0)
    const durationMs = Math.round(slowest(first) + slowest(later))
    const ownLater = later.filter((response) => sameOrigin(response.request.url, target.baseUrl))
    const latencyMs = Math.round(slowest(first) + slowest(ownLater))
    const evidence = responses[0] ?? noExchange(target.baseUrl)
    return {kind, verdict, evidence: {...evidence, latencyMs}, durationMs}
}

/** Builds and signs the record of one kind's result. */
export async function signKindResult(
    result: KindProbeResult,
    target: DerivedTarget,
    observedAt: Date,
    chainHead: bigint,
    account: LocalAccount,
): Promise<SignedProofRecord> {
    const fields = buildProofRecordFields({
        response: result.evidence,
        verdict: result.verdict,
        operator: target.operator,
        blueprintId: target.blueprintId,
        serviceId: target.serviceId,
        kind: result.kind,
        observedAt,
        chainHead,
    })
    return signRecord(fields, account)
}
