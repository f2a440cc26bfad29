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
 * The user info of `scheme://user:pass@` or `//user@` anywhere in a text, from the slashes to the last `@` before the
 * host. The scheme is left out of the pattern: an optional scheme before the slashes makes the search quadratic in a
 * long word.
 */
const USERINFO_IN_TEXT = /\/\/[^\s/?#]*@/g

/**
 * `user:password@` in front of a host without `//` (`admin:pw@127.0.0.1:8080`, `admin:p@ss@[::1]:8080`), at the start
 * of a text or after a space, optionally inside a parenthesis. A URL parser reads `admin:` as a scheme, so the user
 * info would survive as part of a path. Matches start only after a space, so the search stays linear.
 */
const BARE_USERINFO_IN_TEXT = /(^|\s)(\(?)[A-Za-z0-9._~-]+:[^\s/?#]*@(?=\[|[A-Za-z0-9])/g

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
        .replace(BARE_USERINFO_IN_TEXT, '$1$2')
        .replace(PARAMETER_IN_TEXT, (match, before: string, name: string, value: string) =>
            value !== '' && value !== REDACTED && SECRET_QUERY_PARAMETER.test(decodedName(name)) ? `${before}${name}=${REDACTED}` : match,
        )
}

/**
 * Words that end the name of a secret in a response body or an evaluator's text, such as `token`, `sidecarToken`,
 * `api_key`, `secret_key`, `client_secret`, `password`, `passphrase`, `private_key`, `session` or `authorization`, and
 * the whole words `pass` and `pwd`. Narrower than SECRET_QUERY_PARAMETER, because bodies name counts such as
 * `served_tokens` and `token_kind` that are evidence.
 */
const SECRET_NAME_END =
    String.raw`(?:token|secret|password|passwd|passphrase|(?:api|private|secret|access|signing|encryption|master|client)[_-]?key|apikey|privatekey|` +
    String.raw`authorization|jwt|credentials?|session(?:[_-]?id)?|(?:(?<![A-Za-z0-9])|(?<=[_.-]))(?:pass|pwd))`

/** A whole name that ends in a secret word (see SECRET_NAME_END), such as `OPENAI_API_KEY` or `db_password`. */
const SECRET_NAME = new RegExp(String.raw`${SECRET_NAME_END}$`, 'i')

/** Returns whether `name` (a JSON member, an environment variable, a form field) names a secret. */
export function isSecretName(name: string): boolean {
    return SECRET_NAME.test(name)
}

/**
 * A member with a secret name in JSON or in a Python or JavaScript literal, with double or single quotes. Its value is
 * a string (group 4, closed or cut off), a number of twelve or more digits (group 6) or an array of scalars (group 7).
 */
const SECRET_QUOTED_MEMBER = new RegExp(
    String.raw`((["'])[^"'\\]*${SECRET_NAME_END}\2\s*:\s*)` +
        String.raw`(?:(["'])((?:(?!\3)[^\\]|\\.)*)(\3?)|(-?\d{12,}(?:\.\d+)?)|\[([^\[\]{}]*)(\]?))`,
    'gi',
)

/** A quoted string in JSON or a literal, closed or cut off at the end of the text. */
const QUOTED_STRING = /"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?/g

/** A JSON member with a secret name inside a JSON string (`\"access_token\":\"…\"`), and its escaped value. */
const SECRET_ESCAPED_MEMBER = new RegExp(String.raw`(\\"[^"\\]*${SECRET_NAME_END}\\"\s*:\s*\\")((?:[^"\\]|\\[^"])*)(\\"|$)`, 'gi')

/** An XML or HTML element with a secret name, up to its text (`<password>…`). */
const SECRET_ELEMENT = new RegExp(String.raw`(<[A-Za-z0-9_:.-]*${SECRET_NAME_END}(?:\s[^<>]*)?>)([^<]+)`, 'gi')

/** The body of a PEM private key, up to its END line or the end of the text. */
const PEM_PRIVATE_KEY = /(-----BEGIN [A-Z ]*PRIVATE KEY-----)[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g

/** A query parameter of a URL in the text (after `?` or `&`), with the value as group 3. */
const QUERY_PARAMETER_IN_TEXT = /([?&])([A-Za-z0-9_.~%-]+)=([^\s&#"'<>]*)/g

/** Names of query parameters in a text that hold secrets: those of SECRET_NAME_END, and `key`, `sig`, `signature`, `auth`. */
const SECRET_PARAMETER_IN_TEXT = new RegExp(String.raw`^(?:key|sig|signature|auth)$|${SECRET_NAME_END}$`, 'i')

/** Schemes of an Authorization value whose credentials follow the scheme word. */
const AUTH_SCHEME = String.raw`(?:Bearer|Basic|Token)`

/** The word after an authorization scheme word (group 2), unless it is the name of an auth parameter (`realm=`). */
const SCHEME_CREDENTIALS = new RegExp(String.raw`\b(${AUTH_SCHEME}\s+)([A-Za-z0-9\-._~+/]+=*)(?![A-Za-z0-9\-._~+/="])`, 'gi')

/**
 * `name=value` or `name: value` outside quoted member syntax, whose name ends in a secret word: the value
 * double-quoted (group 4), single-quoted (group 6) or bare (group 8).
 */
const SECRET_NAMED_VALUE = new RegExp(
    String.raw`(^|[^A-Za-z0-9_.-])([A-Za-z0-9_.-]*${SECRET_NAME_END})(\s*[=:]\s*)` +
        String.raw`(?:"((?:[^"\\]|\\.)*)("?)|'([^']*)('?)|(?!${AUTH_SCHEME}\s)([^\s&#"',;)}?=<>]+))`,
    'gi',
)

/**
 * Returns whether a bare word after a secret name or an authorization scheme looks like a credential rather than a
 * word of a message. A credential has six or more characters with a digit, one of `+/=~`, or a lower-case letter
 * followed later by an upper-case one (as base64 has), or twenty or more characters without a word separator.
 * `token: expired`, `token: TOKEN_EXPIRED` and `Basic authentication` are messages. `token=abc123` and
 * `Basic dXNlcjpwYXNz` are credentials.
 */
export function looksLikeCredential(value: string): boolean {
    if (value.length < 6) return false
    // Lower case, then upper case later: two searches, because /[a-z].*[A-Z]/ backtracks quadratically in a long word.
    const firstLower = value.search(/[a-z]/)
    if (/[0-9+/=~]/.test(value) || (firstLower >= 0 && /[A-Z]/.test(value.slice(firstLower + 1)))) return true
    return value.length >= 20 && !/[-_.]/.test(value)
}

/**
 * Removes secrets from text an operator sent (a body excerpt, a value an evaluator quotes). It removes user info of
 * URLs, private keys in PEM form, credentials after Bearer, Basic or Token, and the values of secret-looking query
 * parameters. It also replaces the values of members, elements and `name=value` or `name: value` pairs whose names end
 * in a secret word (see SECRET_NAME_END): always when quoted, and when bare only if they look like a credential. A
 * string cut off by a length limit loses its value to the end of the text. An empty value stays, because that it is
 * empty is evidence.
 */
export function redactSecretsInText(text: string): string {
    return text
        .replace(USERINFO_IN_TEXT, '//')
        .replace(BARE_USERINFO_IN_TEXT, '$1$2')
        .replace(PEM_PRIVATE_KEY, `$1 ${REDACTED} $2`)
        .replace(SCHEME_CREDENTIALS, (match, scheme: string, word: string) => (looksLikeCredential(word) ? `${scheme}${REDACTED}` : match))
        .replace(QUERY_PARAMETER_IN_TEXT, (match, separator: string, name: string, value: string) =>
            value !== '' && value !== REDACTED && SECRET_PARAMETER_IN_TEXT.test(decodedName(name)) ? `${separator}${name}=${REDACTED}` : match,
        )
        .replace(SECRET_ESCAPED_MEMBER, (match, prefix: string, value: string, end: string) => (value === '' ? match : `${prefix}${REDACTED}${end}`))
        .replace(
            SECRET_QUOTED_MEMBER,
            (match, prefix: string, _nameQuote: string, quote?: string, string?: string, stringEnd?: string, number?: string, array?: string, arrayEnd?: string) => {
                if (string !== undefined) return string === '' ? match : `${prefix}${quote}${REDACTED}${stringEnd}`
                if (number !== undefined) return `${prefix}"${REDACTED}"`
                const items = (array ?? '').replace(QUOTED_STRING, (item) => (item.length <= 2 && item[0] === item[1] ? item : `${item[0]}${REDACTED}${item[0]}`))
                return `${prefix}[${items}${arrayEnd ?? ''}`
            },
        )
        .replace(SECRET_ELEMENT, (match, open: string, value: string) => (value.trim() === '' ? match : `${open}${REDACTED}`))
        .replace(
            SECRET_NAMED_VALUE,
            (match, before: string, name: string, separator: string, double?: string, doubleEnd?: string, single?: string, singleEnd?: string, bare?: string) => {
                if (double !== undefined) return double === '' ? match : `${before}${name}${separator}"${REDACTED}${doubleEnd}`
                if (single !== undefined) return single === '' ? match : `${before}${name}${separator}'${REDACTED}${singleEnd}`
                return bare !== undefined && bare !== REDACTED && looksLikeCredential(bare) ? `${before}${name}${separator}${REDACTED}` : match
            },
        )
}
