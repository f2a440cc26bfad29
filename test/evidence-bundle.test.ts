import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {canonicalJson} from '../src/gap/canonical-json'
import {DEFAULT_GAP_CONFIG} from '../src/gap/config'
import {
    assembleBundle,
    buildEvidenceBundle,
    EVIDENCE_SETTLE_SECONDS,
    EvidenceNotFoundError,
    findSlashesByEvidence,
    serializeBundle,
    type EvidenceBundle,
    type EvidenceRecord,
} from '../src/gap/evidence'
import {merkleLeaf, merkleNode, merkleRoot} from '../src/gap/merkle'
import {verifyBundleText} from '../src/gap/verify'
import {run as evidenceCommand} from '../src/cli/commands/evidence'
import {startSeededDatabase, type SeededDatabase} from './gap-database'
import {AT, CONTRADICTED, GOOD, insertOutsider, OUTSIDER, SERVICE, STALE, prober} from './gap-world'
import {signRecord, type ProofRecordFields} from '../src/proofs/record'
import {generatePrivateKey, privateKeyToAccount} from 'viem/accounts'

const REQUEST = {serviceId: SERVICE, operator: CONTRADICTED, from: new Date('2026-01-05T00:00:00Z'), to: new Date('2026-01-07T12:00:00Z')}

let world: SeededDatabase
let bundle: EvidenceBundle
let text: string

beforeAll(async () => {
    world = await startSeededDatabase()
    bundle = await buildEvidenceBundle(world.sql, REQUEST, DEFAULT_GAP_CONFIG)
    text = serializeBundle(bundle)
})

afterAll(async () => {
    await world?.close()
})

/** Replaces the first occurrence of `find` after `anchor` with `replace`: a one-character change. */
function mutate(source: string, anchor: string, find: string, replace: string): string {
    const anchorAt = source.indexOf(anchor)
    expect(anchorAt).toBeGreaterThanOrEqual(0)
    const at = source.indexOf(find, anchorAt)
    expect(at).toBeGreaterThanOrEqual(0)
    return source.slice(0, at) + replace + source.slice(at + find.length)
}

describe('evidence bundle contents', () => {
    it('refuses an unsettled period', async () => {
        for (const to of [new Date(Date.now() + 3_600_000), new Date(Date.now() - 60_000)]) {
            await expect(buildEvidenceBundle(world.sql, {...REQUEST, to}, DEFAULT_GAP_CONFIG)).rejects.toThrow(
                /is too recent: a bundle covers a period that ended at least 10 minutes ago/,
            )
        }
        const settled = new Date(Date.now() - EVIDENCE_SETTLE_SECONDS * 1000 - 1000)
        const past = await buildEvidenceBundle(world.sql, {...REQUEST, to: settled}, DEFAULT_GAP_CONFIG)
        expect(past.records.length).toBeGreaterThan(0)
    })

    it('holds meta, chain, proof, claim and gap records', () => {
        const types = bundle.records.map((entry) => entry.record.type)
        expect(types.filter((t) => t === 'meta')).toHaveLength(1)
        // The service's activation, its HeartbeatConfigUpdated in force at `from` and the operator's heartbeat.
        const events = bundle.records.filter((entry) => entry.record.type === 'chain').map((entry) => String(entry.record.event))
        expect(events.sort()).toEqual(['HeartbeatConfigUpdated', 'HeartbeatReceived', 'ServiceActivated'])
        expect(types.filter((t) => t === 'proof')).toHaveLength(1)
        expect(types).toContain('claim')
        expect(types).toContain('gap')
    })

    it('chain fact carries block, log index and tx', () => {
        const chain = bundle.records.find((entry) => entry.record.event === 'HeartbeatReceived')?.record
        expect(chain?.event).toBe('HeartbeatReceived')
        expect(chain?.blockNumber).toBe(1002)
        expect(chain?.logIndex).toBe(0)
        expect(chain?.blockHashPrefix).toBe('0xabcde')
        expect(String(chain?.txHash)).toMatch(/^0x[0-9a-f]{64}$/)
    })

    it('gap record states CONTRADICTED', () => {
        const gap = bundle.records.find((entry) => entry.record.type === 'gap' && entry.record.id === 'ENDPOINT_REACHABILITY')
        expect(gap?.record.status).toBe('CONTRADICTED')
    })

    it('root is the Merkle root of the leaves', () => {
        expect(bundle.root).toBe(merkleRoot(bundle.records.map((entry) => entry.leaf)))
    })

    it('same request gives identical bytes', async () => {
        const again = serializeBundle(await buildEvidenceBundle(world.sql, REQUEST, DEFAULT_GAP_CONFIG))
        expect(again).toBe(text)
    })

    it('file is canonical JSON', () => {
        expect(text).toBe(`${canonicalJson(JSON.parse(text))}\n`)
    })
})

