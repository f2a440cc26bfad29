import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {keccak256, stringToHex, type Hex} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {run as evidenceCommand} from '../src/cli/commands/evidence'
import {freePort} from '../src/db/embedded'
import {OPERATORS} from '../src/devnet/actors'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {buildScenario, runScenario} from '../src/devnet/scenario'
import {assembleBundle, serializeBundle, type EvidenceBundle, type EvidenceRecord} from '../src/gap/evidence'
import {signRecord, type ProofRecordFields} from '../src/proofs/record'
import {runProcessorTo, startTestDatabase} from './helpers/stack'

// Well-known anvil development key; it guards nothing.
const PROBER_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const OPERATOR = (OPERATORS[1] as string).toLowerCase()
const SERVICE = '0'
const FROM = '2026-01-01T00:00:00Z'
const TO = '2026-01-02T00:00:00Z'

let anvil: AnvilInstance
let db: Awaited<ReturnType<typeof startTestDatabase>>
let workDir: string
let bundleFile: string
let bundle: EvidenceBundle

/** Runs `proofgap evidence …` in-process and returns its exit code and stdout. */
async function evidence(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
    let stdout = ''
    let stderr = ''
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stdout += String(chunk)
        return true
    })
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stderr += String(chunk)
        return true
    })
    try {
        const code = await evidenceCommand(args)
        return {code, stdout, stderr}
    } finally {
        out.mockRestore()
        err.mockRestore()
    }
}

