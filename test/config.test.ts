import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {
    ConfigError,
    DEFAULT_FINALITY_CONFIRMATIONS,
    DEFAULT_PROCESSOR_MAX_BATCH_BLOCKS,
    DEFAULT_RPC_BLOCKS_PER_REQUEST,
    DEVNET_ADDRESSES,
    loadNetworkConfig,
    NETWORK_PRESETS,
    validateNetworkFile,
    type NetworkFile,
} from '../src/config'

const RPC_URL = 'http://127.0.0.1:8545'

/** The ConfigError a call throws; fails the test when it returns or throws anything else. */
function configErrorOf(call: () => unknown): ConfigError {
    try {
        call()
    } catch (err) {
        if (err instanceof ConfigError) return err
        throw err
    }
    throw new Error('expected a ConfigError, but the configuration loaded')
}

/** Builds a minimal valid network file and applies the case's change to it. */
function networkFile(change: (file: NetworkFile) => void = () => undefined): NetworkFile {
    const file: NetworkFile = {
        name: 'my-testnet',
        chainId: 31337,
        contracts: {
            tangle: {address: DEVNET_ADDRESSES.tangle, startBlock: 5},
            operatorStatusRegistry: {address: DEVNET_ADDRESSES.operatorStatusRegistry, startBlock: 5},
            multiAssetDelegation: {address: DEVNET_ADDRESSES.multiAssetDelegation, startBlock: 5},
            sandboxManagers: [{address: DEVNET_ADDRESSES.sandboxManager, startBlock: 7}],
        },
        blueprints: {'1': 'sandbox-cloud'},
    }
    change(file)
    return file
}

describe('presets load', () => {
    const cases: {network: string; env: Record<string, string>; chainId: number}[] = [
        {network: 'devnet', env: {RPC_URL}, chainId: 31337},
        {network: 'base-sepolia', env: {RPC_URL, START_BLOCK: '40000000'}, chainId: 84532},
        {network: 'base-sepolia-pre-redeploy', env: {RPC_URL}, chainId: 84532},
        {network: 'tempo', env: {RPC_URL}, chainId: 42431},
    ]

    it('every preset has a case', () => {
        expect(cases.map((c) => c.network).sort()).toEqual(Object.keys(NETWORK_PRESETS).sort())
    })

    it.each(cases)('$network loads', ({network, env, chainId}) => {
        const config = loadNetworkConfig({network, env})
        expect(config.name).toBe(network)
        expect(config.chainId).toBe(chainId)
        expect(config.rpcUrl).toBe(RPC_URL)
        expect(config.contracts.tangle.address).toMatch(/^0x[0-9a-f]{40}$/)
        expect(Number.isSafeInteger(config.contracts.tangle.startBlock)).toBe(true)
        expect(config.contracts.tangle.startBlock).toBeGreaterThanOrEqual(0)
    })

    it('base-sepolia takes START_BLOCK for unrecorded blocks', () => {
        const config = loadNetworkConfig({network: 'base-sepolia', env: {RPC_URL, START_BLOCK: '40000000'}})
        expect(config.contracts.tangle.startBlock).toBe(40_000_000)
        // A start block the preset records stays as it is.
        expect(config.contracts.settlements[0].startBlock).toBe(42_887_343)
    })

    it('devnet fills defaults', () => {
        const config = loadNetworkConfig({network: 'devnet', env: {RPC_URL}})
        expect(config.finalityConfirmations).toBe(0)
        expect(config.rpcRateLimit).toBeUndefined()
        expect(config.blueprints['7']).toBe('surplus-market')
    })

    it('environment overrides finality confirmations', () => {
        const config = loadNetworkConfig({network: 'devnet', env: {RPC_URL, FINALITY_CONFIRMATIONS: '5'}})
        expect(config.finalityConfirmations).toBe(5)
    })
})

