import type {Product} from './products'

/** A contract to index: its address (any case in the file, lower case once loaded) and first block. */
export interface ContractRef {
    address: string
    /** First block to scan for this contract's logs. */
    startBlock: number
}

/** Every contract family the processor reads. Lists may be empty where a network has no such deployment. */
export interface NetworkContracts {
    tangle: ContractRef
    operatorStatusRegistry: ContractRef
    multiAssetDelegation: ContractRef
    sandboxManagers: ContractRef[]
    tradingManagers: ContractRef[]
    policyEngines: ContractRef[]
    tradeValidators: ContractRef[]
    feeDistributors: ContractRef[]
    vaultFactories: ContractRef[]
    validatorBlueprints: ContractRef[]
    settlements: ContractRef[]
    surplusManagers: ContractRef[]
}

/** Everything proofgap needs to know about one network, validated and with defaults filled. */
export interface NetworkConfig {
    name: string
    chainId: number
    /** JSON-RPC endpoint; never logged with its credentials or query string. */
    rpcUrl: string
    /** Maximum RPC requests per second; undefined means no limit. */
    rpcRateLimit?: number
    /** Maximum parallel RPC requests. */
    rpcCapacity: number
    /** Maximum JSON-RPC calls in one HTTP batch. */
    rpcMaxBatchCallSize: number
    /** Time in ms after which the processor abandons an RPC request and retries it. */
    rpcRequestTimeoutMs: number
    /** Finalized blocks per request group: one JSON-RPC batch of block headers plus one `eth_getLogs` call. */
    rpcBlocksPerRequest: number
    /**
     * Upper bound of finalized blocks per handler call, that is per database transaction. Request groups that arrived
     * while the previous batch was written are merged up to this bound.
     */
    maxBatchBlocks: number
    /** Blocks behind the head that the processor treats as final; hot blocks above that are rolled back on reorgs. */
    finalityConfirmations: number
    contracts: NetworkContracts
    /** Blueprint id (decimal string) to product. */
    blueprints: Record<string, Product>
    /** Addresses the prober may connect to besides public ones: CIDRs or class names such as `loopback`. */
    probeAllow: string[]
}

/** The on-disk / preset shape: RPC settings may come from the environment, lists may be omitted. */
export interface NetworkFile {
    name: string
    chainId: number
    rpcUrl?: string
    rpcRateLimit?: number
    rpcCapacity?: number
    rpcMaxBatchCallSize?: number
    rpcRequestTimeoutMs?: number
    rpcBlocksPerRequest?: number
    maxBatchBlocks?: number
    finalityConfirmations?: number
    contracts: Partial<NetworkContracts> & Pick<NetworkContracts, 'tangle' | 'operatorStatusRegistry' | 'multiAssetDelegation'>
    blueprints?: Record<string, string>
    probeAllow?: string[]
}
