import type {AbiParameter} from 'viem'
import {jobName, productFamily, type Product} from '../config'
import {isSecretName, looksLikeCredential, redactSecretsInText} from '../proofs/http/redact-url'
import {decodeErrorText, redactSecret, safeText, secretHash, storedUrlText} from './strings'
import {viem, type FoundSecret} from './outputs'

/**
 * Input struct of the sandbox_create job (`SandboxCreateRequest` of the AI Agent Sandbox blueprint). It has dynamic
 * members, so the call's inputs are ONE tuple parameter.
 */
export const SANDBOX_CREATE_REQUEST = [
    {name: 'name', type: 'string'},
    {name: 'image', type: 'string'},
    {name: 'stack', type: 'string'},
    {name: 'agent_identifier', type: 'string'},
    {name: 'env_json', type: 'string'},
    {name: 'metadata_json', type: 'string'},
    {name: 'ssh_enabled', type: 'bool'},
    {name: 'ssh_public_key', type: 'string'},
    {name: 'web_terminal_enabled', type: 'bool'},
    {name: 'max_lifetime_seconds', type: 'uint64'},
    {name: 'idle_timeout_seconds', type: 'uint64'},
    {name: 'cpu_cores', type: 'uint64'},
    {name: 'memory_mb', type: 'uint64'},
    {name: 'disk_gb', type: 'uint64'},
    {name: 'tee_required', type: 'bool'},
    {name: 'tee_type', type: 'uint8'},
] as const satisfies readonly AbiParameter[]

/** String members that hold JSON documents; every other string member is read as one value. */
const JSON_MEMBERS = new Set(['env_json', 'metadata_json'])

/** At most this many findings per call are recorded; the rest are counted in the call's input error. */
export const MAX_INPUT_SECRETS = 64

/** Levels of objects and arrays read in a JSON member. Deeper ones are left out and named in the input error. */
export const MAX_JSON_DEPTH = 32

/**
 * Forms of values that are credentials whatever their name: API keys and tokens of well-known services and JSON web
 * tokens. Each needs a long random-looking tail, so model names such as `gpt-4o` do not match.
 */
const CREDENTIAL_FORMS = [
    String.raw`sk-[A-Za-z0-9_-]{20,}`,
    String.raw`(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}`,
    String.raw`github_pat_[A-Za-z0-9_]{30,}`,
    String.raw`glpat-[A-Za-z0-9_-]{20,}`,
    String.raw`xox[abposr]-[A-Za-z0-9-]{10,}`,
    String.raw`(?:AKIA|ASIA)[0-9A-Z]{16}`,
    String.raw`hf_[A-Za-z0-9]{30,}`,
    String.raw`AIza[0-9A-Za-z_-]{35}`,
    String.raw`eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+`,
]

/** A whole value of a CREDENTIAL_FORMS form, or text that contains a PEM private key. */
const CREDENTIAL_VALUE = new RegExp(`^(?:${CREDENTIAL_FORMS.join('|')})$|-----BEGIN [A-Z ]*PRIVATE KEY-----`)

/** A credential of a CREDENTIAL_FORMS form inside longer text, not preceded by a word character. */
export const CREDENTIAL_IN_TEXT = new RegExp(`(?<![A-Za-z0-9_-])(?:${CREDENTIAL_FORMS.join('|')})`, 'g')

/** CREDENTIAL_IN_TEXT without the global flag, for a test that keeps no position between calls. */
const HAS_CREDENTIAL_FORM = new RegExp(CREDENTIAL_IN_TEXT.source)

/** A value that only refers to a secret kept elsewhere (`${OPENAI_API_KEY}`, `$TOKEN`): not a leak. */
const REFERENCE_VALUE = /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/

/** An environment variable name ending in the word KEY (`STRIPE_KEY`, `SSH_KEY`): a secret when its value looks like one. */
const KEY_NAME = /(?:^|[_.-])key$/i

/** The result of reading a job call's inputs. */
export interface DecodedInput {
    /** Secrets the caller published in the inputs: where, their hash and a redacted form, never the secret. */
    secrets: FoundSecret[]
    /** The reason the inputs were not read completely; undefined when they were, or when proofgap reads no input of the job. */
    error?: string
}

/**
 * Reads the inputs of a job call for secrets that the caller published on chain. Inputs are public: an API key passed
 * in a sandbox's `env_json` is readable by anyone. Only sandbox_create inputs are read today. A decoding failure is
 * returned in `error`, not thrown.
 */
