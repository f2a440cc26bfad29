/**
 * Settings of the Apollo Server inside squid-graphql-server 4.11 that its command line does not offer:
 *
 * - Introspection stays on when NODE_ENV=production. Apollo Server 3 refuses `__schema` queries in production mode,
 *   and explorers, code generators and GraphiQL's documentation need them to read the schema.
 * - Automatic persisted queries are off. Apollo keeps the queries that clients register in a cache without a size
 *   limit unless the server is given a cache, so any client could fill the API's memory.
 * - Error responses carry no internals in any mode: no stack trace (Apollo adds one unless NODE_ENV=production),
 *   and no `extensions.exception`, where Apollo copies the fields of the original error, such as the SQL text and
 *   PostgreSQL's source file of a failed query.
 * - A negative `limit` or `offset`, which OpenReader passes to PostgreSQL unchecked, is the client's error
 *   (`BAD_USER_INPUT`), not the server's.
 *
 * `api-preload.ts` applies them before squid-graphql-server loads.
 */
import {createRequire} from 'node:module'

/** Message Apollo Server logs at construction while persisted queries are on and unbounded; they are off here. */
const UNBOUNDED_PERSISTED_QUERIES_WARNING = 'Persisted queries are enabled and are using an unbounded cache'

interface FormattableError {
    message: string
    locations?: unknown
    path?: unknown
    extensions?: Record<string, unknown>
}

interface ApolloServerLike {
    requestOptions?: {
        validationRules?: {name?: string}[]
        persistedQueries?: unknown
        debug?: boolean
        formatError?: (error: FormattableError) => FormattableError
    }
}

/**
 * PostgreSQL error codes that only a client's arguments cause, with the message the client gets. OpenReader puts
 * `limit` and `offset` into the SQL unchecked (2201W, 2201X). It also passes strings on to PostgreSQL, which rejects
 * the NUL character (22021); strings from JSON are otherwise valid Unicode.
 */
const CLIENT_SQL_ERRORS: Record<string, string> = {
    '2201W': 'limit must not be negative',
    '2201X': 'offset must not be negative',
    '22021': 'string arguments must not contain the NUL character (U+0000)',
}

/** Returns the client's message for an error that the request's arguments caused in PostgreSQL, or undefined. */
export function clientSqlErrorMessage(sqlError: unknown): string | undefined {
    const sqlState = (sqlError as {code?: unknown} | undefined)?.code
    return typeof sqlState === 'string' && Object.hasOwn(CLIENT_SQL_ERRORS, sqlState) ? CLIENT_SQL_ERRORS[sqlState] : undefined
}

/**
 * Messages of Apollo Server 3 for a request that carries no usable operation. It raises them as plain errors, so they
 * get the code INTERNAL_SERVER_ERROR, although the client sent a malformed request.
 */
const MALFORMED_REQUEST_MESSAGES: ReadonlySet<string> = new Set([
    'GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.',
    'Unsupported persisted query version',
    'provided sha does not match query',
    'Operation batching disabled.',
])

/**
 * Returns the error as a client sees it: message, locations, path, and extensions without `exception`. A query that
 * PostgreSQL rejected because of the request's arguments becomes `BAD_USER_INPUT`, and a request without a usable
 * operation `BAD_REQUEST`.
 */
export function withoutInternals(error: FormattableError): FormattableError {
    const {exception, ...extensions} = error.extensions ?? {}
    const clientMessage = clientSqlErrorMessage(exception)
    if (clientMessage !== undefined) extensions.code = 'BAD_USER_INPUT'
    else if (extensions.code === 'INTERNAL_SERVER_ERROR' && MALFORMED_REQUEST_MESSAGES.has(error.message)) extensions.code = 'BAD_REQUEST'
    return {
        message: clientMessage ?? error.message,
        ...(error.locations !== undefined && {locations: error.locations}),
        ...(error.path !== undefined && {path: error.path}),
        extensions,
    }
}

/** An error as OpenReader's log reads it. */
interface LoggedGraphqlError {
    message: string
    path?: readonly (string | number)[]
    extensions?: Record<string, unknown>
    originalError?: unknown
}

