import {
    concat,
    createClient,
    encodeAbiParameters,
    http,
    keccak256,
    maxUint256,
    slice,
    stringToHex,
    toHex,
    type Hex,
} from 'viem'
import {DEVNET_ADDRESSES} from '../config/networks/presets'
import {ACTORS, HOSTILE_URL_OPERATORS, OPERATORS, word} from './actors'
import {DEVNET_GENESIS_TIMESTAMP_S} from './anvil'
import {emitLogs, installEmitter, type EmittedLog, type LogToEmit} from './emitter'
import {SANDBOX_CREATE_REQUEST} from '../chain/inputs'
import {encodeEvent, type AbiName, type RawString} from './encode'

/** An event of our JSON ABIs, emitted by the contract at `address`. */
export interface ScenarioEvent {
    kind: 'event'
    abi: AbiName
    event: string
    address: Hex
    args: Record<string, unknown>
}

/** Reason an unhandled_log row records for a log the indexer cannot map. */
export type UnhandledReason = 'DECODE_FAILED' | 'TOPIC_COUNT_MISMATCH' | 'ORPHAN' | 'UNKNOWN_EMITTER'

/** A hand-made log that no ABI event describes exactly (hostile input). */
export interface ScenarioRawLog {
    kind: 'raw'
    address: Hex
    topics: Hex[]
    data: Hex
    reason: UnhandledReason
    /** The event the log's topic0 belongs to. */
    eventName: string
    note: string
}

export type ScenarioEntry = ScenarioEvent | ScenarioRawLog

/** One block: mined `advanceSeconds` after the previous one, with one transaction per entry, in order. */
export interface ScenarioStep {
    advanceSeconds: number
    entries: ScenarioEntry[]
}

export interface Scenario {
    genesisTimestamp: number
    steps: ScenarioStep[]
    /** Addresses that need the emitter code: every devnet contract and the vaults. */
    emitterAddresses: Hex[]
}

export interface ScenarioOptions {
    /** URL an operator advertises as its rpcAddress, by operator index 0..11; index 12 is operator 1's updated URL. */
    operatorUrls?: (index: number) => string
    /** Sidecar URL published for a sandbox, by sandbox index. */
    sidecarUrls?: (index: number) => string
    /** Time of the genesis block, seconds since the epoch; the demo starts the chain so that it ends near now. */
    genesisTimestamp?: number
    /**
     * Days of hourly heartbeat history played after the services start (default 0). The demo uses it so weekly
     * scorecards and their change from the previous week have content.
     */
    historyDays?: number
    /**
     * Attestation JSON that operator 5 publishes in a sandbox_create result of TEE service 2, with its keccak256 in
     * TeeAttestationStored. Without it the chain stores the hash of TEE_ATTESTATION_JSON and never the JSON itself.
     */
    teeAttestationJson?: string
}

/** Placeholder ports: the demo passes the URLs of its simulated operators instead. */
const DEFAULT_OPERATOR_PORT_BASE = 19_000
const DEFAULT_SIDECAR_PORT_BASE = 19_500
const BLOCK_TIME_S = 12

/** Heartbeat interval that HeartbeatConfigUpdated sets for service 0, and the round length of the simulation. */
export const SERVICE0_HEARTBEAT_INTERVAL_S = 60
export const DEFAULT_HEARTBEAT_INTERVAL_S = 300
export const HEARTBEAT_ROUNDS = 36

/** The sidecar bearer token that sandbox_create publishes: 40 characters, leaked on chain by design of the product. */
export const LEAKED_SIDECAR_TOKEN = 'sbx_tok_' + '5f0c9e27d4a1b8630e7f2a9c4d15b6e8'
export const SANDBOX_ID = 'sbx-7f3a9c01'
export const TEE_ATTESTATION_JSON = '{"tee_type":"Tdx","evidence":{"quote":"0x04000200"},"measurement":"0xab12","timestamp":1767225600}'
export const TWO_POW_63 = 2n ** 63n

/**
 * The customer's sandbox_create request. Its env_json publishes an API key on chain (a leak by the caller, which
 * proofgap reports) next to a harmless setting and a reference to a secret kept elsewhere, which it does not.
 */
export const SANDBOX_CREATE_INPUT = {
    name: 'agent-1',
    image: 'ghcr.io/tangle-network/agent:latest',
    stack: 'default',
    agent_identifier: 'claude-code',
    env_json: '{"OPENAI_API_KEY":"sk-devnet-4f1c8a2e9b7d3065","LOG_LEVEL":"info","GITHUB_TOKEN":"${GITHUB_TOKEN}"}',
    metadata_json: '{"ports":[8080]}',
    ssh_enabled: false,
    ssh_public_key: '',
    web_terminal_enabled: false,
    max_lifetime_seconds: 86_400n,
    idle_timeout_seconds: 3_600n,
    cpu_cores: 2n,
    memory_mb: 4_096n,
    disk_gb: 20n,
    tee_required: false,
    tee_type: 0,
} as const

/** ABI type of SANDBOX_CREATE_INPUT: `SandboxCreateRequest`, one tuple because it has dynamic members. */
export const sandboxCreateInputType = [{type: 'tuple', components: SANDBOX_CREATE_REQUEST}] as const

const op = OPERATORS
const A = DEVNET_ADDRESSES

function event(abi: AbiName, address: string, name: string, args: Record<string, unknown>): ScenarioEvent {
    return {kind: 'event', abi, event: name, address: address as Hex, args}
}

const tangle = (name: string, args: Record<string, unknown>) => event('Tangle', A.tangle, name, args)
const restaking = (name: string, args: Record<string, unknown>) =>
    event('MultiAssetDelegation', A.multiAssetDelegation, name, args)
const registry = (name: string, args: Record<string, unknown>) =>
    event('OperatorStatusRegistry', A.operatorStatusRegistry, name, args)
const settlement = (name: string, args: Record<string, unknown>) => event('Settlement', A.settlement, name, args)

function ecdsaKey(index: number): Hex {
    return concat(['0x04', word(`ecdsa-x-${index}`), word(`ecdsa-y-${index}`)])
}

