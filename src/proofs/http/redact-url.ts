/** Placeholder that replaces a secret value in stored or logged URLs. */
export const REDACTED = 'REDACTED'

/** Query parameters whose values are treated as secrets (case-insensitive). */
const SECRET_QUERY_PARAMETER = /^(?:access[_-]?token|token|api[_-]?key|apikey|key|secret|client[_-]?secret|password|passwd|auth|authorization|signature|sig)$/i

/** `scheme://user:pass@` or `//user@` anywhere in a text. */
const USERINFO_IN_TEXT = /((?:[a-z][a-z0-9+.-]*:)?\/\/)[^\s/?#@]*@/gi

/**
 * Removes credentials from a URL so it can be stored, logged or returned: the user and password part
 * (`user:pass@`) is dropped and the values of secret-looking query parameters (`token`, `api_key`, `key`,
 * `signature`, …) become `REDACTED`. Text that does not parse as a URL still loses anything shaped like
 * `//user:pass@`.
 */
export function redactUrl(url: string): string {
    let parsed: URL
    try {
        parsed = new URL(url)
    } catch {
        return redactUrlsInText(url)
    }

    parsed.username = ''
    parsed.password = ''

    // Rewrite the query only when it contains a secret, because re-serializing can change its encoding.
    const parameters = [...parsed.searchParams.entries()]
    if (parameters.some(([name]) => SECRET_QUERY_PARAMETER.test(name))) {
        const redacted = parameters.map(([name, value]) => [name, SECRET_QUERY_PARAMETER.test(name) ? REDACTED : value])
        parsed.search = new URLSearchParams(redacted).toString()
    }
    return parsed.toString()
}

/** Removes `user:pass@` from every URL-like substring of a free text, such as an error message. */
export function redactUrlsInText(text: string): string {
    return text.replace(USERINFO_IN_TEXT, '$1')
}
