import {spawn, type ChildProcess} from 'node:child_process'
import {realpathSync} from 'node:fs'
import path from 'node:path'
import type pg from 'pg'

/** Project root: lib/stack/children.js and src/stack/children.ts both sit two levels below it. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..')

export function binPath(name: string): string {
    return path.join(PROJECT_ROOT, 'node_modules', '.bin', name)
}

/** Options of squid-graphql-server that every way to run the API passes (npm start, npm run api, squid.yaml). */
export const GRAPHQL_SERVER_LIMITS = ['--max-root-fields', '20']

/**
 * Returns the command and arguments that run squid-graphql-server with lib/stack/api-preload.js, which applies
 * GQL_HOST and the Apollo settings, and with GRAPHQL_SERVER_LIMITS. `libDir` is the compiled project whose preload is
 * used.
 */
export function graphqlServerCommand(libDir = path.join(PROJECT_ROOT, 'lib')): {command: string; args: string[]} {
    return {
        command: process.execPath,
        args: ['--require', path.join(libDir, 'stack', 'api-preload.js'), realpathSync(binPath('squid-graphql-server')), ...GRAPHQL_SERVER_LIMITS],
    }
}

export interface RunResult {
    code: number | null
    signal: NodeJS.Signals | null
    stdout: string
    stderr: string
}

const OUTPUT_KEEP_CHARS = 200_000

/** Run a command to completion, keeping the tail of its output. Rejects only when it cannot be started. */
export function runToEnd(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, {cwd: PROJECT_ROOT, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (b: Buffer) => (stdout = (stdout + b.toString()).slice(-OUTPUT_KEEP_CHARS)))
        child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-OUTPUT_KEEP_CHARS)))
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
        child.on('error', (err) => {
            clearTimeout(timer)
            reject(err)
        })
        child.on('exit', (code, signal) => {
            clearTimeout(timer)
            resolve({code, signal, stdout, stderr})
        })
    })
}

/**
 * Time allowed for applying migrations. A migration that adds a summary table backfills it from every existing row,
 * which takes minutes on a large database, so the bound only guards against a hang.
 */
export const MIGRATION_TIMEOUT_MS = 30 * 60_000

/** Apply the migrations in db/migrations to the database named by the DB_* variables. */
export async function applyMigrations(dbEnv: Record<string, string>): Promise<void> {
    const result = await runToEnd(binPath('squid-typeorm-migration'), ['apply'], dbEnv, MIGRATION_TIMEOUT_MS)
    if (result.code !== 0) throw new Error(`migrations failed (exit ${result.code}):\n${result.stderr || result.stdout}`)
}

/** Start a long-running child in its own process group, so stopping it also stops what it started. */
export function startChild(command: string, args: string[], env: Record<string, string>, label: string): ChildProcess {
    const child = spawn(command, args, {
        cwd: PROJECT_ROOT,
        env: {...process.env, ...env},
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
    })
    child.on('error', (err) => process.stderr.write(`${label}: ${err.message}\n`))
    return child
}

/** Stop a child started with startChild: SIGTERM to its group, SIGKILL after the grace period. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const signal = (sig: NodeJS.Signals) => {
        try {
            process.kill(-child.pid!, sig)
        } catch {
            // Already gone.
        }
    }
    signal('SIGTERM')
    const timer = setTimeout(() => signal('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
}

/** Runs one direction of a migration file of db/migrations in a transaction, as squid-typeorm-migration does. */
export async function runMigration(client: pg.Client, file: string, direction: 'up' | 'down'): Promise<void> {
    type Migration = Record<'up' | 'down', (db: pg.Client) => Promise<void>>
    const Migration = (await import(path.join(PROJECT_ROOT, 'db/migrations', file))).default as new () => Migration
    await client.query('BEGIN')
    await new Migration()[direction](client)
    await client.query('COMMIT')
}
