// Probe latency counts only records that got an HTTP response (http_status not null). A record of a kind that sends no
// request (chain-only kinds, an advertised URL that cannot be requested) has latency 0, and a refused connection a
// few milliseconds: counted, they made unreachable operators look fastest.
//
// The trigger functions of 1796424742606-ProofAggregates.js fill probe_day_latency. This migration takes their
// definitions from PostgreSQL and adds the condition to each latency statement, so the rest of each function stays as
// that migration wrote it. Then it rebuilds probe_day_latency from proof_record.

const FUNCTIONS = ['proof_aggregates_after_insert', 'proof_aggregates_after_delete', 'proof_aggregates_after_update']
const BEFORE = 'WHERE latency_ms IS NOT NULL GROUP BY'
const AFTER = 'WHERE latency_ms IS NOT NULL AND http_status IS NOT NULL GROUP BY'
const LATENCY_KEY = 'operator, blueprint_id, day, outcome, latency_ms'

/** Rewrites each trigger function, replacing `from` by `to` in its latency statements; fails if one has none. */
async function rewriteFunctions(db, from, to) {
    for (const name of FUNCTIONS) {
        const result = await db.query(`SELECT pg_get_functiondef($1::regproc) AS definition`, [name])
        // TypeORM's query runner returns the rows, a pg client (the tests' runMigration) a result object.
        const [{definition}] = Array.isArray(result) ? result : result.rows
        if (!definition.includes(from)) throw new Error(`${name} has no latency statement of the expected form: "${from}"`)
        await db.query(definition.split(from).join(to))
    }
}

/** Refills probe_day_latency from proof_record with `condition`; the lock keeps the prober's inserts out meanwhile. */
async function rebuild(db, condition) {
    await db.query(`LOCK TABLE proof_record IN SHARE ROW EXCLUSIVE MODE`)
    await db.query(`DELETE FROM probe_day_latency`)
    await db.query(`INSERT INTO probe_day_latency (${LATENCY_KEY}, records)
        SELECT operator, blueprint_id, (observed_at AT TIME ZONE 'UTC')::date AS day, outcome, latency_ms, count(*)
        FROM proof_record WHERE ${condition} GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`)
}

module.exports = class LatencyWithResponse1796436000000 {
    name = 'LatencyWithResponse1796436000000'

    async up(db) {
        await rewriteFunctions(db, BEFORE, AFTER)
        await rebuild(db, 'latency_ms IS NOT NULL AND http_status IS NOT NULL')
    }

    async down(db) {
        await rewriteFunctions(db, AFTER, BEFORE)
        await rebuild(db, 'latency_ms IS NOT NULL')
    }
}
