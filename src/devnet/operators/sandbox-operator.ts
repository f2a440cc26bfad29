import {randomBytes, randomUUID} from 'node:crypto'
import {recoverMessageAddress} from 'viem'
import type {OperatorBehaviour} from './behaviour'
import type {SimulatedReply, SimulatedRequest} from './loopback-server'

/** How long simulated auth challenges and sessions stay valid. */
const AUTH_TTL_SECONDS = 300

export interface SandboxSimulationOptions {
    /** Runtime the healthy operator reports; 'tee' for a TEE operator. */
    runtimeBackend?: 'firecracker' | 'tee'
    /** Provision call ids (decimal strings) the operator serves, all in the `ready` phase. */
    provisionCallIds?: string[]
}

interface Session {
    address: string
    expiresAt: number
}

/** The product state of one simulated sandbox operator; the HTTP server and behaviour switch live in server.ts. */
export class SandboxOperatorState {
    readonly sandboxId = `sbx-${randomUUID()}`
    private readonly challenges = new Map<string, {message: string; expiresAt: number}>()
    private readonly sessions = new Map<string, Session>()

    constructor(
        private readonly options: SandboxSimulationOptions,
        /** URL the sidecar has or would have; published in provisions. */
        readonly sidecarUrl: () => string,
    ) {}

    async route(request: SimulatedRequest, behaviour: OperatorBehaviour): Promise<SimulatedReply> {
        const path = request.url.pathname
        const method = request.method
        if (method === 'GET' && path === '/health') return this.health(behaviour)
        if (method === 'GET' && path === '/readyz') return this.readyz(behaviour)
        if (method === 'GET' && path === '/api/capabilities') return capabilities(behaviour)
        if (method === 'GET' && path === '/metrics') return {status: 200, body: sandboxMetrics()}
        if (method === 'GET' && path.startsWith('/api/provisions/')) return this.provision(decodeURIComponent(path.slice('/api/provisions/'.length)), behaviour)
        if (method === 'POST' && path === '/api/auth/challenge') return this.challenge()
        if (method === 'POST' && path === '/api/auth/session') return this.openSession(request.body)
        if (method === 'GET' && path === '/api/sandboxes') return this.listSandboxes(request)
        return {status: 404, body: {error: `no route ${method} ${path}`}}
    }

    private runtimeBackend(behaviour: OperatorBehaviour): string {
        if (behaviour === 'docker-runtime') return 'docker'
        if (behaviour === 'placeholder-tee') return 'tee'
        return this.options.runtimeBackend ?? 'firecracker'
    }

    private health(behaviour: OperatorBehaviour): SimulatedReply {
        if (behaviour === 'wrong-json') {
            return {status: 200, body: {status: 1, checks: {runtime: {status: true}, store: {status: null}}, runtime_backend: 42, runtime_error: false}}
        }
        if (behaviour === 'degraded') {
            return {
                status: 503,
                body: {
                    status: 'degraded',
                    checks: {runtime: {status: 'error'}, store: {status: 'ok'}},
                    runtime_backend: this.runtimeBackend(behaviour),
                    runtime_error: 'runtime probe failed: /dev/kvm is not available',
                },
            }
        }
        return {
            status: 200,
            body: {status: 'ok', checks: {runtime: {status: 'ok'}, store: {status: 'ok'}}, runtime_backend: this.runtimeBackend(behaviour), runtime_error: null},
        }
    }

    private readyz(behaviour: OperatorBehaviour): SimulatedReply {
        if (behaviour === 'wrong-json') return {status: 200, body: {status: true}}
        if (behaviour === 'degraded') {
            return {
                status: 503,
                body: {
                    status: 'not_ready',
                    runtime_backend: this.runtimeBackend(behaviour),
                    runtime: 'error',
                    store: 'ok',
                    runtime_error: 'runtime probe failed: /dev/kvm is not available',
                },
            }
        }
        return {status: 200, body: {status: 'ready'}}
    }

    private provision(callId: string, behaviour: OperatorBehaviour): SimulatedReply {
        const known = this.options.provisionCallIds ?? ['1']
        if (!known.includes(callId)) return {status: 404, body: {error: `no provision for call ${callId}`}}
        if (behaviour === 'wrong-json') return {status: 200, body: {call_id: callId, sandbox_id: 7, phase: 3, progress_pct: 'done', sidecar_url: null}}
        return {
            status: 200,
            body: {call_id: callId, sandbox_id: this.sandboxId, phase: behaviour === 'degraded' ? 'failed' : 'ready', progress_pct: 100, sidecar_url: this.sidecarUrl()},
        }
    }

