import {encodeAbiParameters, hexToBytes} from 'viem'
import {describe, expect, it} from 'vitest'
import {decodeJobOutput} from '../src/chain/outputs'
import {chainString, storedUrl, storedUrlText} from '../src/chain/strings'
import {redactSecretsInText} from '../src/proofs/http/redact-url'

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
        ['127.0.0.1:9/?to%256Ben=SECRETENC7', '127.0.0.1:9/?to%256Ben=REDACTED'],
        ['admin:hunter2@127.0.0.1:8080', '127.0.0.1:8080'],
        ['admin:hunter2@127.0.0.1:8080/rpc?x=1', '127.0.0.1:8080/rpc?x=1'],
        ['connect to admin:hunter2@db.example:5432 now', 'connect to db.example:5432 now'],
        ['http://127.0.0.1:9/p?api%255Fkey=SECRETENC8&chain=1', 'http://127.0.0.1:9/p?api%255Fkey=REDACTED&chain=1'],
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

describe('redactSecretsInText', () => {
    it.each([
        ['JSON member', '{"status":"ok","token":"sk-live-abc"}', '{"status":"ok","token":"REDACTED"}'],
        ['camelCase name', '{"sidecarToken": "a\\"b", "x": 1}', '{"sidecarToken": "REDACTED", "x": 1}'],
        ['nested member', '{"nested":{"client_secret":"zz"}}', '{"nested":{"client_secret":"REDACTED"}}'],
        ['value cut off', '{"a":1,"api_key":"abcdefgh', '{"a":1,"api_key":"REDACTED'],
        ['name=value', 'error: token=abc123 for user', 'error: token=REDACTED for user'],
        ['name: value', 'password: hunter2, next', 'password: REDACTED, next'],
        ['header name', 'x-api-key=abc123&token_kind=input', 'x-api-key=REDACTED&token_kind=input'],
        ['bearer token', 'Authorization: Bearer eyJhbGciOi.abc-def', 'Authorization: Bearer REDACTED'],
        ['basic credentials', 'sent Basic dXNlcjpwYXNz', 'sent Basic REDACTED'],
        ['token scheme', 'Authorization: Token abcdef1234567890', 'Authorization: Token REDACTED'],
        ['URL user info', 'see http://u:p@host/x', 'see http://host/x'],
        ['unquoted name, double-quoted value', '{password: "hunter2hunter2"}', '{password: "REDACTED"}'],
        ['name=quoted value', 'password="hunter2hunter2"', 'password="REDACTED"'],
        ['single-quoted value', "token='abcdefgh12345'", "token='REDACTED'"],
        ['long numeric member', '{"api_key": 1234567890123456}', '{"api_key": "REDACTED"}'],
        ['array member', '{"token": ["s3cr3tvalue", ""]}', '{"token": ["REDACTED", ""]}'],
        ['long letters only', 'secret=correcthorsebatterystaple', 'secret=REDACTED'],
        ['names ending in key', '{"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG", "secretKey": "abc123def456"}', '{"aws_secret_access_key": "REDACTED", "secretKey": "REDACTED"}'],
        ['environment line', 'SECRET_KEY=django-insecure-abc123', 'SECRET_KEY=REDACTED'],
        ['pass and pwd as words', '{"u":"admin","pass":"hunter2","pwd":"hunter3"}', '{"u":"admin","pass":"REDACTED","pwd":"REDACTED"}'],
        ['passphrase', '{"db":{"passphrase":"correct horse 1"}}', '{"db":{"passphrase":"REDACTED"}}'],
        ['Python literal', "bad config {'password': 'hunter22', 'user': 'admin'}", "bad config {'password': 'REDACTED', 'user': 'admin'}"],
        ['JSON inside a JSON string', '{"error":"said {\\"access_token\\":\\"ya29abc123def\\"}"}', '{"error":"said {\\"access_token\\":\\"REDACTED\\"}"}'],
        ['session member and cookie', '{"session":"abc123def456ghi"} Cookie: session=abc123def456ghi; other=1', '{"session":"REDACTED"} Cookie: session=REDACTED; other=1'],
        ['XML elements', '<password>hunter2</password><AccessToken>abc123def456</AccessToken>', '<password>REDACTED</password><AccessToken>REDACTED</AccessToken>'],
        ['PEM private key', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----', '-----BEGIN PRIVATE KEY----- REDACTED -----END PRIVATE KEY-----'],
        ['query key in a URL', 'see https://maps.example/api?key=AIzaSyA1b2c3d4e5&x=1', 'see https://maps.example/api?key=REDACTED&x=1'],
        ['short token scheme credential', 'Authorization: Token abc1234', 'Authorization: Token REDACTED'],
        ['bare user info, IPv6 host', 'admin:hunter2@[::1]:8080', '[::1]:8080'],
        ['bare user info, @ in password', 'user:p@ss123@127.0.0.1:8080', '127.0.0.1:8080'],
        ['bare user info in parentheses', 'via (admin:pw1234@my_host:8080)', 'via (my_host:8080)'],
    ])('%s', (_name, text, expected) => {
        expect(redactSecretsInText(text)).toBe(expected)
    })

    it.each([
        ['counts named tokens', '{"served_tokens":12,"meteredTokens":5,"token_kind":"input","tokenKind":"x"}'],
        ['counts as name=value', 'served_tokens=12 input_tokens=3'],
        ['non-string secret members', '{"token": null, "secret": 5}'],
        ['word Bearer in a sentence', 'Bearer token missing'],
        ['message in a JSON string', '{"error_description":"token: expired"}'],
        ['message with a short word', '{"message":"password: too short (min 12)"}'],
        ['message about a missing id', '{"detail":"Missing session_id: none provided"}'],
        ['status line', 'HTTP 401: authorization: required'],
        ['message about credentials', '{"error":"bad credentials: user unknown"}'],
        ['short counts', 'usage: prompt_token=12; total_token=99'],
        ['empty secret member', '{"password": ""}'],
        ['route with a colon', 'GET /v1/token:refresh 200'],
        ['route with a colon and query', 'GET /api/v1/token:refresh?x=1 200'],
        ['scheme word in a message', '401 Unauthorized: Basic authentication required. Bearer authentication failed. Token validation failed'],
        ['auth parameters', 'WWW-Authenticate: Bearer authorization_uri="https://login.example/authorize", error="invalid_token"'],
        ['error codes', 'token: TOKEN_EXPIRED authorization: invalid_request password: must-contain-digit session_id: not-found'],
        ['count under a token name', '{"prompt_token": 1048576}'],
        ['names that only end in pass', '{"bypass": "enabled", "compass": "north"}'],
    ])('keeps %s', (_name, text) => {
        expect(redactSecretsInText(text)).toBe(text)
    })

    it('is idempotent', () => {
        const once = redactSecretsInText('{"token":"abc"} password=x1y2z3 token="q" Bearer abcdefghij')
        expect(redactSecretsInText(once)).toBe(once)
    })

    // A guard against catastrophic backtracking on hostile chain or operator text, not a speed target: a quadratic
    // pattern needs minutes for these 600,000 characters, a linear one milliseconds.
    it('long words take no quadratic time', () => {
        const text = `${'a'.repeat(200_000)}token=${'b'.repeat(200_000)} "${'c'.repeat(200_000)}`
        const startedAt = performance.now()
        // A bare value of 200,000 characters after a secret name: a lower-then-upper check written as one pattern
        // backtracked quadratically here.
        expect(redactSecretsInText('token:'.repeat(33_000))).toContain('token:')
        const redacted = redactSecretsInText(text)
        const stored = storedUrlText(text)
        expect(redacted.startsWith(`${'a'.repeat(200_000)}token=REDACTED `)).toBe(true)
        expect(stored.endsWith(`token=REDACTED "${'c'.repeat(200_000)}`)).toBe(true)
        expect(performance.now() - startedAt).toBeLessThan(10_000)
    })
})
