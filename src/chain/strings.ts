import {keccak256} from './keccak'
import {redactUrl, redactUrlsInText} from '../proofs/http/redact-url'

/** A string read from the chain: a form safe to store as PostgreSQL text, the exact bytes, and whether they were valid UTF-8. */
export interface ChainString {
    display: string
    raw: Uint8Array
    validUtf8: boolean
}

const strictDecoder = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})
const lenientDecoder = new TextDecoder('utf-8', {fatal: false, ignoreBOM: true})

/** U+2400 SYMBOL FOR NULL: PostgreSQL text cannot hold U+0000, and U+FFFD already stands for invalid bytes. */
const NUL_STAND_IN = '\u2400'

/**
 * Build the stored forms of chain string bytes. Invalid UTF-8 sequences become U+FFFD and NUL becomes U+2400 in the
 * display form, so inserts never fail and the two cases stay apart; `raw` keeps every byte.
 */
export function chainString(raw: Uint8Array): ChainString {
    let validUtf8 = true
    let text: string
    try {
        text = strictDecoder.decode(raw)
    } catch {
        validUtf8 = false
        text = lenientDecoder.decode(raw)
    }
    return {display: text.split('\u0000').join(NUL_STAND_IN), raw, validUtf8}
}

/** Make any JS string safe for PostgreSQL text and jsonb (no U+0000). */
export function safeText(text: string): string {
    return text.includes('\u0000') ? text.split('\u0000').join(NUL_STAND_IN) : text
}

/**
 * Convert a decoded ABI value into JSON that PostgreSQL jsonb accepts: bigints become decimal strings, byte arrays
 * hex, strings lose U+0000.
 */
export function toJsonValue(value: unknown): unknown {
    if (typeof value === 'bigint') return value.toString()
    if (typeof value === 'string') return safeText(value)
    if (value instanceof Uint8Array) return `0x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`
    if (Array.isArray(value)) return value.map(toJsonValue)
    if (value !== null && typeof value === 'object') {
        const out: Record<string, unknown> = {}
        for (const [k, v] of Object.entries(value)) out[safeText(k)] = toJsonValue(v)
        return out
    }
    return value
}

/** keccak256 of a secret's UTF-8 bytes, to match it later without keeping it. */
export function secretHash(secret: string): string {
    return keccak256(new TextEncoder().encode(secret))
}

/** Shortest secret whose redacted form shows its first four characters: at most a fifth of it is shown. */
export const REDACTED_PREFIX_MIN_CHARS = 20

/**
 * A redacted form of a secret: its first four characters (enough to recognise a token family such as `sbx_`, too few
 * to use it) and its length. Secrets shorter than REDACTED_PREFIX_MIN_CHARS, such as passwords, show no characters,
 * because four of them would give away too much.
 */
export function redactSecret(secret: string): string {
    const chars = [...secret]
    const prefix = chars.length >= REDACTED_PREFIX_MIN_CHARS ? chars.slice(0, 4).join('') : ''
    return `${safeText(prefix)}…[${chars.length} chars]`
}

/**
 * Returns the form of a chain URL that proofgap stores and serves. That is `url` itself, unless it contains
 * credentials (`user:pass@`, or a secret-looking query or fragment parameter), which are then removed (see redactUrl).
 */
export function storedUrlText(url: string): string {
    let normalized: string
    try {
        normalized = new URL(url).toString()
    } catch {
        return redactUrlsInText(url)
    }
    const redacted = redactUrl(url)
    if (redacted !== normalized) return redacted
    // A URL that parses can still contain a secret in its path or in text around it, as in `…/x?token=… for details`.
    return redactUrlsInText(url)
}

/**
 * Returns a chain URL in the form that storedUrlText gives. Without credentials it is returned unchanged. With them,
 * `raw` becomes the bytes of the redacted text too, so that no column contains the secret.
 */
export function storedUrl(url: ChainString): ChainString {
    const text = storedUrlText(url.display)
    if (text === url.display) return url
    return {display: text, raw: new TextEncoder().encode(text), validUtf8: true}
}

/**
 * Returns the first line of a decoder's error message, at most 300 characters, for a stored reason. viem quotes the
 * bytes it rejected as hex or as decimal byte values, and those may be part of a secret. So hex of more than 16 digits
 * becomes `0x…`, a list of more than 4 numbers `…`, and a quoted text of more than 16 characters `"…"`.
 */
export function decodeErrorText(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err)
    const line = message
        .split('\n')[0]
        .replace(/0x[0-9a-fA-F]{17,}/g, '0x…')
        .replace(/\d+(?:\s*,\s*\d+){4,}/g, '…')
        .replace(/"[^"]{17,}"/g, '"…"')
    return safeText(line.slice(0, 300))
}