const sandboxCreateOutputType = [
    {type: 'tuple', components: [{name: 'sandboxId', type: 'string'}, {name: 'json', type: 'string'}]},
] as const
const tradingProvisionOutputType = [
    {
        type: 'tuple',
        components: [
            {name: 'vault_address', type: 'address'},
            {name: 'share_token', type: 'address'},
            {name: 'sandbox_id', type: 'string'},
            {name: 'workflow_id', type: 'uint64'},
        ],
    },
] as const
const tradingStatusOutputType = [
    {
        type: 'tuple',
        components: [
            {name: 'sandbox_id', type: 'string'},
            {name: 'state', type: 'string'},
            {name: 'portfolio_json', type: 'string'},
            {name: 'trading_active', type: 'bool'},
        ],
    },
] as const
const jsonOutputType = [{type: 'tuple', components: [{name: 'json', type: 'string'}]}] as const
const surplusListOutputType = [
    {type: 'tuple', components: [{name: 'ok', type: 'bool'}, {name: 'instrumentId', type: 'string'}]},
] as const
const surplusTickOutputType = [
    {
        type: 'tuple',
        components: [
            {name: 'quoting', type: 'bool'},
            {name: 'inventoryTokens', type: 'int64'},
            {name: 'rationale', type: 'string'},
        ],
    },
] as const

/** Plain values of the product job outputs, for the expectation to compare with. */
export const OUTPUTS = {
    tradingProvision: {
        vault_address: ACTORS.managerVault,
        share_token: ACTORS.managerVaultShare,
        sandbox_id: 'trading-sbx-3',
        workflow_id: TWO_POW_63,
    },
    tradingStatus: {
        sandbox_id: 'trading-sbx-3',
        state: 'running',
        portfolio_json: '{"cash_usd":"1000.50","positions":[{"token":"WETH","qty":"0.25"}]}',
        trading_active: true,
    },
    surplusList: {ok: true, instrumentId: 'llama-3.1-70b:output'},
    surplusTick: {quoting: true, inventoryTokens: -1500n, rationale: 'inventory short: widen asks'},
} as const

export function sandboxCreateJson(sidecarUrl: string): string {
    return JSON.stringify({
        sandboxId: SANDBOX_ID,
        sidecarUrl,
        token: LEAKED_SIDECAR_TOKEN,
        sshPort: 2222,
        teeAttestationJson: '',
        teePublicKeyJson: '',
    })
}

/** Builds blocks with a running clock, so events can carry the block time they will have. */
class StepBuilder {
    readonly steps: ScenarioStep[] = []
    time: number

    constructor(genesisTimestamp: number) {
        this.time = genesisTimestamp
    }

    block(advanceSeconds: number, ...entries: ScenarioEntry[]): void {
        if (advanceSeconds < 1) throw new Error(`a block must advance time by at least 1 s; got ${advanceSeconds}`)
        if (entries.length === 0) return
        this.time += advanceSeconds
        this.steps.push({advanceSeconds, entries})
    }

    /** Time of the next block when it advances by `advanceSeconds`. */
    nextTime(advanceSeconds: number): number {
        return this.time + advanceSeconds
    }
}

function rawLog(
    base: ScenarioEvent,
    change: (log: Pick<LogToEmit, 'topics' | 'data'>) => Pick<LogToEmit, 'topics' | 'data'>,
    reason: UnhandledReason,
    note: string,
): ScenarioRawLog {
    const encoded = change(encodeEvent(base.abi, base.event, base.args))
    return {kind: 'raw', address: base.address, ...encoded, reason, eventName: base.event, note}
}

/**
 * Builds the devnet scenario: blueprints of the three products, 12 operators, services, jobs with real product
 * outputs, heartbeats over 36 minutes, slashes, product events and hostile logs.
 */
export function buildScenario(options: ScenarioOptions = {}): Scenario {
    const operatorUrl = options.operatorUrls ?? ((index: number) => `http://127.0.0.1:${DEFAULT_OPERATOR_PORT_BASE + index}/`)
    const sidecarUrl = options.sidecarUrls ?? ((index: number) => `http://127.0.0.1:${DEFAULT_SIDECAR_PORT_BASE + index}/`)
    const genesisTimestamp = options.genesisTimestamp ?? DEVNET_GENESIS_TIMESTAMP_S
    const b = new StepBuilder(genesisTimestamp)

    addBlueprints(b)
    addOperators(b, operatorUrl)
    addServices(b)
    if (options.historyDays && options.historyDays > 0) addHeartbeatHistory(b, options.historyDays)
    addJobs(b, sidecarUrl)
    addProductEvents(b, sidecarUrl, options.teeAttestationJson)
    addHeartbeats(b)
    addMembershipChurnAndSlashes(b)
    addSettlement(b)
    addHostileLogs(b)

    const emitterAddresses = new Set<Hex>(Object.values(A) as Hex[])
    emitterAddresses.add(ACTORS.managerVault.toLowerCase() as Hex)
    emitterAddresses.add(ACTORS.factoryVault.toLowerCase() as Hex)
    return {genesisTimestamp, steps: b.steps, emitterAddresses: [...emitterAddresses]}
}

const BLUEPRINT_MANAGERS: Record<number, string> = {
    1: A.sandboxManager,
    2: A.sandboxInstanceManager,
    3: A.sandboxTeeManager,
    4: A.tradingManager,
    5: A.tradingInstanceManager,
    6: A.validatorBlueprint,
    7: A.surplusManager,
}

