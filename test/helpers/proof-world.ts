import {concat, createClient, encodeAbiParameters, http, keccak256, stringToHex, type Hex} from 'viem'
import {DEVNET_ADDRESSES} from '../../src/config/networks/presets'
import {actorAddress, word} from '../../src/devnet/actors'
import {emitLogs, installEmitter, type EmittedLog, type LogToEmit} from '../../src/devnet/emitter'
import {encodeEvent, type AbiName} from '../../src/devnet/encode'
import type {SimulatedOperatorSpec} from '../../src/devnet/operators'
import {buildSimulatedTdxAttestationJson} from '../../src/devnet/operators/tee-fixture'

/*
 * A small devnet world with the chain facts under which the proof kinds that the demo scenario cannot pass do pass:
 * a TEE sandbox whose published attestation matches its TeeAttestationStored hash, a three-signer trading service
 * with a vault, its policy and a live trade, and a venue whose redemption was settled before its deadline. It also
 * has a sandbox whose sidecar accepts connections from outside and a venue with a crossed book. It has no proven
 * settlement batch, so the SP1 check is not applicable in it.
 */

const A = DEVNET_ADDRESSES
const BLOCK_TIME_S = 12

/** Operators of the world by role; the index into PROOF_WORLD_ROLES is the fleet index too. */
export const PROOF_WORLD_ROLES = ['tee', 'trader-a', 'trader-b', 'trader-c', 'sidecar-outside', 'venue', 'crossed-venue'] as const
export type ProofWorldRole = (typeof PROOF_WORLD_ROLES)[number]

export const PROOF_WORLD_OPERATORS: Record<ProofWorldRole, Hex> = Object.fromEntries(
    PROOF_WORLD_ROLES.map((role) => [role, actorAddress(`proof-world-${role}`)]),
) as Record<ProofWorldRole, Hex>

const TRADERS: ProofWorldRole[] = ['trader-a', 'trader-b', 'trader-c']
const VENUES: ProofWorldRole[] = ['venue', 'crossed-venue']

/** Services of the world: service id, blueprint (devnet preset ids), confidentiality and members. */
export const PROOF_WORLD_SERVICES = {
    tee: {serviceId: 0n, blueprintId: 3n, confidentiality: 1, members: ['tee']},
    trading: {serviceId: 1n, blueprintId: 4n, confidentiality: 0, members: TRADERS},
    sidecar: {serviceId: 2n, blueprintId: 2n, confidentiality: 0, members: ['sidecar-outside']},
    market: {serviceId: 3n, blueprintId: 7n, confidentiality: 0, members: VENUES},
} as const satisfies Record<string, {serviceId: bigint; blueprintId: bigint; confidentiality: number; members: readonly ProofWorldRole[]}>

/** Blueprint managers of the devnet preset, by blueprint id. */
const BLUEPRINT_MANAGERS: Record<string, string> = {
    '2': A.sandboxInstanceManager,
    '3': A.sandboxTeeManager,
    '4': A.tradingManager,
    '7': A.surplusManager,
}

export const PROOF_WORLD_VAULT = actorAddress('proof-world-vault').toLowerCase() as Hex
const VAULT_SHARE = actorAddress('proof-world-vault-share')
/** Policy of the vault; the simulated bots' default risk parameters (leverage 2, 10 trades/h, 50 bps) stay within it. */
export const PROOF_WORLD_POLICY = {leverageCap: 3n, maxTradesPerHour: 10n, maxSlippageBps: 50n}
export const PROOF_WORLD_REDEMPTION = word('proof-world-redemption')
/** Seconds between a redemption request and its deadline. */
const REDEMPTION_WINDOW_S = 600

/**
 * The fleet of the world, one simulated operator per role. The trading bots list `liveTradeTxHashes` as live trades
 * and name `validatorEndpoints`; both arrays are read when a bot responds, so the caller fills them once the chain and
 * the fleet exist.
 */
