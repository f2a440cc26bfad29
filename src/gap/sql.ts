import pg from 'pg'

/** Runs one read-only statement with bound parameters and returns its rows. */
export type SqlRunner = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>

/** Wraps a pg pool or client. */
export function pgRunner(client: {query(sql: string, params: unknown[]): Promise<{rows: Record<string, unknown>[]}>}): SqlRunner {
    return async (sql, params) => (await client.query(sql, params)).rows
}

/** Returns a pg pool configuration from DB_URL or from DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASS. */
export function poolConfigFromEnv(env: Record<string, string | undefined> = process.env): pg.PoolConfig {
    if (env.DB_URL !== undefined && env.DB_URL !== '') {
        if (!URL.canParse(env.DB_URL) || !['postgres:', 'postgresql:'].includes(new URL(env.DB_URL).protocol)) {
            // The value is left out: it may contain a password.
            throw new Error('DB_URL is invalid: expected postgres://user:password@host:port/database')
        }
        return {connectionString: env.DB_URL, max: 4}
    }
    const missing = ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER'].filter((name) => !env[name])
    if (missing.length > 0) {
        throw new Error(`database settings are missing: set DB_URL, or set ${missing.join(', ')} (and DB_PASS)`)
    }
    const port = Number(env.DB_PORT)
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
        throw new Error(`DB_PORT must be a TCP port number, got ${JSON.stringify(env.DB_PORT)}`)
    }
    return {host: env.DB_HOST, port, database: env.DB_NAME, user: env.DB_USER, password: env.DB_PASS, max: 4}
}

export function asText(value: unknown): string {
    if (typeof value === 'string') return value
    if (typeof value === 'number' || typeof value === 'bigint') return String(value)
    throw new TypeError(`expected a text or numeric column, got ${typeof value}`)
}

export function asNullableText(value: unknown): string | null {
    return value === null || value === undefined ? null : asText(value)
}

export function asDate(value: unknown): Date {
    if (value instanceof Date) return value
    if (typeof value === 'string') return new Date(value)
    throw new TypeError(`expected a timestamp column, got ${typeof value}`)
}

export function asNullableDate(value: unknown): Date | null {
    return value === null || value === undefined ? null : asDate(value)
}

export function asInt(value: unknown): number {
    const number = typeof value === 'number' ? value : Number(asText(value))
    if (!Number.isSafeInteger(number)) throw new TypeError(`expected an integer column, got ${String(value)}`)
    return number
}
