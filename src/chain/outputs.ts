import type {AbiParameter} from 'viem'
import {keccak256} from './keccak'
import {productFamily, jobName, type Product} from '../config'
import {decodeErrorText, redactSecret, safeText, secretHash, storedUrlText, toJsonValue} from './strings'

let viemModule: typeof import('viem') | undefined

/** viem, loaded on the first job output: loading it takes about 0.1 s, which a processor start would pay for nothing. */
export function viem(): typeof import('viem') {
    return (viemModule ??= require('viem') as typeof import('viem'))
}

/**
 * A secret found in a public job output or job input: where it was, its hash and a redacted form. Never the secret
 * itself. Kinds starting with `INPUT_` were published by the caller in the call's inputs, the others by an operator
 * in a result.
 */
export interface FoundSecret {
    kind: 'SIDECAR_TOKEN' | 'SECRET_FIELD' | 'URL_CREDENTIALS' | 'INPUT_SECRET' | 'INPUT_URL_CREDENTIALS'
    field: string
    hash: string
    redacted: string
}

/** Facts about a sandbox that its sandbox_create output publishes. */
export interface SandboxFacts {
    sandboxId: string
    sandboxHash: string
    sidecarUrl: string | null
    tokenHash: string | null
    tokenRedacted: string | null
    sshPort: bigint | null
    teeAttestationHash: string | null
}

export interface DecodedOutput {
    value?: object
    error?: string
    secrets: FoundSecret[]
    sandbox?: SandboxFacts
}

const JSON_ONLY: AbiParameter[] = [{name: 'json', type: 'string'}]

/** Output struct of each (product family, job name). A struct with a dynamic member is ONE tuple parameter. */
const OUTPUT_TYPES: Record<string, AbiParameter[]> = {
    'sandbox:sandbox_create': [
        {name: 'sandboxId', type: 'string'},
        {name: 'json', type: 'string'},
    ],
    'trading:provision': [
        {name: 'vault_address', type: 'address'},
        {name: 'share_token', type: 'address'},
        {name: 'sandbox_id', type: 'string'},
        {name: 'workflow_id', type: 'uint64'},
    ],
    'trading:status': [
        {name: 'sandbox_id', type: 'string'},
        {name: 'state', type: 'string'},
        {name: 'portfolio_json', type: 'string'},
        {name: 'trading_active', type: 'bool'},
    ],
    'surplus:list_instrument': [
        {name: 'ok', type: 'bool'},
        {name: 'instrumentId', type: 'string'},
    ],
    'surplus:start_making': [
        {name: 'ok', type: 'bool'},
        {name: 'instrumentId', type: 'string'},
    ],
    'surplus:stop_making': [
        {name: 'ok', type: 'bool'},
        {name: 'instrumentId', type: 'string'},
    ],
    'surplus:configure': [
        {name: 'size', type: 'int64'},
        {name: 'maxInventory', type: 'int64'},
        {name: 'minSpreadBps', type: 'int64'},
    ],
    'surplus:status': JSON_ONLY,
    'surplus:workflow_tick': [
        {name: 'quoting', type: 'bool'},
        {name: 'inventoryTokens', type: 'int64'},
        {name: 'rationale', type: 'string'},
    ],
}

function outputType(product: Product, job: string): AbiParameter[] | undefined {
    const family = productFamily(product)
    const exact = OUTPUT_TYPES[`${family}:${job}`]
    if (exact) return exact
    if (family === 'sandbox') return JSON_ONLY
    if (family === 'trading' && product !== 'trading-validator') return JSON_ONLY
    return undefined
}

function hasDynamic(params: AbiParameter[]): boolean {
    return params.some((p) => p.type === 'string' || p.type === 'bytes' || p.type.endsWith('[]'))
}

/**
 * Keys whose string values are secrets in any product's JSON output. A bare `token` is a secret only in sandbox
 * outputs (the sidecar bearer token); trading outputs use `token` for an asset symbol.
 */
const SECRET_KEY = /^([a-z0-9_]*_token|[a-z0-9_]*_secret|secret|api_?key|password|private_?key)$/i
const SANDBOX_SECRET_KEY = /^token$/i

/**
 * Replace every secret-looking field of parsed JSON by its redacted form, collecting what was found.
 * `path` names the field for the finding, e.g. `token`.
 */
function redactJson(value: unknown, path: string, secrets: FoundSecret[], sandbox: boolean): unknown {
    if (Array.isArray(value)) return value.map((v, i) => redactJson(v, path === '' ? `[${i}]` : `${path}[${i}]`, secrets, sandbox))
    if (typeof value === 'string') {
        const text = safeText(value)
        // A URL with credentials (`user:pass@`, `?token=`) stays in place, without them.
        const redacted = storedUrlText(text)
        if (redacted !== text) secrets.push({kind: 'URL_CREDENTIALS', field: path, hash: secretHash(value), redacted})
        return redacted
    }
    if (value === null || typeof value !== 'object') return value
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const field = path === '' ? key : `${path}.${key}`
        const isSecret = SECRET_KEY.test(key) || (sandbox && SANDBOX_SECRET_KEY.test(key))
        if (isSecret && typeof v === 'string' && v !== '') {
            secrets.push({
                kind: key === 'token' ? 'SIDECAR_TOKEN' : 'SECRET_FIELD',
                field,
                hash: secretHash(v),
                redacted: redactSecret(v),
            })
            out[safeText(key)] = redactSecret(v)
        } else {
            out[safeText(key)] = redactJson(v, field, secrets, sandbox)
        }
    }
    return out
}

