import {
    type Hex,
    type LocalAccount,
    type PrivateKeyAccount,
    bytesToHex,
    keccak256,
    recoverMessageAddress,
    stringToBytes,
} from 'viem'
import {generatePrivateKey, privateKeyToAccount} from 'viem/accounts'
import {redactSecretsInText, redactUrl} from './http/redact-url'
import type {ProbeResponse, ProofOutcome, ProofVerdict} from './types'

/**
 * Response headers covered by the evidence digest, in encoding order. Other headers (dates, request ids, cookies)
 * change on every request or carry secrets, so they stay out of the digest.
 */
export const EVIDENCE_HEADERS = ['content-type', 'content-length', 'location', 'retry-after', 'server'] as const

/** First field of the evidence encoding; a new layout gets a new tag so old digests stay recomputable. */
export const EVIDENCE_ENCODING_TAG = 'proofgap-evidence-v1'

/** Maximum bytes of the response body copied into a record's excerpt. */
export const EXCERPT_MAX_BYTES = 256

/**
 * Encodes the evidence of one probe exchange canonically, so anyone holding the exchange can recompute its
 * digest. The encoding is a concatenation of fields:
 *
 *   field(x)    = uint32 big-endian byte length of x, then the bytes of x; strings are UTF-8
 *   optional(x) = 0x00 when x is absent, else 0x01 followed by field(x)
 *   flag(b)     = one byte, 0x01 for true, 0x00 for false
 *
 *   field("proofgap-evidence-v1")
 *   field(request method)                 e.g. "GET"
 *   field(redactUrl(request URL))
 *   optional(request body)                the UTF-8 bytes as sent
 *   field(redactUrl(final URL))
 *   optional(status)                      decimal ASCII, e.g. "200"; absent when no response arrived
 *   optional(header value) for each name in EVIDENCE_HEADERS, in that order, looked up lower-case
 *   optional(error code)                  e.g. "BODY_TOO_LARGE"
 *   flag(truncated)
 *   field(response body)                  raw bytes as received, up to the size cap
 *
 * The request body is taken byte for byte rather than re-serialized as sorted JSON, because the prober builds
 * it itself and parsing JSON would round integers above 2^53.
 */
export function encodeEvidence(response: ProbeResponse): Uint8Array {
    const parts: Uint8Array[] = []
    const field = (bytes: Uint8Array): void => {
        parts.push(uint32BigEndian(bytes.length), bytes)
    }
    const optional = (text: string | undefined): void => {
        if (text === undefined) {
            parts.push(Uint8Array.of(0))
            return
        }
        parts.push(Uint8Array.of(1))
        field(stringToBytes(text))
    }

    field(stringToBytes(EVIDENCE_ENCODING_TAG))
    field(stringToBytes(response.request.method))
    field(stringToBytes(redactUrl(response.request.url)))
    optional(response.request.body)
    field(stringToBytes(redactUrl(response.finalUrl)))
    optional(response.status === undefined ? undefined : String(response.status))
    for (const name of EVIDENCE_HEADERS) {
        optional(response.headers[name])
    }
    optional(response.error)
    parts.push(Uint8Array.of(response.truncated ? 1 : 0))
    field(response.body)

    return concatBytes(parts)
}

/** Returns keccak256 of `encodeEvidence(response)`. */
export function evidenceDigest(response: ProbeResponse): Hex {
    return keccak256(encodeEvidence(response))
}

function uint32BigEndian(value: number): Uint8Array {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
        throw new RangeError(`evidence field length ${value} does not fit in 32 bits`)
    }
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setUint32(0, value, false)
    return bytes
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
    const total = parts.reduce((sum, part) => sum + part.length, 0)
    const joined = new Uint8Array(total)
    let offset = 0
    for (const part of parts) {
        joined.set(part, offset)
        offset += part.length
    }
    return joined
}

/**
 * Decodes the first `maxBytes` bytes of a body as text for people to read: invalid UTF-8 becomes U+FFFD, a
 * multi-byte character cut by the limit is dropped, and NUL becomes U+FFFD so the text fits a PostgreSQL column.
 * Secrets in the text (see redactSecretsInText) become `REDACTED`, and the result has at most `maxBytes` characters.
 */
