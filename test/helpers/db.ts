import pg from 'pg'

/** Normalise a value as `pg` returns it into the plain form the expectations use. */
export function normalise(value: unknown): unknown {
    if (value === null || value === undefined) return null
    if (Buffer.isBuffer(value)) return '0x' + value.toString('hex')
    if (value instanceof Date) return value.toISOString()
    if (Array.isArray(value)) return value.map(normalise)
    return value
}

/** Every row of a table, keyed by id, with values normalised. */
export async function tableRows(client: pg.Client, table: string): Promise<Map<string, Record<string, unknown>>> {
    const result = await client.query(`SELECT * FROM "${table}"`)
    const rows = new Map<string, Record<string, unknown>>()
    for (const row of result.rows) {
        const out: Record<string, unknown> = {}
        for (const [key, value] of Object.entries(row)) out[key] = normalise(value)
        rows.set(String(row.id), out)
    }
    return rows
}

/** Tables the processor writes (chain side), for whole-database comparisons. */
export const CHAIN_TABLES = [
    'chain_block',
    'blueprint',
    'blueprint_source_update',
    'blueprint_source_ack',
    'blueprint_transfer',
    'operator',
    'operator_stake_change',
    'registration',
    'registration_change',
    'service_request',
    'service_request_response',
    'service',
    'service_membership',
    'job_call',
    'job_result',
    'secret_exposure',
    'heartbeat',
    'operator_service_state',
    'status_event',
    'heartbeat_config_change',
    'metric',
    'slash',
    'sandbox',
    'provisioned_endpoint',
    'tee_attestation',
    'bot_vault',
    'product_event',
    'vault_signer',
    'trade',
    'settlement_fill',
    'settlement_batch',
    'redemption',
    'book',
    'unhandled_log',
] as const

/** The whole chain side of a database as plain data, for comparing two databases. */
export async function dumpChainTables(client: pg.Client): Promise<Record<string, Record<string, Record<string, unknown>>>> {
    const out: Record<string, Record<string, Record<string, unknown>>> = {}
    for (const table of CHAIN_TABLES) out[table] = Object.fromEntries(await tableRows(client, table))
    return out
}
