import {describe, expect, it} from 'vitest'
import {apolloPlainTextAsJson, errorStatus} from '../src/stack/http-errors'

describe('errorStatus', () => {
    it('reads status or statusCode', () => {
        expect(errorStatus(Object.assign(new Error('bad json'), {status: 400, type: 'entity.parse.failed'}))).toBe(400)
        expect(errorStatus({statusCode: 413})).toBe(413)
        expect(errorStatus({status: 503, statusCode: 400})).toBe(503)
    })

    it('other values give 500', () => {
        for (const err of [new Error('boom'), undefined, null, 'text', {status: 200}, {status: 99}, {status: '400'}, {status: 404.5}, {status: 600}]) {
            expect(errorStatus(err), JSON.stringify(err)).toBe(500)
        }
    })
})

describe('apolloPlainTextAsJson', () => {
    it('wraps Apollo request errors', () => {
        const json = apolloPlainTextAsJson('GET query missing.')
        expect(JSON.parse(json!)).toEqual({errors: [{message: 'GET query missing.', extensions: {code: 'BAD_REQUEST'}}]})
    })

    it('leaves other bodies alone', () => {
        for (const body of ['Bad Request', '{"errors":[]}', '', undefined, Buffer.from('GET query missing.')]) {
            expect(apolloPlainTextAsJson(body), String(body)).toBeUndefined()
        }
    })
})