export function makeExcerpt(body: Uint8Array, maxBytes: number = EXCERPT_MAX_BYTES): string {
    const decoder = new TextDecoder('utf-8', {fatal: false, ignoreBOM: true})
    // stream: true holds back an incomplete trailing sequence instead of turning it into U+FFFD.
    const text = redactSecretsInText(decoder.decode(body.subarray(0, maxBytes), {stream: true}).replace(/\u0000/g, '\uFFFD'))
    if (text.length <= maxBytes) return text
    // A short secret replaced by REDACTED can lengthen the text; the cut keeps surrogate pairs whole.
    let cut = maxBytes
    if (/[\uD800-\uDBFF]/.test(text[cut - 1])) cut -= 1
    return text.slice(0, cut)
}

/** The fields of a proof record that its digest and signature cover. */
export interface ProofRecordFields {
    /** Probed URL, without credentials (see redactUrl). */
    targetUrl: string
    /** Operator address, lower-case 0x hex. */
    operator: string
    /** Blueprint id, decimal string of the uint64. */
    blueprintId: string
    /** Service id, decimal string of the uint64; null for operator-level probes. */
    serviceId: string | null
    /** Probe kind, such as a product surface check name. */
    kind: string
    outcome: ProofOutcome
    /** Stable reason code from the evaluator. */
    reason: string
    /** Value actually observed, for people to read. */
    observed: string
    /** HTTP status of the final response; null when none arrived. */
    httpStatus: number | null
    /** Whole probe duration in milliseconds, an integer. */
    latencyMs: number
    /** Prober clock at observation, ISO 8601 UTC with milliseconds (`2025-01-01T00:00:00.000Z`). */
    observedAt: string
    /** Chain head block height seen at observation, decimal string. */
    chainHead: string
    /** First EXCERPT_MAX_BYTES bytes of the body as text (see makeExcerpt). */
    excerpt: string
    /** keccak256 of the canonical evidence encoding (see encodeEvidence). */
    evidenceDigest: Hex
}

const PROOF_OUTCOMES: readonly ProofOutcome[] = ['PASS', 'FAIL', 'UNREACHABLE', 'INCONCLUSIVE', 'NOT_APPLICABLE']
const RECORD_FIELD_NAMES: ReadonlyArray<keyof ProofRecordFields> = [
    'blueprintId',
    'chainHead',
    'evidenceDigest',
    'excerpt',
    'httpStatus',
    'kind',
    'latencyMs',
    'observed',
    'observedAt',
    'operator',
    'outcome',
    'reason',
    'serviceId',
    'targetUrl',
]
const MAX_UINT64 = 2n ** 64n - 1n
const DECIMAL = /^(0|[1-9]\d*)$/
const ISO_MILLISECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

export class ProofRecordError extends Error {
    override name = 'ProofRecordError'
}

/**
 * Checks that every field has its canonical form, so that equal records always produce equal digests. Throws
 * ProofRecordError naming the first invalid field. Values that may hold secrets (the target URL) are not echoed.
 */
