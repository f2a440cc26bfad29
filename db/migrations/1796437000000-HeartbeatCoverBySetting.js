// Written by hand: heartbeat_day_cover by the heartbeat setting in force at each heartbeat, and only for heartbeats
// that an operator sent while it was a member of the service (src/db/counted-heartbeats.ts states both rules).
//
// The triggers of 1796424742607-HeartbeatAggregates.js gave every heartbeat of a service the service's present
// interval × max missed, and recomputed the whole service with the new grace when the setting changed. So a week of
// hourly heartbeats sent under a one-hour setting (grace 2 h) lost most of its cover once the service went back to
// 60 s (grace 3 min). They also counted heartbeats sent for an operator that had left the service.
//
// Here a heartbeat counts when a service_membership row of its (operator, service) was open at its timestamp
// (joined_at <= t, and no left_at or left_at > t). Its grace is interval × max missed of the service's latest
// heartbeat_config_change before it in (timestamp, id) order, or 300 s × 3 when there is none. A counted heartbeat
// with status 0 covers [t, t + grace), cut short by the pair's next counted heartbeat. A heartbeat that does not count
// neither covers nor cuts short. The rest of the old rule stands (see that migration).
//
// Triggers keep the table current:
// - INSERT and DELETE on heartbeat add the difference the changed rows make between the counted heartbeats before
//   and after them, as before, and the INSERT trigger still leaves a writer's rows to the writer
//   (1796433000000-HeartbeatCoverByWriter.js). An UPDATE recomputes the pairs it touches.
// - A change of heartbeat_config_change recomputes the pairs of its service that have a heartbeat at or after the
//   change. A change of service_membership recomputes its pair when the pair has a heartbeat at or after the earliest
//   instant whose membership changed. The processor writes both before the heartbeats of its batch, so at the chain
//   head these triggers find nothing to recompute.
// - The service row's heartbeat columns are no longer read, so its UPDATE trigger is dropped.
// The scorecard cache now also reads heartbeat_config_change, so a change of it deletes the cached periods that end
// after the change, as for the other tables with an instant (1796432000000-ScorecardCache.js).
//
// NOTE: a generated migration must keep these triggers; the generator does not see them.

const {sql: previousRule} = require('./1796424742607-HeartbeatAggregates.js')

/** Setting of a service that no HeartbeatConfigUpdated has configured yet. */
const DEFAULT_INTERVAL_SECONDS = 300
const DEFAULT_MAX_MISSED = 3

// The counted heartbeats of `rows` (id, operator_id, service_id, timestamp, status_code), each with the grace in ms of
// the setting in force when it was sent.
const counted = (rows) => `(
  SELECT r.id, r.operator_id, r.service_id, r.timestamp, r.status_code,
         coalesce(setting.interval, ${DEFAULT_INTERVAL_SECONDS}) * coalesce(setting.max_missed, ${DEFAULT_MAX_MISSED}) * 1000 AS grace_ms
  FROM ${rows} r
  LEFT JOIN LATERAL (
    SELECT c.interval, c.max_missed FROM heartbeat_config_change c
    WHERE c.service_id = r.service_id AND (c.timestamp, c.id) < (r.timestamp, r.id)
    ORDER BY c.timestamp DESC, c.id DESC
    LIMIT 1
  ) setting ON true
  WHERE EXISTS (SELECT 1 FROM service_membership m
                WHERE m.service_id = r.service_id AND m.operator_id = r.operator_id
                  AND m.joined_at <= r.timestamp AND (m.left_at IS NULL OR m.left_at > r.timestamp)))`

// Cover per (operator, service, UTC day) of the counted heartbeats `rows` (as `counted` returns them) inside each
// pair's bounds in `bounds` (operator_id, service_id, range_from, range_to), by the old statement with each row's grace.
const coverPerDay = (rows, bounds) => previousRule.coverPerDay(rows, bounds, 'r.grace_ms')

// The timestamp of the latest (`max`, `<`) or earliest (`min`, `>`) counted heartbeat of pair `p` beyond `instant`:
// one index range probe of heartbeat (operator_id, service_id, timestamp) inside each membership of the pair.
const countedEdge = (aggregate, comparison, instant) => `(
  SELECT ${aggregate}(beat.at) FROM service_membership m
  CROSS JOIN LATERAL (
    SELECT ${aggregate}(h.timestamp) AS at FROM heartbeat h
    WHERE h.operator_id = m.operator_id AND h.service_id = m.service_id AND h.timestamp >= m.joined_at
      AND (m.left_at IS NULL OR h.timestamp < m.left_at) AND h.timestamp ${comparison} ${instant}
  ) beat
  WHERE m.operator_id = p.operator_id AND m.service_id = p.service_id)`

