import * as http from 'node:http'
import * as net from 'node:net'
import * as tls from 'node:tls'
import type {Duplex} from 'node:stream'
import type {ProbeErrorCode} from '../types'

/** Destination of one connection: an address that the policy already allowed, never a hostname. */
export interface ConnectTarget {
    /** IP address to connect to. */
    address: string
    port: number
    secure: boolean
    /** TLS server name (SNI and certificate check); absent when the URL host is an IP literal. */
    servername?: string
    /** False only when configuration accepts invalid certificates (tests with self-signed certificates). */
    rejectUnauthorized: boolean
    /** Extra trusted CA certificates in PEM, replacing the default root store when set. */
    ca?: string | Buffer | Array<string | Buffer>
}

/**
 * Opens the connection for one exchange. The default opens a TCP or TLS socket to `target.address`; tests inject
 * their own to observe every connection attempt or to inject faults.
 */
export type ConnectFunction = (target: ConnectTarget) => Duplex

/** Opens a TCP socket (http) or a TLS socket (https) to the checked IP address, so no DNS lookup happens here. */
export function connectToAddress(target: ConnectTarget): Duplex {
    if (target.secure) {
        return tls.connect({
            host: target.address,
            port: target.port,
            servername: target.servername,
            rejectUnauthorized: target.rejectUnauthorized,
            ca: target.ca,
            ALPNProtocols: ['http/1.1'],
        })
    }
    return net.connect({host: target.address, port: target.port})
}

/** One request on one fresh connection; headers are final (Host included). */
export interface ExchangeRequest {
    target: ConnectTarget
    method: string
    path: string
    headers: Record<string, string>
    body?: string
    /** False for HEAD and for redirects, whose body is not evidence. */
    readBody: (status: number, headers: Record<string, string>) => boolean
    connectTimeoutMs: number
    headersTimeoutMs: number
    /** Time left of the whole safeFetch call. */
    remainingMs: number
    maxBodyBytes: number
}

export interface ExchangeResult {
    status?: number
    headers: Record<string, string>
    body: Uint8Array
    truncated: boolean
    remoteAddress?: string
    error?: ProbeErrorCode
    errorDetail?: string
}

/**
 * Performs one HTTP exchange on a socket from `connect`. Never rejects: every failure, timeout and the size cap
 * come back as `error` with what was received so far. The socket is always destroyed before the promise settles,
 * which also makes a streaming server stop.
 */
