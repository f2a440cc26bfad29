import type {NetworkFile} from '../types'

/**
 * Contract addresses of the local devnet. The devnet installs a log-emitting contract at each of them with
 * `anvil_setCode`, so they only need to be distinct and stable.
 */
export const DEVNET_ADDRESSES = {
    tangle: '0x7a0000000000000000000000000000000000c0e1',
    operatorStatusRegistry: '0x7a0000000000000000000000000000000000b0a7',
    multiAssetDelegation: '0x7a0000000000000000000000000000000000de1e',
    sandboxManager: '0x7a00000000000000000000000000000000005a9d',
    sandboxInstanceManager: '0x7a00000000000000000000000000000000005a9e',
    sandboxTeeManager: '0x7a00000000000000000000000000000000005a9f',
    tradingManager: '0x7a0000000000000000000000000000000000717a',
    tradingInstanceManager: '0x7a0000000000000000000000000000000000717b',
    policyEngine: '0x7a00000000000000000000000000000000000901',
    tradeValidator: '0x7a00000000000000000000000000000000000902',
    feeDistributor: '0x7a00000000000000000000000000000000000903',
    vaultFactory: '0x7a00000000000000000000000000000000000904',
    validatorBlueprint: '0x7a00000000000000000000000000000000000905',
    settlement: '0x7a0000000000000000000000000000000000fe11',
    surplusManager: '0x7a0000000000000000000000000000000000b5e0',
} as const

/** Blueprint ids the devnet scenario creates, and their products. */
export const DEVNET_BLUEPRINTS = {
    '1': 'sandbox-cloud',
    '2': 'sandbox-instance',
    '3': 'sandbox-tee',
    '4': 'trading-cloud',
    '5': 'trading-instance',
    '6': 'trading-validator',
    '7': 'surplus-market',
} as const

function at(address: string, startBlock = 0) {
    return {address, startBlock}
}

const devnet: NetworkFile = {
    name: 'devnet',
    chainId: 31337,
    finalityConfirmations: 0,
    contracts: {
        tangle: at(DEVNET_ADDRESSES.tangle),
        operatorStatusRegistry: at(DEVNET_ADDRESSES.operatorStatusRegistry),
        multiAssetDelegation: at(DEVNET_ADDRESSES.multiAssetDelegation),
        sandboxManagers: [
            at(DEVNET_ADDRESSES.sandboxManager),
            at(DEVNET_ADDRESSES.sandboxInstanceManager),
            at(DEVNET_ADDRESSES.sandboxTeeManager),
        ],
        tradingManagers: [at(DEVNET_ADDRESSES.tradingManager), at(DEVNET_ADDRESSES.tradingInstanceManager)],
        policyEngines: [at(DEVNET_ADDRESSES.policyEngine)],
        tradeValidators: [at(DEVNET_ADDRESSES.tradeValidator)],
        feeDistributors: [at(DEVNET_ADDRESSES.feeDistributor)],
        vaultFactories: [at(DEVNET_ADDRESSES.vaultFactory)],
        validatorBlueprints: [at(DEVNET_ADDRESSES.validatorBlueprint)],
        settlements: [at(DEVNET_ADDRESSES.settlement)],
        surplusManagers: [at(DEVNET_ADDRESSES.surplusManager)],
    },
    blueprints: {...DEVNET_BLUEPRINTS},
    probeAllow: ['127.0.0.1/32'],
}

/**
 * Base Sepolia after the 2026-05-22 redeploy. The first block of the core contracts is not recorded, so
 * `START_BLOCK` must be set for this preset; product contracts carry the blocks their repositories give.
 */
const baseSepolia: NetworkFile = {
    name: 'base-sepolia',
    chainId: 84532,
    rpcRateLimit: 10,
    finalityConfirmations: 10,
    contracts: {
        tangle: at('0x8299d60f373f3a4a8c4878e335cb9d840e6e3730', -1),
        operatorStatusRegistry: at('0x2a7ceb96a9b18721b5bbb0022b4d358b3c50bcb2', -1),
        multiAssetDelegation: at('0x91b1186f4f31d6e02e481c0af29c7244a3fe417d', -1),
        sandboxManagers: [
            at('0x281d2d1160d80070ebe8989a529b6732c8403625', -1),
            at('0xde25dad1757e5dab5230d44779d7de6ad8181c5c', -1),
            at('0x6d6debfa88260558597ad912439ea1949962b3eb', -1),
        ],
        settlements: [
            at('0x31d0215d77a06ff97cb61bbbe4b931ac0d1da8aa', 42887343),
            at('0x64867eacf2e4581d182c2be634cfd7ff3d3d9f83', -1),
            at('0xf6a64921b62e09c9646675bee6a11fcd533d6783', -1),
            at('0x3fa622488fd970ecde23b8384a98de6ffa5a1763', -1),
        ],
    },
    blueprints: {
        '10': 'sandbox-cloud',
        '11': 'sandbox-instance',
        '12': 'sandbox-tee',
        '13': 'trading-cloud',
        '14': 'trading-instance',
        '15': 'trading-tee',
        '16': 'trading-validator',
        '17': 'surplus-market',
    },
}

/** Base Sepolia before the redeploy: older core addresses, indexed from genesis. */
const baseSepoliaPreRedeploy: NetworkFile = {
    ...baseSepolia,
    name: 'base-sepolia-pre-redeploy',
    contracts: {
        tangle: at('0xc9b0716a187072be0f38a5d972392c6479b9cfe3', 0),
        operatorStatusRegistry: at('0x81443688fce1e4edb822c1d5794c3dac608e9a23', 0),
        multiAssetDelegation: at('0xfeb417fc6d343e0fc88ec9fdb8294bf84d69f0ca', 0),
    },
}

/** Tempo Moderato testnet. */
const tempo: NetworkFile = {
    name: 'tempo',
    chainId: 42431,
    rpcRateLimit: 10,
    finalityConfirmations: 10,
    contracts: {
        tangle: at('0xff137b9c879c47c28ce389e84501925438ab4cda', 25563852),
        operatorStatusRegistry: at('0xaedaffd260e21b41cb9926370e32d14bef812b48', 25563852),
        multiAssetDelegation: at('0x9484d07899b98384f1d66bd5b2659f3ed346f89e', 25563852),
        sandboxManagers: [at('0x506483972499f7b6060d517066eb666ce9c10978', 25563852)],
        settlements: [at('0x83084c8cd2282f6126e25089f0fd26b145eca597', 25563852)],
        surplusManagers: [at('0x6141da46e2e19af20d5f4932e4be973319e40091', 25563852)],
    },
    blueprints: {
        '4': 'sandbox-cloud',
        '7': 'surplus-market',
        '8': 'sandbox-cloud',
    },
}

/** Presets by name. A start block of -1 means "not recorded": `START_BLOCK` must supply it. */
export const NETWORK_PRESETS: Record<string, NetworkFile> = {
    devnet,
    'base-sepolia': baseSepolia,
    'base-sepolia-pre-redeploy': baseSepoliaPreRedeploy,
    tempo,
}
