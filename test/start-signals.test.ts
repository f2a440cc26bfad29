import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {freePort} from '../src/db/embedded'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {PROJECT_ROOT} from '../src/stack/children'
import {descendants, isAlive, killTree} from './helpers/processes'

/*
 * A supervisor such as Docker stops `npm start` with SIGTERM to the one process it started, not to a process group. The stack must still stop every service in order and PostgreSQL last, print that it stopped
 * and exit 0. The stack runs against an empty anvil chain of the test's own, so it is ready in seconds.
 */

const READY_TIMEOUT_MS = 90_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('npm start under a supervisor', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-start-signal-'))
    let anvil: AnvilInstance | undefined
    let child: ChildProcess | undefined

    afterAll(async () => {
        if (child && child.exitCode === null) killTree(child.pid!)
        await anvil?.stop()
        rmSync(dir, {recursive: true, force: true})
    })

    it('npm start hands its signals to the stack', () => {
        // npm passes SIGTERM on to its child. `exec` makes that child the stack itself. Without it the child is a
        // shell, which dies of the signal and leaves the stack running.
        const scripts = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>
        expect(scripts.start).toMatch(/&& exec node lib\/cli\/main\.js start$/)
    })

    it('SIGTERM stops the stack in order', async () => {
        anvil = await startAnvil()
        const networkFile = path.join(dir, 'network.json')
        writeFileSync(
            networkFile,
            JSON.stringify({
                name: 'signal-test',
                chainId: 31337,
                finalityConfirmations: 0,
                // Addresses without code: the chain has no logs, and the stack has nothing to index.
                contracts: {
                    tangle: {address: `0x${'41'.repeat(20)}`, startBlock: 0},
                    operatorStatusRegistry: {address: `0x${'42'.repeat(20)}`, startBlock: 0},
                    multiAssetDelegation: {address: `0x${'43'.repeat(20)}`, startBlock: 0},
                },
            }),
        )
        const [gqlPort, pgPort] = [await freePort(), await freePort()]
        let stdout = ''
        let stderr = ''
        child = spawn(
            process.execPath,
            [path.join(PROJECT_ROOT, 'lib', 'cli', 'main.js'), 'start', '--network', networkFile, '--gql-port', String(gqlPort), '--pg-port', String(pgPort), '--data-dir', path.join(dir, 'pg')],
            {
                cwd: PROJECT_ROOT,
                env: {...process.env, RPC_URL: anvil.rpcUrl, PROBER_DEV_MODE: '1', PROBE_ALLOW: 'loopback', DB_URL: '', DB_HOST: '', GQL_HOST: ''},
                stdio: ['ignore', 'pipe', 'pipe'],
                // Its own group, so that nothing but the one signal of the test reaches it.
                detached: true,
            },
        )
        child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
        child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-100_000)))
        const deadline = Date.now() + READY_TIMEOUT_MS
        while (!stdout.includes('proofgap is ready') && child.exitCode === null && Date.now() < deadline) await sleep(250)
        expect(stdout, stderr.slice(-3000)).toContain('proofgap is ready')
        const started = descendants(child.pid!)
        // PostgreSQL, the processor, the prober and the API at least.
        expect(started.length).toBeGreaterThanOrEqual(4)

        const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)))
        process.kill(child.pid!, 'SIGTERM')
        const code = await exited
        expect(code, stderr.slice(-3000)).toBe(0)
        const shutdown = stderr.slice(stderr.lastIndexOf('proofgap: stopping…'))
        expect(shutdown).toContain('proofgap: stopped')
        // The services stop before PostgreSQL, so none of them loses its connection.
        expect(shutdown).not.toContain('administrator')
        expect(shutdown).not.toMatch(/"level":[345]/)
        expect(started.filter(isAlive)).toEqual([])
    }, READY_TIMEOUT_MS + 60_000)
})
