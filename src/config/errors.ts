/** A setting was missing or invalid. `problems` lists each one as "<setting>: <what is wrong>; <fix>". */
export class ConfigError extends Error {
    constructor(
        readonly problems: string[],
        readonly source: string,
    ) {
        super(`invalid configuration (${source}):\n  - ${problems.join('\n  - ')}`)
        this.name = 'ConfigError'
    }
}

/** Strip credentials, query and fragment from a URL so it can appear in a message or a log line. */
export function redactUrlForLog(url: string): string {
    // Text such as `user:pass@host` parses with `user:` as its scheme and the password as its path; show none of it.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return '<text without a URL scheme such as https://>'
    try {
        const parsed = new URL(url)
        const hadSecrets = parsed.username !== '' || parsed.password !== '' || parsed.search !== ''
        parsed.username = ''
        parsed.password = ''
        parsed.search = ''
        parsed.hash = ''
        const text = parsed.toString()
        return hadSecrets ? `${text} (credentials and query removed)` : text
    } catch {
        return '<unparsable URL>'
    }
}