export function proofWorldFleetSpecs(liveTradeTxHashes: string[], validatorEndpoints: string[]): SimulatedOperatorSpec[] {
    return PROOF_WORLD_ROLES.map((role): SimulatedOperatorSpec => {
        if (role === 'tee') return {product: 'sandbox', name: role, sandbox: {runtimeBackend: 'tee'}}
        if (role === 'sidecar-outside') return {product: 'sandbox', name: role, behaviour: 'sidecar-outside'}
        if (role === 'venue') return {product: 'surplus', name: role, surplus: {operatorAddress: PROOF_WORLD_OPERATORS.venue, clobGroup: 'world'}}
        if (role === 'crossed-venue') {
            return {product: 'surplus', name: role, behaviour: 'crossed-book', surplus: {operatorAddress: PROOF_WORLD_OPERATORS[role], clobGroup: 'world'}}
        }
        return {
            product: 'trading',
            name: role,
            trading: {
                operatorAddress: PROOF_WORLD_OPERATORS[role],
                serviceId: PROOF_WORLD_SERVICES.trading.serviceId.toString(),
                vaultAddress: PROOF_WORLD_VAULT,
                liveTradeTxHashes,
                validatorEndpoints,
                // Each trader's trading API acts as one validator of the vault. It responds only when exposed.
                exposeTradingApi: true,
            },
        }
    })
}

interface WorldEvent {
    abi: AbiName
    address: string
    name: string
    args: Record<string, unknown>
}

function event(abi: AbiName, address: string, name: string, args: Record<string, unknown>): WorldEvent {
    return {abi, address, name, args}
}

const tangle = (name: string, args: Record<string, unknown>) => event('Tangle', A.tangle, name, args)

const sandboxCreateOutputType = [
    {type: 'tuple', components: [{name: 'sandboxId', type: 'string'}, {name: 'json', type: 'string'}]},
] as const

export interface ProofWorldChain {
    /** The attestation JSON the TEE operator published, whose keccak256 is on chain. */
    attestationJson: string
    /** Transaction of the vault's TradeExecuted. */
    tradeTxHash: Hex
    logs: EmittedLog[]
}

export interface ProofWorldUrls {
    /** Advertised rpcAddress by role. */
    operatorUrl: (role: ProofWorldRole) => string
    /** Sidecar URL by role, for the sandbox roles. */
    sidecarUrl: (role: ProofWorldRole) => string
}

/**
 * Emits the world's chain on the node at `rpcUrl`, one block per step ending near the wall clock, and returns the
 * values the simulated operators must serve to agree with it.
 */
