import {
    ADDRESS_CLASSES,
    type AddressClass,
    classifyParsedAddress,
    embeddedIpv4,
    isInRange,
    type ParsedAddress,
    parseIpAddress,
} from './classify-address'

/**
 * Addresses the prober may connect to. Each entry of `allow` is an address class name (`'public'`,
 * `'loopback'`, …) or a CIDR range (`'127.0.0.1/32'`, `'fd12::/64'`). A bare address counts as a single-address
 * range. Metadata addresses are allowed only by the class name `'metadata'`, never by a CIDR, so
 * that a broad range such as `169.254.0.0/16` cannot expose cloud instance credentials by accident.
 */
export interface AddressPolicy {
    allow: string[]
}

/** Policy used when configuration gives none: public addresses only. */
export const DEFAULT_ADDRESS_POLICY: AddressPolicy = {allow: ['public']}

interface CidrRange {
    family: 4 | 6
    base: bigint
    prefixLength: number
    text: string
}

/** A validated policy, ready for repeated checks. */
export interface CompiledAddressPolicy {
    readonly classes: ReadonlySet<AddressClass>
    readonly ranges: readonly CidrRange[]
}

/** Result of checking one address against a policy. */
export interface AddressDecision {
    allowed: boolean
    address: string
    addressClass: AddressClass
}

export class AddressPolicyError extends Error {
    override name = 'AddressPolicyError'
}

/**
 * Validates a policy and turns its entries into class names and CIDR ranges. Throws AddressPolicyError naming the
 * first invalid entry.
 */
export function compileAddressPolicy(policy: AddressPolicy): CompiledAddressPolicy {
    const classes = new Set<AddressClass>()
    const ranges: CidrRange[] = []

    policy.allow.forEach((entry, index) => {
        const text = entry.trim()
        if ((ADDRESS_CLASSES as readonly string[]).includes(text)) {
            classes.add(text as AddressClass)
            return
        }
        const range = parseCidr(text)
        if (range === undefined) {
            throw new AddressPolicyError(
                `address policy allow[${index}] is invalid: "${entry}"; expected a CIDR such as 127.0.0.1/32 ` +
                    `or one of the classes ${ADDRESS_CLASSES.join(', ')}`,
            )
        }
        ranges.push(range)
    })

    return {classes, ranges}
}

/** Parses `address/prefixLength` or a bare address. Host bits beyond the prefix are ignored. */
function parseCidr(text: string): CidrRange | undefined {
    const slash = text.indexOf('/')
    const addressText = slash < 0 ? text : text.slice(0, slash)
    const prefixText = slash < 0 ? undefined : text.slice(slash + 1)

    const address = parseIpAddress(addressText)
    if (address === undefined) {
        return undefined
    }
    const width = address.family === 4 ? 32 : 128
    if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) {
        return undefined
    }
    const prefixLength = prefixText === undefined ? width : Number(prefixText)
    if (prefixLength > width) {
        return undefined
    }
    return {family: address.family, base: address.value, prefixLength, text}
}

/** Accepts either form, so callers can pass configuration straight through. */
export function toCompiledPolicy(policy: AddressPolicy | CompiledAddressPolicy | undefined): CompiledAddressPolicy {
    if (policy === undefined) {
        return compileAddressPolicy(DEFAULT_ADDRESS_POLICY)
    }
    if ('allow' in policy) {
        return compileAddressPolicy(policy)
    }
    return policy
}

/**
 * Decides whether the prober may connect to `address` (an IP address as text). An address that is not an IP
 * address is never allowed; it is reported with the class `reserved`.
 */
export function checkAddress(policy: CompiledAddressPolicy, address: string): AddressDecision {
    const parsed = parseIpAddress(address)
    if (parsed === undefined) {
        return {allowed: false, address, addressClass: 'reserved'}
    }

    const addressClass = classifyParsedAddress(parsed)
    if (policy.classes.has(addressClass)) {
        return {allowed: true, address, addressClass}
    }
    if (addressClass === 'metadata') {
        return {allowed: false, address, addressClass}
    }

    const allowed = policy.ranges.some((range) => matchesRange(parsed, range))
    return {allowed, address, addressClass}
}

/** IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) match IPv4 ranges too, because they reach the same host. */
function matchesRange(address: ParsedAddress, range: CidrRange): boolean {
    if (isInRange(address, range.family, range.base, range.prefixLength)) {
        return true
    }
    const mapped = address.family === 6 && address.value >> 32n === 0xffffn ? embeddedIpv4(address) : undefined
    return mapped !== undefined && isInRange({family: 4, value: mapped}, range.family, range.base, range.prefixLength)
}
