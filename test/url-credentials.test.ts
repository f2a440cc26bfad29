import {encodeAbiParameters, hexToBytes} from 'viem'
import {describe, expect, it} from 'vitest'
import {decodeJobOutput} from '../src/chain/outputs'
import {chainString, storedUrl, storedUrlText} from '../src/chain/strings'

/*
 * URLs read from the chain (advertised rpcAddress, sidecar URLs, URLs in job outputs) are stored and served without
 * credentials. A URL without credentials keeps its exact text and bytes.
 */

const SAMPLE_KEY = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'

describe('storedUrlText', () => {
    it.each<[string, string]>([
        ['http://bob:Hunter2@127.0.0.1:9/p', 'http://127.0.0.1:9/p'],
        [`http://127.0.0.1:9/p?private_key=${SAMPLE_KEY}#access_token=FRAG`, 'http://127.0.0.1:9/p?private_key=REDACTED#access_token=REDACTED'],
        ['http://127.0.0.1:9/rpc?token=tok_1&api_key=k&chain=1', 'http://127.0.0.1:9/rpc?token=REDACTED&api_key=REDACTED&chain=1'],
        ['not a url, //user:pw@host/x', 'not a url, //host/x'],
        ['127.0.0.1:43329/?api_key=NOSCHEMEKEY7', '127.0.0.1:43329/?api_key=REDACTED'],
        ['http://127.0.0.1:9/p?user=al&pass=PASS12', 'http://127.0.0.1:9/p?user=al&pass=REDACTED'],
        ['see http://u:PW3@127.0.0.1:9/x?token=TOK4 for details', 'see http://127.0.0.1:9/x?token=REDACTED for details'],
        ['http://127.0.0.1:9/p;session=S5', 'http://127.0.0.1:9/p;session=REDACTED'],
        ["127.0.0.1:9/?token='SECRETQ5'", '127.0.0.1:9/?token=REDACTED'],
        ['127.0.0.1:9/?to%6Ben=SECRETENC6', '127.0.0.1:9/?to%6Ben=REDACTED'],
    ])('removes credentials from %s', (input, expected) => {
        expect(storedUrlText(input)).toBe(expected)
    })

    it.each(['http://127.0.0.1:9', 'HTTP://127.0.0.1:9/a b?x=1#part', 'http://127.0.0.1:9/\u2400\u2400injected', 'plain text', 'a=1 and key= empty'])(
        'keeps %s as it is',
        (input) => {
            expect(storedUrlText(input)).toBe(input)
        },
    )
})

describe('storedUrl', () => {
    it('keeps the exact bytes without credentials', () => {
        const raw = hexToBytes('0x687474703a2f2f3132372e302e302e313a392ffffe61646d696e')
        const value = chainString(raw)
        expect(storedUrl(value)).toBe(value)
    })

    it('redacts bytes with credentials', () => {
        const value = chainString(new TextEncoder().encode('http://bob:Hunter2@127.0.0.1:9/?token=tok_2'))
        const stored = storedUrl(value)
        expect(stored.display).toBe('http://127.0.0.1:9/?token=REDACTED')
        expect(new TextDecoder().decode(stored.raw)).toBe(stored.display)
        expect(stored.validUtf8).toBe(true)
    })
})

describe('URLs in job outputs', () => {
    it('reported and redacted', () => {
        const json = JSON.stringify({
            sandboxId: 'sb-1',
            sidecarUrl: 'http://alice:pw@127.0.0.1:9/?session=s3',
            links: ['http://127.0.0.1:9/ok', `http://127.0.0.1:9/x?private_key=${SAMPLE_KEY}`],
            note: 'see http://noteuser:NOTEPW3@127.0.0.1:9/x?token=NOTETOKEN4 for details',
        })
        const output = encodeAbiParameters(
            [{type: 'tuple', components: [{name: 'sandboxId', type: 'string'}, {name: 'json', type: 'string'}]}],
            [{sandboxId: 'sb-1', json}],
        )
        const decoded = decodeJobOutput('sandbox-cloud', 0, hexToBytes(output))
        expect(decoded.error).toBeUndefined()
        const text = JSON.stringify(decoded.value)
        expect(text).not.toContain('alice:pw')
        expect(text).not.toContain('s3')
        expect(text).not.toContain(SAMPLE_KEY)
        expect(text).not.toContain('NOTEPW3')
        expect(text).not.toContain('NOTETOKEN4')
        expect(text).toContain('http://127.0.0.1:9/ok')
        expect(decoded.secrets.map((s) => [s.kind, s.field, s.redacted])).toEqual([
            ['URL_CREDENTIALS', 'sidecarUrl', 'http://127.0.0.1:9/?session=REDACTED'],
            ['URL_CREDENTIALS', 'links[1]', 'http://127.0.0.1:9/x?private_key=REDACTED'],
            ['URL_CREDENTIALS', 'note', 'see http://127.0.0.1:9/x?token=REDACTED for details'],
        ])
        expect(JSON.stringify(decoded.secrets)).not.toMatch(/NOTEPW3|NOTETOKEN4|s3'/)
        expect(decoded.sandbox?.sidecarUrl).toBe('http://127.0.0.1:9/?session=REDACTED')
    })
})
