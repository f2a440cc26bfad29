import {createRequire} from 'node:module'
import {describe, expect, it} from 'vitest'
import {encodeAbiParameters, keccak256, stringToBytes, toBytes, type Hex} from 'viem'
import {MAX_INPUT_SECRETS, MAX_JSON_DEPTH, readJobInput} from '../src/chain/inputs'
// context.ts loads the model, whose decorators need the compiled build: it comes from lib/ (npm test builds first).
const {maskSecretBytes} = createRequire(import.meta.url)('../lib/chain/context') as typeof import('../src/chain/context')
import {SANDBOX_CREATE_INPUT, sandboxCreateInputType} from '../src/devnet/scenario'

type Request = {-readonly [K in keyof typeof SANDBOX_CREATE_INPUT]: (typeof SANDBOX_CREATE_INPUT)[K] extends bigint ? bigint : (typeof SANDBOX_CREATE_INPUT)[K] extends boolean ? boolean : (typeof SANDBOX_CREATE_INPUT)[K] extends number ? number : string}

/** ABI bytes of a sandbox_create request: the scenario's request with `change` applied. */
function request(change: Partial<Request>): Uint8Array {
    const value = {...SANDBOX_CREATE_INPUT, ...change} as Request
    return toBytes(encodeAbiParameters(sandboxCreateInputType, [value]))
}

function read(change: Partial<Request>) {
    return readJobInput('sandbox-cloud', 0, request(change))
}

const OPENAI = 'sk-proj-' + 'Zq81mBv20XkfP3aLw9Ty'
const GITHUB = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'

