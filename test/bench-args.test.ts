import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {buildVersion, formatVersion, sourceVersion} from '../bench/lib/build'
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

describe('code version of a benchmark run', () => {
    let dir: string
    beforeEach(() => {
        dir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-bench-version-'))
        mkdirSync(path.join(dir, 'lib'))
        writeFileSync(path.join(dir, 'lib', 'main.js'), '')
    })
    afterEach(() => rmSync(dir, {recursive: true, force: true}))

    it('reads commit and changed-file count from lib/COMMIT', () => {
        const commit = 'ab'.repeat(20)
        writeFileSync(path.join(dir, 'lib', 'COMMIT'), `${commit.toUpperCase()}\nchanged source files: 3\n`)
        const version = buildVersion(dir)
        expect(version).toEqual({commit, changedFiles: 3})
        expect(formatVersion(version)).toBe(`${commit.slice(0, 7)} + 3 changed source files`)
        writeFileSync(path.join(dir, 'lib', 'COMMIT'), `${commit}\nchanged source files: 0\n`)
        expect(formatVersion(buildVersion(dir))).toBe(commit.slice(0, 7))
        writeFileSync(path.join(dir, 'lib', 'COMMIT'), `${commit}\n`)
        expect(buildVersion(dir)).toEqual({commit, changedFiles: null})
    })

    it('says why the commit is unknown', () => {
        expect(buildVersion(dir)).toEqual({commit: null, changedFiles: null, note: 'no lib/COMMIT'})
        expect(formatVersion(buildVersion(dir))).toBe('unknown commit (no lib/COMMIT)')
        writeFileSync(path.join(dir, 'lib', 'COMMIT'), 'not a commit\n')
        expect(buildVersion(dir).commit).toBeNull()
        expect(formatVersion(buildVersion(dir))).toBe('unknown commit')
    })

    it('distrusts a COMMIT file left by an earlier compile into the same folder', () => {
        writeFileSync(path.join(dir, 'lib', 'COMMIT'), `${'cd'.repeat(20)}\nchanged source files: 0\n`)
        const now = Date.now() / 1000
        utimesSync(path.join(dir, 'lib', 'COMMIT'), now - 3600, now - 3600)
        expect(buildVersion(dir)).toEqual({commit: null, changedFiles: null, note: 'lib/COMMIT is older than lib/main.js'})
        // A copy made with cp -r gives both files the time of the copy.
        utimesSync(path.join(dir, 'lib', 'main.js'), now - 3600, now - 3600)
        expect(buildVersion(dir).commit).toBe('cd'.repeat(20))
    })

    it('reads the commit of the work tree', () => {
        const head = execFileSync('git', ['rev-parse', 'HEAD'], {cwd: path.join(__dirname, '..'), encoding: 'utf8'}).trim()
        const version = sourceVersion()
        expect(version.commit).toBe(head)
        expect(Number.isInteger(version.changedFiles)).toBe(true)
        expect(version.changedFiles).toBeGreaterThanOrEqual(0)
    })
})