/** Mask `"token": "…"` values in text that is not valid JSON, so an unparsable output cannot leak a token either. */
function maskTokensInText(text: string, secrets: FoundSecret[], field: string): string {
    return text.replace(/("(?:token|secret|api_?key|password|private_?key)"\s*:\s*")([^"]+)(")/gi, (_m, a: string, v: string, b: string) => {
        secrets.push({kind: 'SIDECAR_TOKEN', field, hash: secretHash(v), redacted: redactSecret(v)})
        return a + redactSecret(v) + b
    })
}

/**
 * Decode a job output by the product and job of its call. Strings that hold JSON are parsed, secrets in them are
 * replaced by redacted forms and reported; numbers become decimal strings. A failure is returned, never thrown.
 */
export function decodeJobOutput(product: Product | undefined, jobIndex: number, output: Uint8Array): DecodedOutput {
    const secrets: FoundSecret[] = []
    if (!product) return {secrets, error: 'UNKNOWN_PRODUCT'}
    const job = jobName(product, jobIndex)
    const params = job ? outputType(product, job) : undefined
    if (!params) return {secrets, error: `NO_DECODER for job ${jobIndex}`}
    let fields: Record<string, unknown>
    try {
        const types: readonly AbiParameter[] = hasDynamic(params) ? [{type: 'tuple', components: params}] : params
        const values = viem().decodeAbiParameters(types, output)
        fields = hasDynamic(params)
            ? (values[0] as Record<string, unknown>)
            : Object.fromEntries(params.map((p, i) => [p.name!, values[i]]))
    } catch (err) {
        return {secrets, error: `DECODE_FAILED: ${decodeErrorText(err)}`}
    }

    const value: Record<string, unknown> = {}
    let parsedSandboxJson: Record<string, unknown> | undefined
    let error: string | undefined
    for (const param of params) {
        const raw = fields[param.name!]
        if (typeof raw === 'string' && param.name === 'json') {
            try {
                const parsed = JSON.parse(raw)
                // Field paths of secrets are relative to the JSON document, e.g. `token`.
                value[param.name!] = redactJson(parsed, '', secrets, productFamily(product) === 'sandbox')
                if (param.name === 'json' && parsed && typeof parsed === 'object') parsedSandboxJson = parsed
            } catch {
                error = `JSON_INVALID in ${param.name}`
                value[param.name!] = safeText(maskTokensInText(raw, secrets, param.name!))
            }
        } else {
            value[param.name!] = toJsonValue(typeof raw === 'string' ? raw : raw)
            if (typeof raw === 'string' && /^0x[0-9a-fA-F]{40}$/.test(raw)) value[param.name!] = raw.toLowerCase()
        }
    }

    let sandbox: SandboxFacts | undefined
    if (job === 'sandbox_create' && typeof fields.sandboxId === 'string') {
        const j = parsedSandboxJson ?? {}
        const token = typeof j.token === 'string' && j.token !== '' ? j.token : null
        const tee = typeof j.teeAttestationJson === 'string' && j.teeAttestationJson !== '' ? j.teeAttestationJson : null
        const port = j.sshPort
        sandbox = {
            sandboxId: safeText(fields.sandboxId),
            sandboxHash: keccak256(new TextEncoder().encode(fields.sandboxId)),
            sidecarUrl: typeof j.sidecarUrl === 'string' ? storedUrlText(safeText(j.sidecarUrl)) : null,
            tokenHash: token ? secretHash(token) : null,
            tokenRedacted: token ? redactSecret(token) : null,
            sshPort: typeof port === 'number' && Number.isSafeInteger(port) ? BigInt(port) : null,
            teeAttestationHash: tee ? keccak256(new TextEncoder().encode(tee)) : null,
        }
    }
    return {value, error, secrets, sandbox}
}

/**
 * sandboxHash of a sandbox_create output, read without knowing the call's product, so a batch can load the sandbox
 * row before handling the result. Undefined when the bytes are not that shape.
 */
export function sandboxHashOfOutput(output: Uint8Array): string | undefined {
    try {
        const [tuple] = viem().decodeAbiParameters([{type: 'tuple', components: OUTPUT_TYPES['sandbox:sandbox_create']}], output)
        const sandboxId = (tuple as unknown as {sandboxId: string}).sandboxId
        return keccak256(new TextEncoder().encode(sandboxId))
    } catch {
        return undefined
    }
}
