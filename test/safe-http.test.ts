import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Duplex} from 'node:stream'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {emptyChainFacts, evaluate} from '../src/proofs/plans'
import {
    type AddressClass,
    AddressPolicyError,
    checkAddress,
    classifyAddress,
    compileAddressPolicy,
    type ConnectFunction,
    type ConnectTarget,
    connectToAddress,
    createSafeFetch,
    DEFAULT_ADDRESS_POLICY,
    HostConcurrencyLimiter,
    type HostResolver,
    parseRetryAfterMs,
    redactUrl,
    retryDelayMs,
    safeFetch,
    type SafeFetchOptions,
} from '../src/proofs/http'

const LOOPBACK_POLICY = {allow: ['127.0.0.1/32']}

describe('classifyAddress', () => {
    const cases: Array<[string, AddressClass]> = [
        // IPv4, with both edges of every range and the neighbours just outside it
        ['0.0.0.0', 'unspecified'],
        ['0.255.255.255', 'unspecified'],
        ['1.0.0.0', 'public'],
        ['8.8.8.8', 'public'],
        ['9.255.255.255', 'public'],
        ['10.0.0.0', 'private'],
        ['10.255.255.255', 'private'],
        ['11.0.0.0', 'public'],
        ['100.63.255.255', 'public'],
        ['100.64.0.0', 'cgnat'],
        ['100.64.1.1', 'cgnat'],
        ['100.127.255.255', 'cgnat'],
        ['100.128.0.0', 'public'],
        ['100.100.100.200', 'metadata'],
        ['126.255.255.255', 'public'],
        ['127.0.0.0', 'loopback'],
        ['127.0.0.1', 'loopback'],
        ['127.255.255.255', 'loopback'],
        ['128.0.0.0', 'public'],
        ['169.253.255.255', 'public'],
        ['169.254.0.0', 'link-local'],
        ['169.254.169.253', 'link-local'],
        ['169.254.169.254', 'metadata'],
        ['169.254.170.2', 'metadata'],
        ['169.254.255.255', 'link-local'],
        ['169.255.0.0', 'public'],
        ['172.15.255.255', 'public'],
        ['172.16.0.0', 'private'],
        ['172.31.255.255', 'private'],
        ['172.32.0.0', 'public'],
        ['192.0.0.8', 'reserved'],
        ['192.0.2.1', 'documentation'],
        ['192.167.255.255', 'public'],
        ['192.168.0.0', 'private'],
        ['192.168.255.255', 'private'],
        ['192.169.0.0', 'public'],
        ['198.18.0.1', 'reserved'],
        ['198.51.100.7', 'documentation'],
        ['203.0.113.255', 'documentation'],
        ['223.255.255.255', 'public'],
        ['224.0.0.0', 'multicast'],
        ['224.0.0.1', 'multicast'],
        ['239.255.255.255', 'multicast'],
        ['240.0.0.0', 'reserved'],
        ['255.255.255.254', 'reserved'],
        ['255.255.255.255', 'broadcast'],
        // IPv6
        ['::', 'unspecified'],
        ['::1', 'loopback'],
        ['0:0:0:0:0:0:0:1', 'loopback'],
        ['1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
        ['2000::', 'public'],
        ['2606:4700::1111', 'public'],
        ['2001::1', 'reserved'],
        ['2001:db8::1', 'documentation'],
        ['3fff:1000::', 'public'],
        ['4000::', 'reserved'],
        ['fbff:ffff::1', 'reserved'],
        ['fc00::', 'private'],
        ['fd12:3456::1', 'private'],
        ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'private'],
        ['fd00:ec2::254', 'metadata'],
        ['fe7f:ffff::', 'reserved'],
        ['fe80::', 'link-local'],
        ['fe80::1', 'link-local'],
        ['FE80::1', 'link-local'],
        ['fe80::1%eth0', 'link-local'],
        ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local'],
        ['fec0::1', 'private'],
        ['ff00::', 'multicast'],
        ['ff02::1', 'multicast'],
        // IPv6 addresses that carry an IPv4 address take its class
        ['::ffff:10.0.0.1', 'private'],
        ['::ffff:a00:1', 'private'],
        ['::ffff:127.0.0.1', 'loopback'],
        ['::ffff:169.254.169.254', 'metadata'],
        ['::ffff:100.64.0.1', 'cgnat'],
        ['::ffff:8.8.8.8', 'public'],
        ['::ffff:0.0.0.0', 'unspecified'],
        ['::10.0.0.1', 'private'],
        ['64:ff9b::a00:1', 'private'],
        ['64:ff9b::169.254.169.254', 'metadata'],
        ['64:ff9b::8.8.8.8', 'public'],
        ['64:ff9b:1::1', 'private'],
        ['2002:a00:1::', 'private'],
        ['2002:7f00:1::1', 'loopback'],
        ['2002:808:808::', 'public'],
    ]

    it.each(cases)('classifies %s as %s', (address, expected) => {
        expect(classifyAddress(address)).toBe(expected)
    })

    it.each(['example.com', '', '10.0.0', '1.2.3.4.5', '::g', '256.0.0.1'])('rejects non-address "%s"', (text) => {
        expect(() => classifyAddress(text)).toThrow(TypeError)
    })
})

