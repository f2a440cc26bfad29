import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {Socket} from 'node:net'

/** Largest request body a simulated operator reads; larger bodies get 413. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024

export interface SimulatedReply {
    status: number
    /** A string is sent as text/plain, anything else as JSON. */
    body: unknown
    headers?: Record<string, string>
}

export interface SimulatedRequest {
    method: string
    url: URL
    headers: IncomingMessage['headers']
    body: string
}

export type SimulatedHandler = (request: SimulatedRequest) => SimulatedReply | Promise<SimulatedReply>

/**
 * An HTTP server on 127.0.0.1 that can be stopped and started again on the same port, so a 'down' operator refuses
 * connections at the URL it had. Stopping destroys open sockets, including replies still being delayed.
 */
export class LoopbackServer {
    private server: Server | null = null
    private port = 0
    private readonly sockets = new Set<Socket>()
    private readonly timers = new Set<NodeJS.Timeout>()

    constructor(
        private readonly handler: SimulatedHandler,
        private readonly delayMs: () => number,
    ) {}

    get url(): string {
        if (this.port === 0) throw new Error('LoopbackServer has no port yet: call start() or reservePort() first')
        return `http://127.0.0.1:${this.port}`
    }

    get isListening(): boolean {
        return this.server !== null
    }

    async start(): Promise<void> {
        if (this.server !== null) return
        const server = createServer((req, res) => void this.serve(req, res))
        server.on('connection', (socket) => {
            this.sockets.add(socket)
            socket.on('close', () => this.sockets.delete(socket))
        })
        await new Promise<void>((resolve, reject) => {
            server.once('error', reject)
            server.listen(this.port, '127.0.0.1', () => {
                server.off('error', reject)
                resolve()
            })
        })
        const address = server.address()
        if (address === null || typeof address === 'string') throw new Error('LoopbackServer did not get a TCP address')
        this.port = address.port
        this.server = server
    }

    async stop(): Promise<void> {
        const server = this.server
        if (server === null) return
        this.server = null
        for (const timer of this.timers) clearTimeout(timer)
        this.timers.clear()
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        for (const socket of this.sockets) socket.destroy()
        this.sockets.clear()
        await closed
    }

    /** Picks a free port and keeps it for later starts, without listening now. */
    async reservePort(): Promise<void> {
        if (this.port !== 0) return
        await this.start()
        await this.stop()
    }

    private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
        let reply: SimulatedReply
        try {
            const body = await readBody(req)
            reply = body === null
                ? {status: 413, body: {error: `request body exceeds ${MAX_REQUEST_BODY_BYTES} bytes`}}
                : await this.handler({method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://127.0.0.1'), headers: req.headers, body})
        } catch (error) {
            reply = {status: 500, body: {error: error instanceof Error ? error.message : 'handler failed'}}
        }

        const delayMs = this.delayMs()
        if (delayMs <= 0) {
            writeReply(res, reply)
            return
        }
        const timer = setTimeout(() => {
            this.timers.delete(timer)
            if (!res.destroyed) writeReply(res, reply)
        }, delayMs)
        this.timers.add(timer)
    }
}

function readBody(req: IncomingMessage): Promise<string | null> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = []
        let size = 0
        let tooLarge = false
        req.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > MAX_REQUEST_BODY_BYTES) tooLarge = true
            else chunks.push(chunk)
        })
        req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')))
        req.on('error', reject)
    })
}

function writeReply(res: ServerResponse, reply: SimulatedReply): void {
    const isText = typeof reply.body === 'string'
    const payload = isText ? (reply.body as string) : JSON.stringify(reply.body)
    res.writeHead(reply.status, {
        'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json',
        'content-length': Buffer.byteLength(payload),
        ...reply.headers,
    })
    res.end(payload)
}
