import {describe, expect, it} from 'vitest'
import {parseArgs, UsageError} from '../bench/lib/machine'

const SPEC = {values: ['settings', 'baseline-build'], flags: ['skip-build']}

describe('benchmark arguments', () => {
    it('reads values and flags', () => {
        const args = parseArgs(['--settings', 'default,baseline', '--skip-build', '--baseline-build', 'bench/.build/base'], SPEC)
        expect(args.get('settings')).toBe('default,baseline')
        expect(args.get('skip-build')).toBe('true')
        expect(args.get('baseline-build')).toBe('bench/.build/base')
        expect(args.size).toBe(3)
    })

    it('rejects an unknown option', () => {
        expect(() => parseArgs(['--setting', 'default'], SPEC)).toThrow(UsageError)
        expect(() => parseArgs(['--setting', 'default'], SPEC)).toThrow(/unknown option --setting; known options: --settings, --baseline-build, --skip-build/)
    })

    it('rejects a missing value', () => {
        expect(() => parseArgs(['--baseline-build'], SPEC)).toThrow(/--baseline-build: missing value/)
        expect(() => parseArgs(['--baseline-build', '--skip-build'], SPEC)).toThrow(/--baseline-build: missing value/)
    })

    it('rejects a value after a flag', () => {
        expect(() => parseArgs(['--skip-build', 'yes'], SPEC)).toThrow(/unexpected argument yes/)
    })
})