describe('address policy', () => {
    it('default allows only public addresses', () => {
        const policy = compileAddressPolicy(DEFAULT_ADDRESS_POLICY)
        expect(checkAddress(policy, '8.8.8.8').allowed).toBe(true)
        expect(checkAddress(policy, '2606:4700::1111').allowed).toBe(true)
        expect(checkAddress(policy, '127.0.0.1').allowed).toBe(false)
        expect(checkAddress(policy, '10.0.0.5').allowed).toBe(false)
        expect(checkAddress(policy, '169.254.169.254').allowed).toBe(false)
    })

    it('loopback CIDR allows that address only', () => {
        const policy = compileAddressPolicy(LOOPBACK_POLICY)
        expect(checkAddress(policy, '127.0.0.1').allowed).toBe(true)
        expect(checkAddress(policy, '::ffff:127.0.0.1').allowed).toBe(true)
        expect(checkAddress(policy, '127.0.0.2').allowed).toBe(false)
        expect(checkAddress(policy, '::1').allowed).toBe(false)
        expect(checkAddress(policy, '8.8.8.8').allowed).toBe(false)
    })

    it('class name allows the whole class', () => {
        const policy = compileAddressPolicy({allow: ['loopback']})
        expect(checkAddress(policy, '::1').allowed).toBe(true)
        expect(checkAddress(policy, '127.8.9.10').allowed).toBe(true)
        expect(checkAddress(policy, '10.0.0.1').allowed).toBe(false)
    })

    it('CIDR never unlocks metadata addresses', () => {
        const policy = compileAddressPolicy({allow: ['169.254.0.0/16', 'fd00::/8']})
        expect(checkAddress(policy, '169.254.1.1').allowed).toBe(true)
        expect(checkAddress(policy, '169.254.169.254')).toEqual({
            allowed: false,
            address: '169.254.169.254',
            addressClass: 'metadata',
        })
        expect(checkAddress(policy, 'fd00::1').allowed).toBe(true)
        expect(checkAddress(policy, 'fd00:ec2::254').allowed).toBe(false)
    })

    it('metadata class name allows metadata', () => {
        const policy = compileAddressPolicy({allow: ['metadata']})
        expect(checkAddress(policy, '169.254.169.254').allowed).toBe(true)
    })

    it('non-address is never allowed', () => {
        const policy = compileAddressPolicy({allow: ['public', '0.0.0.0/0']})
        expect(checkAddress(policy, 'localhost').allowed).toBe(false)
    })

    it.each(['lookback', '10.0.0.0/33', '10.0.0.0/x', '', '::/129', 'example.com/8'])(
        'rejects invalid entry "%s"',
        (entry) => {
            expect(() => compileAddressPolicy({allow: ['public', entry]})).toThrow(AddressPolicyError)
            expect(() => compileAddressPolicy({allow: ['public', entry]})).toThrow(`allow[1] is invalid: "${entry}"`)
        },
    )
})

describe('redactUrl', () => {
    const cases: Array<[string, string]> = [
        ['http://alice:s3cret@example.com/path', 'http://example.com/path'],
        ['https://alice@example.com:8443/', 'https://example.com:8443/'],
        ['http://example.com/rpc?token=abc123&chain=1', 'http://example.com/rpc?token=REDACTED&chain=1'],
        ['http://example.com/rpc?API_KEY=abc&api_key=def', 'http://example.com/rpc?API_KEY=REDACTED&api_key=REDACTED'],
        ['http://example.com/a?b=c d', 'http://example.com/a?b=c%20d'],
        ['not a url //user:pw@host/x', 'not a url //host/x'],
        ['http://h.test/p?private_key=0x4c08&chain=1', 'http://h.test/p?private_key=REDACTED&chain=1'],
        ['http://h.test/p?client_secret=a&sessionId=b&X-Amz-Signature=c&sig=d&pwd=e', 'http://h.test/p?client_secret=REDACTED&sessionId=REDACTED&X-Amz-Signature=REDACTED&sig=REDACTED&pwd=REDACTED'],
        ['http://h.test/p#access_token=FRAG&state=1', 'http://h.test/p#access_token=REDACTED&state=1'],
        ['http://h.test/p#section-2', 'http://h.test/p#section-2'],
        ['http://h.test/p?page=2&design=x', 'http://h.test/p?page=2&design=x'],
    ]

    it.each(cases)('redacts %s', (input, expected) => {
        expect(redactUrl(input)).toBe(expected)
    })
})

describe('retry delay', () => {
    const nowMs = Date.parse('2025-01-01T00:00:00Z')

    it.each<[string | undefined, number | undefined]>([
        ['1', 1000],
        ['0', 0],
        [' 120 ', 120_000],
        ['Wed, 01 Jan 2025 00:00:02 GMT', 2000],
        ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
        ['soon', undefined],
        ['-1', undefined],
        ['1.5', undefined],
        ['2025-01-01', undefined],
        [undefined, undefined],
    ])('parses Retry-After %j', (value, expected) => {
        expect(parseRetryAfterMs(value, nowMs)).toBe(expected)
    })

    it.each<[number, number | undefined, number]>([
        [0, undefined, 500],
        [1, undefined, 1000],
        [4, undefined, 4000],
        [10, undefined, 4000],
        [0, 1000, 1000],
        [3, 1000, 4000],
        [0, 60_000, 60_000],
    ])('retry %i with Retry-After %j waits %i ms', (retryIndex, retryAfterMs, expected) => {
        expect(retryDelayMs(retryIndex, retryAfterMs, 500, 4000)).toBe(expected)
    })
})

