// Written by hand, not by `squid-typeorm-migration generate`: these tables are no entities, so the generator neither
// creates them nor drops them (TypeORM 0.3 compares only the tables of entities). They summarize proof_record:
//
// - proof_latest: the latest record of each (operator, kind, outcome, blueprint, service), so that the gap query
//   reads one row per group in place of one index probe per (scope, kind, outcome) on proof_record.
// - probe_day_outcome and probe_day_latency: records per UTC day by (kind, outcome) and by (outcome, latency), so
//   that a scorecard reads a few rows per operator-day in place of every record of the period.
//
// Triggers on proof_record keep them current. An INSERT statement merges its new rows with ON CONFLICT DO UPDATE, so
// concurrent prober workers lose no update; a DELETE or UPDATE statement takes its rows out again (proof_latest:
// recomputes the groups it touched). `up` fills the tables from the records already stored.
//
// NOTE: each statement locks the summary rows it touches in key order, so single-statement transactions (the
// prober's insertProofRecords) cannot deadlock each other. Two transactions that each insert in several statements
// can, and PostgreSQL then aborts one of them.
//
// NOTE: a generated migration must never add an index to proof_record outside schema.graphql, and must keep these
// triggers; the generator only drops indexes, columns and foreign keys that the entities do not declare.

const GROUP = 'operator, kind, outcome, blueprint_id, has_service, service_key'

// Latest record, first observation and group key of every group of `source` (proof_record or a transition table).
// `has_service` and `service_key` stand for the nullable service_id in the primary key.
const latestPerGroup = (source) => `
SELECT DISTINCT ON (${GROUP}) ${GROUP}, id, observed_at, reason,
       min(observed_at) OVER (PARTITION BY ${GROUP}) AS first_observed_at
FROM (SELECT r.*, r.service_id IS NOT NULL AS has_service, coalesce(r.service_id, '') AS service_key FROM ${source} r) grouped
ORDER BY ${GROUP}, observed_at DESC, id DESC`

// Day counts of `source`: one row per (operator, blueprint, UTC day, kind, outcome) and one per (operator, blueprint,
// UTC day, outcome, latency) for records with a latency, each with its number of records, in key order.
const dayOutcomes = (source) => `
SELECT operator, blueprint_id, (observed_at AT TIME ZONE 'UTC')::date AS day, kind, outcome, count(*) AS records
FROM ${source} GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`
const dayLatencies = (source) => `
SELECT operator, blueprint_id, (observed_at AT TIME ZONE 'UTC')::date AS day, outcome, latency_ms, count(*) AS records
FROM ${source} WHERE latency_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`
const OUTCOME_KEY = 'operator, blueprint_id, day, kind, outcome'
const LATENCY_KEY = 'operator, blueprint_id, day, outcome, latency_ms'