export function assertRecordFields(fields: ProofRecordFields): void {
    const fail = (name: string, problem: string): never => {
        throw new ProofRecordError(`proof record field ${name} is invalid: ${problem}`)
    }

    const unknown = Object.keys(fields).filter((name) => !(RECORD_FIELD_NAMES as readonly string[]).includes(name))
    if (unknown.length > 0) {
        fail(unknown[0] as string, 'not a proof record field; the digest would not cover it')
    }

    if (typeof fields.targetUrl !== 'string' || fields.targetUrl === '') {
        fail('targetUrl', 'expected a non-empty URL')
    }
    if (redactUrl(fields.targetUrl) !== fields.targetUrl) {
        fail('targetUrl', 'it contains credentials or a secret query parameter; pass it through redactUrl first')
    }
    if (typeof fields.operator !== 'string' || !/^0x[0-9a-f]{40}$/.test(fields.operator)) {
        fail('operator', `expected a lower-case 0x address, got ${JSON.stringify(fields.operator)}`)
    }
    checkUint64('blueprintId', fields.blueprintId, fail)
    if (fields.serviceId !== null) {
        checkUint64('serviceId', fields.serviceId, fail)
    }
    checkUint64('chainHead', fields.chainHead, fail)
    if (typeof fields.kind !== 'string' || fields.kind === '') {
        fail('kind', 'expected a non-empty string')
    }
    if (!PROOF_OUTCOMES.includes(fields.outcome)) {
        fail('outcome', `expected one of ${PROOF_OUTCOMES.join(', ')}, got ${JSON.stringify(fields.outcome)}`)
    }
    if (typeof fields.reason !== 'string' || fields.reason === '') {
        fail('reason', 'expected a non-empty string')
    }
    if (typeof fields.observed !== 'string') {
        fail('observed', 'expected a string')
    }
    const status = fields.httpStatus
    if (status !== null && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
        fail('httpStatus', `expected null or an integer from 100 to 599, got ${JSON.stringify(status)}`)
    }
    if (!Number.isSafeInteger(fields.latencyMs) || fields.latencyMs < 0) {
        fail('latencyMs', `expected a non-negative integer, got ${JSON.stringify(fields.latencyMs)}`)
    }
    const observedAt = fields.observedAt
    const validInstant = typeof observedAt === 'string' && ISO_MILLISECONDS.test(observedAt)
    if (!validInstant || new Date(observedAt).toISOString() !== observedAt) {
        fail('observedAt', `expected ISO 8601 UTC with milliseconds, got ${JSON.stringify(observedAt)}`)
    }
    if (typeof fields.excerpt !== 'string' || fields.excerpt.includes('\u0000')) {
        fail('excerpt', 'expected a string without NUL characters (see makeExcerpt)')
    }
    if (fields.excerpt.length > EXCERPT_MAX_BYTES) {
        fail('excerpt', `longer than ${EXCERPT_MAX_BYTES} characters`)
    }
    if (typeof fields.evidenceDigest !== 'string' || !/^0x[0-9a-f]{64}$/.test(fields.evidenceDigest)) {
        fail('evidenceDigest', `expected 32 bytes of lower-case 0x hex, got ${JSON.stringify(fields.evidenceDigest)}`)
    }
}

function checkUint64(name: string, value: unknown, fail: (name: string, problem: string) => never): void {
    if (typeof value !== 'string' || !DECIMAL.test(value) || BigInt(value) > MAX_UINT64) {
        fail(name, `expected the decimal string of a uint64, got ${JSON.stringify(value)}`)
    }
}

/**
 * Serializes the record fields as canonical JSON: keys sorted by code unit, no whitespace, values as
 * JSON.stringify writes them (strings, integers and null only).
 */
export function canonicalRecordJson(fields: ProofRecordFields): string {
    assertRecordFields(fields)
    const members = [...RECORD_FIELD_NAMES]
        .sort()
        .map((name) => `${JSON.stringify(name)}:${JSON.stringify(fields[name])}`)
    return `{${members.join(',')}}`
}

/** Returns keccak256 of the UTF-8 bytes of `canonicalRecordJson(fields)`. Throws ProofRecordError for bad fields. */
export function recordDigest(fields: ProofRecordFields): Hex {
    return keccak256(stringToBytes(canonicalRecordJson(fields)))
}

/** Facts about one probe that the worker adds to the exchange itself. */
export interface ProofRecordInput {
    response: ProbeResponse
    verdict: ProofVerdict
    operator: string
    blueprintId: bigint | string
    serviceId: bigint | string | null
    kind: string
    observedAt: Date
    chainHead: bigint | string
}

/** Builds canonical record fields from a probe exchange and its verdict, and checks them. */
export function buildProofRecordFields(input: ProofRecordInput): ProofRecordFields {
    const fields: ProofRecordFields = {
        targetUrl: redactUrl(input.response.request.url),
        operator: input.operator.toLowerCase(),
        blueprintId: String(input.blueprintId),
        serviceId: input.serviceId === null ? null : String(input.serviceId),
        kind: input.kind,
        outcome: input.verdict.outcome,
        reason: input.verdict.reason,
        observed: input.verdict.observed,
        httpStatus: input.response.status ?? null,
        latencyMs: Math.round(input.response.latencyMs),
        observedAt: input.observedAt.toISOString(),
        chainHead: String(input.chainHead),
        excerpt: makeExcerpt(input.response.body),
        evidenceDigest: evidenceDigest(input.response),
    }
    assertRecordFields(fields)
    return fields
}

/** A record with its digest and EIP-191 signature. */
export interface SignedProofRecord {
    fields: ProofRecordFields
    recordDigest: Hex
    signature: Hex
    /** Lower-case address of the signing key. */
    signer: string
}

/**
 * Signs the record digest as an EIP-191 personal message over the raw 32 bytes
 * (`"\x19Ethereum Signed Message:\n32" ‖ digest`).
 */