export function performExchange(request: ExchangeRequest, connect: ConnectFunction): Promise<ExchangeResult> {
    return new Promise((resolve) => {
        let status: number | undefined
        let headers: Record<string, string> = {}
        const chunks: Buffer[] = []
        let bodyBytes = 0
        let settled = false
        let socket: Duplex | undefined
        let clientRequest: http.ClientRequest | undefined
        let connectTimer: NodeJS.Timeout | undefined
        let headersTimer: NodeJS.Timeout | undefined

        const finish = (error?: ProbeErrorCode, errorDetail?: string, truncated = false): void => {
            if (settled) {
                return
            }
            settled = true
            clearTimeout(connectTimer)
            clearTimeout(headersTimer)
            clearTimeout(totalTimer)
            clientRequest?.destroy()
            socket?.destroy()
            resolve({
                status,
                headers,
                body: new Uint8Array(Buffer.concat(chunks, bodyBytes)),
                truncated,
                remoteAddress: request.target.address,
                error,
                errorDetail,
            })
        }

        const totalTimer = setTimeout(
            () => finish('TOTAL_TIMEOUT', `total time limit reached after ${describePhase(status, socket)}`),
            Math.max(0, request.remainingMs),
        )

        try {
            socket = connect(request.target)
        } catch (error) {
            finish(...mapSocketError(error))
            return
        }
        socket.on('error', (error) => finish(...mapSocketError(error)))

        connectTimer = setTimeout(
            () => finish('CONNECT_TIMEOUT', `no connection to ${request.target.address} within ${request.connectTimeoutMs} ms`),
            request.connectTimeoutMs,
        )
        const connectedEvent = request.target.secure ? 'secureConnect' : 'connect'
        socket.once(connectedEvent, () => {
            clearTimeout(connectTimer)
            headersTimer = setTimeout(
                () => finish('HEADERS_TIMEOUT', `no complete response headers within ${request.headersTimeoutMs} ms`),
                request.headersTimeoutMs,
            )
        })

        const connectedSocket = socket
        try {
            clientRequest = http.request({
                method: request.method,
                path: request.path,
                headers: request.headers,
                setHost: false,
                createConnection: () => connectedSocket as net.Socket,
            })
        } catch (error) {
            finish('NETWORK_ERROR', `request could not be built: ${errorMessage(error)}`)
            return
        }
        clientRequest.on('error', (error) => finish(...mapSocketError(error)))

        clientRequest.on('response', (response) => {
            clearTimeout(headersTimer)
            status = response.statusCode
            headers = flattenHeaders(response.headers)

            if (status === undefined || !request.readBody(status, headers)) {
                finish()
                return
            }

            response.on('data', (chunk: Buffer) => {
                const room = request.maxBodyBytes - bodyBytes
                if (chunk.length > room) {
                    chunks.push(chunk.subarray(0, room))
                    bodyBytes += room
                    finish('BODY_TOO_LARGE', `response body exceeds the limit of ${request.maxBodyBytes} bytes`, true)
                    return
                }
                chunks.push(chunk)
                bodyBytes += chunk.length
            })
            response.on('end', () => finish())
            response.on('error', (error) => finish('NETWORK_ERROR', `response body failed: ${errorMessage(error)}`))
            response.on('close', () => {
                if (!response.complete) {
                    finish('NETWORK_ERROR', `connection closed after ${bodyBytes} body bytes, before the body ended`)
                }
            })
        })

        if (request.body !== undefined) {
            clientRequest.write(request.body)
        }
        clientRequest.end()
    })
}

function describePhase(status: number | undefined, socket: Duplex | undefined): string {
    if (status !== undefined) {
        return 'the response headers, while reading the body'
    }
    return socket === undefined ? 'no connection' : 'connecting or waiting for headers'
}

/** Joins repeated headers with ", " so every value is one string; names are already lower-case. */
function flattenHeaders(incoming: http.IncomingHttpHeaders): Record<string, string> {
    const flat: Record<string, string> = {}
    for (const [name, value] of Object.entries(incoming)) {
        if (value !== undefined) {
            flat[name] = Array.isArray(value) ? value.join(', ') : value
        }
    }
    return flat
}

/** OpenSSL verification codes that mean the peer certificate was not trusted. */
const CERTIFICATE_ERROR_CODES = new Set([
    'CERT_HAS_EXPIRED',
    'CERT_NOT_YET_VALID',
    'CERT_REVOKED',
    'CERT_UNTRUSTED',
    'CERT_REJECTED',
    'CERT_SIGNATURE_FAILURE',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_GET_ISSUER_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'HOSTNAME_MISMATCH',
    'INVALID_CA',
])

/** Maps a socket, TLS or HTTP parser error to the probe error code and a short detail without secrets. */
export function mapSocketError(error: unknown): [ProbeErrorCode, string] {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
    const message = errorMessage(error)

    if (code === 'ECONNREFUSED') {
        return ['CONNECTION_REFUSED', message]
    }
    if (code === 'ETIMEDOUT') {
        return ['CONNECT_TIMEOUT', message]
    }
    // EPROTO carries OpenSSL handshake failures, such as a plain HTTP server behind an https URL.
    const tlsFailure = code === 'EPROTO' || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')
    if (CERTIFICATE_ERROR_CODES.has(code) || tlsFailure) {
        return ['TLS_INVALID', `${code}: ${message}`]
    }
    if (code.startsWith('HPE_')) {
        return ['NETWORK_ERROR', `invalid HTTP response (${code}): ${message}`]
    }
    return ['NETWORK_ERROR', code === '' ? message : `${code}: ${message}`]
}

function errorMessage(error: unknown): string {
    return error instanceof Error ? error.message : String(error)
}
