// Written by hand: replaces the functions of the heartbeat INSERT and DELETE triggers of
// 1796424742607-HeartbeatAggregates.js, with the same result.
//
// Those functions read the heartbeats of each changed (operator, service) pair between its bounds as a join of the
// whole `heartbeat` table with the bounds, the rows without the changed ones as an anti-join of the whole table. With
// no statistics on a transition table, PostgreSQL planned both as scans of the whole table, so every statement cost
// time in proportion to the heartbeats already stored: indexing 1,000,000 heartbeats at 100 per block spent 2.6 s
// writing the first batch of 49,500 rows and 10.8 s the tenth. Here the rows between the bounds are read first, one
// index range scan of heartbeat (operator_id, service_id, timestamp) per pair, and both covers are computed from them.
// Replacing only the anti-join still left 2.3 s for the first batch and 6.8 s for the eleventh.

const {sql, restoreChangeFunctions} = require('./1796424742607-HeartbeatAggregates.js')
const {applyChange, HEARTBEAT_COLUMNS} = sql

const COLUMNS = HEARTBEAT_COLUMNS.split(', ')

// The stored heartbeats of each pair of `bounds` inside its bounds, as coverPerDay filters them.
const NEAR = `,
    near AS MATERIALIZED (
      SELECT ${COLUMNS.map((c) => `x.${c}`).join(', ')}
      FROM bounds b CROSS JOIN LATERAL (
        SELECT ${COLUMNS.map((c) => `h.${c}`).join(', ')} FROM heartbeat h
        WHERE h.operator_id = b.operator_id AND h.service_id = b.service_id
          AND h.timestamp >= b.range_from AND h.timestamp <= b.range_to
        -- OFFSET 0 keeps the planner from flattening the subquery into a join that scans the whole table.
        OFFSET 0
      ) x
    )`

// The INSERT trigger's function; `guard` is PL/pgSQL run first (a later migration returns early with it).
const insertFunction = (guard = '') => `CREATE OR REPLACE FUNCTION heartbeat_cover_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${guard}${applyChange({
    changed: 'inserted',
    moreCtes: NEAR,
    withRows: 'near',
    withoutRows: `(SELECT n.* FROM near n WHERE NOT EXISTS (SELECT 1 FROM inserted c WHERE c.id = n.id))`,
    sign: 1,
})}
    RETURN NULL;
END $$`

module.exports = class HeartbeatCoverNearRows1796431000000 {
    name = 'HeartbeatCoverNearRows1796431000000'

    /** Builds this migration's INSERT trigger function, for a later migration that adds a guard to it. */
    static insertFunction = insertFunction

    async up(db) {
        await db.query(insertFunction())
        await db.query(`CREATE OR REPLACE FUNCTION heartbeat_cover_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${applyChange({
            changed: 'removed',
            moreCtes: NEAR,
            withRows: `(SELECT ${HEARTBEAT_COLUMNS} FROM near UNION ALL SELECT ${HEARTBEAT_COLUMNS} FROM removed)`,
            withoutRows: 'near',
            sign: -1,
        })}
    RETURN NULL;
END $$`)
    }

    async down(db) {
        await restoreChangeFunctions(db)
    }
}