function addBlueprints(b: StepBuilder): void {
    const created = Object.entries(BLUEPRINT_MANAGERS).map(([id, manager]) =>
        tangle('BlueprintCreated', {
            blueprintId: BigInt(id),
            owner: ACTORS.blueprintOwner,
            manager,
            metadataUri: `ipfs://bafy-devnet-blueprint-${id}`,
            metadataHash: word(`metadata-${id}`),
        }),
    )
    b.block(BLOCK_TIME_S, ...created)

    b.block(
        BLOCK_TIME_S,
        // Older deployments: no metadataHash, another topic0.
        event('TangleLegacy', A.tangle, 'BlueprintCreated', {
            blueprintId: 8n,
            owner: ACTORS.blueprintOwner,
            manager: A.sandboxManager,
            metadataUri: 'ipfs://bafy-devnet-legacy-8',
        }),
        tangle('BlueprintCreated', {
            blueprintId: 9n,
            owner: ACTORS.blueprintOwner,
            manager: '0x0000000000000000000000000000000000000000',
            metadataUri: 'https://example.invalid/blueprint-9.json',
            metadataHash: word('metadata-9'),
        }),
        tangle('BlueprintUpdated', {blueprintId: 1n, metadataUri: 'ipfs://bafy-devnet-blueprint-1-v2', metadataHash: word('metadata-1-v2')}),
        tangle('BlueprintSourcesRecorded', {
            blueprintId: 1n,
            sourcesHash: word('sources-1'),
            sources: [
                {
                    kind: 0,
                    container: {registry: 'ghcr.io', image: 'tangle-network/ai-agent-sandbox-blueprint', tag: 'v0.9.3'},
                    wasm: {runtime: 0, fetcher: 0, artifactUri: '', entrypoint: ''},
                    native: {fetcher: 0, artifactUri: '', entrypoint: ''},
                    testing: {cargoPackage: '', cargoBin: '', basePath: ''},
                    binaries: [],
                },
                {
                    kind: 2,
                    container: {registry: '', image: '', tag: ''},
                    wasm: {runtime: 0, fetcher: 0, artifactUri: '', entrypoint: ''},
                    native: {fetcher: 1, artifactUri: 'https://github.com/tangle-network/sandbox/releases/v0.9.3', entrypoint: 'sandbox-operator'},
                    testing: {cargoPackage: '', cargoBin: '', basePath: ''},
                    binaries: [{arch: 1, os: 1, name: 'sandbox-operator-linux-amd64', sha256: word('binary-sha')}],
                },
            ],
        }),
        tangle('BlueprintTransferred', {blueprintId: 4n, from: ACTORS.blueprintOwner, to: ACTORS.newBlueprintOwner}),
    )
    b.block(BLOCK_TIME_S, tangle('BlueprintDeactivated', {blueprintId: 9n}))
}

/** Blueprint registrations: blueprint id -> operator indexes. */
export const REGISTRATIONS: Record<number, number[]> = {
    1: [0, 1, 2],
    2: [3, 4],
    3: [5],
    4: [6, 7, 8],
    5: [3],
    6: [6],
    7: [9, 10, 11],
}

/**
 * Start of the hostile rpcAddresses. Without a trailing slash the appended bytes become part of the port, so the
 * text never parses as a URL and the prober opens no connection to it.
 */
const HOSTILE_URL_BASE = `http://127.0.0.1:${DEFAULT_OPERATOR_PORT_BASE + 99}`

/** rpcAddresses of HOSTILE_URL_OPERATORS, which register for blueprint 7 only. */
export const HOSTILE_RPC_ADDRESSES: {operator: Hex; rpcAddress: string | RawString}[] = [
    {operator: HOSTILE_URL_OPERATORS.invalidUtf8, rpcAddress: {raw: concat([stringToHex(HOSTILE_URL_BASE), '0xfffe', stringToHex('admin')])}},
    {operator: HOSTILE_URL_OPERATORS.nulBytes, rpcAddress: `${HOSTILE_URL_BASE}\u0000\u0000injected`},
]

function addOperators(b: StepBuilder, operatorUrl: (index: number) => string): void {
    // Restaking layer: operators 0..10; operator 11 registers only with Tangle. Operator 10 stakes 2^256-1.
    const registered = op.slice(0, 11).map((operator, index) =>
        restaking('OperatorRegistered', {operator, stake: index === 10 ? maxUint256 : 10n ** 18n * BigInt(1000 + index)}),
    )
    b.block(BLOCK_TIME_S, ...registered)
    b.block(
        BLOCK_TIME_S,
        restaking('OperatorStakeIncreased', {operator: op[0], amount: 500n * 10n ** 18n}),
        restaking('OperatorStakeIncreased', {operator: op[1], amount: 1n}),
        restaking('OperatorUnstakeScheduled', {operator: op[1], amount: 25n * 10n ** 18n, readyRound: 42n}),
        restaking('OperatorBlueprintAdded', {operator: op[0], blueprintId: 1n}),
        restaking('OperatorLeavingScheduled', {operator: op[9], readyRound: 50n}),
        tangle('OperatorPreRegistered', {blueprintId: 1n, operator: op[0]}),
    )

    const tangleRegistrations: ScenarioEntry[] = []
    for (const [blueprintId, indexes] of Object.entries(REGISTRATIONS)) {
        for (const index of indexes) {
            tangleRegistrations.push(
                tangle('OperatorRegistered', {
                    blueprintId: BigInt(blueprintId),
                    operator: op[index],
                    ecdsaPublicKey: ecdsaKey(index),
                    rpcAddress: operatorUrl(index),
                }),
            )
        }
    }
    for (const [position, {operator, rpcAddress}] of HOSTILE_RPC_ADDRESSES.entries()) {
        tangleRegistrations.push(tangle('OperatorRegistered', {blueprintId: 7n, operator, ecdsaPublicKey: ecdsaKey(120 + position), rpcAddress}))
    }
    b.block(BLOCK_TIME_S, ...tangleRegistrations)
    b.block(
        BLOCK_TIME_S,
        tangle('OperatorPreferencesUpdated', {blueprintId: 1n, operator: op[1], ecdsaPublicKey: ecdsaKey(101), rpcAddress: operatorUrl(12)}),
        tangle('OperatorUnregistered', {blueprintId: 4n, operator: op[8]}),
        tangle('BlueprintSourcesAcked', {blueprintId: 1n, operator: op[0], sourcesHash: word('sources-1')}),
    )
    b.block(
        BLOCK_TIME_S,
        tangle('OperatorRegistered', {blueprintId: 4n, operator: op[8], ecdsaPublicKey: ecdsaKey(108), rpcAddress: operatorUrl(8)}),
        restaking('OperatorLeft', {operator: op[9]}),
    )
}

