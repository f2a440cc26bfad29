import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {
    encodeAbiParameters,
    encodeEventTopics,
    getAddress,
    keccak256,
    maxUint256,
    maxInt256,
    minInt256,
    toEventSelector,
    toEventSignature,
    toHex,
    type AbiEvent,
    type AbiParameter,
    type Hex,
} from 'viem'
import {keccak256 as processorKeccak} from '../src/chain/keccak'
import * as FeeDistributor from '../src/abi/FeeDistributor'
import * as MultiAssetDelegation from '../src/abi/MultiAssetDelegation'
import * as OperatorStatusRegistry from '../src/abi/OperatorStatusRegistry'
import * as PolicyEngine from '../src/abi/PolicyEngine'
import * as SandboxBlueprint from '../src/abi/SandboxBlueprint'
import * as Settlement from '../src/abi/Settlement'
import * as SettlementLegacy from '../src/abi/SettlementLegacy'
import * as SurplusManager from '../src/abi/SurplusManager'
import * as Tangle from '../src/abi/Tangle'
import * as TangleLegacy from '../src/abi/TangleLegacy'
import * as TradeValidator from '../src/abi/TradeValidator'
import * as TradingBlueprint from '../src/abi/TradingBlueprint'
import * as TradingVault from '../src/abi/TradingVault'
import * as ValidatorBlueprint from '../src/abi/ValidatorBlueprint'
import * as VaultFactory from '../src/abi/VaultFactory'

// The hand-written JSON ABIs are the source of truth. viem encodes logs from them, and the decoders
// that squid-evm-typegen generated from the same files must read those logs back exactly.

interface EncodedLog {
    topics: Hex[]
    data: Hex
}

interface GeneratedEvent {
    topic: string
    signature: string
    is(log: EncodedLog): boolean
    decode(log: EncodedLog): Record<string, unknown>
}

type GeneratedModule = {events: Record<string, GeneratedEvent>}

const ABI_DIR = path.resolve(__dirname, '..', 'abi')

const GENERATED_MODULES: Record<string, GeneratedModule> = {
    FeeDistributor,
    MultiAssetDelegation,
    OperatorStatusRegistry,
    PolicyEngine,
    SandboxBlueprint,
    Settlement,
    SettlementLegacy,
    SurplusManager,
    Tangle,
    TangleLegacy,
    TradeValidator,
    TradingBlueprint,
    TradingVault,
    ValidatorBlueprint,
    VaultFactory,
}

function loadAbiEvents(contract: string): AbiEvent[] {
    const abi = JSON.parse(readFileSync(path.join(ABI_DIR, `${contract}.json`), 'utf8')) as {type: string}[]
    return abi.filter((item) => item.type === 'event') as AbiEvent[]
}

