import {readFileSync} from 'node:fs'
import path from 'node:path'
import {encodeAbiParameters, encodeEventTopics, type AbiEvent, type AbiParameter, type Hex} from 'viem'
import type {LogToEmit} from './emitter'

/** Names of the JSON ABIs under abi/ that the scenario encodes events from. */
export type AbiName =
    | 'Tangle'
    | 'TangleLegacy'
    | 'MultiAssetDelegation'
    | 'OperatorStatusRegistry'
    | 'SandboxBlueprint'
    | 'TradingBlueprint'
    | 'TradingVault'
    | 'PolicyEngine'
    | 'TradeValidator'
    | 'VaultFactory'
    | 'Settlement'

/**
 * A chain string given as exact bytes, for values that are not valid UTF-8. It is encoded with the `bytes` type in
 * place of `string`: both have the same ABI layout.
 */
export interface RawString {
    raw: Hex
}

export function isRawString(value: unknown): value is RawString {
    return typeof value === 'object' && value !== null && 'raw' in value
}

const ABI_DIR = path.resolve(__dirname, '..', '..', 'abi')
const eventCache = new Map<AbiName, AbiEvent[]>()

/** Returns the events of one JSON ABI under abi/. */
export function abiEvents(abi: AbiName): AbiEvent[] {
    let events = eventCache.get(abi)
    if (!events) {
        const items = JSON.parse(readFileSync(path.join(ABI_DIR, `${abi}.json`), 'utf8')) as {type: string}[]
        events = items.filter((item) => item.type === 'event') as AbiEvent[]
        eventCache.set(abi, events)
    }
    return events
}

export function findAbiEvent(abi: AbiName, eventName: string): AbiEvent {
    const matches = abiEvents(abi).filter((event) => event.name === eventName)
    if (matches.length !== 1) {
        throw new Error(`event ${eventName} found ${matches.length} times in abi/${abi}.json; expected exactly once`)
    }
    return matches[0]
}

function withRawStrings(parameter: AbiParameter, value: unknown): {type: AbiParameter; value: unknown} {
    if (parameter.type === 'string' && isRawString(value)) return {type: {...parameter, type: 'bytes'}, value: value.raw}
    return {type: parameter, value}
}

/** Encodes an event of our JSON ABIs into topics and data, as the contract would emit it. */
export function encodeEvent(abi: AbiName, eventName: string, args: Record<string, unknown>): Pick<LogToEmit, 'topics' | 'data'> {
    const event = findAbiEvent(abi, eventName)
    const indexedArgs: Record<string, unknown> = {}
    const types: AbiParameter[] = []
    const values: unknown[] = []
    for (const input of event.inputs) {
        const name = input.name ?? ''
        if (!(name in args)) throw new Error(`missing argument ${name} for event ${eventName}`)
        if (input.indexed) {
            indexedArgs[name] = args[name]
            continue
        }
        const encoded = withRawStrings(input, args[name])
        types.push(encoded.type)
        values.push(encoded.value)
    }
    const topics = encodeEventTopics({abi: [event], eventName, args: indexedArgs} as never) as Hex[]
    const data = encodeAbiParameters(types, values)
    return {topics, data}
}