type LogGraphqlErrors = (log: unknown, args: unknown, errors: readonly LoggedGraphqlError[] | undefined) => void

/**
 * Makes OpenReader log a query that PostgreSQL rejected because of its arguments as a client error. It then writes
 * one warning with the client's message, as for other `BAD_USER_INPUT` errors, instead of an error line with the SQL
 * text and a stack trace. Returns false, and changes nothing, when OpenReader 5's error log is not found.
 */
export function adjustOpenreaderErrorLog(): boolean {
    // NOTE: relies on @subsquid/openreader 5 (lib/util/error-handling.js exports logGraphQLErrors, which execute.js
    // calls through the module's exports, and logs BAD_USER_INPUT as a warning). A test reads the API's log.
    let module: {logGraphQLErrors?: LogGraphqlErrors}
    try {
        const fromServer = createRequire(require.resolve('@subsquid/graphql-server/lib/server.js'))
        const fromOpenreader = createRequire(fromServer.resolve('@subsquid/openreader/lib/server.js'))
        module = fromOpenreader('./util/error-handling.js')
    } catch {
        return false
    }
    const log = module.logGraphQLErrors
    if (typeof log !== 'function') return false
    module.logGraphQLErrors = (logger, args, errors) =>
        log(
            logger,
            args,
            errors?.map((error) => {
                const message = clientSqlErrorMessage(error.originalError)
                if (message === undefined) return error
                return {message, path: error.path, extensions: {code: 'BAD_USER_INPUT'}}
            }),
        )
    return true
}

interface LogLevelLogger {
    methodFactory: (methodName: string, level: number, loggerName: string | symbol) => (...message: unknown[]) => void
}

/**
 * Patches the Apollo Server class that squid-graphql-server uses. Returns false, and changes nothing, when that
 * class is not where squid-graphql-server 4.11 has it.
 */
export function adjustApolloServer(): boolean {
    // NOTE: relies on @subsquid/apollo-server-core 3.14 (a fork of apollo-server-core 3): the rule NoIntrospection in
    // `requestOptions.validationRules`, and `requestOptions.persistedQueries`, `debug` and `formatError`, all read per
    // request, and its loglevel logger named apollo-server. Tests read the effect over HTTP.
    let core: {ApolloServerBase?: {prototype: {start?: (...args: unknown[]) => Promise<unknown>}}}
    let logLevel: {getLogger(name: string): LogLevelLogger}
    try {
        const fromServer = createRequire(require.resolve('@subsquid/graphql-server/lib/server.js'))
        const fromOpenreader = createRequire(fromServer.resolve('@subsquid/openreader/lib/server.js'))
        const corePath = fromOpenreader.resolve('@subsquid/apollo-server-core')
        core = fromOpenreader(corePath)
        logLevel = createRequire(corePath)('loglevel')
    } catch {
        return false
    }
    const prototype = core.ApolloServerBase?.prototype
    const start = prototype?.start
    if (!prototype || typeof start !== 'function') return false

    prototype.start = function (this: ApolloServerLike, ...args: unknown[]) {
        const options = this.requestOptions
        if (options) {
            if (Array.isArray(options.validationRules)) {
                options.validationRules = options.validationRules.filter((rule) => rule.name !== 'NoIntrospection')
            }
            delete options.persistedQueries
            options.debug = false
            const format = options.formatError
            options.formatError = (error) => withoutInternals(format ? format(error) : error)
        }
        return start.apply(this, args)
    }

    const logger = logLevel.getLogger('apollo-server')
    const createMethod = logger.methodFactory
    logger.methodFactory = (methodName, level, loggerName) => {
        const method = createMethod(methodName, level, loggerName)
        if (methodName !== 'warn') return method
        return (...message: unknown[]) => {
            if (typeof message[0] === 'string' && message[0].startsWith(UNBOUNDED_PERSISTED_QUERIES_WARNING)) return
            method(...message)
        }
    }
    return true
}
