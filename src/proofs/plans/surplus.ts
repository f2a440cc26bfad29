import {concat, keccak256, stringToBytes} from 'viem'
import type {ProbeRequest, ProbeResponse, ProofVerdict} from '../types'
import {compareDecimals, formatDecimal, isMultipleOf, readExactDecimal, type ExactDecimal} from './decimal'
import type {ChainFacts} from './facts'
import {MAX_FOLLOW_UP_REQUESTS, type KindPlan} from './plan-types'
import {
    asArray,
    asRecord,
    parseJsonBody,
    readArray,
    readBytes32,
    readInteger,
    readRecord,
    readString,
    type JsonRecord,
} from './read-json'
import {getRequest, joinUrl, postJsonRequest, type ProbeTarget} from './target'
import {
    authProxyVerdict,
    fail,
    findByPathSuffix,
    inconclusive,
    missingResponse,
    notApplicable,
    pass,
    pathOf,
    redactUrl,
    transportVerdict,
} from './verdicts'

/** Books read per probe when the target names no instruments. */
export const MAX_BOOKS_PER_PROBE = 4

interface Instrument {
    id: string
    tickSize: ExactDecimal
    minQty: ExactDecimal
}

interface BookLevel {
    price: ExactDecimal
    qty: ExactDecimal
}

function readInstruments(json: unknown): Map<string, Instrument> {
    const instruments = new Map<string, Instrument>()
    asArray(json, 'instruments').forEach((entry, index) => {
        const path = `instruments[${index}]`
        const record = asRecord(entry, path)
        const id = readString(record, 'id', path)
        readString(record, 'model_id', path)
        readString(record, 'token_kind', path)
        instruments.set(id, {
            id,
            tickSize: readExactDecimal(record.tick_size, `${path}.tick_size`),
            minQty: readExactDecimal(record.min_qty, `${path}.min_qty`),
        })
    })
    return instruments
}

function readLevels(book: JsonRecord, side: 'bids' | 'asks'): BookLevel[] {
    return readArray(book, side, 'book.book').map((entry, index) => {
        const path = `book.book.${side}[${index}]`
        const level = asRecord(entry, path)
        return {price: readExactDecimal(level.price, `${path}.price`), qty: readExactDecimal(level.qty, `${path}.qty`)}
    })
}

/** Finds the first rule a book breaks, or null when it is correct. */
function findBookViolation(instrument: Instrument, bids: BookLevel[], asks: BookLevel[]): {reason: string; observed: string} | null {
    const id = instrument.id
    for (const [side, levels] of [['bids', bids], ['asks', asks]] as const) {
        for (const level of levels) {
            const where = `${id} ${side} price=${formatDecimal(level.price)} qty=${formatDecimal(level.qty)}`
            if (level.qty.units <= 0n) return {reason: 'QTY_NOT_POSITIVE', observed: where}
            if (compareDecimals(level.qty, instrument.minQty) < 0) return {reason: 'QTY_BELOW_MIN', observed: `${where} min_qty=${formatDecimal(instrument.minQty)}`}
            if (level.price.units <= 0n) return {reason: 'PRICE_NOT_POSITIVE', observed: where}
            if (!isMultipleOf(level.price, instrument.tickSize)) return {reason: 'PRICE_OFF_TICK', observed: `${where} tick_size=${formatDecimal(instrument.tickSize)}`}
        }
    }
    for (let i = 1; i < bids.length; i++) {
        if (compareDecimals(bids[i].price, bids[i - 1].price) >= 0) {
            return {reason: 'BIDS_NOT_DESCENDING', observed: `${id} bid[${i - 1}]=${formatDecimal(bids[i - 1].price)} bid[${i}]=${formatDecimal(bids[i].price)}`}
        }
    }
    for (let i = 1; i < asks.length; i++) {
        if (compareDecimals(asks[i].price, asks[i - 1].price) <= 0) {
            return {reason: 'ASKS_NOT_ASCENDING', observed: `${id} ask[${i - 1}]=${formatDecimal(asks[i - 1].price)} ask[${i}]=${formatDecimal(asks[i].price)}`}
        }
    }
    if (bids.length > 0 && asks.length > 0 && compareDecimals(bids[0].price, asks[0].price) >= 0) {
        return {reason: 'BOOK_CROSSED', observed: `${id} best_bid=${formatDecimal(bids[0].price)} best_ask=${formatDecimal(asks[0].price)}`}
    }
    return null
}