describe('invalid settings are named', () => {
    const cases: {name: string; load: () => unknown; setting: string; detail: RegExp}[] = [
        {
            name: 'missing RPC_URL',
            load: () => loadNetworkConfig({network: 'devnet', env: {}}),
            setting: 'RPC_URL',
            detail: /missing; set RPC_URL/,
        },
        {
            name: 'RPC_URL without http scheme',
            load: () => loadNetworkConfig({network: 'devnet', env: {RPC_URL: 'ftp://127.0.0.1/'}}),
            setting: 'RPC_URL',
            detail: /expected an http\(s\) or ws\(s\) URL/,
        },
        {
            name: 'unknown network',
            load: () => loadNetworkConfig({network: 'mainnet-x', env: {RPC_URL}}),
            setting: 'NETWORK',
            detail: /unknown network "mainnet-x"; use one of devnet, /,
        },
        {
            name: 'bad PROBE_ALLOW entry',
            load: () => loadNetworkConfig({network: 'devnet', env: {RPC_URL, PROBE_ALLOW: 'loopback, 10.0.0.0/33'}}),
            setting: 'PROBE_ALLOW',
            detail: /invalid entry "10\.0\.0\.0\/33"; expected a CIDR such as 127\.0\.0\.1\/32 or one of the classes public, /,
        },
        {
            name: 'bad probeAllow in a network file',
            load: () => validateNetworkFile(networkFile((f) => (f.probeAllow = ['intranet'])), {RPC_URL}, 'test'),
            setting: 'probeAllow',
            detail: /invalid entry "intranet"/,
        },
        {
            name: 'base-sepolia without START_BLOCK',
            load: () => loadNetworkConfig({network: 'base-sepolia', env: {RPC_URL}}),
            setting: 'START_BLOCK',
            detail: /set START_BLOCK to the block where the contracts were deployed/,
        },
        {
            name: 'bad contract address',
            load: () =>
                validateNetworkFile(
                    networkFile((f) => (f.contracts.tangle = {address: '0x1234', startBlock: 0})),
                    {RPC_URL},
                    'test',
                ),
            setting: 'contracts.tangle.address',
            detail: /expected a 0x-prefixed 20-byte hex address, received "0x1234"/,
        },
        {
            name: 'bad list address',
            load: () =>
                validateNetworkFile(
                    networkFile((f) => (f.contracts.sandboxManagers = [{address: 'not-an-address', startBlock: 0}])),
                    {RPC_URL},
                    'test',
                ),
            setting: 'contracts.sandboxManagers[0].address',
            detail: /received "not-an-address"/,
        },
        {
            name: 'negative startBlock',
            load: () =>
                validateNetworkFile(
                    networkFile((f) => (f.contracts.multiAssetDelegation = {address: DEVNET_ADDRESSES.multiAssetDelegation, startBlock: -5})),
                    {RPC_URL},
                    'test',
                ),
            setting: 'contracts.multiAssetDelegation.startBlock',
            detail: /expected an integer >= 0, received -5/,
        },
        {
            name: 'fractional startBlock',
            load: () =>
                validateNetworkFile(
                    networkFile((f) => (f.contracts.operatorStatusRegistry = {address: DEVNET_ADDRESSES.operatorStatusRegistry, startBlock: 1.5})),
                    {RPC_URL},
                    'test',
                ),
            setting: 'contracts.operatorStatusRegistry.startBlock',
            detail: /received 1\.5/,
        },
        {
            name: 'non-integer START_BLOCK',
            load: () => loadNetworkConfig({network: 'base-sepolia', env: {RPC_URL, START_BLOCK: 'latest'}}),
            setting: 'START_BLOCK',
            detail: /expected an integer >= 0, received "latest"/,
        },
        {
            name: 'unknown product',
            load: () => validateNetworkFile(networkFile((f) => (f.blueprints = {'1': 'sandbox-cloudy'})), {RPC_URL}, 'test'),
            setting: 'blueprints.1',
            detail: /unknown product "sandbox-cloudy"; use one of sandbox-cloud, /,
        },
        {
            name: 'blueprint id outside uint64',
            load: () => validateNetworkFile(networkFile((f) => (f.blueprints = {'18446744073709551616': 'sandbox-cloud'})), {RPC_URL}, 'test'),
            setting: 'blueprints',
            detail: /key "18446744073709551616" is not a uint64 blueprint id/,
        },
        {
            name: 'non-integer RPC_RATE_LIMIT',
            load: () => loadNetworkConfig({network: 'devnet', env: {RPC_URL, RPC_RATE_LIMIT: '2.5'}}),
            setting: 'RPC_RATE_LIMIT',
            detail: /expected an integer >= 1, received "2\.5"/,
        },
        {
            name: 'non-numeric RPC_RATE_LIMIT',
            load: () => loadNetworkConfig({network: 'devnet', env: {RPC_URL, RPC_RATE_LIMIT: 'fast'}}),
            setting: 'RPC_RATE_LIMIT',
            detail: /received "fast"/,
        },
        {
            name: 'zero RPC_CAPACITY',
            load: () => loadNetworkConfig({network: 'devnet', env: {RPC_URL, RPC_CAPACITY: '0'}}),
            setting: 'RPC_CAPACITY',
            detail: /expected an integer >= 1, received "0"/,
        },
        {
            name: 'zero RPC_BLOCKS_PER_REQUEST',
            load: () => loadNetworkConfig({network: 'devnet', env: {RPC_URL, RPC_BLOCKS_PER_REQUEST: '0'}}),
            setting: 'RPC_BLOCKS_PER_REQUEST',
            detail: /expected an integer >= 1, received "0"/,
        },
        {
            name: 'fractional PROCESSOR_MAX_BATCH_BLOCKS',
            load: () => loadNetworkConfig({network: 'devnet', env: {RPC_URL, PROCESSOR_MAX_BATCH_BLOCKS: '50.5'}}),
            setting: 'PROCESSOR_MAX_BATCH_BLOCKS',
            detail: /expected an integer >= 1, received "50\.5"/,
        },
        {
            name: 'negative FINALITY_CONFIRMATIONS',
            load: () => loadNetworkConfig({network: 'devnet', env: {RPC_URL, FINALITY_CONFIRMATIONS: '-1'}}),
            setting: 'FINALITY_CONFIRMATIONS',
            detail: /expected an integer >= 0, received "-1"/,
        },
        {
            name: 'missing chainId',
            load: () => validateNetworkFile(networkFile((f) => delete (f as Partial<NetworkFile>).chainId), {RPC_URL}, 'test'),
            setting: 'chainId',
            detail: /expected a positive integer, received undefined/,
        },
        {
            name: 'missing tangle contract',
            load: () => validateNetworkFile(networkFile((f) => delete (f.contracts as Partial<NetworkFile['contracts']>).tangle), {RPC_URL}, 'test'),
            setting: 'contracts.tangle',
            detail: /missing; expected \{"address": "0x…", "startBlock": N\}/,
        },
    ]

    it.each(cases)('$name', ({load, setting, detail}) => {
        const error = configErrorOf(load)
        const problem = error.problems.find((p) => p.startsWith(`${setting}:`) || p.startsWith(`${setting} `))
        expect(problem, `no problem names ${setting}: ${JSON.stringify(error.problems)}`).toBeDefined()
        expect(problem).toMatch(detail)
        expect(error.message).toContain(problem)
    })

    it('every problem listed at once', () => {
        const error = configErrorOf(() =>
            validateNetworkFile(
                networkFile((f) => {
                    f.contracts.tangle = {address: '0xzz', startBlock: 0}
                    f.blueprints = {'1': 'nope'}
                }),
                {RPC_URL: '', RPC_RATE_LIMIT: 'x'},
                'test',
            ),
        )
        const settings = error.problems.map((p) => p.slice(0, p.indexOf(':')))
        expect(settings.sort()).toEqual(['RPC_RATE_LIMIT', 'RPC_URL', 'blueprints.1', 'contracts.tangle.address'])
    })
})

