import {EvmBatchProcessor} from '@subsquid/evm-processor'
import type {NetworkConfig, ContractRef} from '../config'
import {topicsOf, type Family} from './decode'

/** Which family each configured address belongs to (lowercase address → family). */
export function familiesByAddress(config: NetworkConfig): Map<string, Family> {
    const map = new Map<string, Family>()
    const c = config.contracts
    const put = (refs: ContractRef[], family: Family) => {
        for (const ref of refs) {
            const previous = map.get(ref.address)
            if (previous && previous !== family) {
                throw new Error(`contract ${ref.address} is configured both as ${previous} and as ${family}; give each address one role`)
            }
            map.set(ref.address, family)
        }
    }
    put([c.tangle], 'tangle')
    put([c.operatorStatusRegistry], 'registry')
    put([c.multiAssetDelegation], 'restaking')
    put(c.sandboxManagers, 'sandbox')
    put(c.tradingManagers, 'trading')
    put(c.policyEngines, 'policy')
    put(c.tradeValidators, 'validator')
    put(c.feeDistributors, 'fees')
    put(c.vaultFactories, 'factory')
    put(c.validatorBlueprints, 'validatorBlueprint')
    put(c.settlements, 'settlement')
    put(c.surplusManagers, 'surplusManager')
    return map
}

export interface ProcessorOptions {
    /** Last block to index; the processor stops there. Undefined: follow the head forever. */
    toBlock?: number
    /**
     * Request every log of each block and its logsBloom, so a batch can check that the node returned the complete
     * log list (see verify.ts). The RPC source fetches unfiltered eth_getLogs ranges either way, so this costs
     * mapping time, not RPC calls.
     */
    verifyLogs?: boolean
}

/**
 * Build the batch processor for one network: one log request per contract (address AND topic0, since several
 * contracts share event names), plus vault events by topic0 alone, because vaults are created at run time.
 */
export function createProcessor(config: NetworkConfig, options: ProcessorOptions = {}) {
    const processor = new EvmBatchProcessor()
        .setRpcEndpoint({
            url: config.rpcUrl,
            rateLimit: config.rpcRateLimit,
            capacity: config.rpcCapacity,
            maxBatchCallSize: config.rpcMaxBatchCallSize,
            requestTimeout: config.rpcRequestTimeoutMs,
        })
        .setFinalityConfirmation(config.finalityConfirmations)
        .setFields({
            block: {timestamp: true, logsBloom: options.verifyLogs === true},
            log: {address: true, topics: true, data: true, transactionHash: true, transactionIndex: true, logIndex: true},
        })

    const families = familiesByAddress(config)
    const refs = allContracts(config)
    const from = Math.min(...refs.map((r) => r.startBlock))
    processor.setBlockRange({from, to: options.toBlock})
    for (const ref of refs) {
        processor.addLog({address: [ref.address], topic0: topicsOf(families.get(ref.address)!), range: {from: ref.startBlock}})
    }
    if (options.verifyLogs) processor.addLog({range: {from}})
    const tradingStarts = [...config.contracts.tradingManagers, ...config.contracts.vaultFactories].map((r) => r.startBlock)
    if (tradingStarts.length > 0) {
        processor.addLog({topic0: topicsOf('vault'), range: {from: Math.min(...tradingStarts)}})
    }
    return processor
}

/**
 * Build the test for the logs proofgap decodes: a configured address with one of its family's topic0s, or a vault
 * topic0 from any address. Other logs reach a batch only when the processor requests every log for verification.
 */
export function createLogFilter(families: Map<string, Family>): (log: {address: string; topics: string[]}) => boolean {
    const topicsByAddress = new Map<string, Set<string>>()
    for (const [address, family] of families) topicsByAddress.set(address, new Set(topicsOf(family)))
    const vaultTopics = new Set(topicsOf('vault'))
    return (log) => {
        const topic0 = log.topics[0]
        if (topic0 === undefined) return false
        const topics = topicsByAddress.get(log.address.toLowerCase())
        if (topics) return topics.has(topic0)
        return vaultTopics.has(topic0)
    }
}

export function allContracts(config: NetworkConfig): ContractRef[] {
    const c = config.contracts
    return [
        c.tangle,
        c.operatorStatusRegistry,
        c.multiAssetDelegation,
        ...c.sandboxManagers,
        ...c.tradingManagers,
        ...c.policyEngines,
        ...c.tradeValidators,
        ...c.feeDistributors,
        ...c.vaultFactories,
        ...c.validatorBlueprints,
        ...c.settlements,
        ...c.surplusManagers,
    ]
}