function requestedInstrumentId(response: ProbeResponse): string | null {
    try {
        const body = JSON.parse(response.request.body ?? '') as unknown
        const id = typeof body === 'object' && body !== null ? (body as JsonRecord).instrumentId : undefined
        return typeof id === 'string' ? id : null
    } catch {
        return null
    }
}

function bookRequest(target: ProbeTarget, instrumentId: string): ProbeRequest {
    return postJsonRequest(joinUrl(target.baseUrl, '/book'), JSON.stringify({instrumentId}))
}

function followUpBooks(target: ProbeTarget, firstResponses: ProbeResponse[]): ProbeRequest[] {
    if (target.instrumentIds !== undefined) return []
    const response = findByPathSuffix(firstResponses, '/instruments')
    if (response === undefined || response.status !== 200 || transportVerdict(response) !== null) return []
    try {
        const ids = [...readInstruments(parseJsonBody(response)).keys()]
        return ids.slice(0, Math.min(MAX_BOOKS_PER_PROBE, MAX_FOLLOW_UP_REQUESTS)).map((id) => bookRequest(target, id))
    } catch {
        return []
    }
}

function evaluateOrderBook(responses: ProbeResponse[]): ProofVerdict {
    const instrumentsResponse = findByPathSuffix(responses, '/instruments')
    if (instrumentsResponse === undefined) return missingResponse('/instruments')
    const early = transportVerdict(instrumentsResponse) ?? authProxyVerdict(instrumentsResponse)
    if (early !== null) return early
    if (instrumentsResponse.status !== 200) return fail('UNEXPECTED_STATUS', `status=${instrumentsResponse.status} on /instruments`)
    const instruments = readInstruments(parseJsonBody(instrumentsResponse))

    const bookResponses = responses.filter((response) => pathOf(response).endsWith('/book'))
    if (bookResponses.length === 0) return inconclusive('NO_BOOKS_READ', `instruments=${instruments.size}`)

    let levelCount = 0
    for (const response of bookResponses) {
        const bookEarly = transportVerdict(response) ?? authProxyVerdict(response)
        if (bookEarly !== null) return bookEarly
        const requestedId = requestedInstrumentId(response)
        if (response.status !== 200) return fail('UNEXPECTED_STATUS', `status=${response.status} on /book for ${requestedId ?? 'unknown'}`)

        const book = readRecord(asRecord(parseJsonBody(response), 'book'), 'book', 'book')
        const instrumentId = readString(book, 'instrument_id', 'book.book')
        if (requestedId !== null && instrumentId !== requestedId) {
            return fail('BOOK_INSTRUMENT_MISMATCH', `requested=${requestedId} returned=${instrumentId}`)
        }
        const instrument = instruments.get(instrumentId)
        if (instrument === undefined) return fail('BOOK_INSTRUMENT_UNKNOWN', `instrument_id=${instrumentId} not in /instruments`)

        const bids = readLevels(book, 'bids')
        const asks = readLevels(book, 'asks')
        const violation = findBookViolation(instrument, bids, asks)
        if (violation !== null) return fail(violation.reason, violation.observed)
        levelCount += bids.length + asks.length
    }
    return pass('BOOK_CONSISTENT', `books=${bookResponses.length} levels=${levelCount} instruments=${instruments.size}`)
}

function evaluateFillSettlement(responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    const response = findByPathSuffix(responses, '/settlement/outbox')
    if (response === undefined) return missingResponse('/settlement/outbox')
    const early = transportVerdict(response) ?? authProxyVerdict(response)
    if (early !== null) return early
    if (response.status !== 200) return fail('UNEXPECTED_STATUS', `status=${response.status} on /settlement/outbox`)

    const outbox = asRecord(parseJsonBody(response), 'outbox')
    const pending = readInteger(outbox, 'count', 'outbox')
    readString(outbox, 'fillsHash', 'outbox')
    readArray(outbox, 'fills', 'outbox')
    const observed = `onchain_fills=${facts.settledFillCount} outbox_pending=${pending}`
    // A dry-run venue matches orders but never sends a batch to the settlement contract.
    if (outbox.mode === 'dry') return fail('SETTLEMENT_DRY_RUN', `${observed} mode=dry`)
    if (facts.settledFillCount > 0n) return pass('FILLS_SETTLED_ON_CHAIN', observed)
    if (pending > 0n) return fail('FILLS_NOT_SETTLED', observed)
    return inconclusive('NO_FILLS_YET', observed)
}

