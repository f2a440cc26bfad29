import {parseArgs} from 'node:util'
import {futureToleranceSecondsFromEnv, gapConfigFromEnv} from '../../gap/config'
import {GAP_SORT_KEYS, GapQueryError, queryGaps, validateGapQuery} from '../../gap/query'
import {GAP_STATUSES} from '../../gap/types'
import {PRODUCTS} from '../../config/products'
import {futureInstantError, parseInstant} from '../../gap/period'
import {COMMON_HELP, printUsage, progress, usageError, withDatabase} from './db'

const USAGE = `usage: proofgap gaps [--operator 0x…] [--blueprint N] [--service N] [--product NAME] [--kind KIND]
                    [--status STATUS] [--at ISO-TIME] [--limit N] [--offset N] [--order-by KEY] [--format table|json]`

const HELP = `${USAGE}

Lists, per operator and proof kind, what the chain claims against what the prober proved, computed at one instant.

Options:
  --operator 0x…     only this operator
  --blueprint N      only this blueprint
  --service N        only this service
  --product NAME     only this product: ${PRODUCTS.join(', ')}
  --kind KIND        only this proof kind (proofgap's kinds are listed in the README)
  --status STATUS    only rows with this status: ${GAP_STATUSES.join(', ')}
  --at ISO-TIME      the instant to compute at (default now; at most PROOFGAP_FUTURE_TOLERANCE_SECONDS, 60 by
                     default, past the clock)
  --limit N          rows per page, 1 to 1000 (default 100)
  --offset N         rows to skip
  --order-by KEY     ${Object.keys(GAP_SORT_KEYS).join(', ')} (default operator_ASC)
  --format FORMAT    table (tab-separated, default) or json

${COMMON_HELP}`

/** Prints gap rows computed at --at (default now). Returns the process exit code. */
export async function run(argv: string[]): Promise<number> {
    let values
    try {
        values = parseArgs({
            args: argv,
            options: {
                help: {type: 'boolean', short: 'h'},
                operator: {type: 'string'},
                blueprint: {type: 'string'},
                service: {type: 'string'},
                product: {type: 'string'},
                kind: {type: 'string'},
                status: {type: 'string'},
                at: {type: 'string'},
                limit: {type: 'string'},
                offset: {type: 'string'},
                'order-by': {type: 'string'},
                format: {type: 'string', default: 'table'},
            },
            strict: true,
        }).values
    } catch (error) {
        return usageError(error instanceof Error ? error.message : String(error), USAGE)
    }
    if (values.help === true) return printUsage(HELP)
    let config
    let toleranceSeconds
    try {
        config = gapConfigFromEnv()
        toleranceSeconds = futureToleranceSecondsFromEnv()
    } catch (error) {
        progress(`proofgap: ${error instanceof Error ? error.message : String(error)}`)
        return 2
    }
    if (values.format !== 'table' && values.format !== 'json') return usageError(`--format ${values.format} is invalid: use table or json`, USAGE)
    const at = values.at === undefined ? undefined : parseInstant(values.at)
    if (at !== undefined && Number.isNaN(at.getTime())) return usageError(`--at ${values.at} is not an ISO 8601 time`, USAGE)
    const future = at === undefined ? undefined : futureInstantError('--at', at, toleranceSeconds)
    if (future !== undefined) return usageError(future, USAGE)
    for (const name of ['limit', 'offset'] as const) {
        const text = values[name]
        if (text !== undefined && !/^\d{1,9}$/.test(text)) return usageError(`--${name} ${text} is invalid: expected a whole number`, USAGE)
    }
    const limit = values.limit === undefined ? undefined : Number(values.limit)
    const offset = values.offset === undefined ? undefined : Number(values.offset)

    const query = {
        operator: values.operator,
        blueprintId: values.blueprint,
        serviceId: values.service,
        product: values.product,
        kind: values.kind,
        status: values.status,
        at,
        limit,
        offset,
        orderBy: values['order-by'],
    }
    // Invalid filters are named before the database is opened.
    try {
        validateGapQuery(query)
    } catch (error) {
        if (error instanceof GapQueryError) return usageError(error.message, USAGE)
        throw error
    }
    try {
        progress('computing gaps')
        const page = await withDatabase((sql) => queryGaps(sql, query, config))
        if (values.format === 'json') {
            process.stdout.write(`${JSON.stringify(page, null, 2)}\n`)
        } else {
            process.stdout.write('operator\tblueprint\tservice\tkind\tstatus\treason\tlast_proof_at\n')
            for (const row of page.gaps) {
                const cells = [row.operator, row.blueprintId, row.serviceId ?? '-', row.kind, row.status, row.reason, row.lastProofAt?.toISOString() ?? '-']
                process.stdout.write(`${cells.join('\t')}\n`)
            }
        }
        progress(`${page.gaps.length} of ${page.totalCount} gap rows at ${page.at.toISOString()}`)
        return 0
    } catch (error) {
        if (error instanceof GapQueryError) return usageError(error.message, USAGE)
        progress(`proofgap gaps failed: ${error instanceof Error ? error.message : String(error)}`)
        return 1
    }
}