/** Inserts proof records signed with the test key, observed inside the bundle period. */
async function insertSignedProofs(): Promise<void> {
    const account = privateKeyToAccount(PROBER_KEY)
    const kinds = ['ENDPOINT_REACHABILITY', 'SANDBOX_ENDPOINT_HEALTH']
    for (const [index, kind] of kinds.entries()) {
        const fields: ProofRecordFields = {
            targetUrl: 'http://127.0.0.1:9/health',
            operator: OPERATOR,
            blueprintId: '1',
            serviceId: SERVICE,
            kind,
            outcome: 'PASS',
            reason: 'OK',
            observed: 'status=200',
            httpStatus: 200,
            latencyMs: 25 + index,
            observedAt: `2026-01-01T00:30:0${index}.000Z`,
            chainHead: '40',
            excerpt: '',
            evidenceDigest: keccak256(stringToHex(`evidence-${kind}`)),
        }
        const signed = await signRecord(fields, account)
        await db.client.query(
            `INSERT INTO proof_record (id, target_id, round, url, operator, blueprint_id, service_id, kind, outcome, reason,
                observed, http_status, latency_ms, observed_at, chain_head, excerpt, evidence_digest, record_digest,
                signature, signer)
             VALUES ($1, $2, NULL, $3, $4, '1', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
            [
                `proof-${index}`,
                `RPC_ADDRESS:1:${OPERATOR}:x`,
                fields.targetUrl,
                OPERATOR,
                SERVICE,
                kind,
                fields.outcome,
                fields.reason,
                fields.observed,
                fields.httpStatus,
                fields.latencyMs,
                new Date(fields.observedAt),
                fields.chainHead,
                fields.excerpt,
                fields.evidenceDigest,
                signed.recordDigest,
                signed.signature,
                signed.signer,
            ],
        )
    }
}

/** Rebuilds a bundle from altered records, so leaves and root are consistent again: offline checks pass. */
function rebuild(alter: (records: EvidenceRecord[]) => void): string {
    const records = bundle.records.map((entry) => structuredClone(entry.record))
    alter(records)
    const file = path.join(workDir, `altered-${Math.random().toString(36).slice(2)}.json`)
    writeFileSync(file, serializeBundle(assembleBundle(records)))
    return file
}

function chainFact(records: EvidenceRecord[], event: string): EvidenceRecord {
    const fact = records.find((record) => record.type === 'chain' && record.event === event)
    if (fact === undefined) throw new Error(`bundle has no ${event} fact`)
    return fact
}

beforeAll(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-evidence-rpc-'))
    anvil = await startAnvil()
    await runScenario(anvil.rpcUrl, buildScenario())
    db = await startTestDatabase()
    const head = Number(await fetch(anvil.rpcUrl, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: []}),
    }).then(async (response) => BigInt(((await response.json()) as {result: string}).result)))
    const processed = await runProcessorTo(anvil.rpcUrl, db.env, head)
    if (processed.code !== 0) throw new Error(`processor failed with ${processed.code}:\n${processed.stderr.slice(-3000)}`)
    await insertSignedProofs()

    for (const [key, value] of Object.entries(db.env)) process.env[key] = value
    bundleFile = path.join(workDir, 'bundle.json')
    const built = await evidence(['--service', SERVICE, '--operator', OPERATOR, '--from', FROM, '--to', TO, '--out', bundleFile])
    if (built.code !== 0) throw new Error(`evidence build failed with ${built.code}: ${built.stderr}`)
    bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as EvidenceBundle
}, 180_000)

afterAll(async () => {
    await db?.stop()
    await anvil?.stop()
    if (workDir !== undefined) rmSync(workDir, {recursive: true, force: true})
})

describe('evidence bundle from the devnet', () => {
    it('holds heartbeats, a slash and proofs', () => {
        const events = bundle.records.filter((entry) => entry.record.type === 'chain').map((entry) => entry.record.event)
        expect(events).toContain('HeartbeatConfigUpdated')
        expect(events).toContain('HeartbeatReceived')
        expect(events).toContain('SlashProposed')
        expect(bundle.records.filter((entry) => entry.record.type === 'proof')).toHaveLength(2)
    })

    it('claims name facts in the bundle', () => {
        const chainIds = new Set(bundle.records.filter((entry) => entry.record.type === 'chain').map((entry) => entry.record.id))
        const claims = bundle.records.filter((entry) => entry.record.type === 'claim').map((entry) => entry.record)
        const member = claims.find((claim) => claim.id === 'SERVICE_MEMBER')
        expect(member?.chainFacts).toHaveLength(1)
        for (const claim of claims) {
            for (const id of claim.chainFacts as string[]) expect(chainIds.has(id), `${claim.id} names ${id}`).toBe(true)
        }
        const memberFact = bundle.records.find((entry) => entry.record.id === (member?.chainFacts as string[])[0])?.record
        expect(['ServiceActivated', 'OperatorJoinedService']).toContain(memberFact?.event)
    })

    it('chain facts carry the full block hash', () => {
        const facts = bundle.records.filter((entry) => entry.record.type === 'chain').map((entry) => entry.record)
        expect(facts.length).toBeGreaterThan(0)
        for (const fact of facts) {
            expect(String(fact.blockHash), String(fact.id)).toMatch(/^0x[0-9a-f]{64}$/)
            expect(String(fact.blockHash).startsWith(String(fact.blockHashPrefix)), String(fact.id)).toBe(true)
        }
    })
})

describe('membership ends in bundles', () => {
    it.each([
        ['left the service', '0', 2, 'OperatorLeftService'],
        ['forced out', '3', 8, 'ExitForced'],
    ])('%s: close fact rechecked', async (_name, service, operatorIndex, event) => {
        const operator = (OPERATORS[operatorIndex] as string).toLowerCase()
        const file = path.join(workDir, `close-${operatorIndex}.json`)
        const built = await evidence(['--service', service, '--operator', operator, '--from', FROM, '--to', TO, '--out', file])
        expect(built.code, built.stderr).toBe(0)
        const records = (JSON.parse(readFileSync(file, 'utf8')) as EvidenceBundle).records.map((entry) => entry.record)
        const close = records.filter((record) => record.type === 'chain' && record.event === event)
        expect(close).toHaveLength(1)
        expect(close[0]?.fields).toEqual({serviceId: service, operator})
        expect(close[0]?.txHash).toMatch(/^0x[0-9a-f]{64}$/)
        const verified = await evidence(['verify', file, '--rpc', anvil.rpcUrl])
        expect(verified.stdout).not.toMatch(/FAIL/)
        expect(verified.code).toBe(0)
    }, 60_000)
})

describe('evidence verify --rpc', () => {
    it('untouched bundle passes', async () => {
        const result = await evidence(['verify', bundleFile, '--rpc', anvil.rpcUrl])
        expect(result.stdout).not.toMatch(/FAIL/)
        expect(result.code).toBe(0)
        expect(result.stdout).toMatch(/^OK bundle 0x[0-9a-f]{64}: \d+ records, \d+ chain facts rechecked/m)
    }, 60_000)

    it('altered decoded field fails on RPC only', async () => {
        let factId = ''
        const file = rebuild((records) => {
            const fact = chainFact(records, 'HeartbeatReceived')
            factId = fact.id
            ;(fact.fields as Record<string, unknown>).statusCode = 77
        })
        const offline = await evidence(['verify', file])
        expect(offline.code).toBe(0)
        const online = await evidence(['verify', file, '--rpc', anvil.rpcUrl])
        expect(online.code).toBe(1)
        expect(online.stdout).toContain(`chain:${factId}: field statusCode: bundle 77, chain 0`)
    }, 60_000)

    it('altered heartbeat setting fails on RPC', async () => {
        let factId = ''
        let interval = ''
        const file = rebuild((records) => {
            const fact = chainFact(records, 'HeartbeatConfigUpdated')
            factId = fact.id
            interval = String((fact.fields as Record<string, unknown>).interval)
            ;(fact.fields as Record<string, unknown>).interval = '7'
        })
        expect((await evidence(['verify', file])).code).toBe(0)
        const online = await evidence(['verify', file, '--rpc', anvil.rpcUrl])
        expect(online.code).toBe(1)
        expect(online.stdout).toContain(`chain:${factId}: field interval: bundle "7", chain "${interval}"`)
    }, 60_000)

    it('altered slash tx hash fails on RPC', async () => {
        const file = rebuild((records) => {
            chainFact(records, 'SlashProposed').txHash = `0x${'ab'.repeat(32)}`
        })
        expect((await evidence(['verify', file])).code).toBe(0)
        const online = await evidence(['verify', file, '--rpc', anvil.rpcUrl])
        expect(online.code).toBe(1)
        expect(online.stdout).toMatch(/chain:slash-0: transaction 0x(ab){32} not found/)
    }, 60_000)

    it('altered block hash fails on RPC', async () => {
        let factId = ''
        const file = rebuild((records) => {
            const fact = chainFact(records, 'HeartbeatReceived')
            factId = fact.id
            fact.blockHash = `${String(fact.blockHashPrefix)}${'0'.repeat(59)}`
        })
        const online = await evidence(['verify', file, '--rpc', anvil.rpcUrl])
        expect(online.code).toBe(1)
        expect(online.stdout).toContain(`chain:${factId}: block `)
        expect(online.stdout).toMatch(/bundle names 0x[0-9a-f]{5}0{59}/)
    }, 60_000)

    it('dead node stops after one line', async () => {
        // Nothing listens on this port, so every request is refused at once.
        const deadUrl = `http://127.0.0.1:${await freePort()}/`
        const facts = bundle.records.filter((entry) => entry.record.type === 'chain').length
        expect(facts).toBeGreaterThan(1)
        const result = await evidence(['verify', bundleFile, '--rpc', deadUrl])
        expect(result.code).toBe(1)
        const failures = result.stdout.split('\n').filter((line) => line.startsWith('FAIL '))
        expect(failures).toHaveLength(1)
        expect(failures[0]).toMatch(
            new RegExp(
                `^FAIL RPC node ${deadUrl} cannot be reached \\(.+\\), so ${facts} of ${facts} chain facts were not rechecked\\. ` +
                    'Check the URL and that the node is running\\.$',
            ),
        )
        expect(result.stdout).toMatch(/^INVALID bundle 0x[0-9a-f]{64}: \d+ records, 0 chain facts rechecked$/m)
    }, 60_000)

    it('single byte change fails offline', async () => {
        const text = readFileSync(bundleFile, 'utf8')
        const anchor = text.indexOf('"latencyMs":25')
        expect(anchor).toBeGreaterThan(0)
        const file = path.join(workDir, 'one-byte.json')
        writeFileSync(file, `${text.slice(0, anchor)}"latencyMs":26${text.slice(anchor + '"latencyMs":25'.length)}`)
        const offline = await evidence(['verify', file])
        expect(offline.code).toBe(1)
        expect(offline.stdout).toMatch(/FAIL record #\d+ proof:proof-0: leaf mismatch/)
        expect(offline.stdout).toMatch(/FAIL record #\d+ proof:proof-0: record digest mismatch/)
    })
})