function evaluateCreditRedemption(_responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    const redemptions = facts.redemptions
    if (redemptions.length === 0) return notApplicable('NO_REDEMPTIONS', 'redemptions=0')

    const defaulted = redemptions.filter((redemption) => redemption.defaulted)
    const unserved = redemptions.filter(
        (redemption) => !redemption.settled && !redemption.attested && !redemption.defaulted && redemption.deadline < facts.nowUnixSeconds,
    )
    const served = redemptions.filter((redemption) => redemption.settled || redemption.attested).length
    const pending = redemptions.length - served - defaulted.length - unserved.length
    const counts = `served=${served} pending=${pending} unserved=${unserved.length} defaulted=${defaulted.length}`

    if (defaulted.length > 0) return fail('REDEMPTION_DEFAULTED', `${counts} first=${defaulted[0].redemptionId}`)
    if (unserved.length > 0) {
        const first = unserved[0]
        return fail('REDEMPTION_UNSERVED_PAST_DEADLINE', `${counts} first=${first.redemptionId} deadline=${first.deadline} now=${facts.nowUnixSeconds}`)
    }
    if (served === 0) return inconclusive('REDEMPTIONS_PENDING', counts)
    return pass('REDEMPTIONS_SERVED', counts)
}

interface ClobStatus {
    me: string
    epoch: bigint
    threshold: bigint
    operators: {address: string; url: string}[]
}

function readClobStatus(json: unknown, path: string): ClobStatus {
    const body = asRecord(json, path)
    return {
        me: readString(body, 'me', path).toLowerCase(),
        epoch: readInteger(body, 'epoch', path),
        threshold: readInteger(body, 'threshold', path),
        operators: readArray(body, 'operators', path).map((entry, index) => {
            const operatorPath = `${path}.operators[${index}]`
            const operator = asRecord(entry, operatorPath)
            return {address: readString(operator, 'address', operatorPath).toLowerCase(), url: readString(operator, 'url', operatorPath)}
        }),
    }
}

function peerStatusUrl(peerUrl: string): string {
    return joinUrl(peerUrl, '/clob/status')
}

function followUpPeers(_target: ProbeTarget, firstResponses: ProbeResponse[]): ProbeRequest[] {
    const response = findByPathSuffix(firstResponses, '/clob/status')
    if (response === undefined || response.status !== 200 || transportVerdict(response) !== null) return []
    try {
        const status = readClobStatus(parseJsonBody(response), 'clob_status')
        return status.operators
            .filter((operator) => operator.address !== status.me)
            .slice(0, MAX_FOLLOW_UP_REQUESTS)
            .map((operator) => getRequest(peerStatusUrl(operator.url)))
    } catch {
        return []
    }
}

/** Reads the epoch one listed peer returned, or the reason it does not count. */
function peerEpoch(response: ProbeResponse | undefined): bigint | string {
    if (response === undefined) return 'not probed'
    const early = transportVerdict(response)
    if (early !== null) return early.reason
    if (response.status !== 200) return `status=${response.status}`
    try {
        return readClobStatus(parseJsonBody(response), 'peer').epoch
    } catch {
        return 'invalid status body'
    }
}

function evaluateAttesterQuorum(responses: ProbeResponse[]): ProofVerdict {
    const primary = findByPathSuffix(responses, '/clob/status')
    if (primary === undefined) return missingResponse('/clob/status')
    const early = transportVerdict(primary) ?? authProxyVerdict(primary)
    if (early !== null) return early
    if (primary.status === 404) return notApplicable('NOT_SHARED_BOOK_VENUE', 'status=404 on /clob/status')
    if (primary.status !== 200) return fail('UNEXPECTED_STATUS', `status=${primary.status} on /clob/status`)

    const status = readClobStatus(parseJsonBody(primary), 'clob_status')
    const listed = status.operators.length
    if (status.threshold <= 0n) return fail('QUORUM_THRESHOLD_INVALID', `threshold=${status.threshold}`)
    if (status.threshold > BigInt(listed)) return fail('QUORUM_UNSATISFIABLE', `threshold=${status.threshold} operators=${listed}`)

    // NOTE: peers read a moment apart can straddle an epoch boundary; such a peer counts as disagreeing.
    let agreeing = 0
    let probedPeers = 0
    let firstProblem: string | null = null
    for (const operator of status.operators) {
        if (operator.address === status.me) {
            agreeing += 1
            continue
        }
        const url = peerStatusUrl(operator.url)
        const answer = peerEpoch(responses.find((response) => response.request.url === url && response !== primary))
        if (answer !== 'not probed') probedPeers += 1
        if (answer === status.epoch) agreeing += 1
        else if (firstProblem === null) {
            const detail = typeof answer === 'bigint' ? `epoch=${answer}` : answer
            firstProblem = `${operator.address}@${redactUrl(operator.url)}: ${detail}`
        }
    }

    const observed = `agree=${agreeing}/${listed} threshold=${status.threshold} epoch=${status.epoch}`
    if (BigInt(agreeing) >= status.threshold) return pass('QUORUM_REACHED', observed)
    if (probedPeers === 0 && listed > 1) return inconclusive('PEERS_NOT_PROBED', observed)
    return fail('QUORUM_NOT_REACHED', `${observed} ${firstProblem ?? ''}`.trim())
}

