import type pg from 'pg'

/** A blueprint the devnet configuration does not map, so every target of it gets only the reachability check. */
export const UNMAPPED_BLUEPRINT = '900'

/**
 * Seeds one active registration per operator under UNMAPPED_BLUEPRINT, with rpc address `<baseUrl>/op/<n>` where n
 * counts from 1. `owner` is the blueprint owner's address.
 */
export async function seedReachabilityTargets(client: pg.Client, operators: readonly string[], baseUrl: string, owner: string): Promise<void> {
    const at = '2025-06-01T00:00:00.000Z'
    await client.query(
        `INSERT INTO blueprint (id, blueprint_id, owner, shape, active, created_at_block, created_at, created_tx)
         VALUES ($1, $2, $3, 'current', true, 1, $4, '0x01')`,
        [UNMAPPED_BLUEPRINT, UNMAPPED_BLUEPRINT, owner, at],
    )
    await client.query(
        `INSERT INTO operator (id, stake, restaking_status, unstake_scheduled, first_seen_block, first_seen_at)
         SELECT id, 1, 'ACTIVE', 0, 1, $2 FROM unnest($1::text[]) AS id`,
        [operators, at],
    )
    await client.query(
        `INSERT INTO registration (id, blueprint_id, operator_id, status, rpc_address, registration_count, registered_at_block, registered_at, updated_at)
         SELECT $2 || '-' || o, $2, o, 'ACTIVE', $3 || '/op/' || i, 1, 10, $4, $4
         FROM unnest($1::text[]) WITH ORDINALITY AS t(o, i)`,
        [operators, UNMAPPED_BLUEPRINT, baseUrl, at],
    )
}
