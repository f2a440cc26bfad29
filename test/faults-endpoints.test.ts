import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runProber, type RunningProber} from '../src/cli/prober'
import {loadNetworkConfig} from '../src/config/load'
import {startOperatorFleet, type OperatorFleet} from '../src/devnet/operators'
import {DEFAULT_PROBER_SETTINGS, type ProberLogger} from '../src/proofs/worker'
import {startTestDatabase} from './helpers/stack'
import {intervalWithTimeLeft} from './helpers/rounds'

// Hostile operator endpoints, each registered on chain as a sandbox operator, probed in one prober round next to a
// healthy operator. The prober runs in-process through runProber, the same entry point as the CLI.

const PROBER_KEY = '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const PROBE_TIMEOUT_MS = 2_500
/** Below PROBE_TIMEOUT_MS, so a server that drips its headers hits the headers limit first. */
const PROBE_HEADERS_TIMEOUT_MS = 1_000
const ROUND_WAIT_MS = 60_000
/** Time a probe may take beyond the configured limit: timer resolution, signing and event-loop delays. */
const TIMEOUT_SLACK_MS = 750
/** A healthy loopback endpoint responds well within this, even next to hostile ones. */
const HEALTHY_LATENCY_MS = 1_000
const HUGE_BODY_BYTES = 100 * 1024 * 1024
const RSS_GROWTH_LIMIT_BYTES = 100 * 1024 * 1024
/** Hostname that the injected resolver maps to a private address; no connection to it is ever opened. */
const PRIVATE_HOSTNAME = 'internal.refused.test'
const PRIVATE_ADDRESS = '10.20.30.40'
/** Hostname of another operator's healthy server, which the injected resolver maps to loopback. */
const OTHER_OPERATOR_HOSTNAME = 'other-operator.test'

const op = (n: number): string => `0x${n.toString(16).padStart(40, '0')}`

/** Operator number of each endpoint; the healthy one comes from the simulated operator fleet. */
const OPERATOR = {
    healthy: 1,
    slowHeaders: 2,
    hugeBody: 3,
    redirectLoop: 4,
    redirectToPrivate: 5,
    invalidJson: 6,
    wrongTypes: 7,
    invalidCertificate: 8,
    okToEverything: 9,
    redirectToOtherOperator: 10,
} as const

type Row = Record<string, unknown>

