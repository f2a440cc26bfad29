/**
 * Attestation JSON that a simulated TEE sandbox operator publishes. The quote is synthetic: a TDX v4 quote header
 * and TD report laid out as Intel's quote format, with zeros everywhere except the version and MRTD, and no signature.
 */

/** MRTD the simulated operators report: 48 bytes, hex without 0x. */
export const SIMULATED_MRTD_HEX = 'a5'.repeat(16) + '5a'.repeat(16) + 'c3'.repeat(16)

/** The placeholder the contract accepts although it attests nothing. */
export const PLACEHOLDER_ATTESTATION_JSON = '{"tee_type":"tdx","status":"pending"}'

const HEADER_BYTES = 48
const MRTD_OFFSET_IN_TD_REPORT = 136
const MRTD_BYTES = 48
const TD_REPORT_BYTES = 584

/** Builds a TDX v4 quote (hex with 0x) that carries `mrtdHex` as MRTD. */
export function buildSimulatedTdxQuote(mrtdHex: string): string {
    const quote = new Uint8Array(HEADER_BYTES + TD_REPORT_BYTES)
    quote[0] = 4 // version 4, little-endian u16
    const mrtd = Buffer.from(mrtdHex, 'hex')
    if (mrtd.length !== MRTD_BYTES) throw new Error(`MRTD must be ${MRTD_BYTES} bytes of hex, got ${mrtd.length} bytes`)
    quote.set(mrtd, HEADER_BYTES + MRTD_OFFSET_IN_TD_REPORT)
    return `0x${Buffer.from(quote).toString('hex')}`
}

/** Builds the attestation JSON text, as the operator would publish it in the sandbox-create job result. */
export function buildSimulatedTdxAttestationJson(timestampUnixSeconds: number, mrtdHex = SIMULATED_MRTD_HEX): string {
    return JSON.stringify({
        tee_type: 'Tdx',
        evidence: {quote: buildSimulatedTdxQuote(mrtdHex), collateral: null},
        measurement: `0x${mrtdHex}`,
        timestamp: timestampUnixSeconds,
    })
}
