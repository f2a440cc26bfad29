/** JSON values a bundle may contain: no floats, no undefined; bigints are written as decimal strings. */
export type CanonicalValue = string | number | boolean | null | bigint | CanonicalValue[] | {[key: string]: CanonicalValue}

export class CanonicalJsonError extends Error {
    override name = 'CanonicalJsonError'
}

/**
 * Serializes `value` as canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, bigints as decimal
 * strings, numbers only as safe integers. Equal values always give equal bytes.
 */
export function canonicalJson(value: CanonicalValue, path = '$'): string {
    if (value === null) return 'null'
    if (typeof value === 'bigint') return JSON.stringify(value.toString())
    if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value)
    if (typeof value === 'number') {
        if (!Number.isSafeInteger(value)) {
            throw new CanonicalJsonError(`${path} is ${value}: only safe integers are allowed; write larger or fractional numbers as decimal strings`)
        }
        return String(value)
    }
    if (Array.isArray(value)) return `[${value.map((item, index) => canonicalJson(item, `${path}[${index}]`)).join(',')}]`
    if (typeof value === 'object') {
        const keys = Object.keys(value).sort()
        const members = keys.map((key) => {
            const member = value[key]
            if (member === undefined) throw new CanonicalJsonError(`${path}.${key} is undefined: use null`)
            return `${JSON.stringify(key)}:${canonicalJson(member, `${path}.${key}`)}`
        })
        return `{${members.join(',')}}`
    }
    throw new CanonicalJsonError(`${path} has type ${typeof value}, which canonical JSON cannot encode`)
}
