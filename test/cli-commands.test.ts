import {spawn} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {freePort} from '../src/db/embedded'
import {binPath, PROJECT_ROOT, runToEnd} from '../src/stack/children'
import {startSeededDatabase, type SeededDatabase} from './gap-database'
import {AT, CONTRADICTED, GOOD, insertOutsider, OPERATORS, OUTSIDER, SERVICE, prober} from './gap-world'

// The commands run as the user runs them: the compiled CLI in its own process, against the seeded world. The build
// goes to a private folder, so the shared lib/ that other test files load is left alone.

const CLI_TIMEOUT_MS = 60_000
const EVIDENCE_FROM = '2026-01-05T00:00:00Z'

let world: SeededDatabase
let buildDir: string
let workDir: string

interface CliResult {
    code: number | null
    stdout: string
    stderr: string
}

/** Runs `proofgap ARGS` against the seeded database; `env` overrides the database settings. */
function proofgap(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(buildDir, 'lib/cli/main.js'), ...args], {
            env: {...process.env, ...world.db.env, DB_URL: '', ...env},
            stdio: ['ignore', 'pipe', 'pipe'],
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
        const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS)
        child.on('error', (error) => {
            clearTimeout(timer)
            reject(error)
        })
        child.on('close', (code) => {
            clearTimeout(timer)
            resolve({code, stdout, stderr})
        })
    })
}

beforeAll(async () => {
    buildDir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-cli-'))
    workDir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-cli-files-'))
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(buildDir, 'node_modules'), 'dir')
    const [compiled, seeded] = await Promise.all([
        // Type errors in files other helpers are editing do not stop tsc from emitting, so only the output is checked.
        runToEnd(binPath('tsc'), ['-p', 'tsconfig.json', '--outDir', path.join(buildDir, 'lib')], {}, 150_000),
        startSeededDatabase(),
    ])
    world = seeded
    if (!existsSync(path.join(buildDir, 'lib/cli/commands/gaps.js'))) throw new Error(`tsc emitted no CLI:\n${compiled.stdout.slice(-3000)}`)
}, 240_000)

afterAll(async () => {
    await world?.close()
    for (const dir of [buildDir, workDir]) if (dir !== undefined) rmSync(dir, {recursive: true, force: true})
})

type GapJson = {at: string; totalCount: number; gaps: Array<{operator: string; serviceId: string | null; kind: string; status: string; reason: string}>}

