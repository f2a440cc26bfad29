import pg from 'pg'
import {RpcClient} from '@subsquid/rpc-client'
import {PROCESSOR_STATE_SCHEMA} from '../config'
import {poolConfigFromEnv} from '../gap/sql'

/** Exit code when the database was indexed from another chain than the one the RPC node serves. */
export const CHAIN_MISMATCH_EXIT_CODE = 3

/** The last finalised block the processor committed. */
export interface IndexedBlock {
    height: number
    hash: string
}

/**
 * Describes why the database cannot continue on the node's chain, or returns undefined when it can. `nodeHash` is the
 * node's hash at `indexed.height`, null when the node has no block there.
 */
export function describeChainMismatch(indexed: IndexedBlock, nodeHash: string | null, finalityConfirmations: number): string | undefined {
    if (nodeHash === indexed.hash) return undefined
    const seen = nodeHash === null ? 'has no block at that height' : `has ${nodeHash} there`
    return (
        `database was indexed from another chain: its last final block ${indexed.height} is ${indexed.hash}, but the RPC node ${seen}. ` +
        `Either the node serves a new chain (a restarted devnet, another network) or it reorganised deeper than ` +
        `FINALITY_CONFIRMATIONS=${finalityConfirmations} blocks. Drop the database or point DB_* to a new one and index again; ` +
        `if the node reorganises that deep, raise FINALITY_CONFIRMATIONS first.`
    )
}

async function readIndexedBlock(client: pg.Client): Promise<IndexedBlock | undefined> {
    const exists = await client.query(`SELECT to_regclass('${PROCESSOR_STATE_SCHEMA}.status') IS NOT NULL AS ok`)
    if (!exists.rows[0].ok) return undefined
    const status = await client.query(`SELECT height, hash FROM ${PROCESSOR_STATE_SCHEMA}.status WHERE id = 0`)
    const row = status.rows[0]
    // Height -1 (or the FireSquid hash 0x) means nothing final is stored yet, so there is nothing to compare.
    if (!row || row.height < 0 || row.hash === '0x') return undefined
    return {height: row.height, hash: row.hash}
}

/**
 * Compares the database's last final block with the node's block at that height before the processor starts, so a
 * database from another chain stops with a message that names the fix. evm-processor 1.27 makes the same check but
 * only reports "already indexed block … was not found on chain".
 * NOTE: when the database or the node cannot be read here, the check is skipped and the processor reports the error.
 */
export async function findChainMismatch(rpcUrl: string, finalityConfirmations: number): Promise<string | undefined> {
    const client = new pg.Client(poolConfigFromEnv())
    const rpc = new RpcClient({url: rpcUrl, retryAttempts: 0})
    try {
        await client.connect()
        const indexed = await readIndexedBlock(client)
        if (!indexed) return undefined
        const block = await rpc.call<{hash: string} | null>('eth_getBlockByNumber', [`0x${indexed.height.toString(16)}`, false])
        return describeChainMismatch(indexed, block?.hash ?? null, finalityConfirmations)
    } catch {
        return undefined
    } finally {
        rpc.close()
        await client.end().catch(() => undefined)
    }
}
