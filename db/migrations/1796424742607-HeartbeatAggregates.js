// Written by hand, not by `squid-typeorm-migration generate`: heartbeat_day_cover is no entity, so the generator
// neither creates it nor drops it (TypeORM 0.3 compares only the tables of entities).
//
// heartbeat_day_cover holds, per (operator, service, UTC day), the milliseconds of the day that healthy heartbeats
// cover, by the scorecard's rule (docs/scorecard.md): a heartbeat with status 0 at t covers [t, t + grace), grace =
// the service's heartbeat interval × max missed, cut short by the next heartbeat of the operator in the service in
// (timestamp, id) order. Only heartbeats that have a next heartbeat are counted. The latest heartbeat of each
// (operator, service) covers up to t + grace, which may lie past any day stored, so readers add it themselves.
//
// Triggers keep the table current:
// - An INSERT or DELETE statement on heartbeat changes the cover of the rows it writes and of the heartbeats just
//   before and after them, and of nothing else. For each (operator, service) it touches, the trigger computes the
//   cover of the heartbeats between the previous heartbeat (before the earliest row written) and the next one (after
//   the latest) once with the rows and once without, and adds the difference per day. typeorm-store's rollback of a
//   hot block deletes heartbeat rows, so a reorg takes their cover out the same way.
// - A change of a service's heartbeat interval or max missed recomputes every day of the service, and an UPDATE of
//   heartbeat rows every day of the pairs it touches.
// `up` fills the table from the heartbeats already stored.
//
// NOTE: a generated migration must keep these triggers; the generator does not see them.

const DAY_MS = 86_400_000

const epochMs = (column) => `floor(extract(epoch FROM ${column}) * 1000)`

// Cover per (operator, service, UTC day) of the heartbeats of `rows` (operator_id, service_id, id, timestamp,
// status_code) inside each pair's bounds in `bounds` (operator_id, service_id, range_from, range_to, grace_ms). Rows at
// range_to only end the cover of the rows before them. The bounds are timestamps, -infinity and infinity for none, so
// that the heartbeat index on (operator_id, service_id, timestamp) serves the range. `grace` is the SQL of a row's
// grace in ms; a later migration passes a column of `rows`.
const coverPerDay = (rows, bounds, grace = 'b.grace_ms') => `
SELECT c.operator_id, c.service_id,
       (to_timestamp(d.day_ms / 1000) AT TIME ZONE 'UTC')::date AS day,
       sum(least(c.end_ms, d.day_ms + ${DAY_MS}) - greatest(c.start_ms, d.day_ms)) AS covered_ms
FROM (
  SELECT r.operator_id, r.service_id, r.status_code, r.timestamp, b.range_to,
         ${epochMs('r.timestamp')} AS start_ms,
         least(${epochMs('r.timestamp')} + ${grace}, lead(${epochMs('r.timestamp')}) OVER w) AS end_ms,
         lead(r.id) OVER w AS next_id
  FROM ${rows} r JOIN ${bounds} b ON b.operator_id = r.operator_id AND b.service_id = r.service_id
  WHERE r.timestamp >= b.range_from AND r.timestamp <= b.range_to
  WINDOW w AS (PARTITION BY r.operator_id, r.service_id ORDER BY r.timestamp, r.id)
) c
CROSS JOIN LATERAL generate_series(floor(c.start_ms / ${DAY_MS}) * ${DAY_MS}, floor((c.end_ms - 1) / ${DAY_MS}) * ${DAY_MS}, ${DAY_MS}) AS d(day_ms)
WHERE c.next_id IS NOT NULL AND c.status_code = 0 AND c.end_ms > c.start_ms
  AND c.timestamp < c.range_to
GROUP BY 1, 2, 3`