describe('proofgap gaps', () => {
    it('operator filter as JSON', async () => {
        const result = await proofgap(['gaps', '--operator', CONTRADICTED, '--at', AT.toISOString(), '--format', 'json'])
        expect(result.code, result.stderr).toBe(0)
        const page = JSON.parse(result.stdout) as GapJson
        expect(page.at).toBe(AT.toISOString())
        expect(page.gaps.length).toBe(page.totalCount)
        expect(new Set(page.gaps.map((row) => row.operator))).toEqual(new Set([CONTRADICTED]))
        const row = page.gaps.find((r) => r.serviceId === SERVICE && r.kind === 'ENDPOINT_REACHABILITY')
        expect(row?.status).toBe('CONTRADICTED')
        expect(row?.reason).toBe('HEARTBEAT_HEALTHY_ENDPOINT_UNREACHABLE')
    })

    it('table lists every operator', async () => {
        const result = await proofgap(['gaps', '--at', AT.toISOString(), '--limit', '1000'])
        expect(result.code, result.stderr).toBe(0)
        const [header, ...lines] = result.stdout.trimEnd().split('\n')
        expect(header).toBe('operator\tblueprint\tservice\tkind\tstatus\treason\tlast_proof_at')
        expect(new Set(lines.map((line) => line.split('\t')[0]))).toEqual(new Set(OPERATORS))
        expect(result.stderr).toContain(`${lines.length} of ${lines.length} gap rows at ${AT.toISOString()}`)
    })

    it('progress on stderr only', async () => {
        const result = await proofgap(['gaps', '--status', 'CONTRADICTED', '--at', AT.toISOString(), '--format', 'json'])
        expect(result.code).toBe(0)
        expect(result.stderr).toContain('computing gaps')
        expect(result.stdout).not.toContain('computing gaps')
        expect((JSON.parse(result.stdout) as GapJson).totalCount).toBe(2)
    })

    it('future tolerance from the environment', async () => {
        const soon = new Date(Date.now() + 300_000).toISOString()
        const rejected = await proofgap(['gaps', '--at', soon])
        expect(rejected.code).toBe(2)
        expect(rejected.stderr).toMatch(/is in the future/)
        const allowed = await proofgap(['gaps', '--at', soon, '--format', 'json'], {PROOFGAP_FUTURE_TOLERANCE_SECONDS: '600'})
        expect(allowed.code, allowed.stderr).toBe(0)
        // A bad setting is rejected before any query, with or without --at.
        const invalid = await proofgap(['gaps'], {PROOFGAP_FUTURE_TOLERANCE_SECONDS: 'ten'})
        expect(invalid.code).toBe(2)
        expect(invalid.stderr).toMatch(/PROOFGAP_FUTURE_TOLERANCE_SECONDS must be a whole number of seconds, got "ten"/)
    })

    it('help exits 0 with usage', async () => {
        const result = await proofgap(['gaps', '--help'])
        expect(result.code).toBe(0)
        expect(result.stdout).toMatch(/^usage: proofgap gaps/)
    })

    it.each([
        ['invalid operator', ['--operator', '0x12'], /operator "0x12" is invalid: expected a 0x address of 40 hex digits/],
        ['unknown format', ['--format', 'xml'], /--format xml is invalid: use table or json/],
        ['unparsable instant', ['--at', 'yesterday'], /--at yesterday is not an ISO 8601 time/],
        ['bare number as instant', ['--at', '1'], /--at 1 is not an ISO 8601 time/],
        ['impossible day', ['--at', '2026-02-30'], /--at 2026-02-30 is not an ISO 8601 time/],
        ['instant in the future', ['--at', '2099-01-01T00:00:00Z'], /--at 2099-01-01T00:00:00.000Z is in the future \(now is 20/],
        ['unknown product', ['--product', 'bogus'], /product "bogus" is invalid: expected one of sandbox-cloud, /],
        ['product in capitals', ['--product', 'SANDBOX-CLOUD'], /product "SANDBOX-CLOUD" is invalid/],
        ['limit above cap', ['--limit', '5000'], /limit 5000 is out of range: pass 1 to 1000/],
        ['limit not a number', ['--limit', 'ten'], /--limit ten is invalid: expected a whole number/],
        ['unknown status', ['--status', 'GOOD'], /status "GOOD" is invalid/],
        ['unknown option', ['--colour'], /Unknown option '--colour'/],
    ])('%s exits 2', async (_name, args, message) => {
        const result = await proofgap(['gaps', ...args])
        expect(result.code).toBe(2)
        expect(result.stderr).toMatch(message)
        expect(result.stderr).toContain('usage: proofgap gaps')
        // Checked before the database is opened.
        expect(result.stderr).not.toContain('computing gaps')
        expect(result.stdout).toBe('')
    })

    it('unreachable database exits 1', async () => {
        const port = await freePort()
        const result = await proofgap(['gaps'], {DB_PORT: String(port)})
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/proofgap gaps failed: .*ECONNREFUSED/)
        expect(result.stdout).toBe('')
    })
})