export async function emitProofWorld(rpcUrl: string, urls: ProofWorldUrls, nowUnixSeconds: number): Promise<ProofWorldChain> {
    const client = createClient({transport: http(rpcUrl, {batch: true})})
    await installEmitter(client, [...Object.values(A), PROOF_WORLD_VAULT] as Hex[])
    const op = PROOF_WORLD_OPERATORS
    const attestationJson = buildSimulatedTdxAttestationJson(nowUnixSeconds)
    const services = Object.values(PROOF_WORLD_SERVICES)

    const steps: WorldEvent[][] = [
        Object.entries(BLUEPRINT_MANAGERS).map(([id, manager]) =>
            tangle('BlueprintCreated', {
                blueprintId: BigInt(id),
                owner: actorAddress('proof-world-blueprint-owner'),
                manager,
                metadataUri: `ipfs://proof-world-${id}`,
                metadataHash: word(`proof-world-metadata-${id}`),
            }),
        ),
        PROOF_WORLD_ROLES.map((role) => event('MultiAssetDelegation', A.multiAssetDelegation, 'OperatorRegistered', {operator: op[role], stake: 10n ** 21n})),
        services.flatMap((service) =>
            service.members.map((role) =>
                tangle('OperatorRegistered', {
                    blueprintId: service.blueprintId,
                    operator: op[role],
                    ecdsaPublicKey: concat(['0x04', word(`proof-world-x-${role}`), word(`proof-world-y-${role}`)]),
                    rpcAddress: urls.operatorUrl(role),
                }),
            ),
        ),
        services.map((service) =>
            tangle('ServiceRequested', {
                requestId: service.serviceId,
                blueprintId: service.blueprintId,
                requester: actorAddress('proof-world-customer'),
                confidentiality: service.confidentiality,
            }),
        ),
        // NOTE: approvals share the activation block. When ServiceActivated lands in a later processor batch than
        // its approvals, the processor reads the approving operators without loading them and records HANDLER_ERROR.
        [
            ...services.flatMap((service) => service.members.map((role) => tangle('ServiceApproved', {requestId: service.serviceId, operator: op[role]}))),
            ...services.map((service) =>
                tangle('ServiceActivated', {
                    serviceId: service.serviceId,
                    requestId: service.serviceId,
                    blueprintId: service.blueprintId,
                    confidentiality: service.confidentiality,
                }),
            ),
        ],
        [
            tangle('JobSubmitted', {serviceId: 0n, callId: 0n, jobIndex: 0, caller: actorAddress('proof-world-customer'), inputs: '0x'}),
            event('SandboxBlueprint', A.sandboxInstanceManager, 'OperatorProvisioned', {
                serviceId: 2n,
                operator: op['sidecar-outside'],
                sandboxId: 'sbx-world-sidecar',
                sidecarUrl: urls.sidecarUrl('sidecar-outside'),
            }),
            event('TradingBlueprint', A.tradingManager, 'BotVaultDeployed', {serviceId: 1n, callId: 0n, vault: PROOF_WORLD_VAULT, shareToken: VAULT_SHARE}),
            event('PolicyEngine', A.policyEngine, 'VaultInitialized', {vault: PROOF_WORLD_VAULT, admin: actorAddress('proof-world-admin'), ...PROOF_WORLD_POLICY}),
            event('TradeValidator', A.tradeValidator, 'VaultConfigured', {vault: PROOF_WORLD_VAULT, requiredSignatures: 2n, totalSigners: 3n}),
        ],
        [
            tangle('JobResultSubmitted', {
                serviceId: 0n,
                callId: 0n,
                operator: op.tee,
                output: encodeAbiParameters(sandboxCreateOutputType, [
                    {
                        sandboxId: 'sbx-world-tee',
                        json: JSON.stringify({sandboxId: 'sbx-world-tee', sidecarUrl: urls.sidecarUrl('tee'), teeAttestationJson: attestationJson}),
                    },
                ]),
            }),
            event('SandboxBlueprint', A.sandboxTeeManager, 'TeeAttestationStored', {
                serviceId: 0n,
                operator: op.tee,
                attestationHash: keccak256(stringToHex(attestationJson)),
            }),
            event('TradingVault', PROOF_WORLD_VAULT, 'TradeExecuted', {
                target: actorAddress('proof-world-dex'),
                value: 1_000_000n,
                outputGained: 400n,
                outputToken: actorAddress('proof-world-weth'),
                intentHash: word('proof-world-intent'),
            }),
        ],
    ]

    const logs: EmittedLog[] = []
    // Blocks are dated so that the chain ends just before `nowUnixSeconds`, the time the attestation carries.
    let time = nowUnixSeconds - BLOCK_TIME_S * (steps.length + 3)
    const emit = async (entries: WorldEvent[]): Promise<EmittedLog[]> => {
        time += BLOCK_TIME_S
        const encoded: LogToEmit[] = entries.map((entry) => ({address: entry.address as Hex, ...encodeEvent(entry.abi, entry.name, entry.args)}))
        const emitted = await emitLogs(client, encoded, {timestamp: time})
        logs.push(...emitted)
        return emitted
    }
    for (const step of steps) await emit(step)

    const requestedAt = time + BLOCK_TIME_S
    await emit([
        event('Settlement', A.settlement, 'RedemptionRequested', {
            redemptionId: PROOF_WORLD_REDEMPTION,
            lotId: word('proof-world-lot'),
            issuer: op.venue,
            holder: actorAddress('proof-world-holder'),
            qtyTokens: 10_000n,
            deadline: BigInt(requestedAt + REDEMPTION_WINDOW_S),
        }),
    ])
    await emit([
        event('Settlement', A.settlement, 'RedemptionSettled', {
            redemptionId: PROOF_WORLD_REDEMPTION,
            servedTokens: 10_000n,
            notionalDebitMicro: 6_000n,
            workCommitment: word('proof-world-work'),
        }),
    ])

    const trade = logs.find((log) => log.address === PROOF_WORLD_VAULT)
    if (trade === undefined) throw new Error(`no TradeExecuted log from vault ${PROOF_WORLD_VAULT} landed on chain`)
    return {attestationJson, tradeTxHash: trade.txHash, logs}
}
