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
 * Removes credentials from a URL so it can be stored, logged or returned: the user and password part
 * (`user:pass@`) is dropped, and the values of secret-looking parameters (see SECRET_QUERY_PARAMETER) in the query
 * or in a fragment of `name=value` pairs become `REDACTED`. Text that does not parse as a URL goes through
 * redactUrlsInText.
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

/** A JSON member with a string value whose name ends in a secret word; the value runs to its closing quote or the end. */
const SECRET_JSON_MEMBER = new RegExp(String.raw`("[^"\\]*${SECRET_NAME_END}"\s*:\s*)"(?:[^"\\]|\\.)*("?)`, 'gi')

/** `name=value` or `name: value` outside quotes, whose name ends in a secret word. */
const SECRET_NAMED_VALUE = new RegExp(String.raw`(^|[^A-Za-z0-9_.-])([A-Za-z0-9_.-]*${SECRET_NAME_END})(\s*[=:]\s*)(?!"|\s|Bearer\s|Basic\s)[^\s&#"',;)}]+`, 'gi')

/** `Bearer <token>` or `Basic <credentials>` of at least 8 characters, in a header value or a message. */
const BEARER_IN_TEXT = /\b((?:Bearer|Basic)\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi

/**
 * Removes secrets from text an operator sent (a body excerpt, a value an evaluator quotes): user info of URLs, bearer
 * tokens, and the values of JSON members and `name=value` pairs whose names end in a secret word (see
 * SECRET_NAME_END). A JSON string cut off by a length limit loses its value to the end of the text.
 */
export function redactSecretsInText(text: string): string {
    return text
        .replace(USERINFO_IN_TEXT, '//')
        .replace(BEARER_IN_TEXT, `$1${REDACTED}`)
        .replace(SECRET_JSON_MEMBER, (_match, prefix: string, closing: string) => `${prefix}"${REDACTED}${closing}`)
        .replace(SECRET_NAMED_VALUE, (match, before: string, name: string, separator: string) =>
            match.endsWith(REDACTED) ? match : `${before}${name}${separator}${REDACTED}`,
        )
}
