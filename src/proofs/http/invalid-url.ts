/** A scheme at the start of a text, as RFC 3986 spells it: a letter, then letters, digits, `+`, `-` or `.`, then `:`. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/

/**
 * U+2400, the stand-in that proofgap stores for a NUL byte of a chain string, because PostgreSQL text cannot hold
 * U+0000. A NUL that was not stored yet counts as well.
 */
const NUL = /[\u0000\u2400]/
/** Control characters other than NUL, which no URL contains unencoded. */
const CONTROL = /[\u0001-\u001f\u007f]/

/** U+FFFD, the stand-in that proofgap stores for bytes of a chain string that are not valid UTF-8. */
const REPLACEMENT_CHARACTER = '\ufffd'

const MAX_PORT = 65_535

/**
 * Describes why `new URL()` rejected `text`. A text without a scheme is "not an absolute URL". Any other is "not a
 * valid URL", followed by the problems found, such as invalid UTF-8, NUL bytes or a non-numeric port. The result
 * never contains `text` itself, so the caller decides how to redact it.
 */
export function describeInvalidUrl(text: string): string {
    if (!SCHEME.test(text)) return 'not an absolute URL'
    const problems: string[] = []
    if (text.includes(REPLACEMENT_CHARACTER)) problems.push('invalid UTF-8 (U+FFFD)')
    if (NUL.test(text)) problems.push('NUL bytes (U+2400)')
    if (CONTROL.test(text)) problems.push('control characters')
    if (text.includes(' ')) problems.push('spaces')
    const authority = authorityOf(text)
    if (authority !== null) problems.push(...authorityProblems(authority))
    if (problems.length === 0) return 'not a valid URL'
    const listed = problems.length === 1 ? problems[0] : `${problems.slice(0, -1).join(', ')} and ${problems[problems.length - 1]}`
    return `not a valid URL because it contains ${listed}`
}

/** Returns the authority of `scheme://authority/...` without user info, or null when no `//` follows the scheme. */
function authorityOf(text: string): string | null {
    const rest = text.replace(SCHEME, '')
    if (!rest.startsWith('//')) return null
    const end = rest.slice(2).search(/[/?#\\]/)
    const authority = end === -1 ? rest.slice(2) : rest.slice(2, 2 + end)
    return authority.slice(authority.lastIndexOf('@') + 1)
}

function authorityProblems(authority: string): string[] {
    if (authority === '') return ['no host']
    // An IPv6 host is bracketed and contains colons of its own, so the port starts after the closing bracket.
    const hostEnd = authority.startsWith('[') ? authority.indexOf(']') + 1 : authority.lastIndexOf(':')
    if (hostEnd <= 0 || hostEnd >= authority.length || authority[hostEnd] !== ':') return []
    const port = authority.slice(hostEnd + 1)
    if (!/^\d*$/.test(port)) return ['a non-numeric port']
    if (port !== '' && Number(port) > MAX_PORT) return [`a port above ${MAX_PORT}`]
    return []
}