/** A connect function that records every target and must never open a socket. */
function forbiddenConnect(): {connect: ConnectFunction; targets: ConnectTarget[]} {
    const targets: ConnectTarget[] = []
    const connect: ConnectFunction = (target) => {
        targets.push(target)
        const socket = new net.Socket()
        process.nextTick(() => socket.destroy(new Error('test: connect must not be called')))
        return socket
    }
    return {connect, targets}
}

/** A connect function that records every target and opens real sockets, but only to 127.0.0.1. */
function loopbackConnect(): {connect: ConnectFunction; targets: ConnectTarget[]} {
    const targets: ConnectTarget[] = []
    const connect: ConnectFunction = (target) => {
        targets.push(target)
        if (target.address !== '127.0.0.1') {
            throw new Error(`test: refusing to connect to ${target.address}`)
        }
        return connectToAddress(target)
    }
    return {connect, targets}
}

function fixedResolver(table: Record<string, string[]>): {resolveHost: HostResolver; lookups: string[]} {
    const lookups: string[] = []
    const resolveHost: HostResolver = async (hostname) => {
        lookups.push(hostname)
        const addresses = table[hostname]
        if (addresses === undefined) {
            throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {code: 'ENOTFOUND'})
        }
        return addresses
    }
    return {resolveHost, lookups}
}

describe('safeFetch address guard', () => {
    const hostile: Array<[string, AddressClass]> = [
        ['10.0.0.5', 'private'],
        ['169.254.169.254', 'metadata'],
        ['100.64.1.1', 'cgnat'],
        ['fe80::1', 'link-local'],
        ['224.0.0.1', 'multicast'],
        ['::ffff:10.0.0.1', 'private'],
        ['127.0.0.1', 'loopback'],
        ['0.0.0.0', 'unspecified'],
        ['fd00:ec2::254', 'metadata'],
        ['255.255.255.255', 'broadcast'],
    ]

    it.each(hostile)('refuses host resolving to %s without connecting', async (address, addressClass) => {
        const {connect, targets} = forbiddenConnect()
        const {resolveHost, lookups} = fixedResolver({'operator.example': [address]})

        const response = await safeFetch({method: 'GET', url: 'http://operator.example/health'}, {resolveHost, connect})

        expect(response.error).toBe('ADDRESS_REFUSED')
        expect(response.errorDetail).toContain(`a ${addressClass} address`)
        expect(response.status).toBeUndefined()
        expect(response.finalUrl).toBe('http://operator.example/health')
        expect(lookups).toEqual(['operator.example'])
        expect(targets).toEqual([])
    })

    it('refuses when any resolved address is refused', async () => {
        const {connect, targets} = forbiddenConnect()
        const {resolveHost} = fixedResolver({'operator.example': ['127.0.0.1', '10.0.0.5']})

        const response = await safeFetch(
            {method: 'GET', url: 'http://operator.example/'},
            {resolveHost, connect, policy: LOOPBACK_POLICY},
        )

        expect(response.error).toBe('ADDRESS_REFUSED')
        expect(response.errorDetail).toContain('10.0.0.5')
        expect(targets).toEqual([])
    })

    it.each([
        ['http://169.254.169.254/latest/meta-data/', 'metadata'],
        ['http://[::ffff:10.0.0.1]/', 'private'],
        ['http://[fe80::1]:8080/', 'link-local'],
        ['http://2130706433/', 'loopback'],
        ['http://0x7f.1/', 'loopback'],
        ['http://0/', 'unspecified'],
        ['https://100.100.100.200/', 'metadata'],
    ])('refuses literal %s without lookup', async (url, addressClass) => {
        const {connect, targets} = forbiddenConnect()
        const {resolveHost, lookups} = fixedResolver({})

        const response = await safeFetch({method: 'GET', url}, {resolveHost, connect})

        expect(response.error).toBe('ADDRESS_REFUSED')
        expect(response.errorDetail).toContain(`a ${addressClass} address`)
        expect(lookups).toEqual([])
        expect(targets).toEqual([])
    })

    it.each(['file:///etc/passwd', 'ftp://operator.example/x', 'gopher://operator.example/', 'data:text/plain,hi'])(
        'refuses scheme of %s',
        async (url) => {
            const {connect, targets} = forbiddenConnect()
            const {resolveHost, lookups} = fixedResolver({'operator.example': ['8.8.8.8']})

            const response = await safeFetch({method: 'GET', url}, {resolveHost, connect})

            expect(response.error).toBe('SCHEME_REFUSED')
            expect(lookups).toEqual([])
            expect(targets).toEqual([])
        },
    )

    it.each([
        ['not a url', 'not an absolute URL: not a url'],
        ['/relative/path', 'not an absolute URL: /relative/path'],
        ['http://', 'not a valid URL because it contains no host: http://'],
    ])('rejects invalid URL "%s"', async (url, detail) => {
        const {connect, targets} = forbiddenConnect()

        const response = await safeFetch({method: 'GET', url}, {connect})

        expect(response.error).toBe('INVALID_URL')
        expect(response.errorDetail).toBe(detail)
        expect(targets).toEqual([])
    })

    it('reports DNS failure for unknown host', async () => {
        const {connect, targets} = forbiddenConnect()
        const {resolveHost} = fixedResolver({})

        const response = await safeFetch({method: 'GET', url: 'http://missing.example/'}, {resolveHost, connect})

        expect(response.error).toBe('DNS_FAILED')
        expect(response.errorDetail).toContain('ENOTFOUND')
        expect(targets).toEqual([])
    })

    it('reports DNS failure for empty answer', async () => {
        const {connect} = forbiddenConnect()
        const {resolveHost} = fixedResolver({'empty.example': []})

        const response = await safeFetch({method: 'GET', url: 'http://empty.example/'}, {resolveHost, connect})

        expect(response.error).toBe('DNS_FAILED')
    })

    it('refuses resolver answer that is no address', async () => {
        const {connect, targets} = forbiddenConnect()
        const {resolveHost} = fixedResolver({'odd.example': ['localhost']})

        const response = await safeFetch(
            {method: 'GET', url: 'http://odd.example/'},
            {resolveHost, connect, policy: {allow: ['public', 'loopback']}},
        )

        expect(response.error).toBe('ADDRESS_REFUSED')
        expect(response.errorDetail).toContain('not an IP address')
        expect(targets).toEqual([])
    })

    it('times out a resolver that never answers', async () => {
        const {connect, targets} = forbiddenConnect()
        const resolveHost: HostResolver = () => new Promise(() => undefined)

        const response = await safeFetch(
            {method: 'GET', url: 'http://stuck.example/'},
            {resolveHost, connect, totalTimeoutMs: 200},
        )

        expect(response.error).toBe('TOTAL_TIMEOUT')
        expect(response.latencyMs).toBeLessThan(2000)
        expect(targets).toEqual([])
    })
})

