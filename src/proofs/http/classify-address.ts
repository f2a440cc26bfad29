import {isIPv4, isIPv6} from 'node:net'

/**
 * Class of an IP address, as far as the prober's connection policy cares. Only `public` addresses are reachable by
 * default; every other class must be allowed by name or by CIDR in the address policy.
 */
export type AddressClass =
    | 'public'
    | 'loopback'
    | 'private'
    | 'link-local'
    | 'cgnat'
    | 'multicast'
    | 'metadata'
    | 'unspecified'
    | 'reserved'
    | 'broadcast'
    | 'documentation'

export const ADDRESS_CLASSES: readonly AddressClass[] = [
    'public',
    'loopback',
    'private',
    'link-local',
    'cgnat',
    'multicast',
    'metadata',
    'unspecified',
    'reserved',
    'broadcast',
    'documentation',
]

/** An IP address as an unsigned integer: 32 bits for IPv4, 128 bits for IPv6. */
export interface ParsedAddress {
    family: 4 | 6
    value: bigint
}

interface AddressRange {
    family: 4 | 6
    base: bigint
    prefixLength: number
    addressClass: AddressClass
}

/**
 * Cloud instance-metadata endpoints. They are checked before the wider ranges they sit in (link-local, CGNAT,
 * unique-local), because a request to them can leak instance credentials.
 */
const METADATA_ADDRESSES: readonly string[] = [
    '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
    '169.254.170.2', // AWS ECS task metadata
    '100.100.100.200', // Alibaba Cloud
    'fd00:ec2::254', // AWS IMDS over IPv6
]

/**
 * Special-purpose IPv4 ranges (IANA IPv4 Special-Purpose Address Registry, RFC 6890 and successors). The most
 * specific range that contains an address decides its class, so the order here does not matter.
 */
const IPV4_RANGES: ReadonlyArray<[string, number, AddressClass]> = [
    ['0.0.0.0', 8, 'unspecified'],
    ['10.0.0.0', 8, 'private'],
    ['100.64.0.0', 10, 'cgnat'],
    ['127.0.0.0', 8, 'loopback'],
    ['169.254.0.0', 16, 'link-local'],
    ['172.16.0.0', 12, 'private'],
    ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
    ['192.0.2.0', 24, 'documentation'], // TEST-NET-1
    ['192.88.99.0', 24, 'reserved'], // deprecated 6to4 relay anycast
    ['192.168.0.0', 16, 'private'],
    ['198.18.0.0', 15, 'reserved'], // benchmarking
    ['198.51.100.0', 24, 'documentation'], // TEST-NET-2
    ['203.0.113.0', 24, 'documentation'], // TEST-NET-3
    ['224.0.0.0', 4, 'multicast'],
    ['240.0.0.0', 4, 'reserved'],
    ['255.255.255.255', 32, 'broadcast'],
]

/**
 * Special-purpose IPv6 ranges. Addresses that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are
 * classified by the embedded address before this table is consulted.
 */
const IPV6_RANGES: ReadonlyArray<[string, number, AddressClass]> = [
    ['::', 128, 'unspecified'],
    ['::1', 128, 'loopback'],
    ['64:ff9b:1::', 48, 'private'], // local-use NAT64
    ['100::', 64, 'reserved'], // discard-only
    ['2001::', 32, 'reserved'], // Teredo: the IPv4 endpoint is obfuscated, so it cannot be checked
    ['2001:2::', 48, 'reserved'], // benchmarking
    ['2001:10::', 28, 'reserved'], // ORCHID
    ['2001:20::', 28, 'reserved'], // ORCHIDv2
    ['2001:db8::', 32, 'documentation'],
    ['3fff::', 20, 'documentation'],
    ['fc00::', 7, 'private'], // unique local
    ['fe80::', 10, 'link-local'],
    ['fec0::', 10, 'private'], // deprecated site-local
    ['ff00::', 8, 'multicast'],
]

/** Global unicast space; an IPv6 address outside 2000::/3 is not routable on the internet today. */
const IPV6_GLOBAL_UNICAST: AddressRange = {family: 6, base: 0x2n << 124n, prefixLength: 3, addressClass: 'public'}

const IPV4_MAPPED_PREFIX = 0xffffn << 32n // ::ffff:0:0/96
const NAT64_WELL_KNOWN_PREFIX = 0x64ff9bn << 96n // 64:ff9b::/96
const SIX_TO_FOUR_PREFIX = 0x2002n << 112n // 2002::/16

/**
 * Parses an IPv4 or IPv6 address in standard text form into an unsigned integer. An IPv6 zone index (`%eth0`) and
 * surrounding brackets are ignored. Returns undefined for anything that is not an IP address.
 */
export function parseIpAddress(text: string): ParsedAddress | undefined {
    let address = text.trim()
    if (address.startsWith('[') && address.endsWith(']')) {
        address = address.slice(1, -1)
    }
    const zoneStart = address.indexOf('%')
    if (zoneStart >= 0) {
        address = address.slice(0, zoneStart)
    }

    if (isIPv4(address)) {
        return {family: 4, value: parseIpv4(address)}
    }
    if (isIPv6(address)) {
        return {family: 6, value: parseIpv6(address)}
    }
    return undefined
}

