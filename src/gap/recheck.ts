import {BaseError, createPublicClient, http, HttpRequestError, keccak256, TimeoutError, type Hex, type Log, type PublicClient} from 'viem'
import * as registry from '../abi/OperatorStatusRegistry'
import * as sandbox from '../abi/SandboxBlueprint'
import * as tangle from '../abi/Tangle'
import * as trading from '../abi/TradingBlueprint'
import {redactUrlForLog} from '../config'
import type {EvidenceEntry} from './evidence'

/** RPC limits of a recheck: one retry, then the fact is reported as not rechecked. */
const RECHECK_TIMEOUT_MS = 15_000

type ChainFactRecord = Record<string, unknown> & {id: string; event: string; fields: Record<string, unknown>}

/** Field values that the decoded log gives for a chain fact, as the bundle stores them (decimal strings, numbers). */
type ExpectedFields = Record<string, string | number | boolean | null>

const lower = (value: unknown): string => String(value).toLowerCase()

/** Decodes an on-chain log into the `fields` a bundle stores for `event`; null when the log is not that event. */
export function fieldsFromLog(event: string, log: {topics: string[]; data: string}): ExpectedFields | null {
    const record = {topics: log.topics, data: log.data}
    const statusKind = event.startsWith('OperatorStatus:') ? event.slice('OperatorStatus:'.length) : null
    if (event === 'HeartbeatReceived' && registry.events.HeartbeatReceived.is(record)) {
        const d = registry.events.HeartbeatReceived.decode(record)
        return {
            serviceId: d.serviceId.toString(),
            operator: lower(d.operator),
            reportedBlueprintId: d.blueprintId.toString(),
            statusCode: d.statusCode,
            timestamp: d.timestamp.toString(),
        }
    }
    if (event === 'HeartbeatConfigUpdated' && registry.events.HeartbeatConfigUpdated.is(record)) {
        const d = registry.events.HeartbeatConfigUpdated.decode(record)
        return {serviceId: d.serviceId.toString(), interval: d.interval.toString(), maxMissed: d.maxMissed}
    }
    if (event === 'JobResultSubmitted' && tangle.events.JobResultSubmitted.is(record)) {
        const d = tangle.events.JobResultSubmitted.decode(record)
        const output = d.output as Hex
        return {
            serviceId: d.serviceId.toString(),
            operator: lower(d.operator),
            callId: d.callId.toString(),
            outputHash: keccak256(output),
            outputSize: (output.length - 2) / 2,
        }
    }
    if (event === 'SlashProposed' && tangle.events.SlashProposed.is(record)) {
        const d = tangle.events.SlashProposed.decode(record)
        return {
            slashId: d.slashId.toString(),
            serviceId: d.serviceId.toString(),
            operator: lower(d.operator),
            proposer: lower(d.proposer),
            slashBps: d.slashBps,
            effectiveSlashBps: d.effectiveSlashBps,
            evidence: lower(d.evidence),
            executeAfter: d.executeAfter.toString(),
        }
    }
    if (statusKind === null) return serviceFieldsFromLog(event, record)
    return statusFieldsFromLog(statusKind, record)
}

/**
 * Decodes the service events that claims and memberships rest on: an activation, a join, a leave, a forced exit, a
 * termination, a trading start and a provisioned sidecar.
 */
function serviceFieldsFromLog(event: string, record: {topics: string[]; data: string}): ExpectedFields | null {
    if (event === 'ServiceActivated' && tangle.events.ServiceActivated.is(record)) {
        const d = tangle.events.ServiceActivated.decode(record)
        return {
            serviceId: d.serviceId.toString(),
            requestId: d.requestId.toString(),
            blueprintId: d.blueprintId.toString(),
            confidentiality: d.confidentiality,
        }
    }
    if (event === 'OperatorJoinedService' && tangle.events.OperatorJoinedService.is(record)) {
        const d = tangle.events.OperatorJoinedService.decode(record)
        return {serviceId: d.serviceId.toString(), operator: lower(d.operator), exposureBps: d.exposureBps}
    }
    if (event === 'OperatorLeftService' && tangle.events.OperatorLeftService.is(record)) {
        const d = tangle.events.OperatorLeftService.decode(record)
        return {serviceId: d.serviceId.toString(), operator: lower(d.operator)}
    }
    if (event === 'ExitForced' && tangle.events.ExitForced.is(record)) {
        const d = tangle.events.ExitForced.decode(record)
        return {serviceId: d.serviceId.toString(), operator: lower(d.operator)}
    }
    if (event === 'ServiceTerminated' && tangle.events.ServiceTerminated.is(record)) {
        return {serviceId: tangle.events.ServiceTerminated.decode(record).serviceId.toString()}
    }
    if (event === 'ServiceTerminatedForNonPayment' && tangle.events.ServiceTerminatedForNonPayment.is(record)) {
        return {serviceId: tangle.events.ServiceTerminatedForNonPayment.decode(record).serviceId.toString()}
    }
    if (event === 'TradingStarted' && trading.events.TradingStarted.is(record)) {
        return {serviceId: trading.events.TradingStarted.decode(record).serviceId.toString()}
    }
    // The stored sandbox id and sidecar URL are sanitized and redacted, so only the ids are compared.
    if (event === 'OperatorProvisioned' && sandbox.events.OperatorProvisioned.is(record)) {
        const d = sandbox.events.OperatorProvisioned.decode(record)
        return {serviceId: d.serviceId.toString(), operator: lower(d.operator)}
    }
    return null
}

