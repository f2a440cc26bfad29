import {futureToleranceSecondsFromEnv} from './config'

/** A half-open interval of time [from, to) with a label for people. */
export interface Period {
    from: Date
    to: Date
    label: string
}

/** Minimum age of an evidence bundle's end, in seconds: longer than the processor's lag and a prober lane's slowest job. */
export const EVIDENCE_SETTLE_SECONDS = 600

export class PeriodError extends Error {
    override name = 'PeriodError'
}

const DAY_MS = 24 * 60 * 60 * 1000
const ISO_WEEK = /^(\d{4})-W(\d{2})$/

/** Returns the Monday 00:00 UTC that starts ISO week 1 of `year` (the week that contains 4 January). */
function isoWeekOneMonday(year: number): number {
    const january4 = Date.UTC(year, 0, 4)
    const weekday = (new Date(january4).getUTCDay() + 6) % 7
    return january4 - weekday * DAY_MS
}

/** Returns the ISO week label (YYYY-Www) of the week that contains `date`. */
export function isoWeekLabel(date: Date): string {
    const dayStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate())
    // The ISO year of a day is the calendar year of the Thursday of its week.
    const thursday = dayStart + (3 - ((new Date(dayStart).getUTCDay() + 6) % 7)) * DAY_MS
    const year = new Date(thursday).getUTCFullYear()
    const week = Math.floor((thursday - isoWeekOneMonday(year)) / (7 * DAY_MS)) + 1
    return `${year}-W${String(week).padStart(2, '0')}`
}

/** Parses an ISO week such as `2026-W49` into the period from its Monday 00:00 UTC to the next Monday. */
export function parseIsoWeek(text: string): Period {
    const match = ISO_WEEK.exec(text)
    if (match === null) throw new PeriodError(`week ${JSON.stringify(text)} is invalid: expected an ISO week such as 2026-W49`)
    const year = Number(match[1])
    const week = Number(match[2])
    const from = isoWeekOneMonday(year) + (week - 1) * 7 * DAY_MS
    if (week < 1 || isoWeekLabel(new Date(from)) !== text) {
        throw new PeriodError(`week ${JSON.stringify(text)} does not exist: ${year} has weeks 01 to ${isoWeekLabel(new Date(isoWeekOneMonday(year + 1) - DAY_MS)).slice(6)}`)
    }
    return {from: new Date(from), to: new Date(from + 7 * DAY_MS), label: text}
}

/** A date, or a date and time with an optional offset, as ISO 8601 writes them (`2026-12-05`, `2026-12-05T10:00:00Z`). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/

/**
 * Parses an ISO 8601 instant. Returns an invalid Date for other text, including forms that `new Date` would still
 * read, such as `1` (the year 2001) or `Dec 5 2026`.
 */
export function parseInstant(text: string): Date {
    if (!ISO_INSTANT.test(text)) return new Date(Number.NaN)
    // `new Date` rolls an impossible day over (2026-02-30 becomes March 2): the written day must exist in its month.
    const year = Number(text.slice(0, 4))
    const month = Number(text.slice(5, 7))
    const day = Number(text.slice(8, 10))
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return new Date(Number.NaN)
    return new Date(text)
}

/**
 * Returns the error for an evaluation instant in the future, or undefined when `at` is at most `toleranceSeconds` past
 * `now`. Gaps and liveness at a future instant would only show proofs ageing and deadlines passing that have not
 * happened.
 */
export function futureInstantError(
    name: string,
    at: Date,
    toleranceSeconds: number = futureToleranceSecondsFromEnv(),
    now: Date = new Date(),
): string | undefined {
    if (at.getTime() <= now.getTime() + toleranceSeconds * 1000) return undefined
    return (
        `${name} ${at.toISOString()} is in the future (now is ${now.toISOString()}; up to ${toleranceSeconds} s ahead is accepted): ` +
        'give an earlier time, or leave it out for now'
    )
}

/** Parses an explicit period; `to` must be after `from`. */
export function parsePeriod(fromText: string, toText: string): Period {
    const from = parseInstant(fromText)
    const to = parseInstant(toText)
    if (Number.isNaN(from.getTime())) throw new PeriodError(`from ${JSON.stringify(fromText)} is not an ISO 8601 time`)
    if (Number.isNaN(to.getTime())) throw new PeriodError(`to ${JSON.stringify(toText)} is not an ISO 8601 time`)
    if (to.getTime() <= from.getTime()) throw new PeriodError(`to ${toText} must be after from ${fromText}`)
    return {from, to, label: `${from.toISOString()}/${to.toISOString()}`}
}

/** Returns the period of the same length that ends where `period` starts. */
export function previousPeriod(period: Period): Period {
    const length = period.to.getTime() - period.from.getTime()
    const from = new Date(period.from.getTime() - length)
    const label = ISO_WEEK.test(period.label) && length === 7 * DAY_MS ? isoWeekLabel(from) : `${from.toISOString()}/${period.from.toISOString()}`
    return {from, to: period.from, label}
}

/** Returns the whole UTC days inside [fromMs, toMs) as a range in ms, empty (fromMs equal to toMs) when there is none. */
export function wholeUtcDays(fromMs: number, toMs: number): {fromMs: number; toMs: number} {
    const first = Math.ceil(fromMs / DAY_MS) * DAY_MS
    const end = Math.floor(toMs / DAY_MS) * DAY_MS
    return end > first ? {fromMs: first, toMs: end} : {fromMs, toMs: fromMs}
}

/** Formats the UTC date of a day start in ms as YYYY-MM-DD. */
export function utcDate(ms: number): string {
    return new Date(ms).toISOString().slice(0, 10)
}
