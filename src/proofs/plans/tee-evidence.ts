/**
 * Offline reading of TEE evidence: the measurement inside a TDX quote or an SEV-SNP report. This checks what the
 * evidence claims, not who signed it; the quote signature and TCB status need the vendor's collateral.
 */

/** Bytes of the TDX quote header (Intel TDX DCAP quote format, versions 4 and 5). */
const TDX_QUOTE_HEADER_BYTES = 48
/** Bytes of the v5 body descriptor (u16 body type, u32 body size) between the header and the TD report. */
const TDX_V5_BODY_DESCRIPTOR_BYTES = 6
/** TD report fields before MRTD: TEE_TCB_SVN 16, MRSEAM 48, MRSIGNERSEAM 48, SEAMATTRIBUTES 8, TDATTRIBUTES 8, XFAM 8. */
const TDX_REPORT_BYTES_BEFORE_MRTD = 16 + 48 + 48 + 8 + 8 + 8
const TDX_MRTD_BYTES = 48

/** Offset of MEASUREMENT (the launch digest) in an AMD SEV-SNP attestation report. */
const SEV_SNP_MEASUREMENT_OFFSET = 0x90
const SEV_SNP_MEASUREMENT_BYTES = 48

export type MeasurementReading = {ok: true; measurement: string} | {ok: false; problem: string}

/** Decodes hex with or without 0x; returns null for anything else. */
export function hexToBytesOrNull(hex: string): Uint8Array | null {
    const digits = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex
    if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) return null
    const bytes = new Uint8Array(digits.length / 2)
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16)
    return bytes
}

/** Lower-case hex without 0x, the form measurements are compared in. */
export function normalizeMeasurement(hex: string): string {
    return (hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex).toLowerCase()
}

function toHex(bytes: Uint8Array): string {
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** Reads MRTD from a TDX quote given as hex. */
export function readTdxMrtd(quoteHex: string): MeasurementReading {
    const quote = hexToBytesOrNull(quoteHex)
    if (quote === null) return {ok: false, problem: 'quote is not hex'}
    if (quote.length < 2) return {ok: false, problem: 'quote is empty'}

    const version = quote[0] | (quote[1] << 8)
    let reportOffset: number
    if (version === 4) reportOffset = TDX_QUOTE_HEADER_BYTES
    else if (version === 5) reportOffset = TDX_QUOTE_HEADER_BYTES + TDX_V5_BODY_DESCRIPTOR_BYTES
    else return {ok: false, problem: `quote version ${version} is not 4 or 5`}

    const start = reportOffset + TDX_REPORT_BYTES_BEFORE_MRTD
    if (quote.length < start + TDX_MRTD_BYTES) return {ok: false, problem: `quote of ${quote.length} bytes is too short`}
    return {ok: true, measurement: toHex(quote.subarray(start, start + TDX_MRTD_BYTES))}
}

/** Reads the launch digest from an SEV-SNP attestation report given as hex. */
export function readSevLaunchDigest(reportHex: string): MeasurementReading {
    const report = hexToBytesOrNull(reportHex)
    if (report === null) return {ok: false, problem: 'report is not hex'}
    const end = SEV_SNP_MEASUREMENT_OFFSET + SEV_SNP_MEASUREMENT_BYTES
    if (report.length < end) return {ok: false, problem: `report of ${report.length} bytes is too short`}
    return {ok: true, measurement: toHex(report.subarray(SEV_SNP_MEASUREMENT_OFFSET, end))}
}
