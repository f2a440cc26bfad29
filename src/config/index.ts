export * from './types'
export * from './products'
export * from './errors'
export * from './load'
export {NETWORK_PRESETS, DEVNET_ADDRESSES, DEVNET_BLUEPRINTS} from './networks/presets'

/** Schema of the processor's own state (height, hot blocks). One network per database, so one fixed name. */
export const PROCESSOR_STATE_SCHEMA = 'squid_processor'
