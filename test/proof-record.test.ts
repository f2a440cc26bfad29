import {keccak256, type Hex} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {describe, expect, it} from 'vitest'
import {
    assertRecordFields,
    buildProofRecordFields,
    canonicalRecordJson,
    encodeEvidence,
    EXCERPT_MAX_BYTES,
    evidenceDigest,
    loadProberAccount,
    makeExcerpt,
    ProberKeyError,
    ProofRecordError,
    type ProofRecordFields,
    recordDigest,
    type RecordVerification,
    signRecord,
    verifyRecord,
} from '../src/proofs/record'
import type {ProbeResponse} from '../src/proofs/types'

// Well-known anvil development keys; they guard nothing.
const PROBER_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const OTHER_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const prober = privateKeyToAccount(PROBER_KEY)
const other = privateKeyToAccount(OTHER_KEY)

function sampleResponse(overrides: Partial<ProbeResponse> = {}): ProbeResponse {
    return {
        request: {method: 'POST', url: 'http://127.0.0.1:8545/rpc', body: '{"id":1,"method":"eth_chainId"}'},
        finalUrl: 'http://127.0.0.1:8545/rpc',
        status: 200,
        headers: {'content-type': 'application/json', 'content-length': '27', date: 'Wed, 01 Jan 2025 00:00:00 GMT'},
        body: new TextEncoder().encode('{"jsonrpc":"2.0","result":"0x1"}'),
        truncated: false,
        latencyMs: 12,
        ...overrides,
    }
}

function sampleFields(): ProofRecordFields {
    return {
        targetUrl: 'http://127.0.0.1:8545/rpc',
        operator: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
        blueprintId: '3',
        serviceId: '18446744073709551615',
        kind: 'sandbox.health',
        outcome: 'PASS',
        reason: 'HEALTH_OK',
        observed: 'status 200',
        httpStatus: 200,
        latencyMs: 12,
        observedAt: '2025-01-01T00:00:00.123Z',
        chainHead: '123456',
        excerpt: '{"ok":true}',
        evidenceDigest: evidenceDigest(sampleResponse()),
    }
}

describe('evidenceDigest', () => {
    it('matches keccak256 of the documented encoding', () => {
        const response = sampleResponse({request: {method: 'GET', url: 'http://a.test/'}, finalUrl: 'http://a.test/'})
        response.status = 204
        response.headers = {}
        response.body = new Uint8Array([0xff])

        const tag = 'proofgap-evidence-v1'
        const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex')
        const length = (size: number): string => size.toString(16).padStart(8, '0')
        const field = (text: string): string => length(Buffer.byteLength(text)) + hex(text)
        const expected =
            field(tag) +
            field('GET') +
            field('http://a.test/') +
            '00' + // no request body
            field('http://a.test/') +
            '01' + field('204') +
            '0000000000' + // five absent evidence headers
            '00' + // no error
            '00' + // not truncated
            length(1) + 'ff'

        expect(Buffer.from(encodeEvidence(response)).toString('hex')).toBe(expected)
        expect(evidenceDigest(response)).toBe(keccak256(`0x${expected}`))
    })

    it('ignores headers outside the evidence list', () => {
        const first = sampleResponse()
        const second = sampleResponse({headers: {...first.headers, date: 'Thu, 02 Jan 2025 00:00:00 GMT'}})

        expect(evidenceDigest(second)).toBe(evidenceDigest(first))
    })

    it('ignores URL credentials', () => {
        const plain = sampleResponse()
        const withCredentials = sampleResponse({
            request: {...plain.request, url: 'http://user:pw@127.0.0.1:8545/rpc'},
        })

        expect(evidenceDigest(withCredentials)).toBe(evidenceDigest(plain))
    })

    const changes: Array<[string, (response: ProbeResponse) => void]> = [
        ['method', (response) => (response.request.method = 'GET')],
        ['request URL', (response) => (response.request.url = 'http://127.0.0.1:8545/rpc2')],
        ['request body', (response) => (response.request.body = '{"id":2,"method":"eth_chainId"}')],
        ['request body absent', (response) => delete response.request.body],
        ['final URL', (response) => (response.finalUrl = 'http://127.0.0.1:8545/other')],
        ['status', (response) => (response.status = 201)],
        ['status absent', (response) => delete response.status],
        ['content-type', (response) => (response.headers['content-type'] = 'text/plain')],
        ['server header added', (response) => (response.headers['server'] = 'x')],
        ['error', (response) => (response.error = 'BODY_TOO_LARGE')],
        ['truncated', (response) => (response.truncated = true)],
        ['one body byte', (response) => (response.body = flipLastByte(response.body))],
        ['body one byte longer', (response) => (response.body = new Uint8Array([...response.body, 0]))],
    ]

    it.each(changes)('changes when %s changes', (_name, change) => {
        const original = sampleResponse()
        const changed = sampleResponse()
        change(changed)

        expect(evidenceDigest(changed)).not.toBe(evidenceDigest(original))
    })

    it('distinguishes field boundaries', () => {
        const first = sampleResponse({request: {method: 'GET', url: 'http://a.test/x', body: 'yz'}})
        const second = sampleResponse({request: {method: 'GET', url: 'http://a.test/xy', body: 'z'}})

        expect(evidenceDigest(first)).not.toBe(evidenceDigest(second))
    })
})