describe('user network file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-config-'))
    afterAll(() => rmSync(dir, {recursive: true, force: true}))

    it('valid file loads', () => {
        const file = path.join(dir, 'my-testnet.json')
        writeFileSync(
            file,
            JSON.stringify(
                networkFile((f) => {
                    f.rpcUrl = 'http://127.0.0.1:9545'
                    f.contracts.tangle.address = '0x7A0000000000000000000000000000000000C0E1'
                }),
            ),
        )
        const config = loadNetworkConfig({network: file, env: {}})
        expect(config.name).toBe('my-testnet')
        expect(config.rpcUrl).toBe('http://127.0.0.1:9545')
        expect(config.contracts.tangle).toEqual({address: DEVNET_ADDRESSES.tangle, startBlock: 5})
        expect(config.contracts.sandboxManagers).toEqual([{address: DEVNET_ADDRESSES.sandboxManager, startBlock: 7}])
        expect(config.contracts.settlements).toEqual([])
        expect(config.blueprints).toEqual({'1': 'sandbox-cloud'})
        expect(config.finalityConfirmations).toBe(DEFAULT_FINALITY_CONFIRMATIONS)
        expect(config.rpcBlocksPerRequest).toBe(DEFAULT_RPC_BLOCKS_PER_REQUEST)
        expect(config.maxBatchBlocks).toBe(DEFAULT_PROCESSOR_MAX_BATCH_BLOCKS)
    })

    it('batch settings come from the environment', () => {
        const config = loadNetworkConfig({network: 'devnet', env: {RPC_URL, RPC_BLOCKS_PER_REQUEST: '25', PROCESSOR_MAX_BATCH_BLOCKS: '300'}})
        expect(config.rpcBlocksPerRequest).toBe(25)
        expect(config.maxBatchBlocks).toBe(300)
    })

    it('RPC_URL overrides the file', () => {
        const file = path.join(dir, 'with-rpc.json')
        writeFileSync(file, JSON.stringify(networkFile((f) => (f.rpcUrl = 'http://127.0.0.1:9545'))))
        expect(loadNetworkConfig({network: file, env: {RPC_URL}}).rpcUrl).toBe(RPC_URL)
    })

    it('invalid JSON is named', () => {
        const file = path.join(dir, 'broken.json')
        writeFileSync(file, '{"name": "broken",')
        const error = configErrorOf(() => loadNetworkConfig({network: file, env: {RPC_URL}}))
        expect(error.problems).toHaveLength(1)
        expect(error.problems[0]).toMatch(/^NETWORK: .*broken\.json is not valid JSON/)
    })

    it('missing file is named', () => {
        const file = path.join(dir, 'absent.json')
        const error = configErrorOf(() => loadNetworkConfig({network: file, env: {RPC_URL}}))
        expect(error.problems[0]).toMatch(/^NETWORK: cannot read network file .*absent\.json/)
    })
})

