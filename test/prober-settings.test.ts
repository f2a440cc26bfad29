import {describe, expect, it} from 'vitest'
import {DEFAULT_PROBER_SETTINGS, proberSettingsFromEnv, ProberSettingsError} from '../src/proofs/worker/settings'

describe('proberSettingsFromEnv redeem request', () => {
    it('defaults to no request', () => {
        expect(proberSettingsFromEnv({}).redeemRequestBody).toBeNull()
        expect(DEFAULT_PROBER_SETTINGS.redeemRequestBody).toBeNull()
    })

    it('keeps a JSON object verbatim', () => {
        const text = '{"lotId":"0x01","signature":"0x00"}'
        expect(proberSettingsFromEnv({PROBE_REDEEM_REQUEST_JSON: text}).redeemRequestBody).toBe(text)
    })

    it.each([
        ['not json', '{lotId'],
        ['json array', '[1,2]'],
        ['json string', '"request"'],
        ['json null', 'null'],
    ])('rejects %s', (_name, text) => {
        expect(() => proberSettingsFromEnv({PROBE_REDEEM_REQUEST_JSON: text})).toThrow(ProberSettingsError)
        expect(() => proberSettingsFromEnv({PROBE_REDEEM_REQUEST_JSON: text})).toThrow(/PROBE_REDEEM_REQUEST_JSON: expected a JSON object/)
    })

    it('keeps the request out of the error', () => {
        let message = ''
        try {
            proberSettingsFromEnv({PROBE_REDEEM_REQUEST_JSON: '["sig-0xdeadbeef"]'})
        } catch (error) {
            message = String(error)
        }
        expect(message).toContain('PROBE_REDEEM_REQUEST_JSON')
        expect(message).toContain('received 18 characters')
        expect(message).not.toContain('deadbeef')
    })
})

describe('proberSettingsFromEnv headers timeout', () => {
    it('defaults to 5000 ms', () => {
        expect(proberSettingsFromEnv({}).headersTimeoutMs).toBe(5_000)
    })

    it('follows a shorter total timeout', () => {
        expect(proberSettingsFromEnv({PROBE_TIMEOUT_MS: '2500'}).headersTimeoutMs).toBe(2_500)
    })

    it('keeps a value below the total timeout', () => {
        expect(proberSettingsFromEnv({PROBE_TIMEOUT_MS: '2500', PROBE_HEADERS_TIMEOUT_MS: '1000'}).headersTimeoutMs).toBe(1_000)
    })

    it.each([
        ['equal to total', '2500', /PROBE_HEADERS_TIMEOUT_MS: must be smaller than PROBE_TIMEOUT_MS \(2500\), received 2500/],
        ['above total', '3000', /PROBE_HEADERS_TIMEOUT_MS: must be smaller than PROBE_TIMEOUT_MS \(2500\), received 3000/],
        ['below minimum', '50', /PROBE_HEADERS_TIMEOUT_MS: expected an integer >= 100 \(milliseconds\), received "50"/],
        ['not a number', 'soon', /PROBE_HEADERS_TIMEOUT_MS: expected an integer >= 100/],
    ])('rejects %s', (_name, text, message) => {
        const env = {PROBE_TIMEOUT_MS: '2500', PROBE_HEADERS_TIMEOUT_MS: text}
        expect(() => proberSettingsFromEnv(env)).toThrow(ProberSettingsError)
        expect(() => proberSettingsFromEnv(env)).toThrow(message)
    })
})