describe('proofgap scorecard', () => {
    const week = ['scorecard', '--week', '2026-W02', '--operator', GOOD]

    it('json card of the week', async () => {
        const result = await proofgap([...week, '--format', 'json'])
        expect(result.code, result.stderr).toBe(0)
        const cards = JSON.parse(result.stdout) as Array<Record<string, any>>
        expect(cards).toHaveLength(1)
        expect(cards[0]?.operator).toBe(GOOD)
        expect(cards[0]?.methodologyVersion).toBe('proofgap-scorecard/4')
        expect(cards[0]?.heartbeatUptime.ratio).toBe('0.000794')
        expect(cards[0]?.jobs.submitted).toBe(3)
        expect(result.stderr).toContain('computing scorecards for 2026-W02')
    })

    it('markdown table row', async () => {
        const result = await proofgap([...week, '--format', 'md'])
        expect(result.code, result.stderr).toBe(0)
        const lines = result.stdout.trimEnd().split('\n')
        expect(lines).toHaveLength(3)
        expect(lines[0]).toMatch(/^\| operator \| blueprint \| period \| heartbeat_uptime \|/)
        // Scored by operator alone, the card has no blueprint: the cell is empty.
        expect(lines[2]).toMatch(new RegExp(`^\\| ${GOOD} \\|  \\| 2026-W02 \\| 0\\.000794 \\|`))
    })

    it('csv with CRLF lines', async () => {
        const result = await proofgap([...week, '--format', 'csv'])
        expect(result.code, result.stderr).toBe(0)
        const lines = result.stdout.split('\r\n')
        expect(lines).toHaveLength(3)
        expect(lines[0]).toMatch(/^operator,blueprint,period,heartbeat_uptime,/)
        expect(lines[1]).toMatch(new RegExp(`^${GOOD},,2026-W02,0\\.000794,`))
        expect(lines[2]).toBe('')
    })

    it('html page with charts', async () => {
        const result = await proofgap([...week, '--format', 'html'])
        expect(result.code, result.stderr).toBe(0)
        expect(result.stdout).toMatch(/^<!doctype html>/)
        expect(result.stdout).toContain('<title>proofgap scorecard 2026-W02</title>')
        expect(result.stdout.match(/<svg /g)).toHaveLength(3)
        expect(result.stdout).toContain(`<td>${GOOD}</td>`)
    })

    it('no subject scores every registered operator', async () => {
        const result = await proofgap(['scorecard', '--week', '2026-W02', '--format', 'json'])
        expect(result.code, result.stderr).toBe(0)
        const cards = JSON.parse(result.stdout) as Array<{operator: string}>
        expect(cards.map((card) => card.operator).sort()).toEqual([...OPERATORS].sort())
        expect(result.stderr).toContain('4 scorecards')
    })

    it('unknown operator gets a reason', async () => {
        const unknown = '0x000000000000000000000000000000000000dead'
        const result = await proofgap(['scorecard', '--week', '2026-W02', '--operator', unknown, '--format', 'json'])
        expect(result.code, result.stderr).toBe(0)
        expect(JSON.parse(result.stdout)).toEqual([])
        expect(result.stderr).toContain(`no scorecard: operator ${unknown} had not registered with a blueprint or joined a service before 2026-01-12T00:00:00.000Z`)
        const blueprint = await proofgap(['scorecard', '--week', '2026-W02', '--blueprint', '99', '--format', 'json'])
        expect(blueprint.stderr).toContain('no scorecard: no operator had registered with blueprint 99 or joined one of its services before 2026-01-12T00:00:00.000Z')
    })

    it.each([
        ['week that does not exist', ['--week', '2026-W60'], /week "2026-W60" does not exist/],
        ['malformed week', ['--week', '2026-49'], /week "2026-49" is invalid: expected an ISO week such as 2026-W49/],
        ['no period', ['--operator', GOOD], /pass --week, or both --from and --to/],
        ['week and from together', ['--week', '2026-W02', '--from', EVIDENCE_FROM], /pass either --week or --from and --to, not both/],
        ['unknown format', ['--week', '2026-W02', '--format', 'pdf'], /--format pdf is invalid: use md, json, csv or html/],
        ['invalid operator', ['--week', '2026-W02', '--operator', 'alice'], /--operator alice is invalid: expected a 0x address/],
        ['invalid blueprint', ['--week', '2026-W02', '--blueprint', '1x'], /--blueprint "1x" is invalid: expected a decimal id such as "12"/],
        ['blueprint with a leading zero', ['--week', '2026-W02', '--blueprint', '001'], /--blueprint "001" is invalid: expected a decimal id/],
        ['blueprint above uint64', ['--week', '2026-W02', '--blueprint', '18446744073709551616'], /--blueprint 18446744073709551616 is out of range: ids are uint64, at most 18446744073709551615/],
    ])('%s exits 2', async (_name, args, message) => {
        const result = await proofgap(['scorecard', ...args])
        expect(result.code).toBe(2)
        expect(result.stderr).toMatch(message)
        expect(result.stdout).toBe('')
    })
})