// Bounds of the (operator, service) pairs of the rows `changed`. range_from is the latest heartbeat before the
// earliest changed row, range_to the earliest after the latest; no changed row lies outside [lo, hi], so the table can
// be read as it is, with or without them.
const changedBounds = (changed) => `
SELECT p.operator_id, p.service_id, s.heartbeat_interval * s.heartbeat_max_missed * 1000 AS grace_ms,
       coalesce((SELECT max(h.timestamp) FROM heartbeat h
                 WHERE h.operator_id = p.operator_id AND h.service_id = p.service_id AND h.timestamp < p.lo), '-infinity') AS range_from,
       coalesce((SELECT min(h.timestamp) FROM heartbeat h
                 WHERE h.operator_id = p.operator_id AND h.service_id = p.service_id AND h.timestamp > p.hi), 'infinity') AS range_to
FROM (SELECT operator_id, service_id, min(timestamp) AS lo, max(timestamp) AS hi FROM ${changed} GROUP BY 1, 2) p
JOIN service s ON s.id = p.service_id`

const HEARTBEAT_COLUMNS = 'id, operator_id, service_id, timestamp, status_code'

// Adds the cover with the changed rows minus the cover without them, times `sign`, and drops days that reach zero.
// A later migration passes its own `bounds` statement and `grace` expression (see coverPerDay).
const applyChange = ({changed, withRows, withoutRows, sign, moreCtes = '', bounds = changedBounds(changed), grace = undefined}) => `
    WITH bounds AS (${bounds})${moreCtes}
    INSERT INTO heartbeat_day_cover AS t (operator_id, service_id, day, covered_ms)
    SELECT operator_id, service_id, day, (${sign} * sum(covered_ms))::bigint FROM (
      SELECT * FROM (${coverPerDay(withRows, 'bounds', grace)}) with_rows
      UNION ALL
      SELECT operator_id, service_id, day, -covered_ms FROM (${coverPerDay(withoutRows, 'bounds', grace)}) without_rows
    ) difference
    GROUP BY 1, 2, 3 HAVING sum(covered_ms) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (operator_id, service_id, day) DO UPDATE SET covered_ms = t.covered_ms + EXCLUDED.covered_ms;
    DELETE FROM heartbeat_day_cover t USING (SELECT DISTINCT operator_id, service_id FROM ${changed}) p
    WHERE t.operator_id = p.operator_id AND t.service_id = p.service_id AND t.covered_ms = 0;`

const allBounds = (where) => `(SELECT DISTINCT h.operator_id, h.service_id, s.heartbeat_interval * s.heartbeat_max_missed * 1000 AS grace_ms,
        '-infinity'::timestamptz AS range_from, 'infinity'::timestamptz AS range_to
 FROM heartbeat h JOIN service s ON s.id = h.service_id ${where})`

// Services whose heartbeat interval or max missed an UPDATE statement changed.
const CHANGED_SERVICES = `SELECT n.id FROM changed_new n JOIN changed_old o ON o.id = n.id
    WHERE (n.heartbeat_interval, n.heartbeat_max_missed) IS DISTINCT FROM (o.heartbeat_interval, o.heartbeat_max_missed)`

// After an INSERT the table holds the rows; after a DELETE it no longer does, so the difference is the other way.
const without = (changed) => `(SELECT h.${HEARTBEAT_COLUMNS.replaceAll(', ', ', h.')} FROM heartbeat h WHERE NOT EXISTS (SELECT 1 FROM ${changed} c WHERE c.id = h.id))`

/** Creates (or with 'CREATE OR REPLACE', restores) the functions of the INSERT and DELETE triggers of this migration. */
async function createChangeFunctions(db, create) {
    await db.query(`${create} FUNCTION heartbeat_cover_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${applyChange({changed: 'inserted', withRows: 'heartbeat', withoutRows: without('inserted'), sign: 1})}
    RETURN NULL;
END $$`)
    await db.query(`${create} FUNCTION heartbeat_cover_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${applyChange({
        changed: 'removed',
        withRows: `(SELECT ${HEARTBEAT_COLUMNS} FROM heartbeat UNION ALL SELECT ${HEARTBEAT_COLUMNS} FROM removed)`,
        withoutRows: 'heartbeat',
        sign: -1,
    })}
    RETURN NULL;
END $$`)
}