describe('secrets in sandbox_create inputs', () => {
    it('env_json secret names reported', () => {
        const env = {OPENAI_API_KEY: OPENAI, AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG', DB_PASSWORD: 'hunter', HF_TOKEN: 'hf_short'}
        const result = read({env_json: JSON.stringify(env)})
        expect(result.error).toBeUndefined()
        expect(result.secrets.map((s) => [s.kind, s.field, s.redacted])).toEqual([
            ['INPUT_SECRET', 'env_json.OPENAI_API_KEY', `sk-p…[${OPENAI.length} chars]`],
            ['INPUT_SECRET', 'env_json.AWS_SECRET_ACCESS_KEY', 'wJal…[21 chars]'],
            ['INPUT_SECRET', 'env_json.DB_PASSWORD', '…[6 chars]'],
            ['INPUT_SECRET', 'env_json.HF_TOKEN', '…[8 chars]'],
        ])
        expect(result.secrets[0].hash).toBe(keccak256(stringToBytes(OPENAI)))
        const text = JSON.stringify(result)
        for (const secret of Object.values(env)) expect(text).not.toContain(secret)
    })

    it('short secrets show no characters', () => {
        const env = {DB_PASSWORD: 'correcthorse', API_TOKEN: 'x'.repeat(19), SECRET_KEY: 'y'.repeat(20)}
        expect(read({env_json: JSON.stringify(env)}).secrets.map((s) => s.redacted)).toEqual(['…[12 chars]', '…[19 chars]', 'yyyy…[20 chars]'])
    })

    it('settings and references ignored', () => {
        const env = {LOG_LEVEL: 'debug', MODEL: 'gpt-4o', MAX_TOKENS: '4096', GITHUB_TOKEN: '${GITHUB_TOKEN}', NPM_TOKEN: '$NPM_TOKEN', API_KEY: '', CACHE_KEY: 'users'}
        expect(read({env_json: JSON.stringify(env)})).toEqual({secrets: []})
    })

    it('known credential forms reported', () => {
        const result = read({env_json: JSON.stringify({GH: GITHUB, STRIPE_KEY: 'rk_test_51Hx9Ka2'})})
        expect(result.secrets.map((s) => s.field)).toEqual(['env_json.GH', 'env_json.STRIPE_KEY'])
    })

    it('credential inside longer text', () => {
        const command = `curl -H "Authorization: Bearer ${OPENAI}" https://127.0.0.1:8443/v1/models`
        const result = read({env_json: JSON.stringify({COMMAND: command, NOTE: `token ${GITHUB} for the mirror`})})
        // The redacted form is the value's first characters and length: text around the credential is not published.
        expect(result.secrets.map((s) => [s.kind, s.field, s.redacted])).toEqual([
            ['INPUT_SECRET', 'env_json.COMMAND', `curl…[${command.length} chars]`],
            ['INPUT_SECRET', 'env_json.NOTE', `toke…[${`token ${GITHUB} for the mirror`.length} chars]`],
        ])
        expect(result.secrets[0].hash).toBe(keccak256(stringToBytes(command)))
        expect(JSON.stringify(result)).not.toContain(OPENAI)
        expect(JSON.stringify(result)).not.toContain(GITHUB)
        // Env-file text that is not JSON, with a known form after a harmless name.
        expect(read({env_json: `MIRROR_AUTH_HEADER=x\nGH=${GITHUB}`}).secrets.map((s) => s.field)).toEqual(['env_json'])
    })

    it('URL credentials reported redacted', () => {
        const result = read({env_json: JSON.stringify({DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:5432/app'})})
        expect(result.secrets).toHaveLength(1)
        expect(result.secrets[0]).toMatchObject({kind: 'INPUT_URL_CREDENTIALS', field: 'env_json.DATABASE_URL'})
        expect(result.secrets[0].redacted).not.toContain('hunter2')
        expect(result.secrets[0].redacted).toContain('127.0.0.1:5432/app')
    })

    it('metadata_json and string members', () => {
        const result = read({
            metadata_json: JSON.stringify({auth: {client_secret: 'c2VjcmV0LXZhbHVl'}, ports: [8080], tags: ['a', GITHUB]}),
            name: OPENAI,
            env_json: '',
        })
        expect(result.secrets.map((s) => s.field)).toEqual(['name', 'metadata_json.auth.client_secret', 'metadata_json.tags[1]'])
    })

    it('env_json text not JSON', () => {
        const result = read({env_json: `OPENAI_API_KEY=${OPENAI}\nLOG_LEVEL=info`})
        expect(result.error).toBe('JSON_INVALID in env_json')
        expect(result.secrets.map((s) => [s.kind, s.field])).toEqual([['INPUT_SECRET', 'env_json']])
        expect(JSON.stringify(result)).not.toContain(OPENAI)
        expect(read({env_json: 'LOG_LEVEL=info'})).toEqual({secrets: [], error: 'JSON_INVALID in env_json'})
    })

    it('NUL kept out of fields', () => {
        const result = read({env_json: JSON.stringify({'API\u0000_TOKEN': 'x'.repeat(12)})})
        expect(result.secrets.map((s) => s.field)).toEqual(['env_json.API\u2400_TOKEN'])
    })

    it('findings capped per call', () => {
        const env = Object.fromEntries(Array.from({length: MAX_INPUT_SECRETS + 6}, (_, i) => [`KEY${i}_TOKEN`, `value-${i}`]))
        const result = read({env_json: JSON.stringify(env)})
        expect(result.secrets).toHaveLength(MAX_INPUT_SECRETS)
        expect(result.error).toBe(`TOO_MANY_SECRETS: ${MAX_INPUT_SECRETS + 6} found, the first ${MAX_INPUT_SECRETS} recorded`)
    })

    it('deep nesting read to bound', () => {
        const shallow = {a: {b: {c: {API_TOKEN: 'x'.repeat(12)}}}}
        expect(read({env_json: JSON.stringify(shallow)}).secrets.map((s) => s.field)).toEqual(['env_json.a.b.c.API_TOKEN'])
        // 100,000 levels of arrays around a secret: no stack overflow, and the reason names what was left out.
        const deep = '['.repeat(100_000) + JSON.stringify({API_TOKEN: 'x'.repeat(12)}) + ']'.repeat(100_000)
        const result = read({env_json: deep})
        expect(result.secrets).toEqual([])
        expect(result.error).toBe(`NESTED_TOO_DEEP in env_json: levels below ${MAX_JSON_DEPTH} not read`)
    })

    it('decode error quotes no bytes', () => {
        // The ssh_enabled word (7th of the tuple's head, after the offset word) contains 32 bytes of a secret.
        const bytes = request({})
        const secret = 'sk-' + 'Wq81mBv20XkfP3aLw9TyQe45Rt67U'
        bytes.set(new TextEncoder().encode(secret), 32 + 6 * 32)
        const result = readJobInput('sandbox-cloud', 0, bytes)
        expect(result.error).toMatch(/^DECODE_FAILED: /)
        expect(result.error).not.toContain(Buffer.from(secret).toString('hex').slice(0, 17))
        expect(result.error).not.toContain(secret)
        // viem quotes rejected bytes as decimal values too.
        expect(result.error).not.toContain([...Buffer.from(secret)].slice(0, 5).join(','))
        expect(result.error).toBe('DECODE_FAILED: Bytes value "…" is not a valid boolean. The bytes array must contain a single byte of either a 0 or 1 value.')
    })

    it('other shapes and jobs', () => {
        const flat = toBytes(encodeAbiParameters([{type: 'string'}, {type: 'string'}], ['agent-1', `{"OPENAI_API_KEY":"${OPENAI}"}`]) as Hex)
        const failed = readJobInput('sandbox-cloud', 0, flat)
        expect(failed.secrets).toEqual([])
        expect(failed.error).toMatch(/^DECODE_FAILED: /)
        expect(readJobInput('sandbox-cloud', 0, new Uint8Array([1])).error).toMatch(/^DECODE_FAILED: /)
        // sandbox_delete, a trading job and an unknown product: not read, no error.
        expect(readJobInput('sandbox-cloud', 1, request({}))).toEqual({secrets: []})
        expect(readJobInput('trading-cloud', 0, request({}))).toEqual({secrets: []})
        expect(readJobInput(undefined, 0, request({}))).toEqual({secrets: []})
    })
})

describe('secrets in raw log bytes', () => {
    const hexOf = (text: string) => '0x' + Buffer.from(text, 'latin1').toString('hex')
    const textOf = (hex: string) => Buffer.from(hex.slice(2), 'hex').toString('latin1')

    it('named members and known forms masked', () => {
        const data = `\u0000\u0020{"token":"abc","OPENAI_API_KEY":"${OPENAI}","note":"${GITHUB} here","served_tokens":"12"}`
        const masked = textOf(maskSecretBytes(hexOf(data)))
        expect(masked).toBe(
            `\u0000\u0020{"token":"***","OPENAI_API_KEY":"${'*'.repeat(OPENAI.length)}","note":"${'*'.repeat(GITHUB.length)} here","served_tokens":"12"}`,
        )
    })

    it('PEM private key masked', () => {
        const pem = '-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIB\\n-----END EC PRIVATE KEY-----'
        const masked = textOf(maskSecretBytes(hexOf(`key=${pem};`)))
        expect(masked).toBe(`key=${'*'.repeat(pem.length)};`)
    })

    it('data without secrets unchanged', () => {
        const data = hexOf('{"LOG_LEVEL":"info","model":"gpt-4o","token_kind":"erc20"}')
        expect(maskSecretBytes(data)).toBe(data)
    })
})