/** Requests: request id -> blueprint, confidentiality, security flag, approvers, rejecters. */
export const REQUESTS = [
    {requestId: 0n, blueprintId: 1n, confidentiality: 0, withSecurity: false, requester: ACTORS.customerA, approve: [0, 1], reject: [2]},
    {requestId: 1n, blueprintId: 2n, confidentiality: 2, withSecurity: true, requester: ACTORS.customerA, approve: [3, 4], reject: []},
    {requestId: 2n, blueprintId: 3n, confidentiality: 1, withSecurity: true, requester: ACTORS.customerB, approve: [5], reject: []},
    {requestId: 3n, blueprintId: 4n, confidentiality: 3, withSecurity: false, requester: ACTORS.customerB, approve: [6, 7, 8], reject: []},
    {requestId: 4n, blueprintId: 5n, confidentiality: 0, withSecurity: false, requester: ACTORS.customerA, approve: [3], reject: []},
    {requestId: 5n, blueprintId: 6n, confidentiality: 0, withSecurity: true, requester: ACTORS.customerB, approve: [6], reject: []},
    // Never activated.
    {requestId: 6n, blueprintId: 1n, confidentiality: 0, withSecurity: false, requester: ACTORS.customerB, approve: [0], reject: [2]},
]

/** Services activated from requests: service id -> request id. Service 5 comes from a quote (request id 0). */
export const ACTIVATIONS = [
    {serviceId: 0n, requestId: 0n},
    {serviceId: 1n, requestId: 1n},
    {serviceId: 2n, requestId: 2n},
    {serviceId: 3n, requestId: 3n},
    {serviceId: 4n, requestId: 4n},
    {serviceId: 6n, requestId: 5n},
]
export const QUOTE_SERVICE = {serviceId: 5n, blueprintId: 7n, confidentiality: 0, joined: [9, 10, 11]}

function addServices(b: StepBuilder): void {
    b.block(
        BLOCK_TIME_S,
        ...REQUESTS.map((request) =>
            tangle(request.withSecurity ? 'ServiceRequestedWithSecurity' : 'ServiceRequested', {
                requestId: request.requestId,
                blueprintId: request.blueprintId,
                requester: request.requester,
                confidentiality: request.confidentiality,
            }),
        ),
    )
    const responses: ScenarioEntry[] = []
    for (const request of REQUESTS) {
        for (const index of request.approve) responses.push(tangle('ServiceApproved', {requestId: request.requestId, operator: op[index]}))
        for (const index of request.reject) responses.push(tangle('ServiceRejected', {requestId: request.requestId, operator: op[index]}))
    }
    b.block(BLOCK_TIME_S, ...responses)

    b.block(
        BLOCK_TIME_S,
        ...ACTIVATIONS.map(({serviceId, requestId}) => {
            const request = REQUESTS.find((candidate) => candidate.requestId === requestId)!
            return tangle('ServiceActivated', {
                serviceId,
                requestId,
                blueprintId: request.blueprintId,
                confidentiality: request.confidentiality,
            })
        }),
    )
    // A service from a quote names request 0, which is also a real request (activated as service 0 above).
    b.block(
        BLOCK_TIME_S,
        tangle('ServiceActivated', {
            serviceId: QUOTE_SERVICE.serviceId,
            requestId: 0n,
            blueprintId: QUOTE_SERVICE.blueprintId,
            confidentiality: QUOTE_SERVICE.confidentiality,
        }),
        ...QUOTE_SERVICE.joined.map((index) =>
            tangle('OperatorJoinedService', {serviceId: QUOTE_SERVICE.serviceId, operator: op[index], exposureBps: 2500 + index}),
        ),
        tangle('OperatorJoinedService', {serviceId: 0n, operator: op[2], exposureBps: 5000}),
    )
    b.block(
        BLOCK_TIME_S,
        registry('HeartbeatConfigUpdated', {serviceId: 0n, interval: BigInt(SERVICE0_HEARTBEAT_INTERVAL_S), maxMissed: 3}),
        ...[0, 1, 2].map((index) => registry('OperatorRegistered', {serviceId: 0n, operator: op[index]})),
        ...[6, 7, 8].map((index) => registry('OperatorRegistered', {serviceId: 3n, operator: op[index]})),
        ...[9, 10, 11].map((index) => registry('OperatorRegistered', {serviceId: 5n, operator: op[index]})),
    )
}

