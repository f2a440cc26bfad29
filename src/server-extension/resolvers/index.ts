import 'reflect-metadata'
import {GraphQLError} from 'graphql'
import pg from 'pg'
import {createLogger} from '@subsquid/logger'
import {Arg, Int, Query, Resolver} from 'type-graphql'
import type {EntityManager} from 'typeorm'
import {IDLE_CONNECTION_ENDED_BY_ADMIN, isAdminTermination} from '../../db/errors'
import {canonicalJson, type CanonicalValue} from '../../gap/canonical-json'
import {gapConfigFromEnv} from '../../gap/config'
import {buildEvidenceBundle, EvidenceError, findSlashesByEvidence, serializeBundle} from '../../gap/evidence'
import {futureInstantError, parseInstant as parseIsoInstant, parseIsoWeek, parsePeriod, PeriodError, type Period} from '../../gap/period'
import {GapQueryError, idError, operatorSummary, queryGaps} from '../../gap/query'
import type {Scorecard} from '../../gap/scorecard'
import {loadScorecardsCached, scorecardCacheMaxBytes, type ScorecardCacheSettings} from '../../gap/scorecard-cache'
import {poolConfigFromEnv, type SqlRunner} from '../../gap/sql'
import type {GapRow} from '../../gap/types'
import {
    EvidenceBundleObject,
    GapPageObject,
    GapRowObject,
    OperatorSummaryObject,
    ScorecardObject,
} from './types'

/** Maximum period a scorecard or evidence query may span, so one request cannot read the whole history. */
export const MAX_QUERY_PERIOD_DAYS = 92

const log = createLogger('proofgap:api')

let cacheSettings: ScorecardCacheSettings | undefined

/**
 * Returns the connections that fill scorecard_cache, opened on first use with the server's DB_* settings. The
 * request's own transaction is read-only, and a filler must read after it has taken the cache lock.
 */
function scorecardCacheSettings(): ScorecardCacheSettings {
    const pool = (name: string, max: number) => {
        const created = new pg.Pool({...poolConfigFromEnv(), max, idleTimeoutMillis: 30_000, allowExitOnIdle: true})
        // An idle connection that the server ends (restart, shutdown) raises 'error' on the pool, and without a
        // listener the API would exit. The pool opens a new connection on the next query.
        created.on('error', (error: Error & {code?: string}) => {
            const fields = {pool: name, code: error.code, error: error.message}
            if (isAdminTermination(error)) log.info(fields, IDLE_CONNECTION_ENDED_BY_ADMIN)
            else log.warn(fields, 'idle PostgreSQL connection closed')
        })
        return created
    }
    cacheSettings ??= {lock: pool('scorecard-cache-lock', 2), compute: pool('scorecard-cache-compute', 4), maxBytes: CACHE_MAX_BYTES}
    return cacheSettings
}

// Read at module load, so that a bad value stops the server at start. `npm start` takes exit code 2 as a rejected
// setting and does not restart the server.
const CACHE_MAX_BYTES = (() => {
    try {
        return scorecardCacheMaxBytes()
    } catch (error) {
        process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
        process.exit(2)
    }
})()

/**
 * Returns a runner that sends the statements of one request to its transaction one after another. The loaders send
 * statements in parallel, and pg warns when one connection receives a query while another is running.
 */
function runnerOf(tx: () => Promise<EntityManager>): SqlRunner {
    let previous: Promise<unknown> = Promise.resolve()
    return (sql, params) => {
        const run = previous.then(async () => (await tx()).query(sql, params) as Promise<Record<string, unknown>[]>)
        previous = run.catch(() => undefined)
        return run
    }
}

/**
 * Converts a validation error into a GraphQL error whose message reaches the client, with the code BAD_USER_INPUT.
 * That covers an evidence request for a service, or an operator in a service, that the index does not know.
 */
async function clientErrors<T>(work: () => Promise<T>): Promise<T> {
    try {
        return await work()
    } catch (error) {
        if (error instanceof GapQueryError || error instanceof PeriodError || error instanceof EvidenceError) {
            throw new GraphQLError(error.message, undefined, undefined, undefined, undefined, undefined, {code: 'BAD_USER_INPUT'})
        }
        throw error
    }
}

