import {describe, expect, it} from 'vitest'
import {emptyChainFacts} from '../src/proofs/plans'
import {describeInvalidUrl} from '../src/proofs/http/invalid-url'
import type {ProbeRequest, ProbeResponse} from '../src/proofs/types'
import {probeKind} from '../src/proofs/worker/probe'

/*
 * A kind's latency is the target's time as the fetcher measured it, not the wall-clock time of the kind: a request
 * that waits for a per-host slot in the prober's own queue does not make the target look slow.
 */

describe('probeKind latency', () => {
    it('excludes the request queue wait', async () => {
        const requests: ProbeRequest[] = []
        // Each request first waits 150 ms (a queue the fault stands for), then reports an exchange of 20 ms.
        const fetcher = async (request: ProbeRequest): Promise<ProbeResponse> => {
            requests.push(request)
            await new Promise((resolve) => setTimeout(resolve, 150))
            return {request, finalUrl: request.url, status: 200, headers: {}, body: new Uint8Array(0), truncated: false, latencyMs: 20}
        }
        const startedAt = performance.now()
        const result = await probeKind(fetcher, 'ENDPOINT_REACHABILITY', {baseUrl: 'http://127.0.0.1:9'}, emptyChainFacts(1_800_000_000n))
        expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140)
        expect(requests).toHaveLength(1)
        expect(result.verdict.outcome).toBe('PASS')
        expect(result.durationMs).toBe(20)
        expect(result.evidence.latencyMs).toBe(20)
    })
})

describe('probeKind peer latency', () => {
    it('slow peer not charged', async () => {
        // The venue responds in 30 ms and lists one peer, which takes 5,000 ms. The quorum check waits for the peer,
        // but the venue's record keeps its own 30 ms.
        const body = JSON.stringify({
            me: '0x' + 'aa'.repeat(20),
            epoch: 7,
            threshold: 1,
            operators: [
                {address: '0x' + 'aa'.repeat(20), url: 'http://127.0.0.1:9001'},
                {address: '0x' + 'bb'.repeat(20), url: 'http://127.0.0.1:9002'},
            ],
        })
        const fetcher = async (request: ProbeRequest): Promise<ProbeResponse> => {
            const own = request.url.startsWith('http://127.0.0.1:9001/')
            return {
                request,
                finalUrl: request.url,
                status: 200,
                headers: {'content-type': 'application/json'},
                body: new TextEncoder().encode(own ? body : JSON.stringify({...JSON.parse(body), me: '0x' + 'bb'.repeat(20)})),
                truncated: false,
                latencyMs: own ? 30 : 5_000,
            }
        }
        const result = await probeKind(fetcher, 'MARKET_ATTESTER_QUORUM', {baseUrl: 'http://127.0.0.1:9001'}, emptyChainFacts(1_800_000_000n))
        expect(result.evidence.latencyMs).toBe(30)
        // The probe itself still took as long as its slowest exchanges.
        expect(result.durationMs).toBe(5_030)
    })
})