describe('hostile endpoints in one prober round', () => {
    let db: Awaited<ReturnType<typeof startTestDatabase>>
    let fleet: OperatorFleet
    let prober: RunningProber | undefined
    const servers: Array<http.Server | net.Server> = []
    const openSockets = new Set<net.Socket>()
    let certificateDirectory = ''
    let records: Row[] = []
    const resolvedHostnames: string[] = []
    let rssBefore = 0
    let rssPeak = 0
    let hugeBodyBytesSent = 0
    const logLines: string[] = []

    beforeAll(async () => {
        db = await startTestDatabase()
        fleet = await startOperatorFleet([{product: 'sandbox', name: 'sbx-healthy'}])

        const urls = new Map<number, string>()
        urls.set(OPERATOR.healthy, fleet.byName('sbx-healthy').url)
        urls.set(OPERATOR.slowHeaders, await listen(slowHeadersServer()))
        urls.set(OPERATOR.hugeBody, await listen(hugeBodyServer((bytes) => (hugeBodyBytesSent += bytes))))
        urls.set(OPERATOR.redirectLoop, await listen(redirectLoopServer()))
        urls.set(OPERATOR.redirectToPrivate, await listen(redirectServer(`http://${PRIVATE_HOSTNAME}/health`)))
        urls.set(OPERATOR.invalidJson, await listen(jsonTextServer('{"status": "ok", "checks": {')))
        urls.set(
            OPERATOR.wrongTypes,
            await listen(jsonTextServer(JSON.stringify({status: 1, checks: {runtime: {status: true}, store: {status: []}}, runtime_backend: 5, runtime_error: null}))),
        )
        urls.set(OPERATOR.invalidCertificate, await listen(selfSignedServer()))
        urls.set(OPERATOR.okToEverything, await listen(okToEverythingServer()))
        const healthyPort = new URL(fleet.byName('sbx-healthy').url).port
        urls.set(OPERATOR.redirectToOtherOperator, await listen(redirectServer(`http://${OTHER_OPERATOR_HOSTNAME}:${healthyPort}/health`)))
        await seedRegistrations(db.client, urls)

        const capture = (level: string) => (attributes: object, message: string) => {
            logLines.push(`${level} ${message} ${JSON.stringify(attributes)}`)
        }
        const logger: ProberLogger = {info: capture('info'), warn: capture('warn'), error: capture('error')}

        global.gc?.()
        rssBefore = process.memoryUsage().rss
        rssPeak = rssBefore
        const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20)
        try {
            prober = await runProber({
                config: loadNetworkConfig({env: {NETWORK: 'devnet', RPC_URL: 'http://127.0.0.1:1'}}),
                dbEnv: db.env,
                privateKey: PROBER_KEY,
                devMode: false,
                settings: {
                    ...DEFAULT_PROBER_SETTINGS,
                    intervalMs: intervalWithTimeLeft(),
                    jitterMs: 0,
                    timeoutMs: PROBE_TIMEOUT_MS,
                    headersTimeoutMs: PROBE_HEADERS_TIMEOUT_MS,
                    pollIntervalMs: 500,
                    concurrency: urls.size,
                    maxConcurrentPerHost: 4,
                },
                logger,
                resolveHost: async (hostname) => {
                    resolvedHostnames.push(hostname)
                    if (hostname === PRIVATE_HOSTNAME) return [PRIVATE_ADDRESS]
                    if (hostname === OTHER_OPERATOR_HOSTNAME) return ['127.0.0.1']
                    throw new Error(`the test resolver knows only ${PRIVATE_HOSTNAME} and ${OTHER_OPERATOR_HOSTNAME}, not ${hostname}`)
                },
            })
            await waitForRound(db.client)
        } finally {
            clearInterval(sampler)
        }
        records = (await db.client.query(`SELECT * FROM proof_record ORDER BY operator, kind`)).rows
    }, 120_000)

    afterAll(async () => {
        await prober?.stop()
        for (const socket of openSockets) socket.destroy()
        await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
        await fleet?.close()
        await db?.stop()
        if (certificateDirectory !== '') rmSync(certificateDirectory, {recursive: true, force: true})
    })

    const recordOf = (operatorNumber: number, kind: string): Row | undefined =>
        records.find((row) => row.operator === op(operatorNumber) && row.kind === kind)
    const recordsOf = (operatorNumber: number): Row[] => records.filter((row) => row.operator === op(operatorNumber))

    it('every target got its records', () => {
        for (const operatorNumber of Object.values(OPERATOR)) {
            expect(recordsOf(operatorNumber).length, `records of operator ${operatorNumber}`).toBeGreaterThanOrEqual(5)
        }
    })

    it.each([
        // Headers and total limit are equal at this timeout, and the total timer starts first, so the total wins.
        ['slow headers', OPERATOR.slowHeaders, 'SANDBOX_ENDPOINT_HEALTH', 'UNREACHABLE', 'HEADERS_TIMEOUT'],
        ['slow headers reachability', OPERATOR.slowHeaders, 'ENDPOINT_REACHABILITY', 'UNREACHABLE', 'HEADERS_TIMEOUT'],
        // The endpoint sent a response that broke a limit, so the endpoint failed, not the network.
        ['huge body', OPERATOR.hugeBody, 'SANDBOX_ENDPOINT_HEALTH', 'FAIL', 'BODY_TOO_LARGE'],
        ['huge body reachability', OPERATOR.hugeBody, 'ENDPOINT_REACHABILITY', 'PASS', 'ENDPOINT_ANSWERED'],
        ['redirect loop', OPERATOR.redirectLoop, 'SANDBOX_ENDPOINT_HEALTH', 'FAIL', 'TOO_MANY_REDIRECTS'],
        ['redirect loop reachability', OPERATOR.redirectLoop, 'ENDPOINT_REACHABILITY', 'PASS', 'ENDPOINT_ANSWERED'],
        ['redirect to private', OPERATOR.redirectToPrivate, 'SANDBOX_ENDPOINT_HEALTH', 'INCONCLUSIVE', 'REDIRECTED_OFF_HOST'],
        // The redirect itself is an HTTP response of the operator's endpoint.
        ['redirect to private reachability', OPERATOR.redirectToPrivate, 'ENDPOINT_REACHABILITY', 'PASS', 'ENDPOINT_ANSWERED'],
        ['redirect to other operator', OPERATOR.redirectToOtherOperator, 'SANDBOX_ENDPOINT_HEALTH', 'INCONCLUSIVE', 'REDIRECTED_OFF_HOST'],
        ['invalid json', OPERATOR.invalidJson, 'SANDBOX_ENDPOINT_HEALTH', 'FAIL', 'INVALID_JSON'],
        ['wrong types', OPERATOR.wrongTypes, 'SANDBOX_ENDPOINT_HEALTH', 'FAIL', 'WRONG_SHAPE'],
        ['invalid certificate', OPERATOR.invalidCertificate, 'SANDBOX_ENDPOINT_HEALTH', 'UNREACHABLE', 'TLS_INVALID'],
        ['invalid certificate reachability', OPERATOR.invalidCertificate, 'ENDPOINT_REACHABILITY', 'UNREACHABLE', 'TLS_INVALID'],
        ['healthy endpoint health', OPERATOR.healthy, 'SANDBOX_ENDPOINT_HEALTH', 'PASS', 'HEALTH_OK'],
        ['healthy endpoint reachability', OPERATOR.healthy, 'ENDPOINT_REACHABILITY', 'PASS', 'ENDPOINT_ANSWERED'],
    ])('%s outcome', (_name, operatorNumber, kind, outcome, reason) => {
        const row = recordOf(operatorNumber, kind)
        expect(row, `${kind} record of operator ${operatorNumber}`).toBeDefined()
        expect(row?.outcome).toBe(outcome)
        expect(row?.reason).toBe(reason)
    })

    it('invalid certificate data untrusted', () => {
        for (const row of recordsOf(OPERATOR.invalidCertificate)) {
            expect(row.outcome, String(row.kind)).not.toBe('PASS')
            expect(row.http_status, String(row.kind)).toBeNull()
        }
    })

    it('hostile targets pass no content kind', () => {
        const hostile = Object.values(OPERATOR).filter((n) => n !== OPERATOR.healthy && n !== OPERATOR.okToEverything)
        for (const operatorNumber of hostile) {
            // Reachability only checks whether some HTTP response came back, so it may pass where the content is bad.
            for (const row of recordsOf(operatorNumber).filter((record) => record.kind !== 'ENDPOINT_REACHABILITY')) {
                expect(['FAIL', 'UNREACHABLE', 'INCONCLUSIVE', 'NOT_APPLICABLE'], `${row.kind} of operator ${operatorNumber}`).toContain(row.outcome)
            }
        }
    })

    it.each([
        ['invalid json', OPERATOR.invalidJson],
        ['wrong types', OPERATOR.wrongTypes],
    ])('%s endpoint reachable', (_name, operatorNumber) => {
        const row = recordOf(operatorNumber, 'ENDPOINT_REACHABILITY')
        expect(row?.outcome).toBe('PASS')
        expect(row?.reason).toBe('ENDPOINT_ANSWERED')
    })

    it.each([
        ['health', 'SANDBOX_ENDPOINT_HEALTH', 'FAIL', 'WRONG_SHAPE'],
        ['readiness', 'SANDBOX_READINESS', 'FAIL', 'WRONG_SHAPE'],
        ['secret handling', 'SANDBOX_SECRET_HANDLING', 'FAIL', 'PROTECTED_ROUTE_OPEN'],
        ['sidecar capabilities', 'SANDBOX_SIDECAR_CAPABILITIES', 'FAIL', 'WRONG_SHAPE'],
    ])('ok-to-everything %s', (_name, kind, outcome, reason) => {
        const row = recordOf(OPERATOR.okToEverything, kind)
        expect(row, `${kind} record`).toBeDefined()
        expect(row?.outcome).toBe(outcome)
        expect(row?.reason).toBe(reason)
    })

    it('ok-to-everything only reachability passes', () => {
        const passed = recordsOf(OPERATOR.okToEverything).filter((row) => row.outcome === 'PASS').map((row) => row.kind)
        expect(passed).toEqual(['ENDPOINT_REACHABILITY'])
    })

    it('single-request kinds within timeout', () => {
        for (const operatorNumber of Object.values(OPERATOR)) {
            for (const kind of ['SANDBOX_ENDPOINT_HEALTH', 'ENDPOINT_REACHABILITY']) {
                const row = recordOf(operatorNumber, kind)
                expect(Number(row?.latency_ms), `${kind} of operator ${operatorNumber}`).toBeLessThanOrEqual(PROBE_TIMEOUT_MS + TIMEOUT_SLACK_MS)
            }
        }
    })

    it('every kind within its request budget', () => {
        // A kind sends its first requests in parallel and then at most one parallel batch of follow-ups.
        for (const row of records) {
            expect(Number(row.latency_ms), `${row.kind} of ${row.operator}`).toBeLessThanOrEqual(2 * PROBE_TIMEOUT_MS + TIMEOUT_SLACK_MS)
        }
    })

    it('healthy target not blocked', () => {
        const healthy = recordsOf(OPERATOR.healthy)
        expect(healthy.length).toBeGreaterThanOrEqual(5)
        for (const row of healthy) {
            expect(Number(row.latency_ms), String(row.kind)).toBeLessThan(HEALTHY_LATENCY_MS)
        }
    })

    it('huge body cut early', () => {
        // The prober closed the connection long before the 100 MB body was sent.
        expect(hugeBodyBytesSent).toBeGreaterThan(0)
        expect(hugeBodyBytesSent).toBeLessThan(HUGE_BODY_BYTES / 4)
    })

    it('worker rss bounded', () => {
        expect(rssPeak - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_BYTES)
    })

    it('redirects to other hosts not followed', () => {
        // Neither redirect target was resolved, so no connection to either was opened.
        expect(resolvedHostnames).not.toContain(PRIVATE_HOSTNAME)
        expect(resolvedHostnames).not.toContain(OTHER_OPERATOR_HOSTNAME)
        const privateRow = recordOf(OPERATOR.redirectToPrivate, 'SANDBOX_ENDPOINT_HEALTH')
        expect(privateRow?.http_status).toBe(302)
        expect(String(privateRow?.observed)).toBe(`status=302 on /health to http://${PRIVATE_HOSTNAME}/health`)
        expect(String(recordOf(OPERATOR.redirectToPrivate, 'ENDPOINT_REACHABILITY')?.observed)).toBe(`status=302 to http://${PRIVATE_HOSTNAME}/health`)
        const otherRow = recordOf(OPERATOR.redirectToOtherOperator, 'SANDBOX_ENDPOINT_HEALTH')
        expect(otherRow?.http_status).toBe(302)
        expect(String(otherRow?.observed)).toContain(`to http://${OTHER_OPERATOR_HOSTNAME}:`)
    })

    it('no probe job failed', () => {
        expect(logLines.filter((line) => line.startsWith('error'))).toEqual([])
    })

    /** Starts a server on an ephemeral loopback port and returns its base URL. */
    async function listen(server: http.Server | net.Server): Promise<string> {
        servers.push(server)
        server.on('connection', (socket: net.Socket) => {
            openSockets.add(socket)
            socket.on('close', () => openSockets.delete(socket))
        })
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
        const {port} = server.address() as net.AddressInfo
        return `${server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${port}`
    }

    /** Sends the status line and headers one byte a second, so they are never complete within the probe limit. */
    function slowHeadersServer(): net.Server {
        const head = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}')
        return net.createServer((socket) => {
            let sent = 0
            const timer = setInterval(() => {
                if (sent >= head.length || socket.destroyed) {
                    clearInterval(timer)
                    return
                }
                socket.write(head.subarray(sent, sent + 1))
                sent++
            }, 1_000)
            socket.on('close', () => clearInterval(timer))
            socket.on('error', () => clearInterval(timer))
        })
    }

    /** Announces and streams a 100 MB JSON-looking body, honouring back-pressure so the server itself stays small. */
    function hugeBodyServer(onSent: (bytes: number) => void): http.Server {
        const chunk = Buffer.alloc(64 * 1024, 0x20)
        return http.createServer((_request, response) => {
            response.writeHead(200, {'content-type': 'application/json', 'content-length': String(HUGE_BODY_BYTES)})
            let sent = 0
            const pump = (): void => {
                while (sent < HUGE_BODY_BYTES && !response.destroyed) {
                    sent += chunk.length
                    onSent(chunk.length)
                    if (!response.write(chunk)) {
                        response.once('drain', pump)
                        return
                    }
                }
                if (!response.destroyed) response.end()
            }
            response.on('error', () => undefined)
            pump()
        })
    }

    /** Redirects every request to the same path with a growing counter, without end. */
    function redirectLoopServer(): http.Server {
        return http.createServer((request, response) => {
            const url = new URL(request.url ?? '/', 'http://loop.invalid')
            const hop = Number(url.searchParams.get('hop') ?? '0') + 1
            response.writeHead(302, {location: `${url.pathname}?hop=${hop}`})
            response.end()
        })
    }

    function redirectServer(location: string): http.Server {
        return http.createServer((_request, response) => {
            response.writeHead(302, {location})
            response.end()
        })
    }

    function jsonTextServer(body: string): http.Server {
        return http.createServer((_request, response) => {
            response.writeHead(200, {'content-type': 'application/json'})
            response.end(body)
        })
    }

    /** Responds 200 with an empty JSON object to every method and path, protected or not. */
    function okToEverythingServer(): http.Server {
        return http.createServer((_request, response) => {
            response.writeHead(200, {'content-type': 'application/json'})
            response.end('{}')
        })
    }

    /** A correct healthy body behind a self-signed certificate: the data is right, the channel is not trusted. */
    function selfSignedServer(): https.Server {
        certificateDirectory = mkdtempSync(join(tmpdir(), 'proofgap-faults-tls-'))
        const keyPath = join(certificateDirectory, 'key.pem')
        const certificatePath = join(certificateDirectory, 'cert.pem')
        execFileSync('openssl', [
            'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certificatePath,
            '-days', '1', '-subj', '/CN=127.0.0.1',
        ], {stdio: 'ignore'})
        const healthy = JSON.stringify({status: 'ok', checks: {runtime: {status: 'ok'}, store: {status: 'ok'}}, runtime_backend: 'docker', runtime_error: null})
        return https.createServer({key: readFileSync(keyPath), cert: readFileSync(certificatePath)}, (_request, response) => {
            response.writeHead(200, {'content-type': 'application/json'})
            response.end(healthy)
        })
    }
})