    private challenge(): SimulatedReply {
        const nonce = randomBytes(16).toString('hex')
        const expiresAt = Math.floor(Date.now() / 1000) + AUTH_TTL_SECONDS
        const message = `Sign in to the simulated sandbox operator. Nonce: ${nonce}`
        this.challenges.set(nonce, {message, expiresAt})
        return {status: 200, body: {nonce, message, expires_at: expiresAt}}
    }

    /** Recovers the EIP-191 signer of the challenge message, as the real operator does, and opens a session for it. */
    private async openSession(body: string): Promise<SimulatedReply> {
        let parsed: {nonce?: unknown; signature?: unknown}
        try {
            parsed = JSON.parse(body) as {nonce?: unknown; signature?: unknown}
        } catch {
            return {status: 400, body: {error: 'body must be JSON {nonce, signature}'}}
        }
        const {nonce, signature} = parsed
        if (typeof nonce !== 'string' || typeof signature !== 'string' || !/^0x[0-9a-fA-F]+$/.test(signature)) {
            return {status: 400, body: {error: 'nonce and a 0x hex signature are required'}}
        }
        const challenge = this.challenges.get(nonce)
        this.challenges.delete(nonce)
        const now = Math.floor(Date.now() / 1000)
        if (challenge === undefined || challenge.expiresAt < now) return {status: 401, body: {error: 'unknown or expired nonce'}}

        let address: string
        try {
            address = (await recoverMessageAddress({message: challenge.message, signature: signature as `0x${string}`})).toLowerCase()
        } catch {
            return {status: 401, body: {error: 'signature does not recover to an address'}}
        }
        const token = randomBytes(24).toString('hex')
        const expiresAt = now + AUTH_TTL_SECONDS
        this.sessions.set(token, {address, expiresAt})
        return {status: 200, body: {token, address, expires_at: expiresAt}}
    }

    private listSandboxes(request: SimulatedRequest): SimulatedReply {
        const header = request.headers.authorization
        const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice('Bearer '.length) : null
        const session = token === null ? undefined : this.sessions.get(token)
        if (session === undefined || session.expiresAt < Math.floor(Date.now() / 1000)) {
            return {status: 401, body: {error: 'missing or expired session token'}, headers: {'www-authenticate': 'Bearer'}}
        }
        // A fresh wallet owns no sandbox.
        return {status: 200, body: {sandboxes: []}}
    }
}

const HARNESSES = [
    {id: 'claude-code', label: 'Claude Code'},
    {id: 'codex', label: 'Codex'},
    {id: 'opencode', label: 'OpenCode'},
    {id: 'kimi-code', label: 'Kimi Code'},
    {id: 'gemini', label: 'Gemini'},
]

function capabilities(behaviour: OperatorBehaviour): SimulatedReply {
    if (behaviour === 'wrong-json') return {status: 200, body: {capabilities: 'all', harnesses: 5}}
    return {
        status: 200,
        body: {
            capabilities: [
                {id: 'exec', label: 'Command execution', description: 'Runs shell commands in the sandbox.'},
                {id: 'agents', label: 'Agent runs', description: 'Runs an agent harness with a prompt.'},
            ],
            harnesses: HARNESSES.map((harness) => ({...harness, mcp: true, skills: true, subagents: harness.id === 'claude-code'})),
        },
    }
}

function sandboxMetrics(): string {
    return [
        '# TYPE sandbox_active_sandboxes gauge',
        'sandbox_active_sandboxes 0',
        '# TYPE sandbox_total_jobs counter',
        'sandbox_total_jobs 0',
        '',
    ].join('\n')
}

/** Routes a sidecar request: /health is open and everything else requires the bearer token. */
export function routeSidecar(request: SimulatedRequest): SimulatedReply {
    if (request.method === 'GET' && request.url.pathname === '/health') return {status: 200, body: {status: 'ok'}}
    return {status: 401, body: {error: 'sidecar token required'}, headers: {'www-authenticate': 'Bearer'}}
}
