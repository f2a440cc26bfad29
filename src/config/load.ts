import {readFileSync} from 'node:fs'
import {ConfigError, redactUrlForLog} from './errors'
import {ADDRESS_CLASSES} from '../proofs/http/classify-address'
import {compileAddressPolicy} from '../proofs/http/address-policy'
import {NETWORK_PRESETS} from './networks/presets'
import {isProduct, PRODUCTS, type Product} from './products'
import type {ContractRef, NetworkConfig, NetworkContracts, NetworkFile} from './types'

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/
const LIST_KEYS = [
    'sandboxManagers',
    'tradingManagers',
    'policyEngines',
    'tradeValidators',
    'feeDistributors',
    'vaultFactories',
    'validatorBlueprints',
    'settlements',
    'surplusManagers',
] as const
const SINGLE_KEYS = ['tangle', 'operatorStatusRegistry', 'multiAssetDelegation'] as const

/** Defaults for RPC settings; a preset or file may override them, and the environment overrides both. */
export const DEFAULT_RPC_CAPACITY = 10
export const DEFAULT_RPC_MAX_BATCH_CALL_SIZE = 100
export const DEFAULT_FINALITY_CONFIRMATIONS = 10
/** Finalized blocks fetched per request group (evm-processor 1.27 uses 10). */
export const DEFAULT_RPC_BLOCKS_PER_REQUEST = 100
/** Upper bound of finalized blocks per handler call (one database transaction). */
export const DEFAULT_PROCESSOR_MAX_BATCH_BLOCKS = 1000
/** The processor's RPC request timeout when none is set (the evm-processor 1.27 default). */
export const DEFAULT_RPC_REQUEST_TIMEOUT_MS = 30_000

export interface LoadNetworkOptions {
    /** Preset name (`devnet`, `base-sepolia`, `base-sepolia-pre-redeploy`, `tempo`) or a path to a JSON file. */
    network?: string
    env?: Record<string, string | undefined>
}

/**
 * Load one network's configuration from a preset or a JSON file, apply environment overrides, validate every
 * setting, and fill defaults. Throws a ConfigError that lists every problem at once.
 *
 * Environment: NETWORK, RPC_URL, RPC_RATE_LIMIT (requests/s), RPC_CAPACITY, RPC_MAX_BATCH_CALL_SIZE,
 * RPC_REQUEST_TIMEOUT_MS, RPC_BLOCKS_PER_REQUEST, PROCESSOR_MAX_BATCH_BLOCKS, FINALITY_CONFIRMATIONS (blocks), START_BLOCK (overrides every start block not recorded in the preset),
 * PROBE_ALLOW (comma-separated CIDRs or address classes).
 */
export function loadNetworkConfig(options: LoadNetworkOptions = {}): NetworkConfig {
    const env = options.env ?? process.env
    const network = options.network ?? env.NETWORK ?? 'devnet'
    const {file, source} = readNetworkFile(network)
    return validateNetworkFile(file, env, source)
}

function readNetworkFile(network: string): {file: NetworkFile; source: string} {
    const preset = NETWORK_PRESETS[network]
    if (preset) return {file: structuredClone(preset), source: `preset ${network}`}
    if (!network.endsWith('.json')) {
        throw new ConfigError(
            [
                `NETWORK: unknown network "${network}"; use one of ${Object.keys(NETWORK_PRESETS).join(', ')}, ` +
                    'or the path of a network file ending in .json',
            ],
            'command line',
        )
    }
    let text: string
    try {
        text = readFileSync(network, 'utf8')
    } catch (err) {
        throw new ConfigError([`NETWORK: cannot read network file ${network}: ${(err as Error).message}`], network)
    }
    try {
        return {file: JSON.parse(text) as NetworkFile, source: network}
    } catch (err) {
        throw new ConfigError([`NETWORK: ${network} is not valid JSON: ${(err as Error).message}`], network)
    }
}

