// Written by hand, not by `squid-typeorm-migration generate`: scorecard_cache is no entity, so the generator neither
// creates it nor drops it.
//
// scorecard_cache keeps the scorecards of a subject (one operator, one blueprint, or both) for a period that has
// ended, as src/gap/scorecard-cache.ts computed them; `bytes` is the length of `body`, which the filler keeps under
// SCORECARD_CACHE_MAX_MB by deleting the rows computed longest ago. A row holds as long as no row it was computed from changes, and
// the triggers below delete it when one does:
// - heartbeat, proof_record, job_call, job_result and product_event carry the instant of what they record. A
//   statement that writes, updates or deletes rows of them deletes the cached periods that end after the earliest
//   instant among those rows; what happened later cannot change a period that ended before it. A prober writes
//   records of the present and an indexer at the head writes recent blocks, so in steady state nothing is deleted.
// - registration, blueprint, service, service_membership, slash, redemption, provisioned_endpoint and sandbox are
//   read in their present state (a registration's status, a service's heartbeat interval, a slash's execution), so
//   any change of them deletes every cached row.
//
// Writers and the cache filler meet on one PostgreSQL advisory lock (key SCORECARD_CACHE_LOCK): a BEFORE STATEMENT
// trigger takes it shared before a statement writes any of these tables, and a filler takes it exclusive before it
// reads. So a filler never reads past a write that is not committed yet and would then store a row the writer's
// delete missed: it waits for open writers to end, and writers wait for it to store its rows (a few hundred ms).
//
// NOTE: a generated migration must keep these triggers; the generator does not see them.

/** Same value as SCORECARD_CACHE_LOCK in src/gap/scorecard-cache.ts ('pgscore1' as a 64-bit integer). */
const LOCK = '8099569325757850929'

/** Tables whose rows carry the instant they record, with its column. */
const TIMED = {
    heartbeat: 'timestamp',
    proof_record: 'observed_at',
    job_call: 'timestamp',
    job_result: 'timestamp',
    product_event: 'timestamp',
}

/** Tables read in their present state. */
const STATE = ['registration', 'blueprint', 'service', 'service_membership', 'slash', 'redemption', 'provisioned_endpoint', 'sandbox']

const EVENTS = [
    {event: 'INSERT', referencing: 'NEW TABLE AS changed_new', tables: ['changed_new']},
    {event: 'DELETE', referencing: 'OLD TABLE AS changed_old', tables: ['changed_old']},
    {event: 'UPDATE', referencing: 'OLD TABLE AS changed_old NEW TABLE AS changed_new', tables: ['changed_old', 'changed_new']},
]

const triggerName = (table, suffix) => `scorecard_cache_${table}_${suffix}`

module.exports = class ScorecardCache1796432000000 {
    name = 'ScorecardCache1796432000000'

    async up(db) {
        await db.query(`CREATE TABLE scorecard_cache (
            blueprint_key text NOT NULL,
            operator_key text NOT NULL,
            period_from timestamptz NOT NULL,
            period_to timestamptz NOT NULL,
            settings_key text NOT NULL,
            body text NOT NULL,
            bytes integer NOT NULL,
            computed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (blueprint_key, operator_key, period_from, period_to, settings_key))`)
        await db.query(`CREATE INDEX scorecard_cache_period_to ON scorecard_cache (period_to)`)

        await db.query(`CREATE FUNCTION scorecard_cache_writer_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(${LOCK});
  RETURN NULL;
END $$`)
        // One function per event and table kind, because a function names the transition tables it reads. TG_ARGV[0]
        // is the instant column of a timed table. They run as the table's owner, so the roles of the processor and
        // the prober need no privilege on scorecard_cache.
        for (const {event, tables} of EVENTS) {
            const lower = event.toLowerCase()
            const earliest = tables.map((t) => `(SELECT min(%1$I) FROM ${t})`).join(', ')
            await db.query(`CREATE FUNCTION scorecard_cache_timed_${lower}() RETURNS trigger LANGUAGE plpgsql
                SECURITY DEFINER SET search_path = public AS $$
DECLARE earliest timestamptz;
BEGIN
  EXECUTE format('SELECT least(${earliest})', TG_ARGV[0]) INTO earliest;
  IF earliest IS NOT NULL THEN
    DELETE FROM scorecard_cache WHERE period_to > earliest;
  END IF;
  RETURN NULL;
END $$`)
            const any = tables.map((t) => `EXISTS (SELECT 1 FROM ${t})`).join(' OR ')
            await db.query(`CREATE FUNCTION scorecard_cache_state_${lower}() RETURNS trigger LANGUAGE plpgsql
                SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF ${any} THEN
    DELETE FROM scorecard_cache;
  END IF;
  RETURN NULL;
END $$`)
        }

        for (const table of [...Object.keys(TIMED), ...STATE]) {
            const column = TIMED[table]
            await db.query(`CREATE TRIGGER ${triggerName(table, 'lock')} BEFORE INSERT OR UPDATE OR DELETE ON "${table}"
                FOR EACH STATEMENT EXECUTE FUNCTION scorecard_cache_writer_lock()`)
            for (const {event, referencing} of EVENTS) {
                const lower = event.toLowerCase()
                const fn = column === undefined ? `scorecard_cache_state_${lower}()` : `scorecard_cache_timed_${lower}('${column}')`
                await db.query(`CREATE TRIGGER ${triggerName(table, lower)} AFTER ${event} ON "${table}"
                    REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}`)
            }
        }
    }

    async down(db) {
        for (const table of [...Object.keys(TIMED), ...STATE]) {
            for (const suffix of ['lock', 'insert', 'delete', 'update']) await db.query(`DROP TRIGGER ${triggerName(table, suffix)} ON "${table}"`)
        }
        for (const {event} of EVENTS) {
            const lower = event.toLowerCase()
            await db.query(`DROP FUNCTION scorecard_cache_timed_${lower}()`)
            await db.query(`DROP FUNCTION scorecard_cache_state_${lower}()`)
        }
        await db.query(`DROP FUNCTION scorecard_cache_writer_lock()`)
        await db.query(`DROP TABLE scorecard_cache`)
    }
}
