import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'

/** Chain id of the local devnet, which the devnet network preset expects. */
export const DEVNET_CHAIN_ID = 31337

/** Genesis time of the devnet (2026-01-01T00:00:00Z), fixed so that block times repeat from run to run. */
export const DEVNET_GENESIS_TIMESTAMP_S = 1_767_225_600

const ANVIL_PACKAGE = '@foundry-rs/anvil-linux-amd64'
const ANVIL_START_TIMEOUT_MS = 15_000
const ANVIL_STOP_TIMEOUT_MS = 5_000

export interface AnvilOptions {
    /** Genesis block time in seconds since the epoch; default DEVNET_GENESIS_TIMESTAMP_S. */
    genesisTimestamp?: number
    /** Start with mining disabled (blocks only on `evm_mine`); default false. */
    noMining?: boolean
    /**
     * Keep no state of past blocks (`--prune-history`); default false. Blocks and logs stay readable. Without it anvil
     * writes the states of old blocks to ~/.foundry/anvil/tmp and leaves them there: 4.2 GB for a chain of 10,000
     * blocks of 100 logs.
     */
    pruneHistory?: boolean
    /**
     * Run anvil in a process group of its own; default false. Ctrl-C in a terminal then does not reach it, and the
     * caller stops it after the services that read from it. The exit hook still kills it when this process exits.
     */
    ownProcessGroup?: boolean
}

export interface AnvilInstance {
    rpcUrl: string
    /** Process id of the node, for measurements. */
    pid: number
    /** Kills the node and waits until its process has exited. */
    stop(): Promise<void>
}

/** Returns the path of the anvil binary that the npm package `@foundry-rs/anvil` installed. */
export function resolveAnvilBinary(): string {
    let packageJson: string
    try {
        packageJson = require.resolve(`${ANVIL_PACKAGE}/package.json`)
    } catch {
        throw new Error(
            `anvil binary not found: the package ${ANVIL_PACKAGE} is not installed. ` +
                'Run `npm install` (it comes with @foundry-rs/anvil on linux x64).',
        )
    }
    const binary = path.join(path.dirname(packageJson), 'bin', 'anvil')
    if (!existsSync(binary)) {
        throw new Error(`anvil binary missing at ${binary}: reinstall ${ANVIL_PACKAGE} with \`npm install\`.`)
    }
    return binary
}

const running = new Set<ChildProcess>()
let exitHookInstalled = false

// A test runner that exits while a node still runs would leave it behind: kill every child on exit.
function installExitHook(): void {
    if (exitHookInstalled) return
    exitHookInstalled = true
    process.once('exit', () => {
        for (const child of running) child.kill('SIGKILL')
    })
}

/**
 * Starts anvil on 127.0.0.1 on a port the OS picks (`--port 0`), and returns its RPC URL once the banner
 * names the port.
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilInstance> {
    const args = [
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--chain-id',
        String(DEVNET_CHAIN_ID),
        '--timestamp',
        String(options.genesisTimestamp ?? DEVNET_GENESIS_TIMESTAMP_S),
    ]
    if (options.noMining) args.push('--no-mining')
    if (options.pruneHistory) args.push('--prune-history')

    const child = spawn(resolveAnvilBinary(), args, {stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownProcessGroup ?? false})
    running.add(child)
    installExitHook()
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    exited.then(() => running.delete(child))

    const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM')
            const timer = setTimeout(() => child.kill('SIGKILL'), ANVIL_STOP_TIMEOUT_MS)
            await exited
            clearTimeout(timer)
        }
    }

    try {
        const port = await waitForListeningPort(child)
        return {rpcUrl: `http://127.0.0.1:${port}`, pid: child.pid!, stop}
    } catch (error) {
        await stop()
        throw error
    }
}

function waitForListeningPort(child: ChildProcess): Promise<number> {
    return new Promise((resolve, reject) => {
        let output = ''
        const timer = setTimeout(() => {
            reject(new Error(`anvil timed out: no listening port reported within ${ANVIL_START_TIMEOUT_MS} ms. Output: ${output.slice(-500)}`))
        }, ANVIL_START_TIMEOUT_MS)
        const onData = (chunk: Buffer) => {
            output += chunk.toString('utf8')
            const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(output)
            if (match) {
                clearTimeout(timer)
                child.stdout?.off('data', onData)
                // Keep draining the pipes so that a full buffer never blocks the node.
                child.stdout?.resume()
                resolve(Number(match[1]))
            }
        }
        child.stdout?.on('data', onData)
        child.stderr?.on('data', (chunk: Buffer) => {
            output += chunk.toString('utf8')
        })
        child.once('exit', (code, signal) => {
            clearTimeout(timer)
            reject(new Error(`anvil exited before listening (code ${code}, signal ${signal}). Output: ${output.slice(-500)}`))
        })
        child.once('error', (error) => {
            clearTimeout(timer)
            reject(new Error(`anvil failed to start: ${error.message}`))
        })
    })
}
