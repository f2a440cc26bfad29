import pg from 'pg'
import {pgRunner, poolConfigFromEnv, type SqlRunner} from '../../gap/sql'

/** Opens a pool from DB_URL or DB_* variables, runs `work` and always closes the pool. */
export async function withDatabase<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    const pool = new pg.Pool(poolConfigFromEnv())
    // An idle connection that the server ends (a restart, a shutdown) raises 'error' on the pool, which would crash the
    // command without a listener. The next query then fails with its own error, which the command reports.
    pool.on('error', () => undefined)
    try {
        return await work(pgRunner(pool))
    } finally {
        await pool.end()
    }
}

/** Writes one line to stderr; the command's result goes to stdout only. */
export function progress(message: string): void {
    process.stderr.write(`${message}\n`)
}

/** Prints a usage error and returns exit code 2. */
export function usageError(message: string, usage: string): number {
    process.stderr.write(`proofgap: ${message}\n${usage}\n`)
    return 2
}

/** Prints the usage of a command to stdout for --help and returns exit code 0. */
export function printUsage(usage: string): number {
    process.stdout.write(`${usage}\n`)
    return 0
}