function addJobs(b: StepBuilder, sidecarUrl: (index: number) => string): void {
    const sandboxInputs = encodeAbiParameters(sandboxCreateInputType, [SANDBOX_CREATE_INPUT])
    const submit = (serviceId: bigint, callId: bigint, jobIndex: number, inputs: Hex) =>
        tangle('JobSubmitted', {serviceId, callId, jobIndex, caller: ACTORS.customerA, inputs})

    b.block(
        BLOCK_TIME_S,
        submit(0n, 0n, 0, sandboxInputs),
        event('SandboxBlueprint', A.sandboxManager, 'OperatorAssigned', {serviceId: 0n, callId: 0n, operator: op[0]}),
        submit(3n, 0n, 0, encodeAbiParameters([{type: 'string'}], ['{"strategy":"momentum","paper":false}'])),
        submit(4n, 0n, 1, encodeAbiParameters([{type: 'string'}], ['{"risk":"low"}'])),
        tangle('JobSubmittedFromQuote', {
            serviceId: 5n,
            callId: 0n,
            jobIndex: 0,
            caller: ACTORS.customerB,
            quotedOperators: [op[9], op[10]],
            totalPrice: 10n ** 18n,
            inputs: encodeAbiParameters([{type: 'string'}], ['llama-3.1-70b:output']),
        }),
    )
    b.block(
        BLOCK_TIME_S * 3,
        tangle('JobResultSubmitted', {
            serviceId: 0n,
            callId: 0n,
            operator: op[0],
            output: encodeAbiParameters(sandboxCreateOutputType, [{sandboxId: SANDBOX_ID, json: sandboxCreateJson(sidecarUrl(0))}]),
        }),
        event('SandboxBlueprint', A.sandboxManager, 'SandboxCreated', {sandboxHash: keccak256(stringToHex(SANDBOX_ID)), operator: op[0]}),
        tangle('JobCompleted', {serviceId: 0n, callId: 0n}),
        tangle('AggregatedResultSubmitted', {
            serviceId: 3n,
            callId: 0n,
            signerBitmap: 7n,
            output: encodeAbiParameters(tradingProvisionOutputType, [OUTPUTS.tradingProvision]),
        }),
        event('TradingBlueprint', A.tradingManager, 'BotVaultDeployed', {
            serviceId: 3n,
            callId: 0n,
            vault: ACTORS.managerVault,
            shareToken: ACTORS.managerVaultShare,
        }),
        tangle('JobCompleted', {serviceId: 3n, callId: 0n}),
        event('TradingBlueprint', A.tradingInstanceManager, 'BotVaultSkipped', {
            serviceId: 4n,
            callId: 0n,
            reason: 'signer floor not met (need >=3 signers)',
        }),
        tangle('JobResultSubmitted', {
            serviceId: 5n,
            callId: 0n,
            operator: op[9],
            output: encodeAbiParameters(surplusListOutputType, [OUTPUTS.surplusList]),
        }),
    )
    b.block(
        BLOCK_TIME_S,
        submit(0n, 1n, 1, encodeAbiParameters([{type: 'string'}], [SANDBOX_ID])),
        submit(3n, 1n, 4, '0x'),
        submit(5n, 1n, 30, '0x'),
        // A sandbox_create result that does not decode as its output type.
        submit(0n, 2n, 0, sandboxInputs),
    )
    b.block(
        BLOCK_TIME_S * 2,
        tangle('JobResultSubmitted', {
            serviceId: 0n,
            callId: 1n,
            operator: op[0],
            output: encodeAbiParameters(jsonOutputType, [{json: '{"deleted":true}'}]),
        }),
        event('SandboxBlueprint', A.sandboxManager, 'SandboxDeleted', {sandboxHash: keccak256(stringToHex(SANDBOX_ID)), operator: op[0]}),
        tangle('JobCompleted', {serviceId: 0n, callId: 1n}),
        tangle('JobResultSubmitted', {
            serviceId: 3n,
            callId: 1n,
            operator: op[6],
            output: encodeAbiParameters(tradingStatusOutputType, [OUTPUTS.tradingStatus]),
        }),
        tangle('JobResultSubmitted', {
            serviceId: 5n,
            callId: 1n,
            operator: op[10],
            output: encodeAbiParameters(surplusTickOutputType, [OUTPUTS.surplusTick]),
        }),
        tangle('JobResultSubmitted', {serviceId: 0n, callId: 2n, operator: op[1], output: '0xdeadbeef'}),
        // A sandbox created with no job output known: its row is keyed by the hash.
        event('SandboxBlueprint', A.sandboxManager, 'SandboxCreated', {sandboxHash: keccak256(stringToHex('sbx-unannounced')), operator: op[1]}),
    )
    // The drift shape: jobIndex as a topic. Decoded with the legacy ABI into a call of shape indexed-job-index.
    b.block(
        BLOCK_TIME_S,
        event('TangleLegacy', A.tangle, 'JobSubmitted', {serviceId: 0n, callId: 3n, jobIndex: 2, caller: ACTORS.customerA, inputs: '0x01'}),
    )
}

/** Call of the sandbox_create job through which operator 5 publishes its attestation JSON in service 2. */
export const TEE_SANDBOX_CALL_ID = 0n

/** The sandbox_create request of TEE service 2: a TDX sandbox with no secret in its environment. */
const TEE_SANDBOX_CREATE_INPUT = {...SANDBOX_CREATE_INPUT, name: 'agent-tee', env_json: '{}', tee_required: true, tee_type: 1} as const

/**
 * Publishes operator 5's attestation JSON in a sandbox_create result of service 2, where the prober reads it.
 * NOTE: deployed TEE-instance managers reject job 0 and provision through a direct operator transaction, so there
 * the JSON is in no job result and the prober records ATTESTATION_JSON_UNKNOWN.
 */
function addTeeSandboxJob(b: StepBuilder, sidecarUrl: (index: number) => string, attestationJson: string): void {
    b.block(
        BLOCK_TIME_S,
        tangle('JobSubmitted', {
            serviceId: 2n,
            callId: TEE_SANDBOX_CALL_ID,
            jobIndex: 0,
            caller: ACTORS.customerB,
            inputs: encodeAbiParameters(sandboxCreateInputType, [TEE_SANDBOX_CREATE_INPUT]),
        }),
    )
    const json = JSON.stringify({sandboxId: 'sbx-tee-5', sidecarUrl: sidecarUrl(5), sshPort: 2222, teeAttestationJson: attestationJson, teePublicKeyJson: ''})
    b.block(
        BLOCK_TIME_S,
        tangle('JobResultSubmitted', {
            serviceId: 2n,
            callId: TEE_SANDBOX_CALL_ID,
            operator: op[5],
            output: encodeAbiParameters(sandboxCreateOutputType, [{sandboxId: 'sbx-tee-5', json}]),
        }),
        tangle('JobCompleted', {serviceId: 2n, callId: TEE_SANDBOX_CALL_ID}),
    )
}

