import {readFileSync} from 'node:fs'

/**
 * Addresses on which some process of this machine listens on TCP `port`, read from /proc/net/tcp and tcp6 (Linux), so
 * a test can check a bind address without connecting anywhere. IPv4 addresses come as `127.0.0.1`, IPv6 as `::`,
 * `::1` or eight full groups.
 */
export function listeningAddresses(port: number): string[] {
    const found: string[] = []
    for (const [file, decode] of [
        ['/proc/net/tcp', decodeIpv4],
        ['/proc/net/tcp6', decodeIpv6],
    ] as const) {
        let text: string
        try {
            text = readFileSync(file, 'utf8')
        } catch {
            continue
        }
        for (const line of text.split('\n').slice(1)) {
            const fields = line.trim().split(/\s+/)
            if (fields.length < 4 || fields[3] !== '0A') continue // 0A: LISTEN
            const [address, portHex] = fields[1].split(':')
            if (parseInt(portHex, 16) === port) found.push(decode(address))
        }
    }
    return found
}

/** /proc/net/tcp writes an IPv4 address as one 32-bit word in host (little-endian) order. */
function decodeIpv4(hex: string): string {
    const bytes = hex.match(/../g)!.map((pair) => parseInt(pair, 16))
    return bytes.reverse().join('.')
}

/** /proc/net/tcp6 writes an IPv6 address as four 32-bit words, each in host (little-endian) order. */
function decodeIpv6(hex: string): string {
    const bytes: number[] = []
    for (let word = 0; word < 4; word++) bytes.push(...hex.slice(word * 8, word * 8 + 8).match(/../g)!.map((pair) => parseInt(pair, 16)).reverse())
    if (bytes.every((byte) => byte === 0)) return '::'
    if (bytes.slice(0, 15).every((byte) => byte === 0) && bytes[15] === 1) return '::1'
    const groups: string[] = []
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16))
    return groups.join(':')
}