/** Parses an evaluation instant; one in the future is rejected. */
function parseInstant(name: string, text: string | undefined): Date | undefined {
    if (text === undefined || text === null) return undefined
    const date = parseIsoInstant(text)
    if (Number.isNaN(date.getTime())) throw new GapQueryError(`${name} ${JSON.stringify(text)} is not an ISO 8601 time`)
    const future = futureInstantError(name, date)
    if (future !== undefined) throw new GapQueryError(future)
    return date
}

function checkPeriodLength(period: Period): Period {
    const days = (period.to.getTime() - period.from.getTime()) / 86_400_000
    if (days > MAX_QUERY_PERIOD_DAYS) {
        // Two decimals: a period of 1122.3333333333333 days reads as noise.
        const daysText = Number.isInteger(days) ? String(days) : days.toFixed(2)
        throw new PeriodError(`period of ${daysText} days is too long: query at most ${MAX_QUERY_PERIOD_DAYS} days at a time`)
    }
    return period
}

function gapObject(row: GapRow): GapRowObject {
    return Object.assign(new GapRowObject(), row)
}

function scorecardObject(card: Scorecard): ScorecardObject {
    return Object.assign(new ScorecardObject(), {
        operator: card.operator,
        blueprintId: card.blueprintId,
        methodologyVersion: card.methodologyVersion,
        periodFrom: card.period.from,
        periodTo: card.period.to,
        periodLabel: card.period.label,
        heartbeatUptime: card.heartbeatUptime.ratio,
        probeUptime: card.probeUptime.ratio,
        probeLatencyP50Ms: card.probeLatencyMs.p50,
        probeLatencyP95Ms: card.probeLatencyMs.p95,
        probeLatencyP99Ms: card.probeLatencyMs.p99,
        jobsSubmitted: card.jobs.submitted,
        jobsCompleted: card.jobs.completed,
        completionRate: card.jobs.completionRate,
        medianResultLatencySeconds: card.jobs.medianResultLatencySeconds,
        claims: card.proofCoverage.claims,
        claimsProven: card.proofCoverage.proven,
        proofCoverage: card.proofCoverage.ratio,
        contradictions: card.contradictions.count,
        failingKinds: card.failingKinds,
        slashesProposed: card.slashes.proposed,
        slashesExecuted: card.slashes.executed,
        json: canonicalJson(card as unknown as CanonicalValue),
    })
}

@Resolver()
export class GapResolver {
    constructor(private readonly tx: () => Promise<EntityManager>) {}

    @Query(() => GapPageObject, {description: 'Gap rows computed at `at` (default now); limit 1 to 1000.'})
    async gaps(
        @Arg('operator', () => String, {nullable: true}) operator?: string,
        @Arg('blueprint', () => String, {nullable: true}) blueprint?: string,
        @Arg('product', () => String, {nullable: true}) product?: string,
        @Arg('service', () => String, {nullable: true}) service?: string,
        @Arg('kind', () => String, {nullable: true}) kind?: string,
        @Arg('status', () => String, {nullable: true}) status?: string,
        @Arg('at', () => String, {nullable: true}) at?: string,
        @Arg('limit', () => Int, {nullable: true}) limit?: number,
        @Arg('offset', () => Int, {nullable: true}) offset?: number,
        @Arg('orderBy', () => String, {nullable: true}) orderBy?: string,
    ): Promise<GapPageObject> {
        return clientErrors(async () => {
            const page = await queryGaps(
                runnerOf(this.tx),
                {
                    operator: operator ?? undefined,
                    blueprintId: blueprint ?? undefined,
                    product: product ?? undefined,
                    serviceId: service ?? undefined,
                    kind: kind ?? undefined,
                    status: status ?? undefined,
                    at: parseInstant('at', at ?? undefined),
                    limit: limit ?? undefined,
                    offset: offset ?? undefined,
                    orderBy: orderBy ?? undefined,
                },
                gapConfigFromEnv(),
            )
            return Object.assign(new GapPageObject(), {at: page.at, totalCount: page.totalCount, gaps: page.gaps.map(gapObject)})
        })
    }

