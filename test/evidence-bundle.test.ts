import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {canonicalJson} from '../src/gap/canonical-json'
import {DEFAULT_GAP_CONFIG} from '../src/gap/config'
import {buildEvidenceBundle, EVIDENCE_SETTLE_SECONDS, findSlashesByEvidence, serializeBundle, type EvidenceBundle} from '../src/gap/evidence'
import {merkleLeaf, merkleNode, merkleRoot} from '../src/gap/merkle'
import {verifyBundleText} from '../src/gap/verify'
import {run as evidenceCommand} from '../src/cli/commands/evidence'
import {startSeededDatabase, type SeededDatabase} from './gap-database'
import {CONTRADICTED, SERVICE, prober} from './gap-world'
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
        // The service's HeartbeatConfigUpdated in force at `from` and the operator's heartbeat.
        expect(bundle.records.filter((entry) => entry.record.type === 'chain').map((entry) => entry.record.event)).toEqual([
            'HeartbeatConfigUpdated',
            'HeartbeatReceived',
        ])
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
        const result = await verifyBundleText(changed)
        expect(result.valid).toBe(false)
        expect(result.problems.join('\n')).toMatch(/record #2 chain:0000001002-abcde-000000: leaf mismatch/)
    })

    it('changed signature names the proof record', async () => {
        const proof = bundle.records.find((entry) => entry.record.type === 'proof')
        const signature = String(proof?.record.signature)
        const flipped = signature.slice(0, 20) + (signature[20] === 'a' ? 'b' : 'a') + signature.slice(21)
        const result = await verifyBundleText(text.replace(signature, flipped))
        expect(result.valid).toBe(false)
        const messages = result.problems.join('\n')
        expect(messages).toMatch(/record #3 proof:proof-\d+: signature check failed/)
        expect(messages).toMatch(/record #3 proof:proof-\d+: leaf mismatch/)
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
        expect(output).toMatch(/FAIL record #2 chain:/)
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
