/** Products a blueprint id can map to. The mode matters: instance and TEE managers number their jobs differently. */
export const PRODUCTS = [
    'sandbox-cloud',
    'sandbox-instance',
    'sandbox-tee',
    'trading-cloud',
    'trading-instance',
    'trading-tee',
    'trading-validator',
    'surplus-market',
] as const

export type Product = (typeof PRODUCTS)[number]

export type ProductFamily = 'sandbox' | 'trading' | 'surplus'

export function productFamily(product: Product): ProductFamily {
    if (product.startsWith('sandbox')) return 'sandbox'
    if (product.startsWith('trading')) return 'trading'
    return 'surplus'
}

export function isProduct(value: unknown): value is Product {
    return typeof value === 'string' && (PRODUCTS as readonly string[]).includes(value)
}

const SANDBOX_JOBS = ['sandbox_create', 'sandbox_delete', 'workflow_create', 'workflow_trigger', 'workflow_cancel']
const TRADING_CLOUD_JOBS = ['provision', 'configure', 'start_trading', 'stop_trading', 'status', 'deprovision', 'extend']
const VALIDATOR_JOBS = ['update_reputation', 'update_config', 'liveness']
const SURPLUS_JOBS = ['list_instrument', 'configure', 'start_making', 'stop_making', 'status', 'workflow_tick']
/** Devnet builds of the Surplus Market register the tick job at index 30. */
const SURPLUS_DEVNET_TICK_INDEX = 30

/**
 * Name of a job index for a product, by what the contract and the operator do with it.
 *
 * Trading instance and TEE managers register names shifted by one (0 configure … 4 extend) while contract and
 * operator act on the cloud numbers (1 configure … 4 status). We label by behaviour, so index 1 is `configure` in every
 * mode; index 0 on an instance manager has no behaviour and is labelled `provision (not registered in this mode)`.
 */
export function jobName(product: Product, jobIndex: number): string | null {
    switch (product) {
        case 'sandbox-cloud':
        case 'sandbox-instance':
        case 'sandbox-tee':
            return SANDBOX_JOBS[jobIndex] ?? null
        case 'trading-cloud':
            return TRADING_CLOUD_JOBS[jobIndex] ?? null
        case 'trading-instance':
        case 'trading-tee':
            if (jobIndex === 0) return 'provision (not registered in this mode)'
            return TRADING_CLOUD_JOBS[jobIndex] ?? null
        case 'trading-validator':
            return VALIDATOR_JOBS[jobIndex] ?? null
        case 'surplus-market':
            if (jobIndex === SURPLUS_DEVNET_TICK_INDEX) return 'workflow_tick'
            return SURPLUS_JOBS[jobIndex] ?? null
    }
}