interface TestServer {
    port: number
    origin: string
    close: () => Promise<void>
}

const openServers: TestServer[] = []

/** Starts a server on 127.0.0.1 with an ephemeral port; afterEach closes it and its connections. */
async function startServer(server: net.Server): Promise<TestServer> {
    const sockets = new Set<net.Socket>()
    server.on('connection', (socket: net.Socket) => {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
    })
    server.on('secureConnection', (socket: net.Socket) => {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    const testServer: TestServer = {
        port,
        origin: `http://127.0.0.1:${port}`,
        close: () =>
            new Promise<void>((resolve) => {
                for (const socket of sockets) {
                    socket.destroy()
                }
                server.close(() => resolve())
            }),
    }
    openServers.push(testServer)
    return testServer
}

function startHttpServer(handler: http.RequestListener): Promise<TestServer> {
    return startServer(http.createServer(handler))
}

afterEach(async () => {
    await Promise.all(openServers.splice(0).map((server) => server.close()))
})

function loopbackOptions(extra: SafeFetchOptions = {}): SafeFetchOptions & {targets: ConnectTarget[]} {
    const {connect, targets} = loopbackConnect()
    return {policy: LOOPBACK_POLICY, connect, targets, hostLimiter: new HostConcurrencyLimiter(2), ...extra}
}

describe('safeFetch on loopback servers', () => {
    it('returns status, headers and body', async () => {
        const server = await startHttpServer((_request, response) => {
            response.writeHead(200, {'content-type': 'application/json', 'x-operator': 'one'})
            response.end('{"ok":true}')
        })
        const options = loopbackOptions()

        const response = await safeFetch({method: 'GET', url: `${server.origin}/health`}, options)

        expect(response.error).toBeUndefined()
        expect(response.status).toBe(200)
        expect(response.headers['content-type']).toBe('application/json')
        expect(response.headers['x-operator']).toBe('one')
        expect(Buffer.from(response.body).toString()).toBe('{"ok":true}')
        expect(response.truncated).toBe(false)
        expect(response.finalUrl).toBe(`${server.origin}/health`)
        expect(response.remoteAddress).toBe('127.0.0.1')
        expect(options.targets).toHaveLength(1)
    })

    it('connects to the checked address with Host header', async () => {
        let hostHeader: string | undefined
        const server = await startHttpServer((request, response) => {
            hostHeader = request.headers.host
            response.end('pinned')
        })
        const {resolveHost, lookups} = fixedResolver({'probe.test': ['127.0.0.1']})
        const options = loopbackOptions({resolveHost})

        const response = await safeFetch({method: 'GET', url: `http://probe.test:${server.port}/`}, options)

        expect(response.status).toBe(200)
        expect(hostHeader).toBe(`probe.test:${server.port}`)
        expect(lookups).toEqual(['probe.test'])
        expect(options.targets.map((target) => target.address)).toEqual(['127.0.0.1'])
    })

    it('sends POST body as JSON', async () => {
        let received = ''
        let contentType: string | undefined
        const server = await startHttpServer((request, response) => {
            contentType = request.headers['content-type']
            request.setEncoding('utf8')
            request.on('data', (chunk: string) => (received += chunk))
            request.on('end', () => response.end('done'))
        })
        const body = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'

        const response = await safeFetch({method: 'POST', url: `${server.origin}/rpc`, body}, loopbackOptions())

        expect(response.status).toBe(200)
        expect(received).toBe(body)
        expect(contentType).toBe('application/json')
    })

    it('HEAD reads no body', async () => {
        const server = await startHttpServer((_request, response) => {
            response.writeHead(200, {'content-length': '5'})
            response.end()
        })

        const response = await safeFetch({method: 'HEAD', url: `${server.origin}/`}, loopbackOptions())

        expect(response.status).toBe(200)
        expect(response.body.length).toBe(0)
        expect(response.error).toBeUndefined()
    })

    it('redirect into private address is refused', async () => {
        const server = await startHttpServer((_request, response) => {
            response.writeHead(302, {location: 'http://internal.example/'})
            response.end()
        })
        const {resolveHost, lookups} = fixedResolver({'internal.example': ['10.1.2.3']})
        const options = loopbackOptions({resolveHost, crossHostRedirects: true})

        const response = await safeFetch({method: 'GET', url: `${server.origin}/start`}, options)

        expect(response.error).toBe('ADDRESS_REFUSED')
        expect(response.errorDetail).toContain('a private address')
        // The endpoint's own 302 is kept: it did respond.
        expect(response.status).toBe(302)
        expect(response.errorDetail).toContain(`(after status 302 from ${server.origin}/start)`)
        expect(response.finalUrl).toBe('http://internal.example/')
        expect(lookups).toEqual(['internal.example'])
        expect(options.targets.map((target) => target.address)).toEqual(['127.0.0.1'])
    })

    it('redirect into file scheme is refused', async () => {
        const server = await startHttpServer((_request, response) => {
            response.writeHead(301, {location: 'file:///etc/passwd'})
            response.end()
        })
        const options = loopbackOptions({crossHostRedirects: true})

        const response = await safeFetch({method: 'GET', url: `${server.origin}/`}, options)

        expect(response.error).toBe('SCHEME_REFUSED')
        // The redirect's status line arrived, so the response keeps it and names the refused location.
        expect(response.status).toBe(301)
        expect(response.finalUrl).toBe(`${server.origin}/`)
        expect(response.errorDetail).toBe('redirect to a file: URL, not http or https: file:///etc/passwd')
        expect(options.targets).toHaveLength(1)
    })

    it('redirect to a closed port keeps its status', async () => {
        const server = await startHttpServer((_request, response) => {
            response.writeHead(302, {location: 'http://127.0.0.1:1/health'})
            response.end()
        })
        const options = loopbackOptions()

        const response = await safeFetch({method: 'GET', url: `${server.origin}/health`}, options)

        expect(response.error).toBe('CONNECTION_REFUSED')
        expect(response.status).toBe(302)
        expect(response.finalUrl).toBe('http://127.0.0.1:1/health')
        expect(response.errorDetail).toMatch(new RegExp(`\\(after status 302 from ${server.origin}/health\\)$`))
        expect(evaluate('ENDPOINT_REACHABILITY', [response], emptyChainFacts(1n)).outcome).toBe('PASS')
        const health = evaluate('SANDBOX_ENDPOINT_HEALTH', [response], emptyChainFacts(1n))
        expect([health.outcome, health.reason]).toEqual(['FAIL', 'CONNECTION_REFUSED'])
    })

    it('redirect to an invalid location keeps its status', async () => {
        const server = await startHttpServer((_request, response) => {
            response.writeHead(302, {location: 'http://[::1'})
            response.end()
        })
        const options = loopbackOptions()

        const response = await safeFetch({method: 'GET', url: `${server.origin}/health`}, options)

        expect(response.error).toBe('INVALID_URL')
        expect(response.status).toBe(302)
        expect(response.finalUrl).toBe(`${server.origin}/health`)
        expect(options.targets).toHaveLength(1)
    })

    it('redirect to another host is not followed', async () => {
        const server = await startHttpServer((_request, response) => {
            response.writeHead(302, {location: 'http://user:pw@other.example/health?token=abc'})
            response.end('moved')
        })
        const {resolveHost, lookups} = fixedResolver({'other.example': ['127.0.0.1']})
        const options = loopbackOptions({resolveHost})

        const response = await safeFetch({method: 'GET', url: `${server.origin}/health`}, options)

        expect(response.error).toBeUndefined()
        expect(response.status).toBe(302)
        expect(response.finalUrl).toBe(`${server.origin}/health`)
        expect(response.headers['location']).toBe('http://other.example/health?token=REDACTED')
        expect(response.body.length).toBe(0)
        expect(lookups).toEqual([])
        expect(options.targets).toHaveLength(1)
    })

    it('redirect to another port of the host is followed', async () => {
        const second = await startHttpServer((request, response) => response.end(`second ${request.url}`))
        const first = await startHttpServer((_request, response) => {
            response.writeHead(301, {location: `${second.origin}/next`})
            response.end()
        })
        const options = loopbackOptions()

        const response = await safeFetch({method: 'GET', url: `${first.origin}/start`}, options)

        expect(response.status).toBe(200)
        expect(response.finalUrl).toBe(`${second.origin}/next`)
        expect(Buffer.from(response.body).toString()).toBe('second /next')
        expect(options.targets).toHaveLength(2)
    })

    it('follows relative redirects to the end', async () => {
        const server = await startHttpServer((request, response) => {
            if (request.url === '/a') {
                response.writeHead(301, {location: '/b'})
                response.end()
            } else if (request.url === '/b') {
                response.writeHead(307, {location: `http://127.0.0.1:${(request.socket.localPort ?? 0).toString()}/c`})
                response.end()
            } else {
                response.end(`final ${request.url}`)
            }
        })

        const response = await safeFetch({method: 'GET', url: `${server.origin}/a`}, loopbackOptions())

        expect(response.status).toBe(200)
        expect(response.finalUrl).toBe(`${server.origin}/c`)
        expect(Buffer.from(response.body).toString()).toBe('final /c')
    })

    it('303 after POST switches to GET', async () => {
        const seen: Array<{method?: string; url?: string; length?: string}> = []
        const server = await startHttpServer((request, response) => {
            seen.push({method: request.method, url: request.url, length: request.headers['content-length']})
            request.resume()
            request.on('end', () => {
                if (request.url === '/submit') {
                    response.writeHead(303, {location: '/result'})
                }
                response.end()
            })
        })

        const response = await safeFetch(
            {method: 'POST', url: `${server.origin}/submit`, body: '{"a":1}'},
            loopbackOptions(),
        )

        expect(response.status).toBe(200)
        expect(seen).toEqual([
            {method: 'POST', url: '/submit', length: '7'},
            {method: 'GET', url: '/result', length: undefined},
        ])
    })

    it('cross-origin redirect drops Authorization', async () => {
        let secondAuthorization: string | undefined = 'not called'
        const second = await startHttpServer((request, response) => {
            secondAuthorization = request.headers.authorization
            response.end('second')
        })
        let firstAuthorization: string | undefined
        const first = await startHttpServer((request, response) => {
            firstAuthorization = request.headers.authorization
            response.writeHead(302, {location: `${second.origin}/`})
            response.end()
        })

        const response = await safeFetch(
            {method: 'GET', url: `${first.origin}/`, headers: {Authorization: 'Bearer operator-token-123'}},
            loopbackOptions(),
        )

        expect(response.status).toBe(200)
        expect(firstAuthorization).toBe('Bearer operator-token-123')
        expect(secondAuthorization).toBeUndefined()
        expect(response.request.headers?.['Authorization']).toBe('REDACTED')
        expect(JSON.stringify(response)).not.toContain('operator-token-123')
    })

    it('endless redirect loop stops', async () => {
        let requestCount = 0
        const server = await startHttpServer((request, response) => {
            requestCount++
            response.writeHead(302, {location: request.url === '/a' ? '/b' : '/a'})
            response.end()
        })

        const response = await safeFetch({method: 'GET', url: `${server.origin}/a`}, loopbackOptions({maxRedirects: 3}))

        expect(response.error).toBe('TOO_MANY_REDIRECTS')
        expect(response.status).toBe(302)
        expect(response.finalUrl).toBe(`${server.origin}/b`)
        expect(requestCount).toBe(4)
    })

    it('slow headers time out', async () => {
        const trickle = net.createServer((socket) => {
            const header = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok')
            let offset = 0
            // One byte a second; the header alone would take over a minute.
            const timer = setInterval(() => {
                if (offset >= header.length || socket.destroyed) {
                    clearInterval(timer)
                    return
                }
                socket.write(header.subarray(offset, offset + 1))
                offset++
            }, 1000)
            socket.on('close', () => clearInterval(timer))
            socket.on('error', () => clearInterval(timer))
        })
        const server = await startServer(trickle)

        const response = await safeFetch(
            {method: 'GET', url: `${server.origin}/`},
            loopbackOptions({headersTimeoutMs: 1500, totalTimeoutMs: 8000}),
        )

        expect(response.error).toBe('HEADERS_TIMEOUT')
        expect(response.status).toBeUndefined()
        expect(response.latencyMs).toBeGreaterThanOrEqual(1400)
        expect(response.latencyMs).toBeLessThan(4000)
    })

    it('100 MB body stops at the cap', async () => {
        const totalBytes = 100 * 1024 * 1024
        const chunk = Buffer.alloc(64 * 1024, 0x61)
        let sentBytes = 0
        let clientGone = false
        let markClientGone!: () => void
        const clientGoneSignal = new Promise<void>((resolve) => (markClientGone = resolve))
        const server = await startHttpServer((_request, response) => {
            response.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': String(totalBytes)})
            response.on('close', () => {
                clientGone = true
                markClientGone()
            })
            // Writes with backpressure, so the server buffers little and stops once the client leaves.
            const pump = (): void => {
                while (!clientGone && sentBytes < totalBytes) {
                    sentBytes += chunk.length
                    if (!response.write(chunk)) {
                        response.once('drain', pump)
                        return
                    }
                }
                if (sentBytes >= totalBytes) {
                    response.end()
                }
            }
            pump()
        })
        const maxBodyBytes = 1024 * 1024

        const response = await safeFetch({method: 'GET', url: `${server.origin}/big`}, loopbackOptions({maxBodyBytes}))
        await clientGoneSignal

        expect(response.error).toBe('BODY_TOO_LARGE')
        expect(response.truncated).toBe(true)
        expect(response.status).toBe(200)
        expect(response.body.length).toBe(maxBodyBytes)
        expect(clientGone).toBe(true)
        // The client stopped reading near the cap; socket buffers on both sides account for the rest.
        expect(sentBytes).toBeLessThan(16 * 1024 * 1024)
    })

    it('body trickle hits total timeout', async () => {
        const server = await startHttpServer((_request, response) => {
            response.writeHead(200, {'content-type': 'text/plain'})
            response.write('partial-')
            const timer = setInterval(() => response.write('x'), 200)
            response.on('close', () => clearInterval(timer))
        })

        const response = await safeFetch(
            {method: 'GET', url: `${server.origin}/`},
            loopbackOptions({totalTimeoutMs: 1000}),
        )

        expect(response.error).toBe('TOTAL_TIMEOUT')
        expect(response.status).toBe(200)
        expect(Buffer.from(response.body).toString()).toMatch(/^partial-x*$/)
        expect(response.latencyMs).toBeLessThan(3000)
    })

    it('429 with Retry-After is retried', async () => {
        const requestTimes: number[] = []
        const server = await startHttpServer((_request, response) => {
            requestTimes.push(Date.now())
            if (requestTimes.length === 1) {
                response.writeHead(429, {'retry-after': '1'})
                response.end('slow down')
                return
            }
            response.end('ok')
        })

        const response = await safeFetch(
            {method: 'GET', url: `${server.origin}/`},
            loopbackOptions({retryBaseDelayMs: 100}),
        )

        expect(response.status).toBe(200)
        expect(Buffer.from(response.body).toString()).toBe('ok')
        expect(requestTimes).toHaveLength(2)
        expect((requestTimes[1] as number) - (requestTimes[0] as number)).toBeGreaterThanOrEqual(950)
        expect(response.latencyMs).toBeLessThan(5000)
    })

    it('429 beyond total time is returned', async () => {
        let requestCount = 0
        const server = await startHttpServer((_request, response) => {
            requestCount++
            response.writeHead(429, {'retry-after': '3600'})
            response.end()
        })

        const response = await safeFetch({method: 'GET', url: `${server.origin}/`}, loopbackOptions())

        expect(response.status).toBe(429)
        expect(response.error).toBeUndefined()
        expect(requestCount).toBe(1)
        expect(response.latencyMs).toBeLessThan(2000)
    })

    it('429 retries stop at the limit', async () => {
        let requestCount = 0
        const server = await startHttpServer((_request, response) => {
            requestCount++
            response.writeHead(429)
            response.end()
        })

        const response = await safeFetch(
            {method: 'GET', url: `${server.origin}/`},
            loopbackOptions({maxRateLimitRetries: 2, retryBaseDelayMs: 50}),
        )

        expect(response.status).toBe(429)
        expect(requestCount).toBe(3)
    })

    it('closed port gives CONNECTION_REFUSED', async () => {
        const server = await startHttpServer((_request, response) => response.end())
        const port = server.port
        await server.close()

        const response = await safeFetch({method: 'GET', url: `http://127.0.0.1:${port}/`}, loopbackOptions())

        expect(response.error).toBe('CONNECTION_REFUSED')
        expect(response.status).toBeUndefined()
    })

    it('connect that never completes times out', async () => {
        const targets: ConnectTarget[] = []
        // Fault injection: a socket that never connects, as when a firewall drops the SYN.
        const connect: ConnectFunction = (target) => {
            targets.push(target)
            return new Duplex({read: () => undefined, write: () => undefined})
        }

        const response = await safeFetch(
            {method: 'GET', url: 'http://127.0.0.1:9/'},
            {policy: LOOPBACK_POLICY, connect, connectTimeoutMs: 300},
        )

        expect(response.error).toBe('CONNECT_TIMEOUT')
        expect(response.latencyMs).toBeLessThan(2000)
        expect(targets).toHaveLength(1)
    })

    it('per-host concurrency stays within limit', async () => {
        let inFlight = 0
        let maxInFlight = 0
        const server = await startHttpServer((_request, response) => {
            inFlight++
            maxInFlight = Math.max(maxInFlight, inFlight)
            setTimeout(() => {
                inFlight--
                response.end('done')
            }, 150)
        })
        const {connect} = loopbackConnect()
        const fetchProbe = createSafeFetch({policy: LOOPBACK_POLICY, connect, maxConcurrentPerHost: 2})

        const responses = await Promise.all(
            Array.from({length: 6}, (_, index) => fetchProbe({method: 'GET', url: `${server.origin}/${index}`})),
        )

        expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 200])
        expect(maxInFlight).toBe(2)
    })

    it('slot wait excluded from timing', async () => {
        // Each response takes 300 ms and two requests run at a time, so the sixth waits about 600 ms for a slot. That
        // is more than its total limit of 500 ms, which must count only from when it has a slot.
        const server = await startHttpServer((_request, response) => {
            setTimeout(() => response.end('done'), 300)
        })
        const {connect} = loopbackConnect()
        const fetchProbe = createSafeFetch({policy: LOOPBACK_POLICY, connect, maxConcurrentPerHost: 2, totalTimeoutMs: 500, headersTimeoutMs: 500})

        const responses = await Promise.all(
            Array.from({length: 6}, (_, index) => fetchProbe({method: 'GET', url: `${server.origin}/${index}`})),
        )

        expect(responses.map((response) => response.error ?? response.status)).toEqual([200, 200, 200, 200, 200, 200])
        for (const response of responses) expect(response.latencyMs).toBeLessThan(480)
    })

    it('URL credentials never reach the result', async () => {
        let authorization: string | undefined
        const server = await startHttpServer((request, response) => {
            authorization = request.headers.authorization
            response.writeHead(302, {location: `http://mallory:hunter2@127.0.0.1:${server.port}/next?token=tok-9`})
            response.end()
        })
        const url = `http://alice:s3cret@127.0.0.1:${server.port}/path?api_key=key-77`

        const response = await safeFetch({method: 'GET', url}, loopbackOptions({maxRedirects: 1}))
        const serialized = JSON.stringify(response)

        expect(response.error).toBe('TOO_MANY_REDIRECTS')
        expect(authorization).toBeUndefined()
        expect(response.request.url).toBe(`${server.origin}/path?api_key=REDACTED`)
        expect(response.finalUrl).toBe(`${server.origin}/next?token=REDACTED`)
        for (const secret of ['alice', 's3cret', 'key-77', 'mallory', 'hunter2', 'tok-9']) {
            expect(serialized).not.toContain(secret)
        }
    })

    it('URL credentials absent from error detail', async () => {
        const server = await startHttpServer((_request, response) => response.end())
        const port = server.port
        await server.close()

        const response = await safeFetch(
            {method: 'GET', url: `http://alice:s3cret@127.0.0.1:${port}/`},
            loopbackOptions(),
        )

        expect(response.error).toBe('CONNECTION_REFUSED')
        expect(JSON.stringify(response)).not.toContain('s3cret')
        expect(response.finalUrl).toBe(`http://127.0.0.1:${port}/`)
    })
})

