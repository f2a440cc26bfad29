/**
 * SQLSTATE admin_shutdown: PostgreSQL ends a connection on an administrator's command. It does so when the server
 * shuts down, and when pg_terminate_backend ends the connection. Ctrl-C in the terminal of `npm start` shuts the
 * embedded server down at the same time as it reaches the services.
 */
export const ADMIN_SHUTDOWN = '57P01'

/** Log message for an idle connection that PostgreSQL ended on an administrator's command. */
export const IDLE_CONNECTION_ENDED_BY_ADMIN = "PostgreSQL ended an idle connection on an administrator's command (shutdown or pg_terminate_backend)"

/** Returns whether `error` is PostgreSQL ending a connection on an administrator's command (ADMIN_SHUTDOWN). */
export function isAdminTermination(error: unknown): boolean {
    return typeof error === 'object' && error !== null && (error as {code?: unknown}).code === ADMIN_SHUTDOWN
}

/** Error codes of a lost or refused connection: Node's socket errors and PostgreSQL's connection classes 08 and 57P. */
const CONNECTION_LOSS_CODES = new Set([
    'ECONNREFUSED',
    'ECONNRESET',
    'EPIPE',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    '08000',
    '08001',
    '08003',
    '08004',
    '08006',
    '57P01',
    '57P02',
    '57P03',
])

/** Returns whether `error` means that the connection to PostgreSQL was lost or could not be made. */
export function isConnectionLoss(error: unknown): boolean {
    if (typeof error !== 'object' || error === null) return false
    const {code, message} = error as {code?: unknown; message?: unknown}
    if (typeof code === 'string' && CONNECTION_LOSS_CODES.has(code)) return true
    // node-postgres ends a client whose socket closed with these messages and no code.
    return typeof message === 'string' && /^Connection terminated( unexpectedly| due to connection timeout)?$/.test(message)
}