function flipLastByte(bytes: Uint8Array): Uint8Array {
    const copy = new Uint8Array(bytes)
    copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0x01
    return copy
}

describe('makeExcerpt', () => {
    it.each<[string, number[], string]>([
        ['plain ASCII', [...Buffer.from('hello')], 'hello'],
        ['NUL replaced', [0x61, 0x00, 0x62], 'a\uFFFDb'],
        ['invalid UTF-8 replaced', [0x61, 0xff, 0x62], 'a\uFFFDb'],
        ['lone continuation byte', [0x80], '\uFFFD'],
        ['multi-byte kept', [...Buffer.from('é€')], 'é€'],
    ])('%s', (_name, bytes, expected) => {
        expect(makeExcerpt(new Uint8Array(bytes))).toBe(expected)
    })

    it('caps at the byte limit', () => {
        const body = new Uint8Array(10_000).fill(0x41)

        const excerpt = makeExcerpt(body)

        expect(excerpt.length).toBe(EXCERPT_MAX_BYTES)
    })

    it('drops a character cut by the cap', () => {
        // "aaa€": the 3-byte euro sign starts at byte 3, so a 4-byte cap cuts it.
        const body = new Uint8Array([0x61, 0x61, 0x61, 0xe2, 0x82, 0xac])

        expect(makeExcerpt(body, 4)).toBe('aaa')
    })

    it('redacts secrets an operator sent', () => {
        const body = Buffer.from('{"status":"ok","token_kind":"input","served_tokens":12,"sidecarToken":"sk-live-0123456789"}')

        const excerpt = makeExcerpt(new Uint8Array(body))

        expect(excerpt).toBe('{"status":"ok","token_kind":"input","served_tokens":12,"sidecarToken":"REDACTED"}')
    })

    it('redacts a secret cut by the cap', () => {
        const body = Buffer.from(`{"api_key":"${'k'.repeat(300)}"}`)

        const excerpt = makeExcerpt(new Uint8Array(body))

        expect(excerpt).toBe('{"api_key":"REDACTED')
    })

    it('stays within the cap after redaction', () => {
        // Short secrets grow to REDACTED, so the redacted text is longer than the bytes it came from.
        const body = Buffer.from('{"token":"a",'.repeat(40))

        const excerpt = makeExcerpt(new Uint8Array(body))

        expect(excerpt.length).toBe(EXCERPT_MAX_BYTES)
        expect(excerpt).not.toMatch(/"token":"a"/)
    })
})

