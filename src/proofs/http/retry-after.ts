/**
 * Parses a `Retry-After` header value into a delay in milliseconds from `nowMs`. Accepts delta-seconds (`"120"`)
 * and an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`); a date in the past gives 0. Returns undefined for a missing
 * or invalid value.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
    if (value === undefined) {
        return undefined
    }
    const text = value.trim()
    if (/^\d+$/.test(text)) {
        return Number(text) * 1000
    }
    // Only the forms an HTTP date can take; Date.parse alone would accept "1" or "2024" as dates.
    if (!/^[A-Za-z]{3},? /.test(text) || !/GMT$|UTC$/.test(text)) {
        return undefined
    }
    const dateMs = Date.parse(text)
    if (Number.isNaN(dateMs)) {
        return undefined
    }
    return Math.max(0, dateMs - nowMs)
}

/**
 * Delay before retry number `retryIndex` (0 for the first retry): the server's `Retry-After` when it requests
 * more, otherwise `baseDelayMs * 2^retryIndex`, capped at `maxBackoffMs`. The cap applies to the backoff only;
 * a longer `Retry-After` is honoured or, if it does not fit the remaining time, the caller gives up.
 */
export function retryDelayMs(
    retryIndex: number,
    retryAfterMs: number | undefined,
    baseDelayMs: number,
    maxBackoffMs: number,
): number {
    const backoffMs = Math.min(maxBackoffMs, baseDelayMs * 2 ** retryIndex)
    return Math.max(backoffMs, retryAfterMs ?? 0)
}
