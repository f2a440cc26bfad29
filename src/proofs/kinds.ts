import type {ProductFamily} from '../config/products'

/**
 * Every proof the prober can try to establish. Each kind has one request plan and one pure evaluator under
 * `./plans`. Stored proof rows use these names, so a name never changes once released.
 */
export const PROOF_KINDS = [
    'SANDBOX_ENDPOINT_HEALTH',
    'SANDBOX_READINESS',
    'SANDBOX_SECRET_HANDLING',
    'SANDBOX_TEE_ATTESTATION',
    'SANDBOX_SIDECAR_CAPABILITIES',
    'TRADING_BOT_HEALTH',
    'TRADING_MODE',
    'TRADING_MODEL_SPEND',
    'TRADING_VAULT_POLICY',
    'TRADING_TRADE_EXECUTION',
    'TRADING_VALIDATOR_STATUS',
    'MARKET_ORDER_BOOK',
    'MARKET_FILL_SETTLEMENT',
    'MARKET_CREDIT_REDEMPTION',
    'MARKET_ATTESTER_QUORUM',
    'MARKET_SP1_PROOF_PATH',
    'MARKET_INFERENCE_DELIVERY',
    'ENDPOINT_REACHABILITY',
    'PRIVATE_PORT_EXPOSURE',
] as const

export type ProofKind = (typeof PROOF_KINDS)[number]

/** The product family a kind belongs to; `any` kinds apply to every operator endpoint. */
export type ProofKindProduct = ProductFamily | 'any'

export interface ProofKindInfo {
    product: ProofKindProduct
    /** One line for people: what a PASS of this kind shows. */
    description: string
}

export const PROOF_KIND_INFO: Readonly<Record<ProofKind, ProofKindInfo>> = {
    SANDBOX_ENDPOINT_HEALTH: {
        product: 'sandbox',
        description: 'The sandbox operator API reports status ok with a healthy runtime and store on /health.',
    },
    SANDBOX_READINESS: {
        product: 'sandbox',
        description: 'The sandbox operator reports ready on /readyz, and a given provision reached the ready phase.',
    },
    SANDBOX_SECRET_HANDLING: {
        product: 'sandbox',
        description: 'No bearer token of the service is public on chain, and protected routes reject anonymous requests.',
    },
    SANDBOX_TEE_ATTESTATION: {
        product: 'sandbox',
        description: 'The published attestation hashes to the on-chain value, is no placeholder and has an allowed, fresh measurement.',
    },
    SANDBOX_SIDECAR_CAPABILITIES: {
        product: 'sandbox',
        description: 'The operator lists its capabilities and agent harnesses; a static list claims support, it does not prove it.',
    },
    TRADING_BOT_HEALTH: {
        product: 'trading',
        description: 'The trading operator API responds (/health or /api/meta) and the bot is active.',
    },
    TRADING_MODE: {
        product: 'trading',
        description: 'The paper or live mode the bot reports agrees with the vault trades on chain.',
    },
    TRADING_MODEL_SPEND: {
        product: 'trading',
        description: 'The bot publishes its model runs with token counts and an estimated cost.',
    },
    TRADING_VAULT_POLICY: {
        product: 'trading',
        description: 'The bot uses the vault deployed on chain, with risk parameters inside the on-chain vault policy.',
    },
    TRADING_TRADE_EXECUTION: {
        product: 'trading',
        description: 'Every live trade the bot lists has a TradeExecuted event of its vault on chain.',
    },
    TRADING_VALIDATOR_STATUS: {
        product: 'trading',
        description: 'The validator endpoints of the bot report healthy.',
    },
    MARKET_ORDER_BOOK: {
        product: 'surplus',
        description: 'Every book is sorted, not crossed, on the tick and above the minimum quantity.',
    },
    MARKET_FILL_SETTLEMENT: {
        product: 'surplus',
        description: 'Fills reach the settlement contract: FillSettled events exist and the outbox is not a dry run.',
    },
    MARKET_CREDIT_REDEMPTION: {
        product: 'surplus',
        description: 'Every redemption past its deadline was settled or attested on chain, and none defaulted.',
    },
    MARKET_ATTESTER_QUORUM: {
        product: 'surplus',
        description: 'At least the threshold of the listed CLOB operators respond and agree on the epoch.',
    },
    MARKET_SP1_PROOF_PATH: {
        product: 'surplus',
        description: 'At least one batch settled on chain with an SP1 proof.',
    },
    MARKET_INFERENCE_DELIVERY: {
        product: 'surplus',
        description: 'A redemption returns content whose output hash and work commitment recompute exactly.',
    },
    ENDPOINT_REACHABILITY: {
        product: 'any',
        description: 'The advertised endpoint returns an HTTP response, including a 401 from an auth proxy.',
    },
    PRIVATE_PORT_EXPOSURE: {
        product: 'any',
        description: 'Ports and sidecars meant to stay private do not respond from outside.',
    },
}

export function isProofKind(value: unknown): value is ProofKind {
    return typeof value === 'string' && (PROOF_KINDS as readonly string[]).includes(value)
}

/** Lists the kinds that apply to an operator of `product`, including the `any` kinds. */
export function proofKindsForProduct(product: ProductFamily): ProofKind[] {
    return PROOF_KINDS.filter((kind) => {
        const kindProduct = PROOF_KIND_INFO[kind].product
        return kindProduct === product || kindProduct === 'any'
    })
}