describe('probeKind advertised URL', () => {
    it('unparsable URL is INVALID_URL without requests', async () => {
        const requests: ProbeRequest[] = []
        const fetcher = async (request: ProbeRequest): Promise<ProbeResponse> => {
            requests.push(request)
            return {request, finalUrl: request.url, status: 200, headers: {}, body: new Uint8Array(0), truncated: false, latencyMs: 1}
        }
        const baseUrl = 'operator.example/api?api_key=sekrit'
        for (const kind of ['SANDBOX_ENDPOINT_HEALTH', 'ENDPOINT_REACHABILITY'] as const) {
            const result = await probeKind(fetcher, kind, {baseUrl}, emptyChainFacts(1_800_000_000n))
            expect(result.verdict.outcome, kind).toBe('UNREACHABLE')
            expect(result.verdict.reason, kind).toBe('INVALID_URL')
            expect(result.verdict.observed, kind).toContain('the advertised endpoint is not an absolute URL: operator.example/api')
            expect(result.verdict.observed, kind).not.toContain('sekrit')
            // The record names the advertised text, redacted and with no route appended.
            expect(result.evidence.request.url, kind).toBe('operator.example/api?api_key=REDACTED')
        }
        expect(requests).toEqual([])
    })

    // Chain strings are stored with U+FFFD for invalid UTF-8 and U+2400 for NUL, so the prober reads those stand-ins.
    it.each([
        [
            'invalid utf-8 after port',
            'http://127.0.0.1:33785\ufffd\ufffdadmin',
            'the advertised endpoint is not a valid URL because it contains invalid UTF-8 (U+FFFD) and a non-numeric port: http://127.0.0.1:33785\ufffd\ufffdadmin',
        ],
        [
            'nul bytes after port',
            'http://127.0.0.1:42627\u2400\u2400injected',
            'the advertised endpoint is not a valid URL because it contains NUL bytes (U+2400) and a non-numeric port: http://127.0.0.1:42627\u2400\u2400injected',
        ],
        [
            'credentials and nul bytes',
            'http://admin:hunter2@127.0.0.1:1\u2400x/?token=abc123',
            'the advertised endpoint is not a valid URL because it contains NUL bytes (U+2400) and a non-numeric port: http://127.0.0.1:1\u2400x/?token=REDACTED',
        ],
    ])('%s names the invalid part', async (_name, baseUrl, observed) => {
        const fetcher = async (): Promise<ProbeResponse> => {
            throw new Error('no request may be sent')
        }
        const result = await probeKind(fetcher, 'ENDPOINT_REACHABILITY', {baseUrl}, emptyChainFacts(1_800_000_000n))
        expect(result.verdict.outcome).toBe('UNREACHABLE')
        expect(result.verdict.reason).toBe('INVALID_URL')
        expect(result.verdict.observed).toBe(observed)
        expect(result.verdict.observed).not.toContain('absolute')
        expect(result.verdict.observed).not.toContain('hunter2')
        expect(result.verdict.observed).not.toContain('abc123')
    })

    it.each([
        ['host and port without scheme', 'localhost:8080', 'localhost:8080'],
        ['user info without scheme', 'admin:hunter2@127.0.0.1:8080', '127.0.0.1:8080'],
        ['ftp URL', 'ftp://127.0.0.1/x', 'ftp://127.0.0.1/x'],
    ])('%s is SCHEME_REFUSED without requests', async (_name, baseUrl, shown) => {
        const fetcher = async (): Promise<ProbeResponse> => {
            throw new Error('no request may be sent')
        }
        const result = await probeKind(fetcher, 'ENDPOINT_REACHABILITY', {baseUrl}, emptyChainFacts(1_800_000_000n))
        expect(result.verdict.outcome).toBe('UNREACHABLE')
        expect(result.verdict.reason).toBe('SCHEME_REFUSED')
        expect(result.verdict.observed).toBe(`the advertised endpoint is not an http or https URL: ${shown}`)
        expect(result.evidence.request.url).toBe(shown)
    })

    it('chain-only kind ignores the URL', async () => {
        const fetcher = async (): Promise<ProbeResponse> => {
            throw new Error('a chain-only kind sends no request')
        }
        const result = await probeKind(fetcher, 'MARKET_SP1_PROOF_PATH', {baseUrl: 'not a url'}, emptyChainFacts(1_800_000_000n))
        expect(result.verdict.reason).not.toBe('INVALID_URL')
    })
})

describe('describeInvalidUrl', () => {
    it.each([
        ['relative path', '/relative/path', 'not an absolute URL'],
        ['scheme without host', 'http://', 'not a valid URL because it contains no host'],
        ['port out of range', 'http://[::1]:99999/', 'not a valid URL because it contains a port above 65535'],
        ['space in host', 'http://exa mple.com/', 'not a valid URL because it contains spaces'],
        ['control character in host', 'http://exa\u0007mple.com/', 'not a valid URL because it contains control characters'],
        ['three problems listed', 'http://a\ufffd b:1x/', 'not a valid URL because it contains invalid UTF-8 (U+FFFD), spaces and a non-numeric port'],
        ['unclosed ipv6 bracket', 'http://[::1', 'not a valid URL'],
    ])('%s', (_name, text, expected) => {
        expect(() => new URL(text)).toThrow()
        expect(describeInvalidUrl(text)).toBe(expected)
    })
})