/** Validate a network file (already parsed) with the environment's overrides. Exported for tests. */
export function validateNetworkFile(
    file: NetworkFile,
    env: Record<string, string | undefined>,
    source: string,
): NetworkConfig {
    const problems: string[] = []
    if (typeof file !== 'object' || file === null) throw new ConfigError(['the network file must be a JSON object'], source)

    const name = typeof file.name === 'string' && file.name !== '' ? file.name : undefined
    if (!name) problems.push('name: missing; give the network a name such as "my-testnet"')

    const chainId = file.chainId
    if (!Number.isSafeInteger(chainId) || chainId <= 0) {
        problems.push(`chainId: expected a positive integer, received ${JSON.stringify(chainId)}`)
    }

    const rpcUrl = env.RPC_URL ?? file.rpcUrl
    if (!rpcUrl) {
        problems.push(`RPC_URL: missing; set RPC_URL to the JSON-RPC endpoint of ${name ?? 'the network'} (http or https)`)
    } else if (!/^(https?|wss?):\/\//.test(rpcUrl)) {
        problems.push(`RPC_URL: expected an http(s) or ws(s) URL, received ${redactUrlForLog(rpcUrl)}`)
    }

    const rpcRateLimit = readNumber('RPC_RATE_LIMIT', env.RPC_RATE_LIMIT, file.rpcRateLimit, problems, {min: 1})
    const rpcCapacity = readNumber('RPC_CAPACITY', env.RPC_CAPACITY, file.rpcCapacity, problems, {min: 1}) ?? DEFAULT_RPC_CAPACITY
    const rpcMaxBatchCallSize =
        readNumber('RPC_MAX_BATCH_CALL_SIZE', env.RPC_MAX_BATCH_CALL_SIZE, file.rpcMaxBatchCallSize, problems, {min: 1}) ??
        DEFAULT_RPC_MAX_BATCH_CALL_SIZE
    const rpcRequestTimeoutMs =
        readNumber('RPC_REQUEST_TIMEOUT_MS', env.RPC_REQUEST_TIMEOUT_MS, file.rpcRequestTimeoutMs, problems, {min: 1}) ??
        DEFAULT_RPC_REQUEST_TIMEOUT_MS
    const rpcBlocksPerRequest =
        readNumber('RPC_BLOCKS_PER_REQUEST', env.RPC_BLOCKS_PER_REQUEST, file.rpcBlocksPerRequest, problems, {min: 1}) ??
        DEFAULT_RPC_BLOCKS_PER_REQUEST
    const maxBatchBlocks =
        readNumber('PROCESSOR_MAX_BATCH_BLOCKS', env.PROCESSOR_MAX_BATCH_BLOCKS, file.maxBatchBlocks, problems, {min: 1}) ??
        DEFAULT_PROCESSOR_MAX_BATCH_BLOCKS
    const finalityConfirmations =
        readNumber('FINALITY_CONFIRMATIONS', env.FINALITY_CONFIRMATIONS, file.finalityConfirmations, problems, {min: 0}) ??
        DEFAULT_FINALITY_CONFIRMATIONS
    const startOverride = readNumber('START_BLOCK', env.START_BLOCK, undefined, problems, {min: 0})

    const contracts = validateContracts(file.contracts, startOverride, problems)
    const blueprints = validateBlueprints(file.blueprints ?? {}, problems)

    const probeAllow = env.PROBE_ALLOW !== undefined
        ? env.PROBE_ALLOW.split(',').map((s) => s.trim()).filter((s) => s !== '')
        : (file.probeAllow ?? [])
    // Checked here, so that a bad entry is reported with the other settings and under its variable's name.
    const probeAllowSource = env.PROBE_ALLOW !== undefined ? 'PROBE_ALLOW' : 'probeAllow'
    for (const entry of probeAllow) {
        try {
            compileAddressPolicy({allow: [entry]})
        } catch {
            problems.push(
                `${probeAllowSource}: invalid entry ${JSON.stringify(entry)}; expected a CIDR such as 127.0.0.1/32 or one of ` +
                    `the classes ${ADDRESS_CLASSES.join(', ')}`,
            )
        }
    }

    if (problems.length > 0) throw new ConfigError(problems, source)
    return {
        name: name!,
        chainId,
        rpcUrl: rpcUrl!,
        rpcRateLimit,
        rpcCapacity,
        rpcMaxBatchCallSize,
        rpcRequestTimeoutMs,
        rpcBlocksPerRequest,
        maxBatchBlocks,
        finalityConfirmations,
        contracts: contracts!,
        blueprints,
        probeAllow,
    }
}