describe('proofgap evidence', () => {
    const build = ['evidence', '--service', SERVICE, '--operator', CONTRADICTED, '--from', EVIDENCE_FROM, '--to', AT.toISOString()]

    it('stdout bundle equals the written file', async () => {
        const file = path.join(workDir, 'bundle.json')
        const printed = await proofgap(build)
        const written = await proofgap([...build, '--out', file])
        expect(printed.code, printed.stderr).toBe(0)
        expect(written.code, written.stderr).toBe(0)
        expect(written.stdout).toBe('')
        expect(readFileSync(file, 'utf8')).toBe(printed.stdout)
        const root = (JSON.parse(printed.stdout) as {root: string}).root
        expect(written.stderr).toMatch(new RegExp(`bundle ${root}: \\d+ records, written to ${file}`))
    })

    it('verify accepts the written bundle', async () => {
        const file = path.join(workDir, 'verified.json')
        expect((await proofgap([...build, '--out', file])).code).toBe(0)
        const root = (JSON.parse(readFileSync(file, 'utf8')) as {root: string}).root
        const result = await proofgap(['evidence', 'verify', file])
        expect(result.code, result.stdout).toBe(0)
        expect(result.stdout).toMatch(new RegExp(`^OK bundle ${root}: \\d+ records\\nsigner ${prober.address.toLowerCase()}: \\d+ proof records?\\n$`))
        expect(result.stderr).toMatch(/pass --prober ADDRESS/)
        const trusted = await proofgap(['evidence', 'verify', file, '--prober', prober.address])
        expect(trusted.code, trusted.stdout).toBe(0)
        expect(trusted.stderr).not.toMatch(/pass --prober/)
    })

    it('verify rejects a changed record', async () => {
        const file = path.join(workDir, 'changed.json')
        expect((await proofgap([...build, '--out', file])).code).toBe(0)
        const text = readFileSync(file, 'utf8')
        expect(text).toContain('"status":"CONTRADICTED"')
        writeFileSync(file, text.replace('"status":"CONTRADICTED"', '"status":"PROVEN"'))
        const result = await proofgap(['evidence', 'verify', file])
        expect(result.code).toBe(1)
        expect(result.stdout).toMatch(/^FAIL record #\d+ gap:/m)
        expect(result.stdout).toMatch(/^INVALID bundle /m)
    })

    it.each([
        ['missing period end', ['evidence', '--service', SERVICE, '--operator', CONTRADICTED, '--from', EVIDENCE_FROM], /missing --to/],
        ['service not decimal', ['evidence', '--service', 'ten', '--operator', CONTRADICTED, '--from', EVIDENCE_FROM, '--to', AT.toISOString()], /service "ten" is not a decimal service id/],
        ['unknown service', ['evidence', '--service', '999', '--operator', CONTRADICTED, '--from', EVIDENCE_FROM, '--to', AT.toISOString()], /service 999 not found in the indexed chain tables/],
        ['period backwards', ['evidence', '--service', SERVICE, '--operator', CONTRADICTED, '--from', AT.toISOString(), '--to', EVIDENCE_FROM], /must be after from/],
        ['unknown operator', ['evidence', '--service', SERVICE, '--operator', `0x${'0'.repeat(39)}1`, '--from', EVIDENCE_FROM, '--to', AT.toISOString()], /^proofgap: operator 0x0{39}1 not found in the indexed chain tables \(check the address\)$/m],
        ['verify without file', ['evidence', 'verify'], /evidence verify takes exactly one FILE/],
        ['verify missing file', ['evidence', 'verify', '/nonexistent/bundle.json'], /cannot read \/nonexistent\/bundle.json/],
    ])('%s exits 2', async (_name, args, message) => {
        const result = await proofgap(args)
        expect(result.code).toBe(2)
        expect(result.stderr).toMatch(message)
        expect(result.stdout).toBe('')
    })
})

describe('proofgap evidence membership', () => {
    it('operator outside the service exits 2', async () => {
        const removeOutsider = await insertOutsider(world.client)
        try {
            const result = await proofgap(['evidence', '--service', SERVICE, '--operator', OUTSIDER, '--from', EVIDENCE_FROM, '--to', AT.toISOString()])
            expect(result.code).toBe(2)
            expect(result.stdout).toBe('')
            expect(result.stderr).toContain(
                `proofgap: operator ${OUTSIDER} is not a member of service ${SERVICE} (it did not join the service before ${AT.toISOString()})\n`,
            )
            expect(result.stderr).not.toMatch(/records/)
        } finally {
            await removeOutsider()
        }
    })
})

describe('proofgap dispatcher', () => {
    it('help of a command', async () => {
        for (const args of [['help', 'gaps'], ['gaps', '--help']]) {
            const result = await proofgap(args)
            expect(result.code, args.join(' ')).toBe(0)
            expect(result.stdout).toMatch(/^usage: proofgap gaps /)
            expect(result.stdout).toMatch(/--status STATUS +only rows with this status: PROVEN, STALE, /)
            expect(result.stdout).toMatch(/--order-by KEY +operator_ASC, /)
            expect(result.stdout).toMatch(/Exit codes: 0 done, 1 the database or a query failed, 2 invalid arguments/)
        }
        const evidence = await proofgap(['help', 'evidence'])
        expect(evidence.stdout).toMatch(/--prober 0x… +accept only proof records signed by this address/)
        expect(evidence.stdout).toMatch(/at least 10 minutes ago/)
        const scorecard = await proofgap(['help', 'scorecard'])
        expect(scorecard.stdout).toMatch(/--format FORMAT +md \(default\), json, csv or html/)
    })

    it('version printed', async () => {
        const {version} = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {version: string}
        for (const flag of ['--version', 'version']) {
            const result = await proofgap([flag])
            expect(result.code, flag).toBe(0)
            // This build has no package.json beside its lib/.
            expect(result.stdout, flag).toBe('proofgap unknown (no package.json next to lib/)\n')
        }
        writeFileSync(path.join(buildDir, 'package.json'), JSON.stringify({version}))
        try {
            expect((await proofgap(['--version'])).stdout).toBe(`proofgap ${version}\n`)
        } finally {
            rmSync(path.join(buildDir, 'package.json'))
        }
    })

    it('bin without build explains', async () => {
        const copy = mkdtempSync(path.join(os.tmpdir(), 'proofgap-bin-'))
        try {
            mkdirSync(path.join(copy, 'bin'))
            copyFileSync(path.join(PROJECT_ROOT, 'bin/proofgap.cjs'), path.join(copy, 'bin/proofgap.cjs'))
            const result = await runToEnd(process.execPath, [path.join(copy, 'bin/proofgap.cjs'), 'gaps'], {}, CLI_TIMEOUT_MS)
            expect(result.code).toBe(1)
            expect(result.stderr).toMatch(/lib\/cli\/main\.js is missing: run "npm run build" in /)
            expect(result.stderr).not.toMatch(/MODULE_NOT_FOUND|at Module/)
        } finally {
            rmSync(copy, {recursive: true, force: true})
        }
    })

    it('unknown command exits 2', async () => {
        const result = await proofgap(['gapz'])
        expect(result.code).toBe(2)
        expect(result.stderr).toMatch(/proofgap: unknown command "gapz"/)
    })

    it('prober and processor print help', async () => {
        for (const command of ['prober', 'processor']) {
            const result = await proofgap([command, '--help'])
            expect(result.code, result.stderr).toBe(0)
            expect(result.stdout).toMatch(new RegExp(`^usage: proofgap ${command}\\n`))
            expect(result.stdout).toMatch(/takes no arguments/)
        }
    })

    it('prober refuses arguments', async () => {
        const result = await proofgap(['prober', '--interval', '5'])
        expect(result.code).toBe(2)
        expect(result.stderr).toMatch(/proofgap prober: unexpected argument "--interval"/)
    })

    it('api runs with the preload', async () => {
        // The preload checks GQL_HOST before the server starts; without it the server would ignore the value.
        const result = await proofgap(['api'], {GQL_HOST: 'not an address'})
        expect(result.code).toBe(2)
        expect(result.stderr).toMatch(/GQL_HOST/)
    })
})