function parseIpv4(address: string): bigint {
    let value = 0n
    for (const octet of address.split('.')) {
        value = (value << 8n) | BigInt(Number(octet))
    }
    return value
}

/** Expects text that `isIPv6` accepted, so the group count and syntax are already valid. */
function parseIpv6(address: string): bigint {
    let text = address.toLowerCase()

    // A trailing dotted quad (::ffff:10.0.0.1) stands for the last two 16-bit groups.
    const lastColon = text.lastIndexOf(':')
    const tail = text.slice(lastColon + 1)
    if (tail.includes('.')) {
        const embedded = parseIpv4(tail)
        text = `${text.slice(0, lastColon + 1)}${(embedded >> 16n).toString(16)}:${(embedded & 0xffffn).toString(16)}`
    }

    const [head, rest] = text.split('::') as [string, string | undefined]
    const headGroups = head === '' ? [] : head.split(':')
    const tailGroups = rest === undefined || rest === '' ? [] : rest.split(':')
    const missingGroups = 8 - headGroups.length - tailGroups.length
    const groups = [...headGroups, ...Array<string>(rest === undefined ? 0 : missingGroups).fill('0'), ...tailGroups]

    let value = 0n
    for (const group of groups) {
        value = (value << 16n) | BigInt(parseInt(group, 16))
    }
    return value
}

/** Formats a 32-bit value as a dotted quad. */
export function formatIpv4(value: bigint): string {
    return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.')
}

/**
 * Returns the IPv4 address an IPv6 address carries and forwards to, if any: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d, deprecated), NAT64 (64:ff9b::/96) and 6to4 (2002:AABB:CCDD::/48).
 */
export function embeddedIpv4(address: ParsedAddress): bigint | undefined {
    if (address.family !== 6) {
        return undefined
    }
    const value = address.value
    const high96 = value >> 32n
    const low32 = value & 0xffffffffn

    if (high96 === IPV4_MAPPED_PREFIX >> 32n) {
        return low32
    }
    // ::/96 contains :: and ::1 as well; those are classified as IPv6 and must not turn into 0.0.0.0 and 0.0.0.1.
    if (high96 === 0n && low32 > 1n) {
        return low32
    }
    if (high96 === NAT64_WELL_KNOWN_PREFIX >> 32n) {
        return low32
    }
    if (value >> 112n === SIX_TO_FOUR_PREFIX >> 112n) {
        return (value >> 80n) & 0xffffffffn
    }
    return undefined
}

const METADATA_VALUES: ReadonlyArray<ParsedAddress> = METADATA_ADDRESSES.map((text) => parseKnownAddress(text))
const RANGES: ReadonlyArray<AddressRange> = [
    ...IPV4_RANGES.map(([base, prefixLength, addressClass]) => toRange(base, prefixLength, addressClass)),
    ...IPV6_RANGES.map(([base, prefixLength, addressClass]) => toRange(base, prefixLength, addressClass)),
]

function parseKnownAddress(text: string): ParsedAddress {
    const parsed = parseIpAddress(text)
    if (parsed === undefined) {
        throw new Error(`built-in address table contains an invalid address: ${text}`)
    }
    return parsed
}

function toRange(base: string, prefixLength: number, addressClass: AddressClass): AddressRange {
    const parsed = parseKnownAddress(base)
    return {family: parsed.family, base: parsed.value, prefixLength, addressClass}
}

/** Tells whether `address` lies inside the CIDR range `base/prefixLength` of the same family. */
export function isInRange(address: ParsedAddress, family: 4 | 6, base: bigint, prefixLength: number): boolean {
    if (address.family !== family) {
        return false
    }
    const width = family === 4 ? 32n : 128n
    const hostBits = width - BigInt(prefixLength)
    return address.value >> hostBits === base >> hostBits
}

/**
 * Classifies a parsed address. IPv6 addresses that embed an IPv4 address take the class of the embedded address,
 * so ::ffff:10.0.0.1 is private and 64:ff9b::a9fe:a9fe is metadata.
 */
export function classifyParsedAddress(address: ParsedAddress): AddressClass {
    const embedded = embeddedIpv4(address)
    if (embedded !== undefined) {
        return classifyParsedAddress({family: 4, value: embedded})
    }

    if (METADATA_VALUES.some((metadata) => metadata.family === address.family && metadata.value === address.value)) {
        return 'metadata'
    }

    let match: AddressRange | undefined
    for (const range of RANGES) {
        const moreSpecific = match === undefined || range.prefixLength > match.prefixLength
        if (moreSpecific && isInRange(address, range.family, range.base, range.prefixLength)) {
            match = range
        }
    }
    if (match !== undefined) {
        return match.addressClass
    }

    if (address.family === 6) {
        const global = IPV6_GLOBAL_UNICAST
        return isInRange(address, 6, global.base, global.prefixLength) ? 'public' : 'reserved'
    }
    return 'public'
}

/**
 * Classifies an IP address given as text (IPv4 dotted quad or any IPv6 form). Throws a TypeError when the text is
 * not an IP address, because a hostname here means the caller skipped DNS resolution.
 */
export function classifyAddress(address: string): AddressClass {
    const parsed = parseIpAddress(address)
    if (parsed === undefined) {
        throw new TypeError(`cannot classify "${address}": not an IPv4 or IPv6 address; resolve hostnames first`)
    }
    return classifyParsedAddress(parsed)
}
