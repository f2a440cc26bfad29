/** Scale of ratios: parts per million, so a ratio is an exact integer and prints with six decimals. */
export const RATIO_SCALE = 1_000_000n

/** Returns numerator / denominator in parts per million, rounded half up; null when the denominator is 0. */
export function ratioPpm(numerator: bigint, denominator: bigint): bigint | null {
    if (denominator === 0n) return null
    return (numerator * RATIO_SCALE * 2n + denominator) / (denominator * 2n)
}

/** Formats parts per million as a decimal string with six places, such as "0.982143" or "-0.010000". */
export function formatPpm(ppm: bigint | null): string | null {
    if (ppm === null) return null
    const sign = ppm < 0n ? '-' : ''
    const magnitude = ppm < 0n ? -ppm : ppm
    return `${sign}${magnitude / RATIO_SCALE}.${String(magnitude % RATIO_SCALE).padStart(6, '0')}`
}

/**
 * Returns the p-th percentile by the nearest-rank method: sort ascending, take the value at rank ⌈p/100 × n⌉
 * (1-based). The result is always one of the samples; null for no samples.
 */
export function nearestRankPercentile(samples: number[], p: number): number | null {
    if (samples.length === 0) return null
    const sorted = [...samples].sort((a, b) => a - b)
    // Integer form of ⌈p × n / 100⌉ for whole p, so no floating-point rounding can move the rank.
    const rank = Math.max(1, Math.floor((p * sorted.length + 99) / 100))
    return sorted[rank - 1] ?? null
}
