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

/** The end of every database command's help: the database settings it reads and its exit codes. */
export const COMMON_HELP = `Database: DB_URL, or DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASS (npm start prints a DB_URL).

Exit codes: 0 done, 1 the database or a query failed, 2 invalid arguments.`

/** Prints the usage of a command to stdout for --help and returns exit code 0. */
export function printUsage(usage: string): number {
    process.stdout.write(`${usage}\n`)
    return 0
}
