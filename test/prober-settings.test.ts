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
