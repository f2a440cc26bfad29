import {readFileSync, writeFileSync} from 'node:fs'
import {parseArgs} from 'node:util'
import {gapConfigFromEnv} from '../../gap/config'
import {buildEvidenceBundle, EvidenceError, EvidenceNotFoundError, findSlashesByEvidence, serializeBundle} from '../../gap/evidence'
import {EVIDENCE_SETTLE_SECONDS, parsePeriod, PeriodError} from '../../gap/period'
import {verifyBundle} from '../../gap/verify'
import {printUsage, progress, usageError, withDatabase} from './db'

const USAGE = `usage: proofgap evidence --service N --operator 0x… --from ISO-TIME --to ISO-TIME [--out FILE]
       proofgap evidence verify FILE [--rpc URL] [--prober 0x… ...]`

const HELP = `${USAGE}

Builds the evidence bundle of one operator in one service over [--from, --to): the chain facts, signed proof records,
claims and gap statuses of the period, with every record its claims and statuses rest on, under one Merkle root
(docs/scorecard.md describes the format). The period must have ended at least ${EVIDENCE_SETTLE_SECONDS / 60} minutes ago, so that every
record of it is stored and the bundle can be built again with the same root.

Options:
  --service N           the service (a decimal id)
  --operator 0x…        the operator; it must have joined the service before --to
  --from, --to          the period (ISO times); --to is exclusive
  --out FILE            write the bundle to FILE (default: standard output)

verify FILE checks a bundle without a database: each leaf and the root, every record a claim or gap names, and each
proof record's signature.
  --prober 0x…          accept only proof records signed by this address (repeat for several)
  --rpc URL             also recheck every chain fact against this JSON-RPC node; stops at the first node failure

Database (building only): DB_URL, or DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASS.

Exit codes: 0 built or valid, 1 invalid bundle or a failed query, 2 invalid arguments or an operator or service the
index does not know.`

/** Builds or verifies a dispute evidence bundle. Returns the process exit code (1 when verification fails). */
export async function run(argv: string[]): Promise<number> {
    if (argv[0] === 'verify') return runVerify(argv.slice(1))
    let values
    try {
        values = parseArgs({
            args: argv,
            options: {
                help: {type: 'boolean', short: 'h'},
                service: {type: 'string'},
                operator: {type: 'string'},
                from: {type: 'string'},
                to: {type: 'string'},
                out: {type: 'string'},
            },
            strict: true,
        }).values
    } catch (error) {
        return usageError(error instanceof Error ? error.message : String(error), USAGE)
    }
    if (values.help === true) return printUsage(HELP)
    const missing = (['service', 'operator', 'from', 'to'] as const).filter((name) => values[name] === undefined)
    if (missing.length > 0) return usageError(`missing ${missing.map((name) => `--${name}`).join(', ')}`, USAGE)

    try {
        const period = parsePeriod(values.from as string, values.to as string)
        progress(`building evidence for service ${values.service} operator ${values.operator}`)
        const {text, root, count, slashes} = await withDatabase(async (sql) => {
            const bundle = await buildEvidenceBundle(
                sql,
                {serviceId: values.service as string, operator: values.operator as string, from: period.from, to: period.to},
                gapConfigFromEnv(),
            )
            const linked = await findSlashesByEvidence(sql, bundle.root)
            return {text: serializeBundle(bundle), root: bundle.root, count: bundle.records.length, slashes: linked}
        })
        if (values.out !== undefined) writeFileSync(values.out, text)
        else process.stdout.write(text)
        progress(`bundle ${root}: ${count} records${values.out === undefined ? '' : `, written to ${values.out}`}`)
        for (const slash of slashes) progress(`slash ${String(slash.slash_id)} (${String(slash.status)}) cites this bundle as evidence`)
        return 0
    } catch (error) {
        // The arguments are well formed but name nothing indexed, so the usage text is left out. The exit code is 2, as
        // for a usage error.
        if (error instanceof EvidenceNotFoundError) {
            progress(`proofgap: ${error.message}`)
            return 2
        }
        if (error instanceof PeriodError || error instanceof EvidenceError) return usageError(error.message, USAGE)
        progress(`proofgap evidence failed: ${error instanceof Error ? error.message : String(error)}`)
        return 1
    }
}

async function runVerify(argv: string[]): Promise<number> {
    let parsed
    try {
        parsed = parseArgs({
            args: argv,
            options: {rpc: {type: 'string'}, prober: {type: 'string', multiple: true}, help: {type: 'boolean', short: 'h'}},
            allowPositionals: true,
            strict: true,
        })
    } catch (error) {
        return usageError(error instanceof Error ? error.message : String(error), USAGE)
    }
    if (parsed.values.help === true) return printUsage(HELP)
    const file = parsed.positionals[0]
    if (file === undefined || parsed.positionals.length > 1) return usageError('evidence verify takes exactly one FILE', USAGE)
    const probers = parsed.values.prober
    const badProber = probers?.find((address) => !/^0x[0-9a-fA-F]{40}$/.test(address))
    if (badProber !== undefined) return usageError(`--prober: expected a 0x address of 40 hex digits, received ${JSON.stringify(badProber)}`, USAGE)
    let text: string
    try {
        text = readFileSync(file, 'utf8')
    } catch (error) {
        return usageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, USAGE)
    }
    if (parsed.values.rpc !== undefined) progress('rechecking chain facts against the RPC node')
    const result = await verifyBundle(text, parsed.values.rpc, {trustedSigners: probers})
    for (const problem of result.problems) process.stdout.write(`FAIL ${problem}\n`)
    const rpcNote = parsed.values.rpc === undefined ? '' : `, ${result.chainFactsChecked} chain facts rechecked`
    process.stdout.write(`${result.valid ? 'OK' : 'INVALID'} bundle ${result.root ?? '(no root)'}: ${result.recordCount} records${rpcNote}\n`)
    for (const signer of result.signers) process.stdout.write(`signer ${signer.address}: ${signer.records} proof record${signer.records === 1 ? '' : 's'}\n`)
    if (probers === undefined && result.signers.length > 0) {
        progress('signatures are checked against the signers the bundle names; pass --prober ADDRESS to accept only the prober you trust')
    }
    return result.valid ? 0 : 1
}