const ABI_CONTRACTS = readdirSync(ABI_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort()

const ABI_EVENTS: Record<string, AbiEvent[]> = Object.fromEntries(
    ABI_CONTRACTS.map((contract) => [contract, loadAbiEvents(contract)]),
)

/**
 * Returns the key squid-evm-typegen gives an event in `events`: the bare name, or for an
 * overloaded name the full input list with `indexed` markers, e.g. `BatchSettled(uint64 indexed,bytes32,uint256,bool)`.
 */
function generatedEventKey(abiEvents: AbiEvent[], event: AbiEvent): string {
    const overloads = abiEvents.filter((candidate) => candidate.name === event.name)
    if (overloads.length === 1) return event.name
    const inputs = event.inputs.map((input) => (input.indexed ? `${input.type} indexed` : input.type))
    return `${event.name}(${inputs.join(',')})`
}

function generatedEvent(contract: string, key: string): GeneratedEvent {
    const generated = GENERATED_MODULES[contract]?.events[key]
    if (generated === undefined) {
        throw new Error(`generated event ${contract}.${key} not found: rerun npm run typegen`)
    }
    return generated
}

// ---------------------------------------------------------------------------------------------
// Sample values per Solidity type. Each variant stresses a different edge of the encoding.

type SampleVariant = 'zero' | 'max' | 'min' | 'typical'

const SAMPLE_VARIANTS: SampleVariant[] = ['zero', 'max', 'min', 'typical']

// Multi-byte UTF-8 and a length that spans several 32-byte words.
const LONG_STRING = 'ü€😀'.repeat(10) + 'x'.repeat(70)
const NUL_STRING = 'a\u0000b'
const LONG_BYTES: Hex = toHex(new Uint8Array(65).fill(0xab))

function hashOf(label: string): Hex {
    return keccak256(toHex(label))
}

function sampleUint(bits: number, variant: SampleVariant, seed: number): number | bigint {
    const max = (1n << BigInt(bits)) - 1n
    const values = {zero: 0n, max, min: 1n, typical: (BigInt(seed) * 1_000_003n + 7n) % max}
    // evm-codec returns plain numbers for widths up to 32 bits and bigints from 64 bits on.
    return bits <= 32 ? Number(values[variant]) : values[variant]
}

function sampleInt(bits: number, variant: SampleVariant, seed: number): number | bigint {
    const max = (1n << BigInt(bits - 1)) - 1n
    const values = {zero: 0n, max, min: -max - 1n, typical: -(BigInt(seed) * 12_345n + 1n)}
    return bits <= 32 ? Number(values[variant]) : values[variant]
}

function sampleAddress(variant: SampleVariant, seed: number): Hex {
    const values = {
        zero: '0x0000000000000000000000000000000000000000',
        max: '0xffffffffffffffffffffffffffffffffffffffff',
        min: '0x0000000000000000000000000000000000000001',
        // Checksummed, so the lowercase comparison below has mixed case to normalize.
        typical: hashOf(`address-${seed}`).slice(0, 42),
    } as const
    return getAddress(values[variant])
}

function sampleFixedBytes(size: number, variant: SampleVariant, seed: number): Hex {
    const hexChars = size * 2
    const values = {
        zero: '0x' + '0'.repeat(hexChars),
        max: '0x' + 'f'.repeat(hexChars),
        min: '0x' + '0'.repeat(hexChars - 2) + '01',
        typical: hashOf(`bytes-${seed}`).slice(0, 2 + hexChars),
    }
    return values[variant] as Hex
}

function sampleString(variant: SampleVariant, seed: number): string {
    const values = {zero: '', max: LONG_STRING, min: NUL_STRING, typical: `ipfs://bafy-sample-${seed}`}
    return values[variant]
}

function sampleBytes(variant: SampleVariant, seed: number): Hex {
    const values = {zero: '0x', max: LONG_BYTES, min: '0x00', typical: `${hashOf(`blob-${seed}`)}c0ffee`}
    return values[variant] as Hex
}

function sampleArrayLength(variant: SampleVariant): number {
    const lengths = {zero: 0, max: 3, min: 1, typical: 2}
    return lengths[variant]
}

/** Builds a value for one ABI parameter. `nextSeed` gives each leaf value a different seed. */
function sampleValue(param: AbiParameter, variant: SampleVariant, nextSeed: () => number): unknown {
    const arrayMatch = /^(.*)\[(\d*)\]$/.exec(param.type)
    if (arrayMatch !== null) {
        const element = {...param, type: arrayMatch[1]} as AbiParameter
        const length = arrayMatch[2] === '' ? sampleArrayLength(variant) : Number(arrayMatch[2])
        return Array.from({length}, () => sampleValue(element, variant, nextSeed))
    }
    if (param.type === 'tuple') {
        const components = (param as {components: readonly AbiParameter[]}).components
        return Object.fromEntries(components.map((c) => [c.name, sampleValue(c, variant, nextSeed)]))
    }

    const seed = nextSeed()
    const uintMatch = /^uint(\d+)$/.exec(param.type)
    if (uintMatch !== null) return sampleUint(Number(uintMatch[1]), variant, seed)
    const intMatch = /^int(\d+)$/.exec(param.type)
    if (intMatch !== null) return sampleInt(Number(intMatch[1]), variant, seed)
    const fixedBytesMatch = /^bytes(\d+)$/.exec(param.type)
    if (fixedBytesMatch !== null) return sampleFixedBytes(Number(fixedBytesMatch[1]), variant, seed)

    switch (param.type) {
        case 'address':
            return sampleAddress(variant, seed)
        case 'bool':
            return variant === 'max' || (variant === 'typical' && seed % 2 === 0)
        case 'string':
            return sampleString(variant, seed)
        case 'bytes':
            return sampleBytes(variant, seed)
        default:
            throw new Error(`no sample generator for Solidity type ${param.type}: add one to sampleValue`)
    }
}

function sampleEventValues(event: AbiEvent, variant: SampleVariant): Record<string, unknown> {
    let seed = 0
    const nextSeed = () => ++seed
    return Object.fromEntries(event.inputs.map((input) => [input.name, sampleValue(input, variant, nextSeed)]))
}

/** Converts a value to the shape the generated decoder returns: addresses come back lowercase. */
function toDecodedShape(param: AbiParameter, value: unknown): unknown {
    const arrayMatch = /^(.*)\[(\d*)\]$/.exec(param.type)
    if (arrayMatch !== null) {
        const element = {...param, type: arrayMatch[1]} as AbiParameter
        return (value as unknown[]).map((item) => toDecodedShape(element, item))
    }
    if (param.type === 'tuple') {
        const components = (param as {components: readonly AbiParameter[]}).components
        const record = value as Record<string, unknown>
        return Object.fromEntries(components.map((c) => [c.name, toDecodedShape(c, record[c.name!])]))
    }
    if (param.type === 'address') return (value as string).toLowerCase()
    return value
}

// ---------------------------------------------------------------------------------------------
// Log encoding with viem, from the JSON ABI alone.

function encodeLog(event: AbiEvent, values: Record<string, unknown>): EncodedLog {
    const indexedArgs = Object.fromEntries(
        event.inputs.filter((input) => input.indexed).map((input) => [input.name, values[input.name!]]),
    )
    const topics = encodeEventTopics({abi: [event], eventName: event.name, args: indexedArgs} as never) as Hex[]
    const dataInputs = event.inputs.filter((input) => !input.indexed)
    const data = encodeAbiParameters(
        dataInputs,
        dataInputs.map((input) => values[input.name!]),
    )
    return {topics, data}
}

function expectRoundTrip(contract: string, event: AbiEvent, values: Record<string, unknown>): void {
    const key = generatedEventKey(ABI_EVENTS[contract], event)
    const log = encodeLog(event, values)
    const indexedCount = event.inputs.filter((input) => input.indexed).length

    expect(log.topics, 'topic count of the encoded log').toHaveLength(1 + indexedCount)
    expect(log.topics.every((topic) => typeof topic === 'string'), 'no wildcard topic').toBe(true)

    const generated = generatedEvent(contract, key)
    expect(generated.is(log), `${contract}.${key}.is`).toBe(true)

    const decoded = generated.decode(log)
    expect(Object.keys(decoded), `${contract}.${key} decoded fields`).toEqual(event.inputs.map((i) => i.name))
    for (const input of event.inputs) {
        const expected = toDecodedShape(input, values[input.name!])
        expect(decoded[input.name!], `${contract}.${key}.${input.name}`).toStrictEqual(expected)
    }
}

// ---------------------------------------------------------------------------------------------

describe('abi files', () => {
    it('every file has a generated module', () => {
        expect(ABI_CONTRACTS).toEqual(Object.keys(GENERATED_MODULES).sort())
    })

    it.each(ABI_CONTRACTS)('%s events are all generated', (contract) => {
        const abiKeys = ABI_EVENTS[contract].map((event) => generatedEventKey(ABI_EVENTS[contract], event))
        expect(abiKeys.length).toBeGreaterThan(0)
        expect(Object.keys(GENERATED_MODULES[contract].events).sort()).toEqual([...abiKeys].sort())
    })

    it.each(ABI_CONTRACTS)('%s indexed params are static', (contract) => {
        // An indexed string, bytes, array or tuple reaches the log only as a keccak hash, so the decoder
        // could never return its value. None of the reference events index one.
        const dynamicIndexed = ABI_EVENTS[contract].flatMap((event) =>
            event.inputs
                .filter((input) => input.indexed)
                .filter((input) => /^(string|bytes|tuple)$|\[/.test(input.type))
                .map((input) => `${event.name}.${input.name}`),
        )
        expect(dynamicIndexed).toEqual([])
    })
})

const ALL_EVENTS = ABI_CONTRACTS.flatMap((contract) =>
    ABI_EVENTS[contract].map((event) => ({
        contract,
        event,
        key: generatedEventKey(ABI_EVENTS[contract], event),
        label: `${contract}.${generatedEventKey(ABI_EVENTS[contract], event)}`,
    })),
)

describe('generated topic', () => {
    it.each(ALL_EVENTS)('$label matches viem selector', ({contract, event, key}) => {
        const generated = generatedEvent(contract, key)
        expect(generated.topic).toBe(toEventSelector(event))
        expect(generated.signature).toBe(toEventSignature(event))
    })
})

describe('generated decoder round trip', () => {
    const cases = ALL_EVENTS.flatMap((entry) => SAMPLE_VARIANTS.map((variant) => ({...entry, variant})))

    it.each(cases)('$label with $variant values', ({contract, event, variant}) => {
        expectRoundTrip(contract, event, sampleEventValues(event, variant))
    })
})

// Topic0 prefixes published for the deployed Tangle contracts. A mismatch means the hand-written ABI is wrong.
const PUBLISHED_TOPIC_PREFIXES: [contract: string, event: string, prefix: string][] = [
    ['Tangle', 'BlueprintCreated', '0x7ccd26bc'],
    ['Tangle', 'OperatorPreRegistered', '0xd39ff75a'],
    ['Tangle', 'OperatorRegistered', '0x0455541b'],
    ['Tangle', 'OperatorUnregistered', '0x88e46e95'],
    ['Tangle', 'OperatorPreferencesUpdated', '0xbaca468a'],
    ['Tangle', 'ServiceRequested', '0x5c92301c'],
    ['Tangle', 'ServiceRequestedWithSecurity', '0xf45574f7'],
    ['Tangle', 'ServiceApproved', '0xceda1a44'],
    ['Tangle', 'ServiceActivated', '0x0325bb1c'],
    ['Tangle', 'ServiceTerminated', '0x3fd558a5'],
    ['Tangle', 'OperatorJoinedService', '0x24579187'],
    ['Tangle', 'OperatorLeftService', '0x8ce53e4b'],
    ['Tangle', 'JobSubmitted', '0xde37cc48'],
    ['Tangle', 'JobSubmittedFromQuote', '0xb707259a'],
    ['Tangle', 'JobResultSubmitted', '0x8a04f99f'],
    ['Tangle', 'AggregatedResultSubmitted', '0xe6fcb334'],
    ['Tangle', 'JobCompleted', '0x60a7649f'],
    ['Tangle', 'SlashProposed', '0xea15712b'],
    ['Tangle', 'SlashDisputed', '0x0d4418cc'],
    ['Tangle', 'SlashCancelled', '0xe80d1a18'],
    ['Tangle', 'SlashExecuted', '0x4a816e13'],
    ['TangleLegacy', 'BlueprintCreated', '0x333da245'],
    ['TangleLegacy', 'JobSubmitted', '0xde37cc48'],
    ['OperatorStatusRegistry', 'HeartbeatReceived', '0x658918e3'],
    ['OperatorStatusRegistry', 'OperatorWentOffline', '0x44fd32b6'],
    ['OperatorStatusRegistry', 'OperatorCameOnline', '0xc9862c5f'],
    ['OperatorStatusRegistry', 'StatusChanged', '0x228824b8'],
    ['OperatorStatusRegistry', 'HeartbeatConfigUpdated', '0xc9599ed9'],
    ['OperatorStatusRegistry', 'MetricReported', '0x23ed02bd'],
    ['OperatorStatusRegistry', 'SlashingTriggered', '0x1e2909cf'],
    ['OperatorStatusRegistry', 'OperatorRegistered', '0x8e2d8879'],
    ['OperatorStatusRegistry', 'OperatorDeregistered', '0x08bb93e5'],
    ['MultiAssetDelegation', 'OperatorRegistered', '0xbc11617e'],
]

describe('published topic prefix', () => {
    it.each(PUBLISHED_TOPIC_PREFIXES)('%s.%s starts with %s', (contract, name, prefix) => {
        const event = ABI_EVENTS[contract].find((candidate) => candidate.name === name)
        expect(event, `${contract}.${name} in the JSON ABI`).toBeDefined()
        expect(toEventSelector(event!).slice(0, 10)).toBe(prefix)
        expect(generatedEvent(contract, name).topic.slice(0, 10)).toBe(prefix)
    })
})

// ---------------------------------------------------------------------------------------------
// Hand-written edge cases for the events the indexer leans on most.

function abiEvent(contract: string, name: string): AbiEvent {
    const matches = ABI_EVENTS[contract].filter((candidate) => candidate.name === name)
    expect(matches, `${contract}.${name} must be unique in the JSON ABI`).toHaveLength(1)
    return matches[0]
}

const OPERATOR = getAddress('0x5b38da6a701c568545dcfcddb4de6c9f2f1c0a6e')
const CALLER = getAddress('0xab8483f64d9c6d1ecf9b849ae677dd3315835cb2')

describe('edge case round trip', () => {
    it('BlueprintSourcesRecorded nested sources', () => {
        const sources = [
            {
                kind: 0,
                container: {registry: 'ghcr.io', image: 'tangle-network/sandbox', tag: 'v1.2.3'},
                wasm: {runtime: 0, fetcher: 0, artifactUri: '', entrypoint: ''},
                native: {fetcher: 0, artifactUri: '', entrypoint: ''},
                testing: {cargoPackage: '', cargoBin: '', basePath: ''},
                binaries: [],
            },
            {
                kind: 255,
                container: {registry: '', image: '', tag: ''},
                wasm: {runtime: 1, fetcher: 2, artifactUri: 'ipfs://bafy-wasm', entrypoint: 'main'},
                native: {fetcher: 255, artifactUri: LONG_STRING, entrypoint: NUL_STRING},
                testing: {cargoPackage: 'trading-blueprint', cargoBin: 'operator', basePath: './'},
                binaries: [
                    {arch: 0, os: 0, name: 'operator-x86_64-linux', sha256: hashOf('linux')},
                    {arch: 255, os: 255, name: 'operator-aarch64-macos', sha256: sampleFixedBytes(32, 'max', 0)},
                ],
            },
        ]
        const values = {blueprintId: 2n ** 64n - 1n, sourcesHash: hashOf('sources'), sources}
        expectRoundTrip('Tangle', abiEvent('Tangle', 'BlueprintSourcesRecorded'), values)
    })

    it('BlueprintCreated with metadata hash', () => {
        const values = {
            blueprintId: 17n,
            owner: OPERATOR,
            manager: CALLER,
            metadataUri: 'ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
            metadataHash: hashOf('metadata'),
        }
        expectRoundTrip('Tangle', abiEvent('Tangle', 'BlueprintCreated'), values)
    })

    it('JobSubmitted with large inputs', () => {
        const inputs = encodeAbiParameters(
            [{type: 'tuple', components: [{name: 'env_json', type: 'string'}, {name: 'tee_required', type: 'bool'}]}],
            [{env_json: '{"API_KEY":"' + 'k'.repeat(900) + '"}', tee_required: true}],
        )
        const values = {serviceId: 3n, callId: 2n ** 64n - 1n, jobIndex: 255, caller: CALLER, inputs}
        expectRoundTrip('Tangle', abiEvent('Tangle', 'JobSubmitted'), values)
    })

    it('JobSubmittedFromQuote with many operators', () => {
        const quotedOperators = Array.from({length: 20}, (_, i) => sampleAddress('typical', i))
        const values = {
            serviceId: 0n,
            callId: 0n,
            jobIndex: 0,
            caller: CALLER,
            quotedOperators,
            totalPrice: maxUint256,
            inputs: '0x' as Hex,
        }
        expectRoundTrip('Tangle', abiEvent('Tangle', 'JobSubmittedFromQuote'), values)
    })

    it('OperatorRegistered with NUL in rpcAddress', () => {
        const values = {
            blueprintId: 1n,
            operator: OPERATOR,
            ecdsaPublicKey: `0x04${'1f'.repeat(64)}` as Hex,
            rpcAddress: 'http://127.0.0.1:9200\u0000/evil',
        }
        expectRoundTrip('Tangle', abiEvent('Tangle', 'OperatorRegistered'), values)
    })

    it('HeartbeatReceived with extreme status', () => {
        const values = {serviceId: 1n, blueprintId: 0n, operator: OPERATOR, statusCode: 255, timestamp: maxUint256}
        expectRoundTrip('OperatorStatusRegistry', abiEvent('OperatorStatusRegistry', 'HeartbeatReceived'), values)
    })

    it.each([
        ['int256 min', minInt256],
        ['int256 max', maxInt256],
        ['minus one', -1n],
    ])('ReputationUpdated with %s', (_label, newReputation) => {
        const values = {serviceId: 4n, operator: OPERATOR, newReputation}
        expectRoundTrip('ValidatorBlueprint', abiEvent('ValidatorBlueprint', 'ReputationUpdated'), values)
    })

    it('BatchSettled proven with commitment', () => {
        const values = {
            bookId: hashOf('book'),
            batchNonce: 2n ** 64n - 1n,
            fillsHash: hashOf('fills'),
            fillCount: maxUint256,
            proven: true,
            ordersCommitment: hashOf('orders'),
        }
        expectRoundTrip('Settlement', abiEvent('Settlement', 'BatchSettled'), values)
    })

    it('DebtReductionExecuted three indexed addresses', () => {
        const values = {
            target: OPERATOR,
            value: maxUint256,
            inputToken: CALLER,
            debtDecreased: 1n,
            debtToken: sampleAddress('max', 0),
            intentHash: hashOf('intent'),
        }
        expectRoundTrip('TradingVault', abiEvent('TradingVault', 'DebtReductionExecuted'), values)
    })
})

describe('string decoding', () => {
    it('invalid UTF-8 becomes replacement characters', () => {
        // A string and a bytes value share one wire encoding, so bytes can carry what no JS string can.
        const event = abiEvent('Tangle', 'OperatorRegistered')
        const topics = encodeEventTopics({abi: [event], eventName: event.name, args: {blueprintId: 1n, operator: OPERATOR}} as never) as Hex[]
        const data = encodeAbiParameters([{type: 'bytes'}, {type: 'bytes'}], ['0x01', '0x61ff62'])

        const decoded = Tangle.events.OperatorRegistered.decode({topics, data})

        // The decoder does not throw on invalid UTF-8 but substitutes U+FFFD. A check for invalid
        // chain strings must therefore look for that character or read the raw bytes.
        expect(decoded.rpcAddress).toBe('a\uFFFDb')
        expect(decoded.ecdsaPublicKey).toBe('0x01')
    })
})

// ---------------------------------------------------------------------------------------------
// Shape drift: the indexer chooses a decoder by topic0 and then by topic count.

function realJobSubmittedLog(): EncodedLog {
    const values = {serviceId: 5n, callId: 9n, jobIndex: 4, caller: CALLER, inputs: '0x1234' as Hex}
    return encodeLog(abiEvent('Tangle', 'JobSubmitted'), values)
}

function legacyJobSubmittedLog(): EncodedLog {
    const values = {serviceId: 5n, callId: 9n, jobIndex: 4, caller: CALLER, inputs: '0x1234' as Hex}
    return encodeLog(abiEvent('TangleLegacy', 'JobSubmitted'), values)
}

describe('JobSubmitted shape drift', () => {
    it('legacy and real share topic0', () => {
        expect(TangleLegacy.events.JobSubmitted.topic).toBe(Tangle.events.JobSubmitted.topic)
    })

    it('legacy log has one more topic', () => {
        expect(realJobSubmittedLog().topics).toHaveLength(3)
        expect(legacyJobSubmittedLog().topics).toHaveLength(4)
    })

    it('legacy decoder rejects real log', () => {
        const log = realJobSubmittedLog()
        expect(TangleLegacy.events.JobSubmitted.is(log)).toBe(false)
        expect(() => TangleLegacy.events.JobSubmitted.decode(log)).toThrow(
            'Topic count mismatch. Expected 4 topics, but received 3.',
        )
    })

    it('real decoder rejects legacy log', () => {
        const log = legacyJobSubmittedLog()
        expect(Tangle.events.JobSubmitted.is(log)).toBe(false)
        expect(() => Tangle.events.JobSubmitted.decode(log)).toThrow(
            'Topic count mismatch. Expected 3 topics, but received 4.',
        )
    })

    it('each decoder reads its own shape', () => {
        const real = Tangle.events.JobSubmitted.decode(realJobSubmittedLog())
        const legacy = TangleLegacy.events.JobSubmitted.decode(legacyJobSubmittedLog())
        expect(real.jobIndex).toBe(4)
        expect(legacy.jobIndex).toBe(4)
        expect(real.caller).toBe(CALLER.toLowerCase())
        expect(legacy.caller).toBe(CALLER.toLowerCase())
    })
})

describe('older event shapes', () => {
    it('legacy BlueprintCreated has another topic0', () => {
        expect(TangleLegacy.events.BlueprintCreated.topic).not.toBe(Tangle.events.BlueprintCreated.topic)
    })

    it('legacy BlueprintCreated rejects current log', () => {
        const values = {blueprintId: 1n, owner: OPERATOR, manager: CALLER, metadataUri: 'ipfs://x', metadataHash: hashOf('m')}
        const log = encodeLog(abiEvent('Tangle', 'BlueprintCreated'), values)
        expect(TangleLegacy.events.BlueprintCreated.is(log)).toBe(false)
        expect(() => TangleLegacy.events.BlueprintCreated.decode(log)).toThrow('Invalid event signature')
    })

    it('BatchSettled shapes have distinct topic0s', () => {
        const topics = [
            Settlement.events.BatchSettled.topic,
            SettlementLegacy.events['BatchSettled(uint64 indexed,bytes32,uint256,bool)'].topic,
            SettlementLegacy.events['BatchSettled(bytes32 indexed,uint64 indexed,bytes32,uint256,bool)'].topic,
        ]
        expect(new Set(topics).size).toBe(3)
    })

    it('RedemptionSettled shapes have distinct topic0s', () => {
        expect(SettlementLegacy.events.RedemptionSettled.topic).not.toBe(Settlement.events.RedemptionSettled.topic)
    })

    it('OperatorRegistered differs per contract', () => {
        const topics = [
            Tangle.events.OperatorRegistered.topic,
            OperatorStatusRegistry.events.OperatorRegistered.topic,
            MultiAssetDelegation.events.OperatorRegistered.topic,
        ]
        expect(new Set(topics).size).toBe(3)
    })

    it('ServiceTerminated shared by Tangle and TradingBlueprint', () => {
        // Both emitters use one signature, so only the log address distinguishes them.
        expect(TradingBlueprint.events.ServiceTerminated.topic).toBe(Tangle.events.ServiceTerminated.topic)
    })
})

describe('malformed log', () => {
    it('truncated data throws a decoding error', () => {
        const log = realJobSubmittedLog()
        const truncated = {topics: log.topics, data: log.data.slice(0, -64) as Hex}
        expect(() => Tangle.events.JobSubmitted.decode(truncated)).toThrow('Error decoding argument inputs')
    })

    it('dirty padding decodes unchecked', () => {
        // NOTE: evm-codec 0.3 skips the padding check that solc-emitted logs never need. A log built by
        // hand can still carry dirty bytes, so code that stores an address must check its length itself.
        const topics = [
            Tangle.events.OperatorJoinedService.topic,
            `0x${'0'.repeat(63)}1`,
            `0x${'ff'.repeat(12)}${'11'.repeat(20)}`,
        ]
        const data = `0x${'ab'.repeat(30)}0001`

        const decoded = Tangle.events.OperatorJoinedService.decode({topics, data})

        expect(decoded.operator).toBe(`0x${'ff'.repeat(12)}${'11'.repeat(20)}`)
        expect(decoded.exposureBps).toBe(1)
    })

    it('empty topics throws', () => {
        expect(() => Tangle.events.JobCompleted.decode({topics: [], data: '0x'})).toThrow(
            'Cannot extract event signature from empty topics.',
        )
    })
})

describe('processor keccak256', () => {
    it('equals viem on bytes and hex', () => {
        const cases: (Uint8Array | Hex)[] = [
            new Uint8Array(),
            new TextEncoder().encode('sandbox-7f3a'),
            '0x',
            '0x00',
            '0xDEADbeef',
            // Odd number of digits: viem reads a leading zero.
            '0xabc',
            toHex(new Uint8Array(1_000).map((_, i) => i)),
        ]
        for (const value of cases) expect(processorKeccak(value)).toBe(keccak256(value))
    })

    it('rejects text that is not hex', () => {
        expect(() => processorKeccak('0xzz')).toThrow(/expected 0x-hex/)
        expect(() => processorKeccak('abcd')).toThrow(/expected 0x-hex/)
    })
})