// Bounds of the pairs of the heartbeat rows `changed`: the latest counted heartbeat before the earliest changed row
// and the earliest counted one after the latest. A counted heartbeat before range_from is cut short by one at or
// before it, and one after range_to by its own next, so their cover does not change.
const changedBounds = (changed) => `
SELECT p.operator_id, p.service_id,
       coalesce(${countedEdge('max', '<', 'p.lo')}, '-infinity') AS range_from,
       coalesce(${countedEdge('min', '>', 'p.hi')}, 'infinity') AS range_to
FROM (SELECT operator_id, service_id, min(timestamp) AS lo, max(timestamp) AS hi FROM ${changed} GROUP BY 1, 2) p`

// The counted stored heartbeats of each pair of `bounds` inside its bounds. OFFSET 0 keeps the planner from
// flattening the subquery into a join that scans the whole table.
const NEAR = `near AS MATERIALIZED (
      SELECT * FROM ${counted(`(SELECT x.* FROM bounds b CROSS JOIN LATERAL (
        SELECT h.id, h.operator_id, h.service_id, h.timestamp, h.status_code FROM heartbeat h
        WHERE h.operator_id = b.operator_id AND h.service_id = b.service_id
          AND h.timestamp >= b.range_from AND h.timestamp <= b.range_to
        OFFSET 0
      ) x)`)} n
    )`

// Adds the cover with the changed rows minus the cover without them, times `sign`, by the old statement with the
// bounds and grace of counted heartbeats and the near rows as `near`.
const applyChange = ({changed, withRows, withoutRows, sign}) =>
    previousRule.applyChange({changed, withRows, withoutRows, sign, bounds: changedBounds(changed), grace: 'r.grace_ms', moreCtes: `, ${NEAR}`})

// Every heartbeat of the pairs given as the arrays `operators` and `services`, and bounds that take all of them.
const PAIRS = `(SELECT DISTINCT u.operator_id, u.service_id FROM unnest(operators, services) AS u(operator_id, service_id))`
const PAIR_ROWS = `(SELECT h.id, h.operator_id, h.service_id, h.timestamp, h.status_code
  FROM ${PAIRS} p JOIN heartbeat h ON h.operator_id = p.operator_id AND h.service_id = p.service_id)`
const unbounded = (pairs) => `(SELECT p.operator_id, p.service_id, '-infinity'::timestamptz AS range_from,
  'infinity'::timestamptz AS range_to FROM ${pairs} p)`

// Membership rows whose change can change which heartbeats count, as (operator_id, service_id, since): heartbeats
// before `since` keep their status. An UPDATE that moves only left_at changes the heartbeats from the earlier left_at.
const MEMBERSHIP_CHANGES = {
    INSERT: `SELECT operator_id, service_id, joined_at AS since FROM changed_new`,
    DELETE: `SELECT operator_id, service_id, joined_at AS since FROM changed_old`,
    UPDATE: `SELECT pair.operator_id, pair.service_id,
       CASE WHEN n.id IS NULL OR o.id IS NULL
                 OR (n.operator_id, n.service_id, n.joined_at) IS DISTINCT FROM (o.operator_id, o.service_id, o.joined_at)
              THEN least(n.joined_at, o.joined_at)
            WHEN n.left_at IS DISTINCT FROM o.left_at
              THEN least(coalesce(n.left_at, 'infinity'), coalesce(o.left_at, 'infinity'))
       END AS since
FROM changed_new n FULL JOIN changed_old o ON o.id = n.id
CROSS JOIN LATERAL (VALUES (n.operator_id, n.service_id), (o.operator_id, o.service_id)) AS pair(operator_id, service_id)
WHERE pair.operator_id IS NOT NULL`,
}

// Setting changes as (service_id, since): heartbeats before `since` keep their setting.
const SETTING_CHANGES = {
    INSERT: `SELECT service_id, timestamp AS since FROM changed_new`,
    DELETE: `SELECT service_id, timestamp AS since FROM changed_old`,
    UPDATE: `SELECT pair.service_id, least(n.timestamp, o.timestamp) AS since
FROM changed_new n FULL JOIN changed_old o ON o.id = n.id
CROSS JOIN LATERAL (VALUES (n.service_id), (o.service_id)) AS pair(service_id)
WHERE pair.service_id IS NOT NULL
  AND (n.id IS NULL OR o.id IS NULL
       OR (n.service_id, n.interval, n.max_missed, n.timestamp) IS DISTINCT FROM (o.service_id, o.interval, o.max_missed, o.timestamp))`,
}