export async function signRecord(fields: ProofRecordFields, account: LocalAccount): Promise<SignedProofRecord> {
    const digest = recordDigest(fields)
    const signature = await account.signMessage({message: {raw: digest}})
    return {fields, recordDigest: digest, signature, signer: account.address.toLowerCase()}
}

export type RecordVerification =
    | {valid: true; signer: string; recordDigest: Hex}
    | {valid: false; reason: 'INVALID_FIELDS' | 'INVALID_SIGNATURE' | 'SIGNER_MISMATCH'; detail: string; signer?: string}

/**
 * Recomputes the digest and recovers the signer. Never throws. Without `expectedSigner` the result only names
 * whoever signed: a tampered record still recovers to some address, so callers that need authenticity must pass
 * the prober address they trust.
 */
export async function verifyRecord(
    fields: ProofRecordFields,
    signature: Hex,
    expectedSigner?: string,
): Promise<RecordVerification> {
    let digest: Hex
    try {
        digest = recordDigest(fields)
    } catch (error) {
        return {valid: false, reason: 'INVALID_FIELDS', detail: error instanceof Error ? error.message : String(error)}
    }

    if (typeof signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
        return {valid: false, reason: 'INVALID_SIGNATURE', detail: 'signature must be 65 bytes of 0x hex (r, s, v)'}
    }
    let signer: string
    try {
        signer = (await recoverMessageAddress({message: {raw: digest}, signature})).toLowerCase()
    } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
        return {valid: false, reason: 'INVALID_SIGNATURE', detail: `no signer can be recovered: ${message}`}
    }

    if (expectedSigner !== undefined && signer !== expectedSigner.toLowerCase()) {
        return {
            valid: false,
            reason: 'SIGNER_MISMATCH',
            detail:
                `signature recovers to ${signer}, expected ${expectedSigner.toLowerCase()}: ` +
                'the record was changed after signing or signed by another key',
            signer,
        }
    }
    return {valid: true, signer, recordDigest: digest}
}

/** Prober key settings. */
export interface ProberKeyConfig {
    /** secp256k1 private key as 64 hex digits, with or without 0x. */
    privateKey?: string
    /** When no key is configured, generate a throw-away key instead of failing. */
    devMode?: boolean
}

/** Logger shape of @subsquid/logger and pino-like loggers. */
export interface ProberKeyLogger {
    info(attributes: object, message: string): void
    warn(attributes: object, message: string): void
}

export class ProberKeyError extends Error {
    override name = 'ProberKeyError'
}

/**
 * Loads the prober's signing account from configuration, or generates a throw-away key in dev mode. Logs only
 * the address. Throws ProberKeyError when the key is missing outside dev mode or invalid; the message never
 * contains the key.
 */
export function loadProberAccount(
    config: ProberKeyConfig,
    logger?: ProberKeyLogger,
): {account: PrivateKeyAccount; generated: boolean} {
    if (config.privateKey === undefined || config.privateKey.trim() === '') {
        if (config.devMode !== true) {
            throw new ProberKeyError(
                'prober private key is missing: set PROBER_PRIVATE_KEY (64 hex digits), ' +
                    'or PROBER_DEV_MODE=1 to sign with a throw-away key',
            )
        }
        const account = privateKeyToAccount(generatePrivateKey())
        logger?.warn(
            {prober_address: account.address.toLowerCase()},
            'generated a throw-away prober key for dev mode; records signed with it name a signer that changes on every start',
        )
        return {account, generated: true}
    }

    const text = config.privateKey.trim()
    const hex = (text.startsWith('0x') || text.startsWith('0X') ? `0x${text.slice(2)}` : `0x${text}`) as Hex
    let account: PrivateKeyAccount
    try {
        if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
            throw new Error('wrong length or not hex')
        }
        account = privateKeyToAccount(hex.toLowerCase() as Hex)
    } catch {
        throw new ProberKeyError(
            'prober private key is invalid: expected a secp256k1 key as 64 hex digits, with or without 0x ' +
                '(the configured value is not shown)',
        )
    }
    logger?.info({prober_address: account.address.toLowerCase()}, 'prober signing key loaded')
    return {account, generated: false}
}

/** Hex of the canonical evidence encoding, for debugging and for people recomputing a digest by hand. */
export function encodeEvidenceHex(response: ProbeResponse): Hex {
    return bytesToHex(encodeEvidence(response))
}
