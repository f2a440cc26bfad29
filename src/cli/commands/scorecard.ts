import {parseArgs} from 'node:util'
import {gapConfigFromEnv} from '../../gap/config'
import {parseIsoWeek, parsePeriod, PeriodError, type Period} from '../../gap/period'
import {idError} from '../../gap/query'
import {loadScorecards} from '../../gap/scorecard-load'
import {COMMON_HELP, printUsage, progress, usageError, withDatabase} from './db'
import {renderCsv, renderHtml, renderJson, renderMarkdown} from './scorecard-render'

const USAGE = `usage: proofgap scorecard (--week 2026-W49 | --from ISO-TIME --to ISO-TIME) [--blueprint N] [--operator 0x…]
                         [--format md|json|csv|html]`

const HELP = `${USAGE}

Prints weekly (or any period's) operator scorecards: heartbeat and probe uptime, probe latency, jobs, slashes, proof
coverage and contradictions, each with the previous period of the same length. docs/scorecard.md gives the method.

Options:
  --week YYYY-Www             an ISO week, Monday 00:00 UTC to the next Monday
  --from ISO-TIME --to ISO-TIME
                              any period that has started; the end is exclusive
  --blueprint N               the operators of this blueprint (default: every blueprint)
  --operator 0x…              this operator only
  --format FORMAT             md (default), json, csv or html

${COMMON_HELP}`

const RENDERERS = {md: renderMarkdown, json: renderJson, csv: renderCsv, html: renderHtml} as const

/** Prints scorecards of a blueprint's operators or of one operator. Returns the process exit code. */
export async function run(argv: string[]): Promise<number> {
    let values
    try {
        values = parseArgs({
            args: argv,
            options: {
                help: {type: 'boolean', short: 'h'},
                week: {type: 'string'},
                from: {type: 'string'},
                to: {type: 'string'},
                blueprint: {type: 'string'},
                operator: {type: 'string'},
                format: {type: 'string', default: 'md'},
            },
            strict: true,
        }).values
    } catch (error) {
        return usageError(error instanceof Error ? error.message : String(error), USAGE)
    }
    if (values.help === true) return printUsage(HELP)
    const format = values.format as string
    if (!Object.prototype.hasOwnProperty.call(RENDERERS, format)) {
        return usageError(`--format ${format} is invalid: use md, json, csv or html`, USAGE)
    }
    const blueprintError = values.blueprint === undefined ? undefined : idError('--blueprint', values.blueprint)
    if (blueprintError !== undefined) return usageError(blueprintError, USAGE)
    if (values.operator !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(values.operator)) {
        return usageError(`--operator ${values.operator} is invalid: expected a 0x address of 40 hex digits`, USAGE)
    }

    let period: Period
    try {
        if (values.week !== undefined && (values.from !== undefined || values.to !== undefined)) {
            return usageError('pass either --week or --from and --to, not both', USAGE)
        }
        if (values.week !== undefined) period = parseIsoWeek(values.week)
        else if (values.from !== undefined && values.to !== undefined) period = parsePeriod(values.from, values.to)
        else return usageError('pass --week, or both --from and --to', USAGE)
    } catch (error) {
        if (error instanceof PeriodError) return usageError(error.message, USAGE)
        throw error
    }

    try {
        progress(`computing scorecards for ${period.label}`)
        const cards = await withDatabase((sql) => {
            // Without a blueprint or operator, every blueprint with a registration is scored.
            if (values.blueprint === undefined && values.operator === undefined) return allBlueprintCards(sql, period)
            return loadScorecards(sql, {blueprintId: values.blueprint, operator: values.operator}, period, gapConfigFromEnv())
        })
        process.stdout.write(RENDERERS[format as keyof typeof RENDERERS](cards))
        progress(`${cards.length} ${cards.length === 1 ? 'scorecard' : 'scorecards'}`)
        if (cards.length === 0) {
            const subject = values.operator !== undefined ? `operator ${values.operator} had not` : 'no operator had'
            const where = values.blueprint !== undefined ? `with blueprint ${values.blueprint} or joined one of its services` : 'with a blueprint or joined a service'
            progress(`no scorecard: ${subject} registered ${where} before ${period.to.toISOString()}`)
        }
        return 0
    } catch (error) {
        if (error instanceof PeriodError) return usageError(error.message, USAGE)
        progress(`proofgap scorecard failed: ${error instanceof Error ? error.message : String(error)}`)
        return 1
    }
}

async function allBlueprintCards(sql: Parameters<Parameters<typeof withDatabase>[0]>[0], period: Period) {
    const blueprints = await sql('SELECT DISTINCT blueprint_id FROM registration ORDER BY blueprint_id', [])
    const cards = []
    for (const row of blueprints) {
        cards.push(...(await loadScorecards(sql, {blueprintId: String(row.blueprint_id)}, period, gapConfigFromEnv())))
    }
    return cards
}