it('START_BLOCK hint given once', () => {
    const error = configErrorOf(() => loadNetworkConfig({network: 'base-sepolia', env: {RPC_URL}}))
    expect(error.problems.filter((problem) => problem.startsWith('START_BLOCK')).length).toBe(1)
})

describe('credentials in URLs', () => {
    const secretUrls = [
        'ftp://alice:s3cr3t-pass@127.0.0.1:8545/',
        'ftp://127.0.0.1:8545/rpc?apikey=s3cr3t-pass',
        'ftp://alice:s3cr3t-pass@127.0.0.1:8545/rpc?apikey=s3cr3t-pass#frag',
    ]

    it.each(secretUrls)('%s redacted in the message', (url) => {
        const error = configErrorOf(() => loadNetworkConfig({network: 'devnet', env: {RPC_URL: url}}))
        expect(error.message).not.toContain('s3cr3t-pass')
        expect(error.message).not.toContain('alice')
        expect(error.problems.join('\n')).not.toContain('s3cr3t-pass')
        expect(error.message).toContain('ftp://127.0.0.1:8545/')
        expect(error.message).toContain('(credentials and query removed)')
    })

    it('URL without scheme redacted', () => {
        // A forgotten scheme makes `alice:` parse as the scheme and the password as the path.
        const error = configErrorOf(() => loadNetworkConfig({network: 'devnet', env: {RPC_URL: 'alice:s3cr3t-pass@127.0.0.1:8545'}}))
        expect(error.problems[0]).toMatch(/^RPC_URL: expected an http\(s\) or ws\(s\) URL/)
        expect(error.message).not.toContain('s3cr3t-pass')
    })
})
