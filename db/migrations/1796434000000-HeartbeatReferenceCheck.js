// Written by hand: checks heartbeat's references to service and operator once per statement, in place of the two
// foreign keys of 1796420690601-Data.js.
//
// A foreign key checks each inserted row on its own: it looks up the referenced row and locks it. For heartbeat that
// was 8 to 11 of the 19 to 22 µs PostgreSQL spent on a row of a finalized batch (BENCHMARKS.md, write breakdown), and
// the processor writes heartbeats by the million. A batch of 19,100 heartbeats references about a hundred distinct
// services and operators, so the triggers below look each of them up once per statement instead:
// - After an INSERT or UPDATE of heartbeat, every service and operator the new rows name is locked FOR KEY SHARE, as a
//   foreign key would lock it, and a name without its row stops the statement with SQLSTATE 23503
//   (foreign_key_violation). NULL references pass, as they do under a foreign key.
// - After a DELETE or UPDATE of service or operator, an id that is gone from the table while a heartbeat still names it
//   stops the statement with the same SQLSTATE, as NO ACTION would.
// - After a TRUNCATE of service or operator, any heartbeat that names one stops it. A foreign key would have made
//   TRUNCATE ... CASCADE empty heartbeat too; name heartbeat in the TRUNCATE instead.
//
// NOTE: a foreign key checks a parent's DELETE against heartbeats committed after the deleting transaction's snapshot
// was taken; these triggers read with that snapshot. What counts is the deleting (or truncating) transaction's level.
// Under READ COMMITTED the trigger's query takes a new snapshot after the DELETE has waited for the FOR KEY SHARE
// locks, and between two SERIALIZABLE transactions SSI stops one, so the result is the same there. A DELETE or
// TRUNCATE in a REPEATABLE READ transaction, or in a SERIALIZABLE one while a transaction that is not SERIALIZABLE adds
// heartbeats naming the row, can leave those heartbeats without it. The processor, the only writer of these tables,
// uses SERIALIZABLE. session_replication_role = replica skips these triggers, as it skips foreign keys.
//
// NOTE: `squid-typeorm-migration generate` sees the relations of the Heartbeat entity and will propose adding the two
// foreign keys back. Remove them from a generated migration.

const FOREIGN_KEYS = [
    {name: 'FK_bddba4274d105016db76c0afcce', column: 'service_id', table: 'service'},
    {name: 'FK_752f70cbc1c662930ad459d85f5', column: 'operator_id', table: 'operator'},
]

const CHILD_EVENTS = ['INSERT', 'UPDATE']
const PARENT_EVENTS = ['DELETE', 'UPDATE']

module.exports = class HeartbeatReferenceCheck1796434000000 {
    name = 'HeartbeatReferenceCheck1796434000000'

    async up(db) {
        for (const key of FOREIGN_KEYS) await db.query(`ALTER TABLE "heartbeat" DROP CONSTRAINT "${key.name}"`)

        // Locks first, then the check: a referenced row deleted by a transaction that committed while we waited for
        // its lock is then missing from the check's snapshot (READ COMMITTED takes one per statement).
        const locks = FOREIGN_KEYS.map(
            (key) => `  PERFORM 1 FROM "${key.table}" WHERE id IN (SELECT ${key.column} FROM new_heartbeats) FOR KEY SHARE;`,
        ).join('\n')
        const checks = FOREIGN_KEYS.map(
            (key) => `  SELECT k.id INTO missing FROM (SELECT DISTINCT ${key.column} AS id FROM new_heartbeats) k
    WHERE k.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "${key.table}" p WHERE p.id = k.id) LIMIT 1;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'heartbeat row references ${key.table} %, which does not exist', missing
      USING ERRCODE = 'foreign_key_violation', TABLE = 'heartbeat', COLUMN = '${key.column}';
  END IF;`,
        ).join('\n')
        await db.query(`CREATE FUNCTION heartbeat_references_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE missing text;
BEGIN
${locks}
${checks}
  RETURN NULL;
END $$`)
        for (const event of CHILD_EVENTS) {
            await db.query(`CREATE TRIGGER heartbeat_references_${event.toLowerCase()} AFTER ${event} ON "heartbeat"
                REFERENCING NEW TABLE AS new_heartbeats FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_references_check()`)
        }

        // TG_ARGV[0]: the heartbeat column that references the trigger's table.
        await db.query(`CREATE FUNCTION heartbeat_referenced_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE gone text;
BEGIN
  EXECUTE format('SELECT o.id FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM %1$I p WHERE p.id = o.id)
                    AND EXISTS (SELECT 1 FROM heartbeat h WHERE h.%2$I = o.id) LIMIT 1', TG_TABLE_NAME, TG_ARGV[0]) INTO gone;
  IF gone IS NOT NULL THEN
    RAISE EXCEPTION '% % is still referenced by heartbeat rows', TG_TABLE_NAME, gone
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END $$`)
        for (const key of FOREIGN_KEYS) {
            for (const event of PARENT_EVENTS) {
                await db.query(`CREATE TRIGGER heartbeat_referenced_${event.toLowerCase()} AFTER ${event} ON "${key.table}"
                    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_referenced_check('${key.column}')`)
            }
        }

        // AFTER TRUNCATE runs once every table of the statement is empty, so TRUNCATE heartbeat, service passes.
        await db.query(`CREATE FUNCTION heartbeat_referenced_truncate_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE named boolean;
BEGIN
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM heartbeat WHERE %I IS NOT NULL)', TG_ARGV[0]) INTO named;
  IF named THEN
    RAISE EXCEPTION 'cannot truncate %: heartbeat rows still reference it; truncate heartbeat in the same statement', TG_TABLE_NAME
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END $$`)
        for (const key of FOREIGN_KEYS) {
            await db.query(`CREATE TRIGGER heartbeat_referenced_truncate AFTER TRUNCATE ON "${key.table}"
                FOR EACH STATEMENT EXECUTE FUNCTION heartbeat_referenced_truncate_check('${key.column}')`)
        }
    }

    async down(db) {
        for (const key of FOREIGN_KEYS) await db.query(`DROP TRIGGER heartbeat_referenced_truncate ON "${key.table}"`)
        await db.query(`DROP FUNCTION heartbeat_referenced_truncate_check()`)
        for (const key of FOREIGN_KEYS) {
            for (const event of PARENT_EVENTS) await db.query(`DROP TRIGGER heartbeat_referenced_${event.toLowerCase()} ON "${key.table}"`)
        }
        await db.query(`DROP FUNCTION heartbeat_referenced_check()`)
        for (const event of CHILD_EVENTS) await db.query(`DROP TRIGGER heartbeat_references_${event.toLowerCase()} ON "heartbeat"`)
        await db.query(`DROP FUNCTION heartbeat_references_check()`)
        for (const key of FOREIGN_KEYS) {
            await db.query(`ALTER TABLE "heartbeat" ADD CONSTRAINT "${key.name}" FOREIGN KEY ("${key.column}") REFERENCES "${key.table}"("id")
                ON DELETE NO ACTION ON UPDATE NO ACTION`)
        }
    }
}