/** Decodes a registry status log; the kinds are the StatusEvent.kind values the processor stores. */
function statusFieldsFromLog(kind: string, record: {topics: string[]; data: string}): ExpectedFields | null {
    const e = registry.events
    const base = (d: {serviceId: bigint; operator: string}) => ({serviceId: d.serviceId.toString(), operator: lower(d.operator)})
    if (kind === 'STATUS_CHANGED' && e.StatusChanged.is(record)) {
        const d = e.StatusChanged.decode(record)
        return {...base(d), oldStatus: d.oldStatus, newStatus: d.newStatus}
    }
    if (kind === 'WENT_OFFLINE' && e.OperatorWentOffline.is(record)) {
        const d = e.OperatorWentOffline.decode(record)
        return {...base(d), missedBeats: d.missedBeats}
    }
    if (kind === 'CAME_ONLINE' && e.OperatorCameOnline.is(record)) return base(e.OperatorCameOnline.decode(record))
    if (kind === 'REGISTRY_REGISTERED' && e.OperatorRegistered.is(record)) return base(e.OperatorRegistered.decode(record))
    if (kind === 'REGISTRY_DEREGISTERED' && e.OperatorDeregistered.is(record)) return base(e.OperatorDeregistered.decode(record))
    // The stored reason is sanitized (NUL bytes and invalid UTF-8 removed), so only the ids are compared.
    if (kind === 'SLASHING_TRIGGERED' && e.SlashingTriggered.is(record)) return base(e.SlashingTriggered.decode(record))
    return null
}

/** Lists every decoded field whose value differs from the bundle's record, as `name: bundle X, chain Y`. */
export function compareFields(stored: Record<string, unknown>, fromChain: ExpectedFields): string[] {
    const differences: string[] = []
    for (const [name, chainValue] of Object.entries(fromChain)) {
        const storedValue = stored[name]
        const same = typeof chainValue === 'string' ? lower(storedValue) === chainValue.toLowerCase() : storedValue === chainValue
        if (!same) differences.push(`${name}: bundle ${JSON.stringify(storedValue)}, chain ${JSON.stringify(chainValue)}`)
    }
    return differences
}

function isChainFact(record: Record<string, unknown>): record is ChainFactRecord {
    return record.type === 'chain' && typeof record.blockNumber === 'number' && typeof record.event === 'string'
}

/** Finds the log a chain fact names: by log index when the bundle has one, else the SlashProposed of its slash id. */
async function findLog(client: PublicClient, fact: ChainFactRecord, blockHash: Hex): Promise<Log | string> {
    if (typeof fact.logIndex === 'number') {
        const logs = await client.getLogs({blockHash})
        const log = logs.find((candidate) => candidate.logIndex === fact.logIndex)
        return log ?? `block ${fact.blockNumber} (${blockHash}) has no log at index ${fact.logIndex}`
    }
    const receipt = await client.getTransactionReceipt({hash: fact.txHash as Hex}).catch((error: unknown) => {
        if (isConnectionFailure(error)) throw error
        return null
    })
    if (receipt === null) return `transaction ${String(fact.txHash)} not found`
    const slashId = String(fact.fields.slashId)
    const log = receipt.logs.find((candidate) => {
        const fields = fieldsFromLog(fact.event, {topics: candidate.topics as string[], data: candidate.data})
        return fields !== null && fields.slashId === slashId
    })
    return log ?? `transaction ${String(fact.txHash)} emitted no ${fact.event} for slash ${slashId}`
}