function readNumber(
    key: string,
    fromEnv: string | undefined,
    fromFile: number | undefined,
    problems: string[],
    range: {min: number},
): number | undefined {
    if (fromEnv !== undefined && fromEnv !== '') {
        const value = Number(fromEnv)
        if (!Number.isSafeInteger(value) || value < range.min) {
            problems.push(`${key}: expected an integer >= ${range.min}, received "${fromEnv}"`)
            return undefined
        }
        return value
    }
    if (fromFile === undefined) return undefined
    if (!Number.isSafeInteger(fromFile) || fromFile < range.min) {
        problems.push(`${key}: expected an integer >= ${range.min} in the network file, received ${JSON.stringify(fromFile)}`)
        return undefined
    }
    return fromFile
}

function validateContract(
    path: string,
    value: unknown,
    startOverride: number | undefined,
    problems: string[],
): ContractRef | undefined {
    if (typeof value !== 'object' || value === null) {
        problems.push(`contracts.${path}: missing; expected {"address": "0x…", "startBlock": N}`)
        return undefined
    }
    const {address, startBlock} = value as Partial<ContractRef>
    let ok = true
    if (typeof address !== 'string' || !ADDRESS_RE.test(address)) {
        problems.push(`contracts.${path}.address: expected a 0x-prefixed 20-byte hex address, received ${JSON.stringify(address)}`)
        ok = false
    }
    let start = startBlock
    if (start === -1 || start === undefined) {
        if (startOverride === undefined) {
            const hint = 'START_BLOCK: missing; this preset does not record its deployment block, so set START_BLOCK to the block where the contracts were deployed (a block explorer shows it)'
            if (!problems.includes(hint)) problems.push(hint)
            ok = false
        } else {
            start = startOverride
        }
    } else if (!Number.isSafeInteger(start) || start < 0) {
        problems.push(`contracts.${path}.startBlock: expected an integer >= 0, received ${JSON.stringify(start)}`)
        ok = false
    }
    return ok ? {address: address!.toLowerCase(), startBlock: start!} : undefined
}

function validateContracts(
    contracts: NetworkFile['contracts'] | undefined,
    startOverride: number | undefined,
    problems: string[],
): NetworkContracts | undefined {
    if (typeof contracts !== 'object' || contracts === null) {
        problems.push('contracts: missing; expected an object with tangle, operatorStatusRegistry and multiAssetDelegation')
        return undefined
    }
    const out: Partial<NetworkContracts> = {}
    for (const key of SINGLE_KEYS) {
        out[key] = validateContract(key, contracts[key], startOverride, problems)
    }
    for (const key of LIST_KEYS) {
        const list = contracts[key] ?? []
        if (!Array.isArray(list)) {
            problems.push(`contracts.${key}: expected a list of {"address", "startBlock"}, received ${JSON.stringify(list)}`)
            continue
        }
        out[key] = list
            .map((item, i) => validateContract(`${key}[${i}]`, item, startOverride, problems))
            .filter((c): c is ContractRef => c !== undefined)
    }
    return out as NetworkContracts
}

function validateBlueprints(blueprints: Record<string, string>, problems: string[]): Record<string, Product> {
    const out: Record<string, Product> = {}
    if (typeof blueprints !== 'object' || blueprints === null || Array.isArray(blueprints)) {
        problems.push('blueprints: expected an object mapping blueprint ids to products')
        return out
    }
    for (const [id, product] of Object.entries(blueprints)) {
        if (!/^(0|[1-9][0-9]*)$/.test(id) || BigInt(id) >= 2n ** 64n) {
            problems.push(`blueprints: key "${id}" is not a uint64 blueprint id in decimal`)
            continue
        }
        if (!isProduct(product)) {
            problems.push(`blueprints.${id}: unknown product ${JSON.stringify(product)}; use one of ${PRODUCTS.join(', ')}`)
            continue
        }
        out[id] = product
    }
    return out
}