/** Waits until every active target has been probed once, or the round wait runs out. */
async function waitForRound(client: pg.Client): Promise<void> {
    const deadline = Date.now() + ROUND_WAIT_MS
    while (Date.now() < deadline) {
        const pending = await client.query(
            `SELECT count(*)::int AS n, (SELECT count(*)::int FROM probe_target WHERE active) AS active
             FROM probe_target WHERE active AND last_probed_at IS NULL`,
        )
        if (pending.rows[0].active > 0 && pending.rows[0].n === 0) return
        await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(`not every active probe target was probed within ${ROUND_WAIT_MS} ms`)
}

/** Seeds one sandbox blueprint and one active registration per endpoint, as the processor would after indexing. */
async function seedRegistrations(client: pg.Client, urls: Map<number, string>): Promise<void> {
    const at = '2025-06-01T00:00:00.000Z'
    await client.query(
        `INSERT INTO blueprint (id, blueprint_id, owner, product, shape, active, created_at_block, created_at, created_tx)
         VALUES ('1', 1, $1, 'sandbox-cloud', 'current', true, 1, $2, $3)`,
        [op(1000), at, `0x${'ab'.repeat(32)}`],
    )
    for (const [n, url] of urls) {
        await client.query(
            `INSERT INTO operator (id, stake, restaking_status, unstake_scheduled, first_seen_block, first_seen_at)
             VALUES ($1, 1000000000000000000000, 'ACTIVE', 0, 1, $2)`,
            [op(n), at],
        )
        await client.query(
            `INSERT INTO registration (id, blueprint_id, operator_id, status, rpc_address, registration_count, registered_at_block, registered_at, updated_at)
             VALUES ($1, '1', $2, 'ACTIVE', $3, 1, $4, $5, $5)`,
            [`1-${op(n)}`, op(n), url, 100 + n, at],
        )
    }
}
