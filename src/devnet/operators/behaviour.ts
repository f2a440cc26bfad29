/** Behaviours a simulated operator can switch between at run time; each one stages a finding for the prober. */
export const OPERATOR_BEHAVIOURS = [
    'healthy',
    /** 503 with reasons on the health routes. */
    'degraded',
    /** Server closed: connections are refused. */
    'down',
    /** Every response is sent after `slowDelayMs`, beyond the prober's timeout. */
    'slow',
    /** 401 on every route, as an auth proxy in front of the operator does. */
    'guarded',
    /** The right keys with the wrong types. */
    'wrong-json',
    /** Surplus: the best bid is above the best ask. */
    'crossed-book',
    /** Sandbox: publishes `{"tee_type":"tdx","status":"pending"}` as its attestation. */
    'placeholder-tee',
    /** Trading: the bot claims live mode and lists trades with real-looking hashes that are not on chain. */
    'live-no-trades',
    /** Sandbox: HTTP as healthy; the leak is the token in the job output on chain, staged by the devnet scenario. */
    'token-leak',
    /** Sandbox: the sidecar listens on its own port, reachable from outside. */
    'sidecar-outside',
    /** Sandbox: reports `runtime_backend: docker`. */
    'docker-runtime',
] as const

export type OperatorBehaviour = (typeof OPERATOR_BEHAVIOURS)[number]

export type SimulatedProduct = 'sandbox' | 'trading' | 'surplus'

export function isOperatorBehaviour(value: unknown): value is OperatorBehaviour {
    return typeof value === 'string' && (OPERATOR_BEHAVIOURS as readonly string[]).includes(value)
}

/** Response delay of the 'slow' behaviour unless configured, far beyond any sensible probe timeout. */
export const DEFAULT_SLOW_RESPONSE_DELAY_MS = 30_000