describe('recordDigest', () => {
    it('is stable across key order', () => {
        const fields = sampleFields()
        const reversed = Object.fromEntries(Object.entries(fields).reverse()) as unknown as ProofRecordFields

        expect(Object.keys(reversed)[0]).toBe('evidenceDigest')
        expect(recordDigest(reversed)).toBe(recordDigest(fields))
    })

    it('hashes the sorted canonical JSON', () => {
        const fields = sampleFields()
        const json = canonicalRecordJson(fields)

        expect(json.startsWith('{"blueprintId":"3","chainHead":"123456","evidenceDigest":"0x')).toBe(true)
        expect(json.endsWith('"serviceId":"18446744073709551615","targetUrl":"http://127.0.0.1:8545/rpc"}')).toBe(true)
        expect(recordDigest(fields)).toBe(keccak256(new TextEncoder().encode(json)))
    })

    const fieldChanges: Array<[keyof ProofRecordFields, unknown]> = [
        ['targetUrl', 'http://127.0.0.1:8546/rpc'],
        ['operator', '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc'],
        ['blueprintId', '4'],
        ['serviceId', null],
        ['kind', 'sandbox.exec'],
        ['outcome', 'FAIL'],
        ['reason', 'HEALTH_BAD'],
        ['observed', 'status 500'],
        ['httpStatus', null],
        ['latencyMs', 13],
        ['observedAt', '2025-01-01T00:00:00.124Z'],
        ['chainHead', '123457'],
        ['excerpt', '{"ok":false}'],
        ['evidenceDigest', evidenceDigest(sampleResponse({body: flipLastByte(sampleResponse().body)}))],
    ]

    it.each(fieldChanges)('changes when %s changes', (name, value) => {
        const changed = {...sampleFields(), [name]: value} as ProofRecordFields

        expect(recordDigest(changed)).not.toBe(recordDigest(sampleFields()))
    })

    const invalid: Array<[keyof ProofRecordFields | 'extra', unknown]> = [
        ['targetUrl', 'http://user:pw@127.0.0.1/'],
        ['operator', '0x70997970C51812dc3a010C7d01b50e0d17dc79C8'],
        ['blueprintId', '03'],
        ['blueprintId', '18446744073709551616'],
        ['serviceId', '-1'],
        ['chainHead', '1.5'],
        ['kind', ''],
        ['outcome', 'OK'],
        ['reason', ''],
        ['httpStatus', 99],
        ['latencyMs', 1.5],
        ['observedAt', '2025-01-01T00:00:00Z'],
        ['observedAt', '2025-02-30T00:00:00.000Z'],
        ['excerpt', 'a\u0000b'],
        ['evidenceDigest', '0x1234'],
        ['extra', 'unsigned'],
    ]

    it.each(invalid)('rejects invalid %s %j', (name, value) => {
        const fields = {...sampleFields(), [name]: value} as ProofRecordFields

        expect(() => recordDigest(fields)).toThrow(ProofRecordError)
        expect(() => recordDigest(fields)).toThrow(`proof record field ${name} is invalid`)
    })

    it('error for targetUrl hides credentials', () => {
        const fields = {...sampleFields(), targetUrl: 'http://user:hunter2@127.0.0.1/'}

        expect(() => assertRecordFields(fields)).toThrow(/targetUrl is invalid/)
        expect(() => assertRecordFields(fields)).not.toThrow(/hunter2/)
    })
})

/** Narrows a verification to its failure branch, failing the test when it succeeded. */
function expectRejected(verification: RecordVerification): Extract<RecordVerification, {valid: false}> {
    if (verification.valid) {
        throw new Error(`expected verification to fail, but it recovered ${verification.signer}`)
    }
    return verification
}

describe('signRecord and verifyRecord', () => {
    it('recompute and recover succeeds', async () => {
        const fields = sampleFields()

        const signed = await signRecord(fields, prober)
        const verification = await verifyRecord(signed.fields, signed.signature, prober.address)

        expect(signed.signer).toBe(prober.address.toLowerCase())
        expect(signed.recordDigest).toBe(recordDigest(fields))
        expect(verification).toEqual({valid: true, signer: prober.address.toLowerCase(), recordDigest: signed.recordDigest})
    })

    it('recovers signer without expectation', async () => {
        const signed = await signRecord(sampleFields(), prober)

        const verification = await verifyRecord(sampleFields(), signed.signature)

        expect(verification).toEqual({
            valid: true,
            signer: prober.address.toLowerCase(),
            recordDigest: recordDigest(sampleFields()),
        })
    })

    it.each(
        Object.keys(sampleFields()).map((name) => [name]),
    )('tampered %s fails verification', async (name) => {
        const signed = await signRecord(sampleFields(), prober)
        const tampered = {...sampleFields()}
        const key = name as keyof ProofRecordFields
        const replacement: Partial<Record<keyof ProofRecordFields, unknown>> = {
            targetUrl: 'http://127.0.0.1:9999/',
            operator: '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
            blueprintId: '99',
            serviceId: null,
            kind: 'other',
            outcome: 'FAIL',
            reason: 'CHANGED',
            observed: 'changed',
            httpStatus: 500,
            latencyMs: 999,
            observedAt: '2030-01-01T00:00:00.000Z',
            chainHead: '1',
            excerpt: 'changed',
            evidenceDigest: `0x${'ab'.repeat(32)}`,
        }
        Object.assign(tampered, {[key]: replacement[key]})

        const verification = await verifyRecord(tampered, signed.signature, prober.address)

        expect(expectRejected(verification).reason).toBe('SIGNER_MISMATCH')
    })

    it('signature from another key fails', async () => {
        const signed = await signRecord(sampleFields(), other)

        const verification = await verifyRecord(sampleFields(), signed.signature, prober.address)

        expect(expectRejected(verification).reason).toBe('SIGNER_MISMATCH')
        expect(expectRejected(verification).signer).toBe(other.address.toLowerCase())
        expect(expectRejected(verification).detail).toBe(
            `signature recovers to ${other.address.toLowerCase()}, expected ${prober.address.toLowerCase()}: ` +
                'the record was changed after signing or signed by another key',
        )
    })

    it('malformed signature is reported', async () => {
        const verification = await verifyRecord(sampleFields(), '0x1234', prober.address)

        expect(expectRejected(verification).reason).toBe('INVALID_SIGNATURE')
    })

    it('invalid fields are reported', async () => {
        const signed = await signRecord(sampleFields(), prober)
        const fields = {...sampleFields(), operator: 'not an address'}

        const verification = await verifyRecord(fields, signed.signature, prober.address)

        expect(expectRejected(verification).reason).toBe('INVALID_FIELDS')
        expect(expectRejected(verification).detail).toContain('operator')
    })
})