function addProductEvents(b: StepBuilder, sidecarUrl: (index: number) => string, teeAttestationJson: string | undefined): void {
    const sandboxInstance = (address: string, name: string, args: Record<string, unknown>) => event('SandboxBlueprint', address, name, args)
    if (teeAttestationJson !== undefined) addTeeSandboxJob(b, sidecarUrl, teeAttestationJson)
    b.block(
        BLOCK_TIME_S,
        sandboxInstance(A.sandboxTeeManager, 'TeeAttestationStored', {
            serviceId: 2n,
            operator: op[5],
            attestationHash: keccak256(stringToHex(teeAttestationJson ?? TEE_ATTESTATION_JSON)),
        }),
        sandboxInstance(A.sandboxTeeManager, 'OperatorProvisioned', {serviceId: 2n, operator: op[5], sandboxId: 'sbx-tee-5', sidecarUrl: sidecarUrl(5)}),
        sandboxInstance(A.sandboxInstanceManager, 'OperatorProvisioned', {serviceId: 1n, operator: op[3], sandboxId: 'sbx-inst-3', sidecarUrl: sidecarUrl(3)}),
        sandboxInstance(A.sandboxInstanceManager, 'OperatorProvisioned', {serviceId: 1n, operator: op[4], sandboxId: 'sbx-inst-4', sidecarUrl: sidecarUrl(4)}),
    )
    b.block(BLOCK_TIME_S, sandboxInstance(A.sandboxInstanceManager, 'OperatorDeprovisioned', {serviceId: 1n, operator: op[4]}))

    const vault = ACTORS.managerVault
    b.block(
        BLOCK_TIME_S,
        event('VaultFactory', A.vaultFactory, 'VaultCreated', {
            serviceId: 4n,
            vault: ACTORS.factoryVault,
            shareToken: ACTORS.factoryVaultShare,
            assetToken: ACTORS.assetToken,
            admin: ACTORS.vaultAdmin,
            operator: op[3],
        }),
        event('TradingBlueprint', A.tradingManager, 'OperatorGranted', {serviceId: 3n, operator: op[6], vault}),
        event('PolicyEngine', A.policyEngine, 'VaultInitialized', {
            vault,
            admin: ACTORS.vaultAdmin,
            leverageCap: 3n,
            maxTradesPerHour: 10n,
            maxSlippageBps: 50n,
        }),
        event('PolicyEngine', A.policyEngine, 'PolicyUpdated', {vault, policyType: 4}),
        event('TradeValidator', A.tradeValidator, 'VaultConfigured', {vault, requiredSignatures: 2n, totalSigners: 3n}),
        event('TradeValidator', A.tradeValidator, 'SignerAdded', {vault, signer: ACTORS.signerA}),
        event('TradeValidator', A.tradeValidator, 'SignerAdded', {vault, signer: ACTORS.signerB}),
        event('TradeValidator', A.tradeValidator, 'SignerAdded', {vault, signer: ACTORS.signerC}),
        event('TradingBlueprint', A.tradingManager, 'TradingStarted', {serviceId: 3n}),
        event('TradingBlueprint', A.tradingInstanceManager, 'TradingStarted', {serviceId: 4n}),
    )
    b.block(
        BLOCK_TIME_S,
        event('TradingVault', vault, 'TradeExecuted', {
            target: ACTORS.dexRouter,
            value: 1_000_000_000n,
            outputGained: 400_000_000_000_000_000n,
            outputToken: ACTORS.outputToken,
            intentHash: word('intent-1'),
        }),
        event('TradingVault', vault, 'TradeExecuted', {
            target: ACTORS.dexRouter,
            value: maxUint256,
            outputGained: 0n,
            outputToken: ACTORS.outputToken,
            intentHash: word('intent-2'),
        }),
        event('TradingVault', vault, 'DebtReductionExecuted', {
            target: ACTORS.dexRouter,
            value: 5_000n,
            inputToken: ACTORS.assetToken,
            debtDecreased: 4_900n,
            debtToken: ACTORS.debtToken,
            intentHash: word('intent-3'),
        }),
        event('TradingVault', ACTORS.factoryVault, 'TradeExecuted', {
            target: ACTORS.dexRouter,
            value: 7n,
            outputGained: 6n,
            outputToken: ACTORS.outputToken,
            intentHash: word('intent-4'),
        }),
        event('TradeValidator', A.tradeValidator, 'SignerRemoved', {vault, signer: ACTORS.signerC}),
    )
    // Service 3 goes on trading, so its bots' live-mode claims stand. Service 4 stops and winds its vault down.
    b.block(
        BLOCK_TIME_S,
        event('TradingBlueprint', A.tradingInstanceManager, 'TradingStopped', {serviceId: 4n}),
        event('TradingVault', ACTORS.factoryVault, 'WindDownActivated', {timestamp: BigInt(b.nextTime(BLOCK_TIME_S))}),
        // Same topic0 as the core ServiceTerminated: from the trading manager it must not terminate core service 3.
        event('TradingBlueprint', A.tradingManager, 'ServiceTerminated', {serviceId: 3n}),
    )
}

/** Degraded status codes that operator 1 cycles through. */
const DEGRADED_CODES = [1, 50, 99, 100, 150]
/** Rounds in which operator 2 misses its heartbeats on service 0. */
const OPERATOR2_GAP = {from: 10, to: 19}
/** Round in which operator 0 reports blueprint 7 for service 0 (the event's blueprint id is caller-supplied). */
const LYING_BLUEPRINT_ROUND = 3
/** Round in which operator 7 reports status 200, which also triggers SlashingTriggered. */
const SLASHING_ROUND = 15
/** Round after which operator 8 is forced out of service 3. */
export const EXIT_FORCED_ROUND = 20

function heartbeat(serviceId: bigint, blueprintId: bigint, operatorIndex: number, statusCode: number, timestamp: number): ScenarioEvent {
    return registry('HeartbeatReceived', {serviceId, blueprintId, operator: op[operatorIndex], statusCode, timestamp: BigInt(timestamp)})
}

/** Heartbeat interval during the history, and the hours in which operators 2 and 7 are silent. */
const HISTORY_INTERVAL_S = 3600
const HISTORY_OPERATOR2_SILENT_HOURS = {from: 48, to: 71}
const HISTORY_OPERATOR7_SILENT_HOURS = {from: 200, to: 211}

/**
 * Hourly heartbeats of services 0, 3 and 5 over `days` days, with one day of silence for operator 2, half a day for
 * operator 7, and a degraded status from operator 1 every sixth hour. The services' heartbeat settings are set to one
 * hour for the history and back to their scenario values after it.
 */
function addHeartbeatHistory(b: StepBuilder, days: number): void {
    const services = [
        {serviceId: 0n, blueprintId: 1n, operators: [0, 1, 2]},
        {serviceId: 3n, blueprintId: 4n, operators: [6, 7, 8]},
        {serviceId: 5n, blueprintId: 7n, operators: [9, 10, 11]},
    ]
    b.block(
        BLOCK_TIME_S,
        ...services.map(({serviceId}) => registry('HeartbeatConfigUpdated', {serviceId, interval: BigInt(HISTORY_INTERVAL_S), maxMissed: 2})),
    )
    const silent = (index: number, hour: number) =>
        (index === 2 && hour >= HISTORY_OPERATOR2_SILENT_HOURS.from && hour <= HISTORY_OPERATOR2_SILENT_HOURS.to) ||
        (index === 7 && hour >= HISTORY_OPERATOR7_SILENT_HOURS.from && hour <= HISTORY_OPERATOR7_SILENT_HOURS.to)
    for (let hour = 0; hour < days * 24; hour++) {
        const time = b.nextTime(HISTORY_INTERVAL_S)
        const entries: ScenarioEntry[] = []
        for (const {serviceId, blueprintId, operators} of services) {
            for (const index of operators) {
                if (silent(index, hour)) continue
                const code = index === 1 && hour % 6 === 0 ? 1 : 0
                entries.push(heartbeat(serviceId, blueprintId, index, code, time))
            }
        }
        b.block(HISTORY_INTERVAL_S, ...entries)
    }
    b.block(
        BLOCK_TIME_S,
        registry('HeartbeatConfigUpdated', {serviceId: 0n, interval: BigInt(SERVICE0_HEARTBEAT_INTERVAL_S), maxMissed: 3}),
        registry('HeartbeatConfigUpdated', {serviceId: 3n, interval: BigInt(DEFAULT_HEARTBEAT_INTERVAL_S), maxMissed: 3}),
        registry('HeartbeatConfigUpdated', {serviceId: 5n, interval: BigInt(DEFAULT_HEARTBEAT_INTERVAL_S), maxMissed: 3}),
    )
}

