import type {ProbeResponse} from '../types'

/**
 * Reading of operator JSON. The readers throw `ResponseShapeError`; the dispatcher in `index.ts` turns it into an
 * INVALID_JSON or WRONG_SHAPE verdict, so no evaluator throws to its caller.
 */
export class ResponseShapeError extends Error {
    constructor(
        readonly reason: 'INVALID_JSON' | 'WRONG_SHAPE',
        readonly detail: string,
    ) {
        super(`${reason}: ${detail}`)
        this.name = 'ResponseShapeError'
    }
}

export type JsonRecord = Record<string, unknown>

const strictUtf8 = new TextDecoder('utf-8', {fatal: true})

export function bodyText(response: ProbeResponse): string {
    try {
        return strictUtf8.decode(response.body)
    } catch {
        throw new ResponseShapeError('INVALID_JSON', `body of ${response.body.length} bytes is not valid UTF-8`)
    }
}

export function parseJsonBody(response: ProbeResponse): unknown {
    const text = bodyText(response)
    try {
        return JSON.parse(text)
    } catch {
        throw new ResponseShapeError('INVALID_JSON', `status=${response.status ?? 'none'} body is not JSON (${text.length} chars)`)
    }
}

export function describeType(value: unknown): string {
    if (value === null) return 'null'
    if (Array.isArray(value)) return 'array'
    return typeof value
}

function wrongType(path: string, expected: string, value: unknown): ResponseShapeError {
    return new ResponseShapeError('WRONG_SHAPE', `${path}: expected ${expected}, got ${describeType(value)}`)
}

export function asRecord(value: unknown, path: string): JsonRecord {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrongType(path, 'object', value)
    return value as JsonRecord
}

export function asArray(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) throw wrongType(path, 'array', value)
    return value
}

export function readRecord(record: JsonRecord, key: string, path: string): JsonRecord {
    return asRecord(record[key], `${path}.${key}`)
}

export function readArray(record: JsonRecord, key: string, path: string): unknown[] {
    return asArray(record[key], `${path}.${key}`)
}

export function readString(record: JsonRecord, key: string, path: string): string {
    const value = record[key]
    if (typeof value !== 'string') throw wrongType(`${path}.${key}`, 'string', value)
    return value
}

/** A string field that may be null or absent; returns null then. */
export function readNullableString(record: JsonRecord, key: string, path: string): string | null {
    const value = record[key]
    if (value === undefined || value === null) return null
    if (typeof value !== 'string') throw wrongType(`${path}.${key}`, 'string or null', value)
    return value
}

export function readBoolean(record: JsonRecord, key: string, path: string): boolean {
    const value = record[key]
    if (typeof value !== 'boolean') throw wrongType(`${path}.${key}`, 'boolean', value)
    return value
}

export function readFiniteNumber(record: JsonRecord, key: string, path: string): number {
    const value = record[key]
    if (typeof value !== 'number' || !Number.isFinite(value)) throw wrongType(`${path}.${key}`, 'number', value)
    return value
}

/** A number field that may also come as a decimal string, as some operators serialize money. */
export function readNumeric(record: JsonRecord, key: string, path: string): number {
    const value = record[key]
    if (typeof value === 'number' && Number.isFinite(value)) return value
    if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value)
    throw wrongType(`${path}.${key}`, 'number or decimal string', value)
}

/** An integer field (JSON number or decimal string) read exactly as a bigint. */
export function readInteger(record: JsonRecord, key: string, path: string): bigint {
    const value = record[key]
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value)
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value)
    throw wrongType(`${path}.${key}`, 'integer', value)
}

const BYTES32_PATTERN = /^0x[0-9a-fA-F]{64}$/

export function readBytes32(record: JsonRecord, key: string, path: string): `0x${string}` {
    const value = readString(record, key, path)
    if (!BYTES32_PATTERN.test(value)) {
        throw new ResponseShapeError('WRONG_SHAPE', `${path}.${key}: expected 0x-prefixed 32-byte hex, got ${value.length} chars`)
    }
    return value.toLowerCase() as `0x${string}`
}

export function isBytes32Hex(value: string): boolean {
    return BYTES32_PATTERN.test(value)
}
