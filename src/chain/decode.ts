import * as p from '@subsquid/evm-codec'
import {AbiEvent} from '@subsquid/evm-abi'
import * as tangle from '../abi/Tangle'
import * as tangleLegacy from '../abi/TangleLegacy'
import * as registry from '../abi/OperatorStatusRegistry'
import * as restaking from '../abi/MultiAssetDelegation'
import * as sandbox from '../abi/SandboxBlueprint'
import * as trading from '../abi/TradingBlueprint'
import * as vault from '../abi/TradingVault'
import * as policy from '../abi/PolicyEngine'
import * as validator from '../abi/TradeValidator'
import * as fees from '../abi/FeeDistributor'
import * as factory from '../abi/VaultFactory'
import * as validatorBlueprint from '../abi/ValidatorBlueprint'
import * as settlement from '../abi/Settlement'
import * as settlementLegacy from '../abi/SettlementLegacy'
import * as surplusManager from '../abi/SurplusManager'

/** Contract families, one per configured contract list (vaults are found at run time). */
export type Family =
    | 'tangle'
    | 'registry'
    | 'restaking'
    | 'sandbox'
    | 'trading'
    | 'vault'
    | 'policy'
    | 'validator'
    | 'fees'
    | 'factory'
    | 'validatorBlueprint'
    | 'settlement'
    | 'surplusManager'

/** One event shape a log may have. `shape` tells current from legacy/drifted shapes sharing the handler. */
export interface EventShape {
    family: Family
    name: string
    shape: string
    topic0: string
    topicCount: number
    /** Decoder whose top-level `string` parameters are read as bytes, so no byte of them is lost. */
    decoder: AbiEvent<any>
    /** Names of the top-level `string` parameters (decoded as 0x-hex bytes). */
    stringParams: string[]
}

// Vault events that proofgap does not store: ERC-4626 Deposit/Withdraw are emitted by every such vault on the
// network, so subscribing to them without an address would flood the processor.
const SKIPPED: Record<string, true> = {'vault.Deposit': true, 'vault.Withdraw': true}

function withRawStrings(event: AbiEvent<any>): AbiEvent<any> {
    const params: Record<string, any> = {}
    let changed = false
    for (const [key, codec] of Object.entries(event.params as Record<string, any>)) {
        if (codec === p.string) {
            params[key] = p.bytes
            changed = true
        } else {
            params[key] = codec
        }
    }
    return changed ? new AbiEvent(event.topic, event.signature, params) : event
}

function collect(family: Family, events: Record<string, AbiEvent<any>>, shapeOf: (key: string) => string): EventShape[] {
    const out: EventShape[] = []
    for (const [key, event] of Object.entries(events)) {
        const name = key.includes('(') ? key.slice(0, key.indexOf('(')) : key
        if (SKIPPED[`${family}.${name}`]) continue
        out.push({
            family,
            name,
            shape: shapeOf(key),
            topic0: event.topic,
            topicCount: 1 + Object.values(event.params as Record<string, any>).filter((c) => c.indexed).length,
            decoder: withRawStrings(event),
            stringParams: Object.entries(event.params as Record<string, any>)
                .filter(([, codec]) => codec === p.string)
                .map(([key]) => key),
        })
    }
    return out
}

function legacySettlementShape(key: string): string {
    if (key.startsWith('BatchSettled(uint64')) return 'legacy-v1'
    if (key.startsWith('BatchSettled(bytes32')) return 'legacy-v2'
    return 'legacy'
}

/** Every shape the processor decodes, grouped by family. */
export const EVENT_SHAPES: EventShape[] = [
    ...collect('tangle', tangle.events, () => 'current'),
    ...collect('tangle', {BlueprintCreated: tangleLegacy.events.BlueprintCreated}, () => 'legacy'),
    ...collect('tangle', {JobSubmitted: tangleLegacy.events.JobSubmitted}, () => 'indexed-job-index'),
    ...collect('registry', registry.events, () => 'current'),
    ...collect('restaking', restaking.events, () => 'current'),
    ...collect('sandbox', sandbox.events, () => 'current'),
    ...collect('trading', trading.events, () => 'current'),
    ...collect('vault', vault.events, () => 'current'),
    ...collect('policy', policy.events, () => 'current'),
    ...collect('validator', validator.events, () => 'current'),
    ...collect('fees', fees.events, () => 'current'),
    ...collect('factory', factory.events, () => 'current'),
    ...collect('validatorBlueprint', validatorBlueprint.events, () => 'current'),
    ...collect('settlement', settlement.events, () => 'current'),
    ...collect('settlement', settlementLegacy.events, legacySettlementShape),
    ...collect('surplusManager', surplusManager.events, () => 'current'),
]

/** Shapes by family, then by topic0. */
const BY_FAMILY_TOPIC = new Map<Family, Map<string, EventShape[]>>()
for (const shape of EVENT_SHAPES) {
    let byTopic = BY_FAMILY_TOPIC.get(shape.family)
    if (!byTopic) BY_FAMILY_TOPIC.set(shape.family, (byTopic = new Map()))
    const list = byTopic.get(shape.topic0) ?? []
    list.push(shape)
    byTopic.set(shape.topic0, list)
}

/** topic0 values to subscribe to for one family. */
export function topicsOf(family: Family): string[] {
    return [...new Set(EVENT_SHAPES.filter((s) => s.family === family).map((s) => s.topic0))]
}

export interface RawLog {
    topics: string[]
    data: string
}

export type DecodeResult =
    | {ok: true; shape: EventShape; args: Record<string, any>}
    | {ok: false; reason: 'UNKNOWN_TOPIC' | 'TOPIC_COUNT_MISMATCH' | 'DECODE_FAILED'; eventName?: string; detail: string}

/**
 * Decode a log of a family. Shapes that share a topic0 (the drifted `JobSubmitted` with an indexed `jobIndex`) are
 * told apart by their topic count; string parameters come back as 0x-hex bytes.
 */
export function decodeLog(family: Family, log: RawLog): DecodeResult {
    const topic0 = log.topics[0]
    const candidates = topic0 ? BY_FAMILY_TOPIC.get(family)?.get(topic0) : undefined
    if (!candidates) return {ok: false, reason: 'UNKNOWN_TOPIC', detail: `no ${family} event has topic0 ${topic0 ?? '(none)'}`}
    const shape = candidates.find((c) => c.topicCount === log.topics.length)
    if (!shape) {
        const counts = candidates.map((c) => c.topicCount).join(' or ')
        return {
            ok: false,
            reason: 'TOPIC_COUNT_MISMATCH',
            eventName: candidates[0].name,
            detail: `${candidates[0].name} has ${counts} topics, the log has ${log.topics.length}`,
        }
    }
    try {
        return {ok: true, shape, args: shape.decoder.decode(log)}
    } catch (err) {
        return {ok: false, reason: 'DECODE_FAILED', eventName: shape.name, detail: (err as Error).message.slice(0, 500)}
    }
}
