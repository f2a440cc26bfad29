/** Placeholder that replaces a secret value in stored or logged URLs. */
export const REDACTED = 'REDACTED'

/**
 * Query and fragment parameters whose values are treated as secrets: names that contain one of these words
 * (case-insensitive), such as `token`, `access_token`, `api_key`, `private_key`, `client_secret`, `password`,
 * `auth`, `session_id`, `jwt` or `signature`, and the short forms `sig` and `pwd`. A harmless name that contains one
 * loses its value too; that costs less than a secret kept.
 */
const SECRET_QUERY_PARAMETER = /token|key|secret|passw|auth|credential|session|jwt|bearer|signature|^sig$|^pwd$|^pass$/i

/**
 * `name=value` in free text, after the start, a space or one of `?&#;`: the name (percent-encoding allowed) as group 2,
 * the value as group 3: quoted, or up to a space, `&`, `#`, a quote or `;`.
 */
const PARAMETER_IN_TEXT = /(^|[\s?&#;])([A-Za-z0-9_.~%-]+)=("[^"]*"|'[^']*'|[^\s&#"';]*)/g

/** Rounds of percent-decoding applied to a parameter name, so that `%2574oken` is read as `token` too. */
const NAME_DECODING_ROUNDS = 3

/** Returns `name` with its percent-encoding undone (repeatedly), stopping at malformed encoding. */
function decodedName(name: string): string {
    let decoded = name
    for (let round = 0; round < NAME_DECODING_ROUNDS && decoded.includes('%'); round++) {
        try {
            decoded = decodeURIComponent(decoded)
        } catch {
            break
        }
    }
    return decoded
}

/**
 * The user info of `scheme://user:pass@` or `//user@` anywhere in a text, from the slashes to the `@`. The scheme is
 * left out of the pattern: an optional scheme before the slashes makes the search quadratic in a long word.
 */
const USERINFO_IN_TEXT = /\/\/[^\s/?#@]*@/g

/**
 * `user:password@` in front of a host without `//` (`admin:pw@127.0.0.1:8080`), at the start of a text or after a
 * space. A URL parser reads `admin:` as a scheme, so the user info would survive as part of a path.
 */
const BARE_USERINFO_IN_TEXT = /(^|\s)[A-Za-z0-9._~-]+:[^\s/?#@]*@(?=[A-Za-z0-9.[\]-]+(?::\d+)?(?:[/?#\s]|$))/g

/** BARE_USERINFO_IN_TEXT without the global flag, for a test that keeps no position between calls. */
const HAS_BARE_USERINFO = new RegExp(BARE_USERINFO_IN_TEXT.source)

/**
 * Removes credentials from a URL so it can be stored, logged or returned: the user and password part
 * (`user:pass@`) is dropped, and the values of secret-looking parameters (see SECRET_QUERY_PARAMETER) in the query
 * or in a fragment of `name=value` pairs become `REDACTED`. Text that does not parse as a URL goes through
 * redactUrlsInText.
 */
export function redactUrl(url: string): string {
    if (!url.includes('//') && HAS_BARE_USERINFO.test(url)) return redactUrlsInText(url)
    let parsed: URL
    try {
        parsed = new URL(url)
    } catch {
        return redactUrlsInText(url)
    }

    parsed.username = ''
    parsed.password = ''

    // Rewrite the query and the fragment only when they contain a secret, because re-serializing can change their
    // encoding.
    const query = withoutSecretParameters(parsed.search.slice(1))
    if (query !== undefined) parsed.search = query
    if (parsed.hash.includes('=')) {
        const fragment = withoutSecretParameters(parsed.hash.slice(1))
        if (fragment !== undefined) parsed.hash = fragment
    }
    return parsed.toString()
}

/** Returns `text` as `name=value` pairs with secret values replaced, or undefined when it has no secret parameter. */
function withoutSecretParameters(text: string): string | undefined {
    const parameters = [...new URLSearchParams(text).entries()]
    const secret = (name: string): boolean => SECRET_QUERY_PARAMETER.test(decodedName(name))
    if (!parameters.some(([name]) => secret(name))) return undefined
    return new URLSearchParams(parameters.map(([name, value]) => [name, secret(name) ? REDACTED : value])).toString()
}

/**
 * Removes credentials from a free text, such as an error message or a URL that does not parse (`host:port/?key=…`
 * without a scheme): `user:pass@` of every URL-like part, and the values of secret-looking `name=value` pairs, which
 * become `REDACTED`.
 */
export function redactUrlsInText(text: string): string {
    return text
        .replace(USERINFO_IN_TEXT, '//')
        .replace(BARE_USERINFO_IN_TEXT, '$1')
        .replace(PARAMETER_IN_TEXT, (match, before: string, name: string, value: string) =>
            value !== '' && value !== REDACTED && SECRET_QUERY_PARAMETER.test(decodedName(name)) ? `${before}${name}=${REDACTED}` : match,
        )
}

/**
 * Words that end the name of a secret in a response body or an evaluator's text, such as `token`, `sidecarToken`,
 * `api_key`, `client_secret`, `password`, `private_key` or `authorization`. Narrower than SECRET_QUERY_PARAMETER,
 * because bodies name counts such as `served_tokens` and `token_kind` that are evidence.
 */
const SECRET_NAME_END = String.raw`(?:token|secret|password|passwd|api[_-]?key|apikey|private[_-]?key|privatekey|authorization|jwt|credentials?|session[_-]?id)`

/**
 * A JSON member whose name ends in a secret word, and its value: a string (group 2, cut or not), a number of six or
 * more digits (group 4), or an array of scalars (group 5).
 */
const SECRET_JSON_MEMBER = new RegExp(
    String.raw`("[^"\\]*${SECRET_NAME_END}"\s*:\s*)(?:"((?:[^"\\]|\\.)*)("?)|(-?\d{6,}(?:\.\d+)?)|\[([^\[\]{}]*)(\]?))`,
    'gi',
)

/** A JSON string, closed or cut off at the end of the text. */
const JSON_STRING = /"(?:[^"\\]|\\.)*"?/g

/** Schemes of an Authorization value whose credentials follow the scheme word. */
const AUTH_SCHEME = String.raw`(?:Bearer|Basic|Token)`

/** Credentials of at least 8 characters after an authorization scheme word, in a header value or a message. */
const SCHEME_CREDENTIALS = new RegExp(String.raw`\b(${AUTH_SCHEME}\s+)[A-Za-z0-9\-._~+/]{8,}=*`, 'gi')

/**
 * `name=value` or `name: value` outside JSON member syntax, whose name ends in a secret word: the value double-quoted
 * (group 4), single-quoted (group 6) or bare (group 8).
 */
const SECRET_NAMED_VALUE = new RegExp(
    String.raw`(^|[^A-Za-z0-9_.-])([A-Za-z0-9_.-]*${SECRET_NAME_END})(\s*[=:]\s*)` +
        String.raw`(?:"((?:[^"\\]|\\.)*)("?)|'([^']*)('?)|(?!${AUTH_SCHEME}\s)([^\s&#"',;)}]+))`,
    'gi',
)

/**
 * Returns whether a bare value after a secret name looks like a credential rather than a word of a message: six or
 * more characters with a digit or a symbol, or sixteen or more letters. `token: expired` is a message,
 * `token=abc123` a credential.
 */
function looksLikeCredential(value: string): boolean {
    return (value.length >= 6 && /[^A-Za-z]/.test(value)) || value.length >= 16
}

/**
 * Removes secrets from text an operator sent (a body excerpt, a value an evaluator quotes): user info of URLs,
 * credentials after Bearer, Basic or Token, the values of JSON members whose names end in a secret word (see
 * SECRET_NAME_END), and the values of `name=value` and `name: value` pairs with such names when quoted or when they
 * look like a credential. A string cut off by a length limit loses its value to the end of the text. An empty value
 * stays, because that it is empty is evidence.
 */
export function redactSecretsInText(text: string): string {
    return text
        .replace(USERINFO_IN_TEXT, '//')
        .replace(BARE_USERINFO_IN_TEXT, '$1')
        .replace(SCHEME_CREDENTIALS, `$1${REDACTED}`)
        .replace(SECRET_JSON_MEMBER, (match, prefix: string, string?: string, stringEnd?: string, number?: string, array?: string, arrayEnd?: string) => {
            if (string !== undefined) return string === '' ? match : `${prefix}"${REDACTED}${stringEnd}`
            if (number !== undefined) return `${prefix}"${REDACTED}"`
            const items = (array ?? '').replace(JSON_STRING, (item) => (item === '""' ? item : `"${REDACTED}"`))
            return `${prefix}[${items}${arrayEnd ?? ''}`
        })
        .replace(
            SECRET_NAMED_VALUE,
            (match, before: string, name: string, separator: string, double?: string, doubleEnd?: string, single?: string, singleEnd?: string, bare?: string) => {
                if (double !== undefined) return double === '' ? match : `${before}${name}${separator}"${REDACTED}${doubleEnd}`
                if (single !== undefined) return single === '' ? match : `${before}${name}${separator}'${REDACTED}${singleEnd}`
                return bare !== undefined && bare !== REDACTED && looksLikeCredential(bare) ? `${before}${name}${separator}${REDACTED}` : match
            },
        )
}
