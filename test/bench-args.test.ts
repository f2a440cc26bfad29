import {describe, expect, it} from 'vitest'
import {numberArg, parseArgs, UsageError} from '../bench/lib/machine'

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

    it('rejects the equals form', () => {
        expect(() => parseArgs(['--settings=default'], SPEC)).toThrow(/--settings=default: write the value after a space, as in --settings default/)
    })
})

describe('benchmark numbers', () => {
    const args = new Map([
        ['events', '1000'],
        ['zero', '0'],
        ['fraction', '2.5'],
        ['negative', '-5'],
        ['word', 'many'],
        ['exponent', '1e3'],
    ])

    it('reads whole numbers', () => {
        expect(numberArg(args, 'events', 7)).toBe(1000)
        expect(numberArg(args, 'absent', 7)).toBe(7)
        expect(numberArg(args, 'zero', 7, 0)).toBe(0)
    })

    it('rejects other values', () => {
        expect(() => numberArg(args, 'zero', 7)).toThrow(/--zero: expected a whole number of at least 1, received 0/)
        for (const key of ['fraction', 'negative', 'word', 'exponent']) {
            expect(() => numberArg(args, key, 7, 0)).toThrow(UsageError)
        }
    })
})