/** Returns the record of `type` with `id`, or undefined. */
function recordOf(built: EvidenceBundle, type: string, id: string): EvidenceRecord | undefined {
    return built.records.find((entry) => entry.record.type === type && entry.record.id === id)?.record
}

/** Lists `type:id` of every record that a gap or claim record of the bundle names. */
function namedRecords(built: EvidenceBundle): string[] {
    const named: string[] = []
    for (const {record} of built.records) {
        if (record.type === 'gap') {
            for (const id of [record.lastProofId, record.lastPassId]) if (typeof id === 'string') named.push(`proof:${id}`)
        }
        if (record.type === 'claim') for (const id of record.chainFacts as string[]) named.push(`chain:${id}`)
    }
    return named
}

describe('evidence bundle basis', () => {
    // A period of the last two minutes before AT: the proofs and job results the statuses rest on are older.
    const recent = {serviceId: SERVICE, from: new Date(AT.getTime() - 120_000), to: AT}

    it('gap proofs older than from included', async () => {
        const built = await buildEvidenceBundle(world.sql, {...recent, operator: CONTRADICTED}, DEFAULT_GAP_CONFIG)
        const gap = recordOf(built, 'gap', 'ENDPOINT_REACHABILITY')
        expect(gap?.status).toBe('CONTRADICTED')
        expect(gap?.lastProofId).toMatch(/^proof-\d+$/)
        const proof = recordOf(built, 'proof', String(gap?.lastProofId))
        expect((proof?.fields as {outcome?: string} | undefined)?.outcome).toBe('UNREACHABLE')
        expect((await verifyBundleText(serializeBundle(built))).problems).toEqual([])
    })

    it('stale gap names its last pass', async () => {
        const built = await buildEvidenceBundle(world.sql, {...recent, operator: STALE}, DEFAULT_GAP_CONFIG)
        const gap = recordOf(built, 'gap', 'ENDPOINT_REACHABILITY')
        expect(gap?.status).toBe('STALE')
        expect(gap?.lastPassId).toBe(gap?.lastProofId)
        const proof = recordOf(built, 'proof', String(gap?.lastPassId))
        expect((proof?.fields as {observedAt?: string} | undefined)?.observedAt).toBe(new Date(AT.getTime() - 7 * 3_600_000).toISOString())
    })

    it('job results behind claim included', async () => {
        const built = await buildEvidenceBundle(world.sql, {...recent, operator: GOOD}, DEFAULT_GAP_CONFIG)
        const claim = recordOf(built, 'claim', 'JOB_RESULTS_SUBMITTED')
        expect(claim?.detail).toBe('2 job result(s) submitted')
        const facts = (claim?.chainFacts as string[]).map((id) => recordOf(built, 'chain', id))
        expect(facts.map((fact) => fact?.event)).toEqual(['JobResultSubmitted', 'JobResultSubmitted'])
        expect(facts.map((fact) => (fact?.fields as {callId?: string}).callId)).toEqual(['1', '2'])
        // Both results were submitted on 2026-01-06, before the period.
        for (const fact of facts) expect(String(fact?.timestamp) < recent.from.toISOString()).toBe(true)
    })

    it('membership and heartbeat claims named', async () => {
        const built = await buildEvidenceBundle(world.sql, {...recent, operator: GOOD}, DEFAULT_GAP_CONFIG)
        const member = recordOf(built, 'claim', 'SERVICE_MEMBER')?.chainFacts as string[]
        expect(member).toHaveLength(1)
        expect(recordOf(built, 'chain', member[0] as string)?.event).toBe('ServiceActivated')
        const heartbeating = recordOf(built, 'claim', 'HEARTBEATING')?.chainFacts as string[]
        expect(heartbeating).toHaveLength(1)
        expect(recordOf(built, 'chain', heartbeating[0] as string)?.timestamp).toBe(new Date(AT.getTime() - 60_000).toISOString())
    })

    it.each([
        ['good operator', GOOD],
        ['contradicted operator', CONTRADICTED],
        ['stale operator', STALE],
    ])('%s: every named record present', async (_name, operator) => {
        const built = await buildEvidenceBundle(world.sql, {...recent, operator}, DEFAULT_GAP_CONFIG)
        const present = new Set(built.records.map((entry) => `${entry.record.type}:${entry.record.id}`))
        const named = namedRecords(built)
        expect(named.length).toBeGreaterThan(0)
        expect(named.filter((name) => !present.has(name))).toEqual([])
    })

    it('verify names a missing proof', async () => {
        const built = await buildEvidenceBundle(world.sql, {...recent, operator: CONTRADICTED}, DEFAULT_GAP_CONFIG)
        const proofId = String(recordOf(built, 'gap', 'ENDPOINT_REACHABILITY')?.lastProofId)
        // Leaves and root are computed again, so only the reference check can notice the removal.
        const trimmed = assembleBundle(
            built.records.map((entry) => entry.record).filter((record) => !(record.type === 'proof' && record.id === proofId)),
        )
        const result = await verifyBundleText(serializeBundle(trimmed))
        const index = trimmed.records.findIndex((entry) => entry.record.type === 'gap' && entry.record.id === 'ENDPOINT_REACHABILITY')
        expect(result.valid).toBe(false)
        expect(result.problems).toEqual([
            `record #${index} gap:ENDPOINT_REACHABILITY: lastProofId names proof:${proofId}, which is not in the bundle`,
        ])
    })

    it('verify names a missing chain fact', async () => {
        const built = await buildEvidenceBundle(world.sql, {...recent, operator: GOOD}, DEFAULT_GAP_CONFIG)
        const factId = (recordOf(built, 'claim', 'JOB_RESULTS_SUBMITTED')?.chainFacts as string[])[0] as string
        const trimmed = assembleBundle(
            built.records.map((entry) => entry.record).filter((record) => !(record.type === 'chain' && record.id === factId)),
        )
        const result = await verifyBundleText(serializeBundle(trimmed))
        expect(result.valid).toBe(false)
        expect(result.problems).toEqual([
            expect.stringMatching(new RegExp(`^record #\\d+ claim:JOB_RESULTS_SUBMITTED: chainFacts names chain:${factId}, which is not in the bundle$`)),
        ])
    })
})