module.exports = class HeartbeatAggregates1796424742607 {
    name = 'HeartbeatAggregates1796424742607'

    /** The statement builders, for the migrations that replace these functions or go back to this rule. */
    static sql = {applyChange, HEARTBEAT_COLUMNS, coverPerDay, allBounds}

    /** Restores this migration's INSERT and DELETE trigger functions, for the `down` of a migration that replaced them. */
    static restoreChangeFunctions = (db) => createChangeFunctions(db, 'CREATE OR REPLACE')

    async up(db) {
        await db.query(`CREATE TABLE "heartbeat_day_cover" (
            "operator_id" character varying NOT NULL,
            "service_id" character varying NOT NULL,
            "day" date NOT NULL,
            "covered_ms" bigint NOT NULL,
            CONSTRAINT "PK_heartbeat_day_cover" PRIMARY KEY ("operator_id", "service_id", "day"))`)

        await createChangeFunctions(db, 'CREATE')
        // The processor upserts services with every column, so the trigger first checks whether the grace changed.
        await db.query(`CREATE FUNCTION heartbeat_cover_after_service_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (${CHANGED_SERVICES}) THEN
        RETURN NULL;
    END IF;
    DELETE FROM heartbeat_day_cover WHERE service_id IN (${CHANGED_SERVICES});
    INSERT INTO heartbeat_day_cover (operator_id, service_id, day, covered_ms)
    SELECT operator_id, service_id, day, covered_ms FROM (${coverPerDay('heartbeat', allBounds(`WHERE h.service_id IN (${CHANGED_SERVICES})`))}) cover;
    RETURN NULL;
END $$`)

        // Heartbeats are log rows that nothing updates; should one be updated all the same (manual repair), every day
        // of the (operator, service) pairs before and after the change is recomputed.
        await db.query(`CREATE FUNCTION heartbeat_cover_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM heartbeat_day_cover t
    USING (SELECT operator_id, service_id FROM removed UNION SELECT operator_id, service_id FROM inserted) p
    WHERE t.operator_id = p.operator_id AND t.service_id = p.service_id;
    INSERT INTO heartbeat_day_cover (operator_id, service_id, day, covered_ms)
    SELECT operator_id, service_id, day, covered_ms FROM (${coverPerDay('heartbeat', allBounds(`WHERE (h.operator_id, h.service_id) IN
        (SELECT operator_id, service_id FROM removed UNION SELECT operator_id, service_id FROM inserted)`))}) cover;
    RETURN NULL;
END $$`)

        await db.query(`CREATE TRIGGER heartbeat_cover_insert AFTER INSERT ON "heartbeat"
            REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_cover_after_insert()`)
        await db.query(`CREATE TRIGGER heartbeat_cover_delete AFTER DELETE ON "heartbeat"
            REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_cover_after_delete()`)
        await db.query(`CREATE TRIGGER heartbeat_cover_update AFTER UPDATE ON "heartbeat"
            REFERENCING OLD TABLE AS removed NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_cover_after_update()`)
        await db.query(`CREATE TRIGGER heartbeat_cover_service_update AFTER UPDATE ON "service"
            REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_cover_after_service_update()`)

        // Backfill. CREATE TRIGGER locked heartbeat and service against writes until the migration commits.
        await db.query(`INSERT INTO heartbeat_day_cover (operator_id, service_id, day, covered_ms)
            SELECT operator_id, service_id, day, covered_ms FROM (${coverPerDay('heartbeat', allBounds(''))}) cover`)
        await db.query(`ANALYZE heartbeat_day_cover`)
    }

    async down(db) {
        await db.query(`DROP TRIGGER heartbeat_cover_service_update ON "service"`)
        await db.query(`DROP TRIGGER heartbeat_cover_update ON "heartbeat"`)
        await db.query(`DROP TRIGGER heartbeat_cover_delete ON "heartbeat"`)
        await db.query(`DROP TRIGGER heartbeat_cover_insert ON "heartbeat"`)
        await db.query(`DROP FUNCTION heartbeat_cover_after_service_update()`)
        await db.query(`DROP FUNCTION heartbeat_cover_after_update()`)
        await db.query(`DROP FUNCTION heartbeat_cover_after_delete()`)
        await db.query(`DROP FUNCTION heartbeat_cover_after_insert()`)
        await db.query(`DROP TABLE "heartbeat_day_cover"`)
    }
}