function addHeartbeats(b: StepBuilder): void {
    const roundsPerDefaultInterval = DEFAULT_HEARTBEAT_INTERVAL_S / SERVICE0_HEARTBEAT_INTERVAL_S
    for (let round = 0; round < HEARTBEAT_ROUNDS; round++) {
        const time = b.nextTime(SERVICE0_HEARTBEAT_INTERVAL_S)
        const entries: ScenarioEntry[] = []

        entries.push(heartbeat(0n, round === LYING_BLUEPRINT_ROUND ? 7n : 1n, 0, 0, time))
        const operator1Code = round % 4 === 1 ? DEGRADED_CODES[Math.floor(round / 4) % DEGRADED_CODES.length] : 0
        entries.push(heartbeat(0n, 1n, 1, operator1Code, time))
        if (round === OPERATOR2_GAP.from + 3) {
            entries.push(registry('OperatorWentOffline', {serviceId: 0n, operator: op[2], missedBeats: 3}))
            entries.push(registry('StatusChanged', {serviceId: 0n, operator: op[2], oldStatus: 0, newStatus: 2}))
        }
        if (round === OPERATOR2_GAP.to + 1) {
            entries.push(registry('OperatorCameOnline', {serviceId: 0n, operator: op[2]}))
        }
        if (round < OPERATOR2_GAP.from || round > OPERATOR2_GAP.to) entries.push(heartbeat(0n, 1n, 2, 0, time))
        if (round === OPERATOR2_GAP.to + 1) {
            entries.push(registry('StatusChanged', {serviceId: 0n, operator: op[2], oldStatus: 2, newStatus: 0}))
        }
        if (round === 5) {
            entries.push(registry('MetricReported', {serviceId: 0n, operator: op[0], metricName: 'cpu_pct', value: 42n}))
            entries.push(registry('MetricViolation', {serviceId: 0n, operator: op[1], metricName: 'latency_ms', reason: 'p99 above 2000 ms'}))
        }

        if (round % roundsPerDefaultInterval === 0 || round === SLASHING_ROUND) {
            for (const index of [6, 7, 8]) {
                if (index === 8 && round > EXIT_FORCED_ROUND) continue
                const code = index === 7 && round === SLASHING_ROUND ? 200 : 0
                if (code >= 200) entries.push(registry('SlashingTriggered', {serviceId: 3n, operator: op[index], reason: 'status code 200\u0000'}))
                entries.push(heartbeat(3n, 4n, index, code, time))
                if (code >= 200) entries.push(registry('StatusChanged', {serviceId: 3n, operator: op[index], oldStatus: 0, newStatus: 1}))
            }
        }
        if (round % roundsPerDefaultInterval === 2) {
            for (const index of [9, 10, 11]) entries.push(heartbeat(5n, 7n, index, 0, time))
        }
        if (round === EXIT_FORCED_ROUND) {
            entries.push(tangle('ExitScheduled', {serviceId: 3n, operator: op[8], executeAfter: BigInt(time + 3600)}))
        }
        if (round === EXIT_FORCED_ROUND + 1) {
            entries.push(tangle('ExitForced', {serviceId: 3n, operator: op[8], forcer: ACTORS.exitForcer}))
            entries.push(registry('OperatorDeregistered', {serviceId: 3n, operator: op[8]}))
        }
        b.block(SERVICE0_HEARTBEAT_INTERVAL_S, ...entries)
    }
}

function addMembershipChurnAndSlashes(b: StepBuilder): void {
    b.block(
        BLOCK_TIME_S,
        tangle('ExitScheduled', {serviceId: 0n, operator: op[2], executeAfter: BigInt(b.nextTime(BLOCK_TIME_S) + 7200)}),
        tangle('SlashProposed', {
            slashId: 0n,
            serviceId: 0n,
            operator: op[1],
            proposer: ACTORS.slashProposer,
            slashBps: 1000,
            effectiveSlashBps: 500,
            evidence: word('evidence-0'),
            executeAfter: BigInt(b.nextTime(BLOCK_TIME_S) + 86_400),
        }),
        tangle('SlashProposed', {
            slashId: 1n,
            serviceId: 3n,
            operator: op[7],
            proposer: ACTORS.slashProposer,
            slashBps: 10_000,
            effectiveSlashBps: 10_000,
            evidence: word('evidence-1'),
            executeAfter: BigInt(b.nextTime(BLOCK_TIME_S) + 60),
        }),
    )
    b.block(
        BLOCK_TIME_S,
        tangle('ExitCanceled', {serviceId: 0n, operator: op[2]}),
        tangle('SlashDisputed', {slashId: 0n, disputer: op[1], reason: 'heartbeat gap was a registry outage'}),
    )
    b.block(
        120,
        tangle('SlashCancelled', {slashId: 0n, canceller: ACTORS.slashCanceller, reason: 'dispute upheld'}),
        tangle('SlashExecuted', {slashId: 1n, serviceId: 3n, operator: op[7], actualSlashed: maxUint256}),
        tangle('OperatorLeftService', {serviceId: 0n, operator: op[2]}),
        // Forced out earlier, operator 8 joins again but sends no heartbeat, so only the probes of its bot show its state.
        tangle('OperatorJoinedService', {serviceId: 3n, operator: op[8], exposureBps: 3000}),
    )
    b.block(
        BLOCK_TIME_S,
        tangle('ServiceTerminated', {serviceId: 1n}),
        tangle('ServiceTerminatedForNonPayment', {
            serviceId: 6n,
            triggeredBy: ACTORS.customerA,
            dueAt: BigInt(b.nextTime(BLOCK_TIME_S) - 3600),
            graceEndsAt: BigInt(b.nextTime(BLOCK_TIME_S) - 60),
            requiredAmount: 10n ** 18n,
            escrowBalance: 0n,
        }),
    )
}