describe('evidence bundle request checks', () => {
    const period = {serviceId: SERVICE, from: new Date('2026-01-05T00:00:00Z'), to: AT}

    it('unknown operator rejected', async () => {
        const operator = '0x' + '0'.repeat(39) + '1'
        const request = buildEvidenceBundle(world.sql, {...period, operator}, DEFAULT_GAP_CONFIG)
        await expect(request).rejects.toBeInstanceOf(EvidenceNotFoundError)
        await expect(request).rejects.toThrow(`operator ${operator} not found in the indexed chain tables`)
    })

    it('operator outside the service rejected', async () => {
        const removeOutsider = await insertOutsider(world.client)
        try {
            const request = buildEvidenceBundle(world.sql, {...period, operator: OUTSIDER}, DEFAULT_GAP_CONFIG)
            await expect(request).rejects.toBeInstanceOf(EvidenceNotFoundError)
            await expect(request).rejects.toThrow(
                `operator ${OUTSIDER} is not a member of service ${SERVICE} (it did not join the service before ${AT.toISOString()})`,
            )
        } finally {
            await removeOutsider()
        }
    })

    it('member joined after the period rejected', async () => {
        const early = {...period, from: new Date('2025-12-01T00:00:00Z'), to: new Date('2025-12-31T00:00:00Z')}
        await expect(buildEvidenceBundle(world.sql, {...early, operator: GOOD}, DEFAULT_GAP_CONFIG)).rejects.toThrow(
            `operator ${GOOD} is not a member of service ${SERVICE} (it did not join the service before 2025-12-31T00:00:00.000Z)`,
        )
    })
})