describe('buildProofRecordFields', () => {
    it('builds canonical fields from an exchange', () => {
        const response = sampleResponse({
            request: {method: 'GET', url: 'http://ops:pw@127.0.0.1:8545/health?token=t0k'},
            body: new Uint8Array([0x6f, 0x6b, 0x00, 0xff]),
            latencyMs: 12.6,
        })

        const fields = buildProofRecordFields({
            response,
            verdict: {outcome: 'PASS', reason: 'HEALTH_OK', observed: 'status 200'},
            operator: '0x70997970C51812dc3a010C7d01b50e0d17dc79C8',
            blueprintId: 3n,
            serviceId: null,
            kind: 'sandbox.health',
            observedAt: new Date('2025-01-01T00:00:00.123Z'),
            chainHead: 123456n,
        })

        expect(fields.targetUrl).toBe('http://127.0.0.1:8545/health?token=REDACTED')
        expect(fields.operator).toBe('0x70997970c51812dc3a010c7d01b50e0d17dc79c8')
        expect(fields.blueprintId).toBe('3')
        expect(fields.serviceId).toBeNull()
        expect(fields.httpStatus).toBe(200)
        expect(fields.latencyMs).toBe(13)
        expect(fields.observedAt).toBe('2025-01-01T00:00:00.123Z')
        expect(fields.chainHead).toBe('123456')
        expect(fields.excerpt).toBe('ok\uFFFD\uFFFD')
        expect(fields.evidenceDigest).toBe(evidenceDigest(response))
    })
})

describe('loadProberAccount', () => {
    function recordingLogger(): {
        logger: {info: (a: object, m: string) => void; warn: (a: object, m: string) => void}
        lines: string[]
    } {
        const lines: string[] = []
        const write = (attributes: object, message: string): void => {
            lines.push(JSON.stringify({...attributes, message}))
        }
        return {logger: {info: write, warn: write}, lines}
    }

    it('loads configured key and logs address only', () => {
        const {logger, lines} = recordingLogger()

        const {account, generated} = loadProberAccount({privateKey: PROBER_KEY}, logger)

        expect(account.address).toBe(prober.address)
        expect(generated).toBe(false)
        expect(lines).toHaveLength(1)
        expect(lines[0]).toContain(prober.address.toLowerCase())
        expect(lines.join('\n')).not.toContain(PROBER_KEY.slice(2))
    })

    it('accepts key without 0x prefix', () => {
        const {account} = loadProberAccount({privateKey: PROBER_KEY.slice(2)})

        expect(account.address).toBe(prober.address)
    })

    it('generates key in dev mode', () => {
        const {logger, lines} = recordingLogger()

        const first = loadProberAccount({devMode: true}, logger)
        const second = loadProberAccount({devMode: true})

        expect(first.generated).toBe(true)
        expect(first.account.address).not.toBe(second.account.address)
        expect(lines[0]).toContain(first.account.address.toLowerCase())
    })

    it('missing key outside dev mode throws', () => {
        expect(() => loadProberAccount({})).toThrow(ProberKeyError)
        expect(() => loadProberAccount({})).toThrow('prober private key is missing')
    })

    it.each([
        ['too short', '0x1234'],
        ['not hex', `0x${'zz'.repeat(32)}`],
        ['zero scalar', `0x${'00'.repeat(32)}`],
        ['above curve order', `0x${'ff'.repeat(32)}`],
    ])('invalid key %s throws without echo', (_name, privateKey) => {
        expect(() => loadProberAccount({privateKey})).toThrow(ProberKeyError)
        expect(() => loadProberAccount({privateKey})).toThrow('prober private key is invalid')
        expect(() => loadProberAccount({privateKey})).not.toThrow(privateKey.slice(2, 12))
    })
})