/** Redemption ids of the settlement scenario. */
export const REDEMPTIONS = {
    settled: word('redemption-settled'),
    defaulted: word('redemption-defaulted'),
    unserved: word('redemption-unserved'),
}
export const BOOK_ID = word('book-llama')

function addSettlement(b: StepBuilder): void {
    const lot = word('lot-1')
    b.block(
        BLOCK_TIME_S,
        settlement('BookRegistered', {
            bookId: BOOK_ID,
            attesters: [ACTORS.attesterA, ACTORS.attesterB, ACTORS.attesterC],
            threshold: 2,
            feeBps: 30,
            feeRecipient: ACTORS.feeRecipient,
        }),
        ...[1, 2, 3].map((fill) =>
            settlement('FillSettled', {
                buyOrderHash: word(`buy-${fill}`),
                sellOrderHash: word(`sell-${fill}`),
                instrument: word('instrument-llama-output'),
                qtyTokens: 1_000_000n * BigInt(fill),
                execPriceMicroPerM: 600_000n,
                costMicro: 600_000n * BigInt(fill),
                lotId: lot,
            }),
        ),
        settlement('BatchSettled', {
            bookId: BOOK_ID,
            batchNonce: 1n,
            fillsHash: word('fills-1'),
            fillCount: 3n,
            proven: false,
            ordersCommitment: word('orders-1'),
        }),
    )
    const now = b.nextTime(BLOCK_TIME_S)
    b.block(
        BLOCK_TIME_S,
        settlement('BatchSettled', {
            bookId: BOOK_ID,
            batchNonce: 2n,
            fillsHash: word('fills-2'),
            fillCount: 0n,
            proven: true,
            ordersCommitment: word('orders-2'),
        }),
        settlement('AttestersRotated', {bookId: BOOK_ID, attesters: [ACTORS.attesterA, ACTORS.attesterB, ACTORS.attesterD], threshold: 3}),
        settlement('RedemptionRequested', {
            redemptionId: REDEMPTIONS.settled,
            lotId: lot,
            issuer: ACTORS.issuer,
            holder: ACTORS.holderA,
            qtyTokens: 100_000n,
            deadline: BigInt(now + 600),
        }),
        settlement('RedemptionRequested', {
            redemptionId: REDEMPTIONS.defaulted,
            lotId: lot,
            issuer: ACTORS.issuer,
            holder: ACTORS.holderB,
            qtyTokens: 50_000n,
            deadline: BigInt(now + 60),
        }),
        // Never served: its deadline passes before the scenario ends.
        settlement('RedemptionRequested', {
            redemptionId: REDEMPTIONS.unserved,
            lotId: lot,
            issuer: ACTORS.issuer,
            holder: ACTORS.holderB,
            qtyTokens: 7n,
            deadline: BigInt(now + 30),
        }),
        settlement('SpendSettled', {authDigest: word('auth-1'), lotId: lot, deltaTokens: 1_000n, cumulativeTokens: 1_000n, debitMicro: 600n}),
    )
    b.block(
        BLOCK_TIME_S,
        settlement('AttestationPosted', {
            redemptionId: REDEMPTIONS.settled,
            bookId: BOOK_ID,
            servedTokens: 100_000n,
            workCommitment: word('work-1'),
            challengeDeadline: BigInt(now + 300),
        }),
    )
    b.block(
        120,
        settlement('RedemptionSettled', {
            redemptionId: REDEMPTIONS.settled,
            servedTokens: 100_000n,
            notionalDebitMicro: 60_000n,
            workCommitment: word('work-1'),
        }),
        settlement('RedemptionDefaulted', {
            defaultId: 1n,
            redemptionId: REDEMPTIONS.defaulted,
            issuer: ACTORS.issuer,
            holder: ACTORS.holderB,
            payoutMicro: 30_000n,
        }),
    )
}

function addHostileLogs(b: StepBuilder): void {
    const activated = tangle('ServiceActivated', {serviceId: 77n, requestId: 77n, blueprintId: 1n, confidentiality: 0})
    const truncatedHeartbeat = heartbeat(0n, 1n, 0, 0, b.nextTime(BLOCK_TIME_S))
    b.block(
        BLOCK_TIME_S,
        rawLog(activated, (log) => ({topics: log.topics.slice(0, 3), data: log.data}), 'TOPIC_COUNT_MISMATCH', 'ServiceActivated without its blueprintId topic'),
        rawLog(truncatedHeartbeat, (log) => ({topics: log.topics, data: slice(log.data, 0, 40)}), 'DECODE_FAILED', 'HeartbeatReceived with 40 of 64 data bytes'),
        tangle('JobResultSubmitted', {serviceId: 99n, callId: 0n, operator: op[0], output: toHex('orphan')}),
        heartbeat(99n, 1n, 0, 0, b.nextTime(BLOCK_TIME_S)),
    )
}

/** Emits every step of the scenario on the node at `rpcUrl` and returns the logs in chain order. */
/** Chain time the scenario spans, in seconds from genesis to its last block. */
export function scenarioDurationSeconds(scenario: Scenario): number {
    return scenario.steps.reduce((sum, step) => sum + step.advanceSeconds, 0)
}

export async function runScenario(rpcUrl: string, scenario: Scenario): Promise<EmittedLog[]> {
    const client = createClient({transport: http(rpcUrl, {batch: true})})
    await installEmitter(client, scenario.emitterAddresses)
    const records: EmittedLog[] = []
    let time = scenario.genesisTimestamp
    for (const step of scenario.steps) {
        time += step.advanceSeconds
        const logs = step.entries.map(entryLog)
        records.push(...(await emitLogs(client, logs, {timestamp: time})))
    }
    return records
}

/** Encodes the log that an entry emits. */
export function entryLog(entry: ScenarioEntry): LogToEmit {
    if (entry.kind === 'raw') return {address: entry.address, topics: entry.topics, data: entry.data}
    return {address: entry.address, ...encodeEvent(entry.abi, entry.event, entry.args)}
}

/** Lists every entry of the scenario, in emission order. */
export function scenarioEntries(scenario: Scenario): ScenarioEntry[] {
    return scenario.steps.flatMap((step) => step.entries)
}