describe('merkle tree', () => {
    it('pairs left to right and promotes the odd leaf', () => {
        const [a, b, c] = ['a', 'b', 'c'].map((s) => merkleLeaf(s)) as [`0x${string}`, `0x${string}`, `0x${string}`]
        expect(merkleRoot([a, b, c])).toBe(merkleNode(merkleNode(a, b), c))
        expect(merkleRoot([a])).toBe(a)
    })
})

describe('evidence verify', () => {
    it('fresh bundle passes', async () => {
        const result = await verifyBundleText(text)
        expect(result.problems).toEqual([])
        expect(result.valid).toBe(true)
    })

    it('changed heartbeat block number names the record', async () => {
        const changed = mutate(text, '"blockHashPrefix"', '"blockNumber":1002', '"blockNumber":1003')
        const index = bundle.records.findIndex((entry) => entry.record.id === '0000001002-abcde-000000')
        const result = await verifyBundleText(changed)
        expect(result.valid).toBe(false)
        expect(result.problems.join('\n')).toContain(`record #${index} chain:0000001002-abcde-000000: leaf mismatch`)
    })

    it('changed signature names the proof record', async () => {
        const index = bundle.records.findIndex((entry) => entry.record.type === 'proof')
        const proof = bundle.records[index]
        const signature = String(proof?.record.signature)
        const flipped = signature.slice(0, 20) + (signature[20] === 'a' ? 'b' : 'a') + signature.slice(21)
        const result = await verifyBundleText(text.replace(signature, flipped))
        expect(result.valid).toBe(false)
        const messages = result.problems.join('\n')
        expect(messages).toContain(`record #${index} proof:${String(proof?.record.id)}: signature check failed`)
        expect(messages).toContain(`record #${index} proof:${String(proof?.record.id)}: leaf mismatch`)
    })

    it('changed proof field fails the signature', async () => {
        const changed = mutate(text, '"evidenceDigest"', '"outcome":"UNREACHABLE"', '"outcome":"PASS"')
        const fixedLeaves = JSON.parse(changed) as EvidenceBundle
        // Recompute leaf and root so only the signature can catch the change.
        for (const entry of fixedLeaves.records) entry.leaf = merkleLeaf(canonicalJson(entry.record))
        fixedLeaves.root = merkleRoot(fixedLeaves.records.map((entry) => entry.leaf))
        const result = await verifyBundleText(serializeBundle(fixedLeaves))
        expect(result.valid).toBe(false)
        expect(result.problems.join('\n')).toMatch(/proof:proof-\d+: (record digest mismatch|signature check failed)/)
    })

    it('stranger signature fails with --prober', async () => {
        // A consistent forgery: one proof record changed and signed again by another key, leaves and root recomputed.
        const forged = JSON.parse(text) as EvidenceBundle
        const index = forged.records.findIndex((entry) => entry.record.type === 'proof')
        const record = forged.records[index].record as unknown as {fields: ProofRecordFields; recordDigest: string; signature: string; signer: string}
        const stranger = privateKeyToAccount(generatePrivateKey())
        const signed = await signRecord({...record.fields, outcome: 'PASS'}, stranger)
        Object.assign(record, {fields: signed.fields, recordDigest: signed.recordDigest, signature: signed.signature, signer: signed.signer})
        for (const entry of forged.records) entry.leaf = merkleLeaf(canonicalJson(entry.record))
        forged.root = merkleRoot(forged.records.map((entry) => entry.leaf))
        const forgedText = serializeBundle(forged)

        const open = await verifyBundleText(forgedText)
        expect(open.valid).toBe(true)
        const proofs = forged.records.filter((entry) => entry.record.type === 'proof').length
        expect(open.signers).toEqual(
            [{address: stranger.address.toLowerCase(), records: 1}, ...(proofs > 1 ? [{address: prober.address.toLowerCase(), records: proofs - 1}] : [])].sort(
                (a, b) => b.records - a.records,
            ),
        )

        const strict = await verifyBundleText(forgedText, {trustedSigners: [prober.address]})
        expect(strict.valid).toBe(false)
        expect(strict.problems).toEqual([
            `record #${index} proof:${String(forged.records[index].record.id)}: signed by ${stranger.address.toLowerCase()}, which is not one of the trusted probers`,
        ])
        expect((await verifyBundleText(text, {trustedSigners: [prober.address.toUpperCase().replace('0X', '0x')]})).valid).toBe(true)
    })

    it('changed root fails naming the bundle root', async () => {
        const last = bundle.root.slice(-1)
        const changedRoot = bundle.root.slice(0, -1) + (last === '0' ? '1' : '0')
        const result = await verifyBundleText(text.replace(`"root":"${bundle.root}"`, `"root":"${changedRoot}"`))
        expect(result.valid).toBe(false)
        expect(result.problems).toEqual([`bundle root mismatch: stored ${changedRoot}, records give ${bundle.root}`])
    })

    it('CLI verify exits 0 then 1 after a change', async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-evidence-'))
        const good = path.join(dir, 'good.json')
        const bad = path.join(dir, 'bad.json')
        writeFileSync(good, text)
        writeFileSync(bad, mutate(text, '"event":"HeartbeatReceived"', '"statusCode":0', '"statusCode":1'))
        const out = process.stdout.write
        const lines: string[] = []
        process.stdout.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write
        try {
            expect(await evidenceCommand(['verify', good])).toBe(0)
            expect(await evidenceCommand(['verify', bad])).toBe(1)
            expect(await evidenceCommand(['verify', good, '--prober', prober.address])).toBe(0)
            expect(await evidenceCommand(['verify', good, '--prober', '0x' + '12'.repeat(20)])).toBe(1)
        } finally {
            process.stdout.write = out
            rmSync(dir, {recursive: true, force: true})
        }
        const output = lines.join('')
        expect(output).toMatch(/FAIL record #\d+ chain:0000001002-abcde-000000: leaf mismatch/)
        expect(output).toContain(`signer ${prober.address.toLowerCase()}: `)
        expect(output).toMatch(/which is not one of the trusted probers/)
    })

    it('CLI rejects a malformed prober address', async () => {
        const err = process.stderr.write
        const lines: string[] = []
        process.stderr.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stderr.write
        try {
            expect(await evidenceCommand(['verify', 'bundle.json', '--prober', '0x12'])).toBe(2)
        } finally {
            process.stderr.write = err
        }
        expect(lines.join('')).toMatch(/--prober: expected a 0x address of 40 hex digits, received "0x12"/)
    })

    it('CLI rejects missing arguments', async () => {
        const err = process.stderr.write
        const lines: string[] = []
        process.stderr.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stderr.write
        try {
            expect(await evidenceCommand(['--service', '10'])).toBe(2)
        } finally {
            process.stderr.write = err
        }
        expect(lines.join('')).toMatch(/missing --operator, --from, --to/)
    })
})

describe('slash linked by evidence root', () => {
    it('finds the slash whose evidence is the root', async () => {
        await world.client.query('UPDATE slash SET evidence = $1 WHERE id = $2', [bundle.root, '1'])
        const slashes = await findSlashesByEvidence(world.sql, bundle.root.toUpperCase().replace('0X', '0x'))
        expect(slashes.map((row) => row.slash_id)).toEqual(['1'])
    })
})