function evaluateSp1ProofPath(_responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    // The SP1 path is not live on public deployments, so no proven batch is the expected state, not a failure.
    if (facts.provenBatchCount === 0n) return notApplicable('SP1_NOT_ENABLED', 'proven_batches=0')
    return pass('SP1_PROVEN_BATCH', `proven_batches=${facts.provenBatchCount}`)
}

function evaluateInferenceDelivery(responses: ProbeResponse[]): ProofVerdict {
    const response = findByPathSuffix(responses, '/redeem')
    if (response === undefined) return inconclusive('NO_REDEEM_REQUEST', 'no signed redeem request was available')
    const early = transportVerdict(response)
    if (early !== null) return early
    const status = response.status as number
    if (status >= 400 && status < 500) return inconclusive('REDEEM_REJECTED', `status=${status} on /redeem`)
    if (status !== 200) return fail('REDEEM_FAILED', `status=${status} on /redeem`)

    const body = asRecord(parseJsonBody(response), 'redeem')
    const completion = readString(body, 'completion', 'redeem')
    const servedTokens = readInteger(body, 'servedTokens', 'redeem')
    readInteger(body, 'meteredTokens', 'redeem')
    const modelIdHash = readBytes32(body, 'modelIdHash', 'redeem')
    const messagesHash = readBytes32(body, 'messagesHash', 'redeem')
    const outputHash = readBytes32(body, 'outputHash', 'redeem')
    const workCommitment = readBytes32(body, 'workCommitment', 'redeem')
    readBytes32(body, 'receiptDigest', 'redeem')

    const computedOutputHash = keccak256(stringToBytes(completion))
    if (computedOutputHash !== outputHash) {
        return fail('OUTPUT_HASH_MISMATCH', `outputHash=${outputHash} keccak256(completion)=${computedOutputHash}`)
    }
    const computedCommitment = keccak256(concat([modelIdHash, messagesHash, outputHash]))
    if (computedCommitment !== workCommitment) {
        return fail('WORK_COMMITMENT_MISMATCH', `workCommitment=${workCommitment} recomputed=${computedCommitment}`)
    }
    return pass('DELIVERY_HASHES_MATCH', `served_tokens=${servedTokens} output_hash=${outputHash.slice(0, 18)}…`)
}

export const SURPLUS_PLANS = {
    MARKET_ORDER_BOOK: {
        requests: (target) => [
            getRequest(joinUrl(target.baseUrl, '/instruments')),
            ...(target.instrumentIds ?? []).slice(0, MAX_BOOKS_PER_PROBE).map((id) => bookRequest(target, id)),
        ],
        followUps: followUpBooks,
        evaluate: evaluateOrderBook,
    },
    MARKET_FILL_SETTLEMENT: {
        requests: (target) => [getRequest(joinUrl(target.baseUrl, '/settlement/outbox'))],
        evaluate: evaluateFillSettlement,
    },
    MARKET_CREDIT_REDEMPTION: {
        requests: () => [],
        evaluate: evaluateCreditRedemption,
    },
    MARKET_ATTESTER_QUORUM: {
        requests: (target) => [getRequest(joinUrl(target.baseUrl, '/clob/status'))],
        followUps: followUpPeers,
        evaluate: evaluateAttesterQuorum,
    },
    MARKET_SP1_PROOF_PATH: {
        requests: () => [],
        evaluate: evaluateSp1ProofPath,
    },
    MARKET_INFERENCE_DELIVERY: {
        requests: (target) => (target.redeemRequestBody === undefined ? [] : [postJsonRequest(joinUrl(target.baseUrl, '/redeem'), target.redeemRequestBody)]),
        evaluate: evaluateInferenceDelivery,
    },
} satisfies Record<string, KindPlan>