    @Query(() => OperatorSummaryObject, {description: 'Claims, proof counts, gap counts and liveness of one operator.'})
    async operatorSummary(
        @Arg('operator', () => String) operator: string,
        @Arg('at', () => String, {nullable: true}) at?: string,
    ): Promise<OperatorSummaryObject> {
        return clientErrors(async () => {
            const instant = parseInstant('at', at ?? undefined) ?? new Date()
            const summary = await operatorSummary(runnerOf(this.tx), operator, instant, gapConfigFromEnv())
            return Object.assign(new OperatorSummaryObject(), {
                operator: summary.operator,
                at: summary.at,
                claims: summary.claims,
                claimsProven: summary.claimsProven,
                gapCounts: Object.entries(summary.gapCounts).map(([status, count]) => ({status, count})),
                proofCounts: Object.entries(summary.proofCounts).map(([status, count]) => ({status, count})),
                liveness: summary.liveness.map((state) => ({
                    ...state,
                    heartbeatIntervalSeconds: state.heartbeatIntervalSeconds.toString(),
                })),
                gaps: summary.gaps.map(gapObject),
            })
        })
    }

    @Query(() => [ScorecardObject], {description: 'Scorecards over an ISO week (`week`) or a period (`from`, `to`).'})
    async scorecard(
        @Arg('operator', () => String, {nullable: true}) operator?: string,
        @Arg('blueprint', () => String, {nullable: true}) blueprint?: string,
        @Arg('week', () => String, {nullable: true}) week?: string,
        @Arg('from', () => String, {nullable: true}) from?: string,
        @Arg('to', () => String, {nullable: true}) to?: string,
    ): Promise<ScorecardObject[]> {
        return clientErrors(async () => {
            if (operator == null && blueprint == null) throw new GapQueryError('scorecard needs operator, blueprint or both')
            if (operator != null && !/^0x[0-9a-fA-F]{40}$/.test(operator)) {
                throw new GapQueryError(`operator ${JSON.stringify(operator)} is invalid: expected a 0x address of 40 hex digits`)
            }
            const blueprintError = blueprint == null ? undefined : idError('blueprint', blueprint)
            if (blueprintError !== undefined) throw new GapQueryError(blueprintError)
            let period: Period
            if (week != null && (from != null || to != null)) throw new GapQueryError('scorecard takes week or from and to, not both')
            if (week != null) period = parseIsoWeek(week)
            else if (from != null && to != null) period = parsePeriod(from, to)
            else throw new GapQueryError('scorecard needs week (such as 2026-W49) or both from and to')
            const cards = await loadScorecardsCached(
                scorecardCacheSettings(),
                runnerOf(this.tx),
                {operator: operator ?? undefined, blueprintId: blueprint ?? undefined},
                checkPeriodLength(period),
                gapConfigFromEnv(),
            )
            return cards.map(scorecardObject)
        })
    }

    @Query(() => EvidenceBundleObject, {description: 'Dispute evidence of one operator in one service over [from, to).'})
    async evidenceBundle(
        @Arg('service', () => String) service: string,
        @Arg('operator', () => String) operator: string,
        @Arg('from', () => String) from: string,
        @Arg('to', () => String) to: string,
    ): Promise<EvidenceBundleObject> {
        return clientErrors(async () => {
            const period = checkPeriodLength(parsePeriod(from, to))
            const sql = runnerOf(this.tx)
            const bundle = await buildEvidenceBundle(sql, {serviceId: service, operator, from: period.from, to: period.to}, gapConfigFromEnv())
            const slashes = await findSlashesByEvidence(sql, bundle.root)
            return Object.assign(new EvidenceBundleObject(), {
                root: bundle.root,
                recordCount: bundle.records.length,
                bundle: serializeBundle(bundle),
                linkedSlashes: slashes.map((row) => ({
                    slashId: String(row.slash_id),
                    serviceId: String(row.service_id),
                    operator: String(row.operator),
                    status: String(row.status),
                    proposedTx: String(row.proposed_tx),
                })),
            })
        })
    }
}