describe('safeFetch over TLS', () => {
    let certificateDirectory: string
    let certificate: Buffer
    let tlsServer: TestServer

    beforeAll(async () => {
        certificateDirectory = mkdtempSync(join(tmpdir(), 'proofgap-tls-'))
        const keyPath = join(certificateDirectory, 'key.pem')
        const certificatePath = join(certificateDirectory, 'cert.pem')
        execFileSync('openssl', [
            'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
            '-keyout', keyPath, '-out', certificatePath, '-days', '1', '-subj', '/CN=probe.test',
            '-addext', 'subjectAltName=DNS:probe.test,IP:127.0.0.1',
        ], {stdio: 'ignore'})
        certificate = readFileSync(certificatePath)
        const server = https.createServer({key: readFileSync(keyPath), cert: certificate}, (_request, response) => {
            response.end('secure')
        })
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
        const port = (server.address() as net.AddressInfo).port
        tlsServer = {
            port,
            origin: `https://127.0.0.1:${port}`,
            close: () => new Promise<void>((resolve) => {
                server.closeAllConnections()
                server.close(() => resolve())
            }),
        }
    })

    afterAll(async () => {
        await tlsServer?.close()
        rmSync(certificateDirectory, {recursive: true, force: true})
    })

    it('self-signed certificate is TLS_INVALID', async () => {
        const response = await safeFetch({method: 'GET', url: `${tlsServer.origin}/`}, loopbackOptions())

        expect(response.error).toBe('TLS_INVALID')
        expect(response.errorDetail).toContain('SELF_SIGNED')
    })

    it('trusted CA verifies pinned hostname', async () => {
        const {resolveHost} = fixedResolver({'probe.test': ['127.0.0.1']})
        const options = loopbackOptions({resolveHost, tlsCa: certificate})

        const response = await safeFetch({method: 'GET', url: `https://probe.test:${tlsServer.port}/`}, options)

        expect(response.error).toBeUndefined()
        expect(response.status).toBe(200)
        expect(Buffer.from(response.body).toString()).toBe('secure')
        expect(options.targets[0]?.servername).toBe('probe.test')
    })

    it('wrong hostname is TLS_INVALID', async () => {
        const {resolveHost} = fixedResolver({'other.test': ['127.0.0.1']})

        const response = await safeFetch(
            {method: 'GET', url: `https://other.test:${tlsServer.port}/`},
            loopbackOptions({resolveHost, tlsCa: certificate}),
        )

        expect(response.error).toBe('TLS_INVALID')
        expect(response.errorDetail).toContain('ERR_TLS_CERT_ALTNAME_INVALID')
    })

    it('invalid certificates accepted when configured', async () => {
        const response = await safeFetch(
            {method: 'GET', url: `${tlsServer.origin}/`},
            loopbackOptions({acceptInvalidCertificates: true}),
        )

        expect(response.status).toBe(200)
    })

    it('plain HTTP server behind https URL fails cleanly', async () => {
        const server = await startHttpServer((_request, response) => response.end('plain'))

        const response = await safeFetch(
            {method: 'GET', url: `https://127.0.0.1:${server.port}/`},
            loopbackOptions(),
        )

        expect(response.error).toBe('TLS_INVALID')
        expect(response.status).toBeUndefined()
    })
})