const EVENTS = [
    {event: 'INSERT', referencing: 'NEW TABLE AS changed_new'},
    {event: 'DELETE', referencing: 'OLD TABLE AS changed_old'},
    {event: 'UPDATE', referencing: 'OLD TABLE AS changed_old NEW TABLE AS changed_new'},
]

const recomputePairs = (pairs) => `
    PERFORM heartbeat_cover_recompute(array_agg(c.operator_id), array_agg(c.service_id)) FROM (${pairs}) c HAVING count(*) > 0;`

/** Scorecard cache triggers of heartbeat_config_change, with the functions of 1796432000000-ScorecardCache.js. */
const cacheTriggerName = (suffix) => `scorecard_cache_heartbeat_config_change_${suffix}`

module.exports = class HeartbeatCoverBySetting1796437000000 {
    name = 'HeartbeatCoverBySetting1796437000000'

    async up(db) {
        // The index that schema.graphql declares for the setting lookups; it replaces the one on service_id alone.
        await db.query(`DROP INDEX "IDX_e34f4a9ba16d157ba3ec93bf88"`)
        await db.query(`CREATE INDEX "IDX_9332e59d554b3103142beda6c8" ON "heartbeat_config_change" ("service_id", "timestamp", "id")`)

        await db.query(`CREATE FUNCTION heartbeat_cover_recompute(operators text[], services text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM heartbeat_day_cover t USING ${PAIRS} p WHERE t.operator_id = p.operator_id AND t.service_id = p.service_id;
    INSERT INTO heartbeat_day_cover (operator_id, service_id, day, covered_ms)
    SELECT operator_id, service_id, day, covered_ms FROM (${coverPerDay(counted(PAIR_ROWS), unbounded(PAIRS))}) cover;
END $$`)

        await db.query(`CREATE FUNCTION heartbeat_cover_by_setting_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('proofgap.heartbeat_cover', true) = 'writer' THEN
        RETURN NULL;
    END IF;${applyChange({
            changed: 'inserted',
            withRows: 'near',
            withoutRows: `(SELECT n.* FROM near n WHERE NOT EXISTS (SELECT 1 FROM inserted c WHERE c.id = n.id))`,
            sign: 1,
        })}
    RETURN NULL;
END $$`)
        await db.query(`CREATE FUNCTION heartbeat_cover_by_setting_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${applyChange({
            changed: 'removed',
            withRows: `(SELECT * FROM near UNION ALL SELECT * FROM ${counted('removed')} x)`,
            withoutRows: 'near',
            sign: -1,
        })}
    RETURN NULL;
END $$`)
        // Heartbeats are log rows that nothing updates; should one be updated all the same (manual repair), every day
        // of the (operator, service) pairs before and after the change is recomputed.
        await db.query(`CREATE FUNCTION heartbeat_cover_by_setting_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${recomputePairs('SELECT operator_id, service_id FROM removed UNION SELECT operator_id, service_id FROM inserted')}
    RETURN NULL;
END $$`)

        for (const {event} of EVENTS) {
            const lower = event.toLowerCase()
            await db.query(`CREATE FUNCTION heartbeat_cover_after_membership_${lower}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${recomputePairs(`SELECT DISTINCT x.operator_id, x.service_id FROM (${MEMBERSHIP_CHANGES[event]}) x
      WHERE x.since IS NOT NULL AND EXISTS (SELECT 1 FROM heartbeat h
        WHERE h.operator_id = x.operator_id AND h.service_id = x.service_id AND h.timestamp >= x.since)`)}
    RETURN NULL;
END $$`)
            // A pair with cover has a membership, so the pairs of a service are found through its memberships.
            await db.query(`CREATE FUNCTION heartbeat_cover_after_setting_${lower}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${recomputePairs(`SELECT DISTINCT m.operator_id, m.service_id FROM (${SETTING_CHANGES[event]}) x
      JOIN service_membership m ON m.service_id = x.service_id
      WHERE EXISTS (SELECT 1 FROM heartbeat h
        WHERE h.operator_id = m.operator_id AND h.service_id = m.service_id AND h.timestamp >= x.since)`)}
    RETURN NULL;
END $$`)
        }

        await db.query(`DROP TRIGGER heartbeat_cover_service_update ON "service"`)
        for (const {event, referencing} of EVENTS) {
            const lower = event.toLowerCase()
            const transition = {INSERT: 'NEW TABLE AS inserted', DELETE: 'OLD TABLE AS removed', UPDATE: 'OLD TABLE AS removed NEW TABLE AS inserted'}[event]
            await db.query(`DROP TRIGGER heartbeat_cover_${lower} ON "heartbeat"`)
            await db.query(`CREATE TRIGGER heartbeat_cover_${lower} AFTER ${event} ON "heartbeat"
                REFERENCING ${transition} FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_cover_by_setting_after_${lower}()`)
            await db.query(`CREATE TRIGGER heartbeat_cover_membership_${lower} AFTER ${event} ON "service_membership"
                REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_cover_after_membership_${lower}()`)
            await db.query(`CREATE TRIGGER heartbeat_cover_setting_${lower} AFTER ${event} ON "heartbeat_config_change"
                REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_cover_after_setting_${lower}()`)
        }

        await db.query(`CREATE TRIGGER ${cacheTriggerName('lock')} BEFORE INSERT OR UPDATE OR DELETE ON "heartbeat_config_change"
            FOR EACH STATEMENT EXECUTE FUNCTION scorecard_cache_writer_lock()`)
        for (const {event, referencing} of EVENTS) {
            const lower = event.toLowerCase()
            await db.query(`CREATE TRIGGER ${cacheTriggerName(lower)} AFTER ${event} ON "heartbeat_config_change"
                REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION scorecard_cache_timed_${lower}('timestamp')`)
        }

        // Recompute by the new rule. CREATE TRIGGER locked the tables against writes until the migration commits.
        await db.query(`TRUNCATE heartbeat_day_cover`)
        await db.query(`INSERT INTO heartbeat_day_cover (operator_id, service_id, day, covered_ms)
            SELECT operator_id, service_id, day, covered_ms
            FROM (${coverPerDay(counted('heartbeat'), unbounded('(SELECT DISTINCT operator_id, service_id FROM heartbeat)'))}) cover`)
        await db.query(`ANALYZE heartbeat_day_cover`)
        // Cached scorecards were computed by the old rule.
        await db.query(`DELETE FROM scorecard_cache`)
    }

    async down(db) {
        for (const suffix of ['lock', 'insert', 'delete', 'update']) await db.query(`DROP TRIGGER ${cacheTriggerName(suffix)} ON "heartbeat_config_change"`)
        for (const {event} of EVENTS) {
            const lower = event.toLowerCase()
            const transition = {INSERT: 'NEW TABLE AS inserted', DELETE: 'OLD TABLE AS removed', UPDATE: 'OLD TABLE AS removed NEW TABLE AS inserted'}[event]
            await db.query(`DROP TRIGGER heartbeat_cover_setting_${lower} ON "heartbeat_config_change"`)
            await db.query(`DROP TRIGGER heartbeat_cover_membership_${lower} ON "service_membership"`)
            await db.query(`DROP TRIGGER heartbeat_cover_${lower} ON "heartbeat"`)
            await db.query(`CREATE TRIGGER heartbeat_cover_${lower} AFTER ${event} ON "heartbeat"
                REFERENCING ${transition} FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_cover_after_${lower}()`)
            await db.query(`DROP FUNCTION heartbeat_cover_after_setting_${lower}()`)
            await db.query(`DROP FUNCTION heartbeat_cover_after_membership_${lower}()`)
            await db.query(`DROP FUNCTION heartbeat_cover_by_setting_after_${lower}()`)
        }
        await db.query(`CREATE TRIGGER heartbeat_cover_service_update AFTER UPDATE ON "service"
            REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_cover_after_service_update()`)
        await db.query(`DROP FUNCTION heartbeat_cover_recompute(text[], text[])`)
        await db.query(`DROP INDEX "IDX_9332e59d554b3103142beda6c8"`)
        await db.query(`CREATE INDEX "IDX_e34f4a9ba16d157ba3ec93bf88" ON "heartbeat_config_change" ("service_id")`)

        await db.query(`TRUNCATE heartbeat_day_cover`)
        await db.query(`INSERT INTO heartbeat_day_cover (operator_id, service_id, day, covered_ms)
            SELECT operator_id, service_id, day, covered_ms FROM (${previousRule.coverPerDay('heartbeat', previousRule.allBounds(''))}) cover`)
        await db.query(`DELETE FROM scorecard_cache`)
    }
}