export function readJobInput(product: Product | undefined, jobIndex: number, inputs: Uint8Array): DecodedInput {
    if (!product || productFamily(product) !== 'sandbox' || jobName(product, jobIndex) !== 'sandbox_create') return {secrets: []}
    let fields: Record<string, unknown>
    try {
        const [tuple] = viem().decodeAbiParameters([{type: 'tuple', components: SANDBOX_CREATE_REQUEST as readonly AbiParameter[]}], inputs)
        fields = tuple as unknown as Record<string, unknown>
    } catch (err) {
        return {secrets: [], error: `DECODE_FAILED: ${decodeErrorText(err)}`}
    }
    const found: FoundSecret[] = []
    const errors: string[] = []
    for (const param of SANDBOX_CREATE_REQUEST) {
        const raw = fields[param.name]
        if (typeof raw !== 'string' || raw === '') continue
        if (!JSON_MEMBERS.has(param.name)) {
            checkValue(raw, param.name, found)
            continue
        }
        let parsed: unknown
        try {
            parsed = JSON.parse(raw)
        } catch {
            errors.push(`JSON_INVALID in ${param.name}`)
            // Text such as `OPENAI_API_KEY=sk-…` is still a leak: report the member as a whole.
            if (containsCredential(raw)) found.push({kind: 'INPUT_SECRET', field: param.name, hash: secretHash(raw), redacted: redactSecret(raw)})
            continue
        }
        if (!checkDocument(parsed, param.name, found)) errors.push(`NESTED_TOO_DEEP in ${param.name}: levels below ${MAX_JSON_DEPTH} not read`)
    }
    let secrets = found
    if (found.length > MAX_INPUT_SECRETS) {
        errors.push(`TOO_MANY_SECRETS: ${found.length} found, the first ${MAX_INPUT_SECRETS} recorded`)
        secrets = found.slice(0, MAX_INPUT_SECRETS)
    }
    return errors.length > 0 ? {secrets, error: errors.join('; ')} : {secrets}
}

/**
 * Collects the secrets of a parsed JSON document: members with a secret name, and values that are credentials or URLs
 * with credentials. Returns false when it left out objects or arrays nested deeper than MAX_JSON_DEPTH. The walk
 * keeps its own stack, so a deeply nested document cannot overflow the call stack.
 */
function checkDocument(document: unknown, root: string, found: FoundSecret[]): boolean {
    const pending: Array<{value: unknown; path: string; depth: number}> = [{value: document, path: root, depth: 0}]
    let complete = true
    while (pending.length > 0) {
        const {value, path, depth} = pending.pop()!
        if (value instanceof SecretValue) {
            found.push({kind: 'INPUT_SECRET', field: path, hash: secretHash(value.text), redacted: redactSecret(value.text)})
            continue
        }
        if (typeof value === 'string') {
            checkValue(value, path, found)
            continue
        }
        if (value === null || typeof value !== 'object') continue
        if (depth >= MAX_JSON_DEPTH) {
            complete = false
            continue
        }
        // Children go on the stack in reverse, so findings come out in document order.
        const children: Array<{value: unknown; path: string; depth: number}> = []
        if (Array.isArray(value)) {
            value.forEach((item, index) => children.push({value: item, path: `${path}[${index}]`, depth: depth + 1}))
        } else {
            for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
                const field = `${path}.${safeText(key)}`
                const text = typeof member === 'number' ? String(member) : member
                const named = isSecretName(key) || (KEY_NAME.test(key) && typeof text === 'string' && looksLikeCredential(text))
                if (named && typeof text === 'string' && text !== '' && !REFERENCE_VALUE.test(text)) {
                    children.push({value: new SecretValue(text), path: field, depth: depth + 1})
                } else {
                    children.push({value: member, path: field, depth: depth + 1})
                }
            }
        }
        for (let i = children.length - 1; i >= 0; i--) pending.push(children[i])
    }
    return complete
}

/** A member value already known to be a secret by its name. */
class SecretValue {
    constructor(readonly text: string) {}
}

/**
 * Returns whether `text` is or contains a credential: a known form, a PEM private key, a credential after Bearer, Basic
 * or Token, or a `name=value` pair with a secret name.
 */
function containsCredential(text: string): boolean {
    if (CREDENTIAL_VALUE.test(text)) return true
    return HAS_CREDENTIAL_FORM.test(text) || redactSecretsInText(text) !== text
}

/**
 * Records `value` when it is or contains a credential (`curl -H "Authorization: Bearer sk-…" …`), or is a URL that
 * carries credentials. The redacted form of a credential is its first characters and length, as for every other
 * secret, so that text around it which the patterns miss is not published either.
 */
function checkValue(value: string, field: string, found: FoundSecret[]): void {
    const text = safeText(value)
    // Credentials in a URL are user info (`@`) or a parameter (`=`); the parse is skipped for values without either.
    if (!CREDENTIAL_VALUE.test(value) && (value.includes('@') || value.includes('='))) {
        const stored = storedUrlText(text)
        if (stored !== text) {
            found.push({kind: 'INPUT_URL_CREDENTIALS', field, hash: secretHash(value), redacted: stored})
            return
        }
    }
    if (containsCredential(value)) found.push({kind: 'INPUT_SECRET', field, hash: secretHash(value), redacted: redactSecret(value)})
}