module.exports = class ProofAggregates1796424742606 {
    name = 'ProofAggregates1796424742606'

    async up(db) {
        await db.query(`CREATE TABLE "proof_latest" (
            "operator" text NOT NULL,
            "kind" text NOT NULL,
            "outcome" text NOT NULL,
            "blueprint_id" text NOT NULL,
            "has_service" boolean NOT NULL,
            "service_key" text NOT NULL,
            "latest_id" character varying NOT NULL,
            "latest_observed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
            "latest_reason" text NOT NULL,
            "first_observed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT "PK_proof_latest" PRIMARY KEY (${GROUP}))`)
        await db.query(`CREATE TABLE "probe_day_outcome" (
            "operator" text NOT NULL,
            "blueprint_id" text NOT NULL,
            "day" date NOT NULL,
            "kind" text NOT NULL,
            "outcome" text NOT NULL,
            "records" bigint NOT NULL,
            CONSTRAINT "PK_probe_day_outcome" PRIMARY KEY (${OUTCOME_KEY}))`)
        await db.query(`CREATE TABLE "probe_day_latency" (
            "operator" text NOT NULL,
            "blueprint_id" text NOT NULL,
            "day" date NOT NULL,
            "outcome" text NOT NULL,
            "latency_ms" integer NOT NULL,
            "records" bigint NOT NULL,
            CONSTRAINT "PK_probe_day_latency" PRIMARY KEY (${LATENCY_KEY}))`)

        // Rows are merged in key order, so two statements that touch the same rows lock them in the same order.
        const addRecords = (source) => `
    INSERT INTO proof_latest AS l (${GROUP}, latest_id, latest_observed_at, latest_reason, first_observed_at)
    SELECT ${GROUP}, id, observed_at, reason, first_observed_at FROM (${latestPerGroup(source)}) g
    ORDER BY ${GROUP}
    ON CONFLICT (${GROUP}) DO UPDATE SET
        latest_id = CASE WHEN (EXCLUDED.latest_observed_at, EXCLUDED.latest_id) > (l.latest_observed_at, l.latest_id)
                         THEN EXCLUDED.latest_id ELSE l.latest_id END,
        latest_reason = CASE WHEN (EXCLUDED.latest_observed_at, EXCLUDED.latest_id) > (l.latest_observed_at, l.latest_id)
                             THEN EXCLUDED.latest_reason ELSE l.latest_reason END,
        latest_observed_at = greatest(EXCLUDED.latest_observed_at, l.latest_observed_at),
        first_observed_at = least(EXCLUDED.first_observed_at, l.first_observed_at);
    INSERT INTO probe_day_outcome AS t (${OUTCOME_KEY}, records) ${dayOutcomes(source)}
    ON CONFLICT (${OUTCOME_KEY}) DO UPDATE SET records = t.records + EXCLUDED.records;
    INSERT INTO probe_day_latency AS t (${LATENCY_KEY}, records) ${dayLatencies(source)}
    ON CONFLICT (${LATENCY_KEY}) DO UPDATE SET records = t.records + EXCLUDED.records;`

        // Records are append-only in normal operation, so DELETE and UPDATE (tests, manual repair) may be slow. The
        // day counts of the removed rows are subtracted, and every proof_latest group of the (operator, kind) pairs
        // touched is recomputed. The table lock, taken first, waits for inserts in flight and keeps new ones out until
        // this transaction ends, so the recomputation sees every committed record.
        const removeRecords = `
    LOCK TABLE proof_latest IN SHARE ROW EXCLUSIVE MODE;
    UPDATE probe_day_outcome t SET records = t.records - r.records FROM (${dayOutcomes('removed')}) r
    WHERE (t.operator, t.blueprint_id, t.day, t.kind, t.outcome) = (r.operator, r.blueprint_id, r.day, r.kind, r.outcome);
    DELETE FROM probe_day_outcome t USING (${dayOutcomes('removed')}) r
    WHERE (t.operator, t.blueprint_id, t.day, t.kind, t.outcome) = (r.operator, r.blueprint_id, r.day, r.kind, r.outcome)
      AND t.records = 0;
    UPDATE probe_day_latency t SET records = t.records - r.records FROM (${dayLatencies('removed')}) r
    WHERE (t.operator, t.blueprint_id, t.day, t.outcome, t.latency_ms) = (r.operator, r.blueprint_id, r.day, r.outcome, r.latency_ms);
    DELETE FROM probe_day_latency t USING (${dayLatencies('removed')}) r
    WHERE (t.operator, t.blueprint_id, t.day, t.outcome, t.latency_ms) = (r.operator, r.blueprint_id, r.day, r.outcome, r.latency_ms)
      AND t.records = 0;
    DELETE FROM proof_latest l USING (SELECT DISTINCT operator, kind FROM removed) t
    WHERE l.operator = t.operator AND l.kind = t.kind;
    INSERT INTO proof_latest (${GROUP}, latest_id, latest_observed_at, latest_reason, first_observed_at)
    SELECT ${GROUP}, id, observed_at, reason, first_observed_at
    FROM (${latestPerGroup('(SELECT p.* FROM proof_record p JOIN (SELECT DISTINCT operator, kind FROM removed) t ON p.operator = t.operator AND p.kind = t.kind)')}) g;`

        await db.query(`CREATE FUNCTION proof_aggregates_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${addRecords('inserted')}
    RETURN NULL;
END $$`)
        await db.query(`CREATE FUNCTION proof_aggregates_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${removeRecords}
    RETURN NULL;
END $$`)
        // An updated row is taken out with its old values and added with its new ones; proof_latest groups of the new
        // values are merged after the recomputation of the old ones.
        await db.query(`CREATE FUNCTION proof_aggregates_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${removeRecords}${addRecords('inserted')}
    RETURN NULL;
END $$`)

        await db.query(`CREATE TRIGGER proof_aggregates_insert AFTER INSERT ON "proof_record"
            REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION proof_aggregates_after_insert()`)
        await db.query(`CREATE TRIGGER proof_aggregates_delete AFTER DELETE ON "proof_record"
            REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION proof_aggregates_after_delete()`)
        await db.query(`CREATE TRIGGER proof_aggregates_update AFTER UPDATE ON "proof_record"
            REFERENCING OLD TABLE AS removed NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION proof_aggregates_after_update()`)

        // Backfill. CREATE TRIGGER locked proof_record against writes until the migration commits, so every record
        // is counted once: by these statements or, when inserted later, by the trigger.
        await db.query(`INSERT INTO proof_latest (${GROUP}, latest_id, latest_observed_at, latest_reason, first_observed_at)
            SELECT ${GROUP}, id, observed_at, reason, first_observed_at FROM (${latestPerGroup('proof_record')}) g`)
        await db.query(`INSERT INTO probe_day_outcome (${OUTCOME_KEY}, records) ${dayOutcomes('proof_record')}`)
        await db.query(`INSERT INTO probe_day_latency (${LATENCY_KEY}, records) ${dayLatencies('proof_record')}`)
        await db.query(`ANALYZE proof_latest, probe_day_outcome, probe_day_latency`)
    }

    async down(db) {
        await db.query(`DROP TRIGGER proof_aggregates_update ON "proof_record"`)
        await db.query(`DROP TRIGGER proof_aggregates_delete ON "proof_record"`)
        await db.query(`DROP TRIGGER proof_aggregates_insert ON "proof_record"`)
        await db.query(`DROP FUNCTION proof_aggregates_after_update()`)
        await db.query(`DROP FUNCTION proof_aggregates_after_delete()`)
        await db.query(`DROP FUNCTION proof_aggregates_after_insert()`)
        await db.query(`DROP TABLE "probe_day_latency"`)
        await db.query(`DROP TABLE "probe_day_outcome"`)
        await db.query(`DROP TABLE "proof_latest"`)
    }
}
