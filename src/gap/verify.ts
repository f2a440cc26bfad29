import type {Hex} from 'viem'
import {recordDigest, verifyRecord, type ProofRecordFields} from '../proofs/record'
import {canonicalJson, type CanonicalValue} from './canonical-json'
import {EVIDENCE_BUNDLE_ENCODING, READABLE_BUNDLE_ENCODINGS, RECORD_TYPES, type EvidenceEntry} from './evidence'
import {merkleLeaf, merkleRoot} from './merkle'
import {recheckChainFacts} from './recheck'

export interface BundleVerification {
    valid: boolean
    root: string | null
    recordCount: number
    /** One line per problem, each naming the record (`#index type:id`) or the bundle. */
    problems: string[]
    /** Chain facts rechecked against an RPC node; zero without an RPC URL. */
    chainFactsChecked: number
    /** Signers of the proof records with a valid signature: each address (lower case) and its number of records. */
    signers: {address: string; records: number}[]
}

/** Checks of a bundle against outside facts, besides its own consistency. */
export interface VerifyOptions {
    /** Addresses whose signatures are accepted. Without them, a valid signature of whichever signer a record names is accepted. */
    trustedSigners?: readonly string[]
}

function label(index: number, entry: unknown): string {
    const record = (entry as {record?: {type?: unknown; id?: unknown}} | null)?.record
    return `record #${index} ${String(record?.type ?? '?')}:${String(record?.id ?? '?')}`
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Checks a bundle offline: the file parses, every leaf equals the hash of its record, every proof record's digest
 * and signature are valid for its named signer, every record that a gap or claim names is in the bundle, and the root
 * equals the Merkle root of the recomputed leaves. Claim, gap and meta records are not signed, so these checks do not
 * show that they were computed from the chain and the proofs: a rewritten bundle with new leaves and root passes.
 */
export async function verifyBundleText(text: string, options: VerifyOptions = {}): Promise<BundleVerification> {
    const problems: string[] = []
    const signers = new Map<string, number>()
    const trusted = options.trustedSigners === undefined ? undefined : new Set(options.trustedSigners.map((address) => address.toLowerCase()))
    let parsed: unknown
    try {
        parsed = JSON.parse(text)
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        return {valid: false, root: null, recordCount: 0, problems: [`bundle is not valid JSON: ${message}`], chainFactsChecked: 0, signers: []}
    }
    if (!isObject(parsed) || !Array.isArray(parsed.records)) {
        return {valid: false, root: null, recordCount: 0, problems: ['bundle has no records array'], chainFactsChecked: 0, signers: []}
    }
    if (!READABLE_BUNDLE_ENCODINGS.includes(String(parsed.encoding))) {
        problems.push(`bundle encoding is ${JSON.stringify(parsed.encoding)}, expected ${EVIDENCE_BUNDLE_ENCODING}`)
    }
    const entries = parsed.records as unknown[]
    const leaves: Hex[] = []

    for (const [index, entry] of entries.entries()) {
        const name = label(index, entry)
        if (!isObject(entry) || !isObject(entry.record)) {
            problems.push(`${name}: entry must be an object with leaf and record`)
            continue
        }
        const record = entry.record
        if (!(RECORD_TYPES as readonly string[]).includes(String(record.type)) || typeof record.id !== 'string') {
            problems.push(`${name}: record type or id is invalid`)
        }
        let leaf: Hex
        try {
            leaf = merkleLeaf(canonicalJson(record as CanonicalValue))
        } catch (error) {
            problems.push(`${name}: record cannot be encoded: ${error instanceof Error ? error.message : String(error)}`)
            continue
        }
        leaves.push(leaf)
        if (entry.leaf !== leaf) {
            problems.push(`${name}: leaf mismatch, stored ${String(entry.leaf)} but the record hashes to ${leaf}; the record or its leaf was changed`)
        }
        if (record.type === 'proof') {
            const recordProblems = await checkProofRecord(name, record)
            problems.push(...recordProblems)
            if (typeof record.signer === 'string') {
                const signer = record.signer.toLowerCase()
                // Counted only when the signature recovers to the named signer.
                if (recordProblems.length === 0) signers.set(signer, (signers.get(signer) ?? 0) + 1)
                if (trusted !== undefined && !trusted.has(signer)) {
                    problems.push(`${name}: signed by ${signer}, which is not one of the trusted probers`)
                }
            }
        }
    }

    problems.push(...missingReferences(entries))
    if (leaves.length === entries.length && leaves.length > 0) {
        const computed = merkleRoot(leaves)
        if (parsed.root !== computed) {
            problems.push(`bundle root mismatch: stored ${String(parsed.root)}, records give ${computed}`)
        }
    }
    return {
        valid: problems.length === 0,
        root: typeof parsed.root === 'string' ? parsed.root : null,
        recordCount: entries.length,
        problems,
        chainFactsChecked: 0,
        signers: [...signers].map(([address, records]) => ({address, records})).sort((a, b) => b.records - a.records || (a.address < b.address ? -1 : 1)),
    }
}

/** Record fields that name another record of the bundle, by the type of the record they name. */
const REFERENCES: {from: string; field: string; to: string}[] = [
    {from: 'gap', field: 'lastProofId', to: 'proof'},
    {from: 'gap', field: 'lastPassId', to: 'proof'},
    {from: 'claim', field: 'chainFacts', to: 'chain'},
]

/** Lists each record id that a gap or claim record names and that the bundle does not contain. */
function missingReferences(entries: unknown[]): string[] {
    const records = entries.map((entry) => (isObject(entry) && isObject(entry.record) ? entry.record : null))
    const present = new Set(records.map((record) => (record === null ? '' : `${String(record.type)}:${String(record.id)}`)))
    const problems: string[] = []
    for (const [index, record] of records.entries()) {
        if (record === null) continue
        for (const reference of REFERENCES) {
            if (record.type !== reference.from) continue
            const value = record[reference.field]
            const ids = Array.isArray(value) ? value : [value]
            for (const id of ids) {
                if (id === null || id === undefined) continue
                if (!present.has(`${reference.to}:${String(id)}`)) {
                    problems.push(`${label(index, entries[index])}: ${reference.field} names ${reference.to}:${String(id)}, which is not in the bundle`)
                }
            }
        }
    }
    return problems
}

async function checkProofRecord(name: string, record: Record<string, unknown>): Promise<string[]> {
    const problems: string[] = []
    const fields = record.fields as ProofRecordFields
    const signature = record.signature as Hex
    const signer = typeof record.signer === 'string' ? record.signer : undefined
    if (signer === undefined) return [`${name}: proof record names no signer`]
    try {
        const digest = recordDigest(fields)
        if (digest !== record.recordDigest) {
            problems.push(`${name}: record digest mismatch, stored ${String(record.recordDigest)} but the fields hash to ${digest}`)
        }
    } catch (error) {
        problems.push(`${name}: proof fields are invalid: ${error instanceof Error ? error.message : String(error)}`)
        return problems
    }
    const verification = await verifyRecord(fields, signature, signer)
    if (!verification.valid) problems.push(`${name}: signature check failed (${verification.reason}): ${verification.detail}`)
    return problems
}

/** Verifies a bundle offline and, when `rpcUrl` is given, rechecks its chain facts against that node. */
export async function verifyBundle(text: string, rpcUrl?: string, options: VerifyOptions = {}): Promise<BundleVerification> {
    const result = await verifyBundleText(text, options)
    if (rpcUrl === undefined || result.recordCount === 0) return result
    const parsed = JSON.parse(text) as {records: EvidenceEntry[]}
    const recheck = await recheckChainFacts(parsed.records, rpcUrl)
    const problems = [...result.problems, ...recheck.problems]
    return {...result, valid: problems.length === 0, problems, chainFactsChecked: recheck.checked}
}