/** Rechecks one chain fact; returns the problems found, each without the record label. */
async function recheckFact(client: PublicClient, fact: ChainFactRecord): Promise<string[]> {
    const block = await client.getBlock({blockNumber: BigInt(fact.blockNumber as number)})
    if (typeof fact.blockHash === 'string' && lower(fact.blockHash) !== block.hash.toLowerCase()) {
        return [`block ${fact.blockNumber} has hash ${block.hash}, bundle names ${fact.blockHash}`]
    }
    if (typeof fact.blockHashPrefix === 'string' && !block.hash.startsWith(fact.blockHashPrefix)) {
        return [`block ${fact.blockNumber} has hash ${block.hash}, not starting with ${fact.blockHashPrefix}`]
    }
    const log = await findLog(client, fact, block.hash)
    if (typeof log === 'string') return [log]

    const problems: string[] = []
    // An OperatorJoinedService fact has no transaction hash, because the membership table stores none.
    if (fact.txHash !== null && lower(log.transactionHash) !== lower(fact.txHash)) {
        problems.push(`log ${log.logIndex} of block ${fact.blockNumber} is in transaction ${log.transactionHash}, bundle names ${String(fact.txHash)}`)
    }
    if (log.blockHash?.toLowerCase() !== block.hash.toLowerCase()) {
        problems.push(`log of transaction ${String(fact.txHash)} is in block ${log.blockHash}, not ${block.hash}`)
    }
    const fromChain = fieldsFromLog(fact.event, {topics: log.topics as string[], data: log.data})
    if (fromChain === null) {
        problems.push(`log ${log.logIndex} of block ${fact.blockNumber} is not a ${fact.event} event`)
    } else {
        for (const difference of compareFields(fact.fields, fromChain)) problems.push(`field ${difference}`)
    }
    return problems
}

/**
 * Returns true for a failure of the node itself, which every later request would meet too: no connection, no response
 * in time, or an HTTP error status.
 */
function isConnectionFailure(error: unknown): boolean {
    return error instanceof BaseError && error.walk((cause) => cause instanceof HttpRequestError || cause instanceof TimeoutError) !== null
}

/**
 * Rechecks every chain fact of a bundle against an RPC node: the block at the recorded height has the recorded hash,
 * the log at the recorded index (or, for a slash, the SlashProposed log of its transaction) belongs to the recorded
 * transaction, and the log decodes to the recorded fields. Each problem names the record as `record #i chain:<id>`.
 * When the node cannot be reached, the recheck stops at once and reports that as its one problem.
 */
export async function recheckChainFacts(entries: EvidenceEntry[], rpcUrl: string): Promise<{checked: number; problems: string[]}> {
    const client = createPublicClient({transport: http(rpcUrl, {retryCount: 1, timeout: RECHECK_TIMEOUT_MS})}) as PublicClient
    const facts = entries
        .map((entry, index) => ({index, record: entry.record as Record<string, unknown>}))
        .filter((item): item is {index: number; record: ChainFactRecord} => isChainFact(item.record))
    const problems: string[] = []
    let checked = 0
    for (const {index, record} of facts) {
        const name = `record #${index} chain:${record.id}`
        try {
            const found = await recheckFact(client, record)
            checked += 1
            for (const problem of found) problems.push(`${name}: ${problem}`)
        } catch (error) {
            if (isConnectionFailure(error)) {
                // viem's full message repeats the URL, which may carry credentials, so only its short message is shown.
                const failedRequest = (error as BaseError).walk((cause) => cause instanceof HttpRequestError && cause.status !== undefined)
                const status = (failedRequest as HttpRequestError | null)?.status
                const reason = status === undefined ? (error as BaseError).shortMessage.replace(/\.$/, '') : `HTTP status ${status}`
                problems.push(
                    `RPC node ${redactUrlForLog(rpcUrl)} cannot be reached (${reason}), so ${facts.length - checked} of ${facts.length} ` +
                        'chain facts were not rechecked. Check the URL and that the node is running.',
                )
                return {checked, problems}
            }
            checked += 1
            const message = error instanceof Error ? (error.message.split('\n')[0] as string) : String(error)
            problems.push(`${name}: RPC recheck failed: ${message}`)
        }
    }
    return {checked, problems}
}
