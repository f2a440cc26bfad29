import {ResponseShapeError, describeType} from './read-json'

/** An exact decimal: `units / 10^scale`. Book prices and quantities are compared in this form, never as floats. */
export interface ExactDecimal {
    units: bigint
    scale: number
}

const DECIMAL_PATTERN = /^(-?)(\d+)(?:\.(\d+))?$/

/** Reads a JSON number or decimal string exactly; exponent notation and non-numbers are a WRONG_SHAPE. */
export function readExactDecimal(value: unknown, path: string): ExactDecimal {
    const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value
    const match = typeof text === 'string' ? DECIMAL_PATTERN.exec(text) : null
    if (match === null) throw new ResponseShapeError('WRONG_SHAPE', `${path}: expected decimal number, got ${describeType(value)}`)
    const fraction = match[3] ?? ''
    const units = BigInt(`${match[1]}${match[2]}${fraction}`)
    return {units, scale: fraction.length}
}

function rescale(value: ExactDecimal, scale: number): bigint {
    return value.units * 10n ** BigInt(scale - value.scale)
}

/** Returns -1, 0 or 1 as `a` is less than, equal to or greater than `b`. */
export function compareDecimals(a: ExactDecimal, b: ExactDecimal): -1 | 0 | 1 {
    const scale = Math.max(a.scale, b.scale)
    const left = rescale(a, scale)
    const right = rescale(b, scale)
    if (left < right) return -1
    if (left > right) return 1
    return 0
}

/** True when `value` is a whole multiple of `step`; a zero step accepts every value. */
export function isMultipleOf(value: ExactDecimal, step: ExactDecimal): boolean {
    const scale = Math.max(value.scale, step.scale)
    const stepUnits = rescale(step, scale)
    return stepUnits === 0n || rescale(value, scale) % stepUnits === 0n
}

export function formatDecimal(value: ExactDecimal): string {
    if (value.scale === 0) return value.units.toString()
    const negative = value.units < 0n
    const digits = (negative ? -value.units : value.units).toString().padStart(value.scale + 1, '0')
    const whole = digits.slice(0, digits.length - value.scale)
    return `${negative ? '-' : ''}${whole}.${digits.slice(digits.length - value.scale)}`
}
