/**
 * API benchmark: seeds a database (real migrations) with synthetic operators, heartbeats and proof records. Then it
 * times the gap query, the scorecard and the evidence bundle through the functions the GraphQL resolvers call, and
 * runs EXPLAIN ANALYZE on every statement they send.
 *
 *   npm run bench:api -- --operators 10000
 *
 * Options: --operators N (default 10,000), --heartbeats N (default 2,000,000), --proofs N (default 5,000,000),
 * --repeat N (timed calls per query, default 30), --explain (print the plans), --data-dir DIR (keep the seeded database in
 * DIR and reuse it on the next run with the same DIR; without it the database is temporary), --write-cost (also time
 * proof_record and heartbeat inserts with and without the summary triggers, rolled back).
 * A reused database gets the migrations added since it was seeded, so a summary table is filled by its migration's
 * backfill, as on a running deployment. A fresh one is migrated first, so the triggers fill the tables while seeding.
 * NOTE: GraphQL parsing and HTTP are not in these figures; squid-graphql-server adds its own overhead per request.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {startEmbeddedPostgres} from '../src/db/embedded'
import {applyMigrations} from '../src/stack/children'
import {buildProjectIfMissing, formatVersion, sourceVersion, type CodeVersion} from './lib/build'
import {pgRunner, type SqlRunner} from '../src/gap/sql'
import {queryGaps} from '../src/gap/query'
import {loadScorecards} from '../src/gap/scorecard-load'
import {loadScorecardsCached, scorecardCacheMaxBytes} from '../src/gap/scorecard-cache'
import {buildEvidenceBundle} from '../src/gap/evidence'
import {parseIsoWeek} from '../src/gap/period'
import {DEFAULT_GAP_CONFIG} from '../src/gap/config'
import {insertProofRecords, type StoredProof} from '../src/proofs/worker/store'
import type {ProofOutcome} from '../src/proofs/types'
import {formatLoad, numberArg, parseArgs, percentile, runContext, removeOnExit, runBenchmark, saveResult, tolerateShutdown} from './lib/machine'

const BLUEPRINTS = 10
const OPERATORS_PER_SERVICE = 10
/** Synthetic history: four ISO weeks, 2026-W01 (starting Monday 2025-12-29) to 2026-W04. */
const HISTORY_START = '2025-12-29T00:00:00Z'
const HISTORY_SECONDS = 28 * 24 * 3600
const WEEK = '2026-W03'
const AT = new Date('2026-01-25T12:00:00Z')
const HISTORY_END = new Date(Date.parse(HISTORY_START) + HISTORY_SECONDS * 1000)
const PROOF_KINDS = ['ENDPOINT_REACHABILITY', 'PRIVATE_PORT_EXPOSURE', 'SANDBOX_ENDPOINT_HEALTH', 'SANDBOX_READINESS', 'SANDBOX_SECRET_HANDLING', 'SANDBOX_SIDECAR_CAPABILITIES']

/** SQL of the address of synthetic operator `i` (a 0x address of 40 hex digits). */
const OPERATOR_SQL = (i: string) => `'0x' || lpad(to_hex(${i}), 40, '0')`

function seedStatements(operators: number, heartbeats: number, proofs: number): string[] {
    const services = Math.ceil(operators / OPERATORS_PER_SERVICE)
    // Operator i is a member of service i / 10; service s belongs to blueprint s % 10 + 1, where i also registers.
    return [
        `INSERT INTO blueprint (id, blueprint_id, owner, product, shape, active, created_at_block, created_at, created_tx)
         SELECT b::text, b, '0x' || repeat('11', 20), 'sandbox-cloud', 'current', true, 1, '${HISTORY_START}', '0x' || repeat('ab', 32)
         FROM generate_series(1, ${BLUEPRINTS}) b`,
        `INSERT INTO service (id, service_id, blueprint_id, activation_request_id, from_quote, confidentiality, status, heartbeat_interval,
                              heartbeat_max_missed, heartbeat_configured, activated_at_block, activated_at, activated_tx)
         SELECT s::text, s, (s % ${BLUEPRINTS} + 1)::text, s, false, 0, 'ACTIVE', 3600, 3, true, 2, '${HISTORY_START}', '0x' || repeat('ac', 32)
         FROM generate_series(0, ${services - 1}) s`,
        // The HeartbeatConfigUpdated that set each service's setting, a second before the first heartbeat.
        `INSERT INTO heartbeat_config_change (id, service_id, interval, max_missed, block_number, timestamp, tx_hash)
         SELECT '0000000002-00000-' || lpad(s::text, 6, '0'), s::text, 3600, 3, 2,
                timestamptz '${HISTORY_START}' - interval '1 second', '0x' || repeat('ac', 32)
         FROM generate_series(0, ${services - 1}) s`,
        `INSERT INTO operator (id, stake, restaking_status, unstake_scheduled, first_seen_block, first_seen_at)
         SELECT ${OPERATOR_SQL('i')}, 1000000000000000000000, 'ACTIVE', 0, 1, '${HISTORY_START}' FROM generate_series(0, ${operators - 1}) i`,
        `INSERT INTO registration (id, blueprint_id, operator_id, status, rpc_address, rpc_address_valid_utf8, registration_count,
                                   registered_at_block, registered_at, updated_at)
         SELECT ((i / ${OPERATORS_PER_SERVICE}) % ${BLUEPRINTS} + 1)::text || '-' || ${OPERATOR_SQL('i')}, ((i / ${OPERATORS_PER_SERVICE}) % ${BLUEPRINTS} + 1)::text,
                ${OPERATOR_SQL('i')}, 'ACTIVE', 'http://127.0.0.1:9/', true, 1, 1, '${HISTORY_START}', '${HISTORY_START}'
         FROM generate_series(0, ${operators - 1}) i`,
        `INSERT INTO service_membership (id, service_id, operator_id, source, exposure_bps, active, joined_at_block, joined_at)
         SELECT (i / ${OPERATORS_PER_SERVICE})::text || '-' || ${OPERATOR_SQL('i')}, (i / ${OPERATORS_PER_SERVICE})::text, ${OPERATOR_SQL('i')},
                'APPROVAL', 10000, true, 2, '${HISTORY_START}'
         FROM generate_series(0, ${operators - 1}) i`,
        // Heartbeat n: operator n % operators, spread evenly over the four weeks.
        `INSERT INTO heartbeat (id, service_id, operator_id, blueprint_id, reported_blueprint_id, status_code, event_timestamp, block_number,
                                timestamp, tx_hash)
         SELECT lpad(n::text, 10, '0') || '-00000-000000', ((n % ${operators}) / ${OPERATORS_PER_SERVICE})::text, ${OPERATOR_SQL(`(n % ${operators})`)},
                ((n % ${operators}) / ${OPERATORS_PER_SERVICE}) % ${BLUEPRINTS} + 1, ((n % ${operators}) / ${OPERATORS_PER_SERVICE}) % ${BLUEPRINTS} + 1,
                CASE WHEN n % 50 = 0 THEN 1 ELSE 0 END, 0, 10 + n,
                timestamptz '${HISTORY_START}' + make_interval(secs => (n::bigint * ${HISTORY_SECONDS}) / ${heartbeats}), '0x' || repeat('cd', 32)
         FROM generate_series(0, ${heartbeats - 1}) n`,
        // Proof n: operator n % operators, kind and outcome rotating, spread evenly over the four weeks.
        `INSERT INTO proof_record (id, target_id, url, operator, blueprint_id, service_id, kind, outcome, reason, observed, http_status,
                                   latency_ms, observed_at, chain_head, excerpt, evidence_digest, record_digest, signature, signer)
         SELECT 'proof-' || n, 'RPC_ADDRESS:' || n % ${operators}, 'http://127.0.0.1:9/health', ${OPERATOR_SQL(`(n % ${operators})`)},
                (((n % ${operators}) / ${OPERATORS_PER_SERVICE}) % ${BLUEPRINTS} + 1)::text, ((n % ${operators}) / ${OPERATORS_PER_SERVICE})::text,
                (ARRAY['${PROOF_KINDS.join("','")}'])[(n / ${operators}) % ${PROOF_KINDS.length} + 1],
                CASE WHEN n % 7 = 0 THEN 'UNREACHABLE' ELSE 'PASS' END, CASE WHEN n % 7 = 0 THEN 'UNREACHABLE' ELSE 'OK' END,
                'outcome', 200, 10 + n % 90,
                timestamptz '${HISTORY_START}' + make_interval(secs => (n::bigint * ${HISTORY_SECONDS}) / ${proofs}), 1234, '',
                '0x' || md5(n::text) || md5(n::text), '0x' || md5(n::text || 'r') || md5(n::text || 'r'), '0x' || repeat('00', 65), '0x' || repeat('22', 20)
         FROM generate_series(0, ${proofs - 1}) n`,
        'ANALYZE',
    ]
}

/** Row counts of a kept database, or null when it has not been migrated and seeded yet. */
async function seededCounts(pool: pg.Pool): Promise<{operators: number; heartbeats: number; proofs: number} | null> {
    const migrated = await pool.query("SELECT to_regclass('public.proof_record') IS NOT NULL AS migrated")
    if (migrated.rows[0].migrated !== true) return null
    const counts = await pool.query(
        'SELECT (SELECT count(*) FROM operator)::int AS operators, (SELECT count(*) FROM heartbeat)::int AS heartbeats, (SELECT count(*) FROM proof_record)::int AS proofs',
    )
    const row = counts.rows[0]
    if (row.operators === 0) return null
    return {operators: row.operators, heartbeats: row.heartbeats, proofs: row.proofs}
}

const WRITE_COST_ROWS = 3_200
const WRITE_COST_ROUNDS = 3
/** Rows per statement: the tuned prober's batch of proof records, and the heartbeats of a 10-block finalized batch. */
const PROOF_BATCH = 32
const HEARTBEAT_BATCH = 100

/** Synthetic operator, blueprint and service of write-cost row `n`, spread over the seeded operators. */
function writeCostPlace(n: number, operators: number): {operator: string; blueprintId: string; serviceId: string} {
    const index = (n * 7919) % operators
    return {
        operator: `0x${index.toString(16).padStart(40, '0')}`,
        blueprintId: String((((index / OPERATORS_PER_SERVICE) | 0) % BLUEPRINTS) + 1),
        serviceId: String((index / OPERATORS_PER_SERVICE) | 0),
    }
}

function proofBatches(operators: number): StoredProof[][] {
    const batches: StoredProof[][] = []
    for (let start = 0; start < WRITE_COST_ROWS; start += PROOF_BATCH) {
        const batch: StoredProof[] = []
        for (let n = start; n < start + PROOF_BATCH; n++) {
            const place = writeCostPlace(n, operators)
            const fields = {
                targetUrl: 'http://127.0.0.1:9/health',
                ...place,
                kind: PROOF_KINDS[n % PROOF_KINDS.length],
                outcome: (n % 7 === 0 ? 'UNREACHABLE' : 'PASS') as ProofOutcome,
                reason: n % 7 === 0 ? 'UNREACHABLE' : 'OK',
                observed: 'outcome',
                httpStatus: 200,
                latencyMs: 10 + (n % 90),
                observedAt: new Date(HISTORY_END.getTime() + n * 1000).toISOString(),
                chainHead: '1234',
                excerpt: '',
                evidenceDigest: `0x${'00'.repeat(32)}` as const,
            }
            batch.push({
                id: `write-cost-${n}`,
                targetId: `RPC_ADDRESS:${place.operator}`,
                roundId: 'write-cost',
                record: {fields, recordDigest: `0x${'11'.repeat(32)}`, signature: `0x${'00'.repeat(65)}`, signer: `0x${'22'.repeat(20)}`},
            })
        }
        batches.push(batch)
    }
    return batches
}

/** Heartbeat rows after the seeded history, each batch one statement as the processor writes a finalized batch. */
function heartbeatBatches(operators: number): string[] {
    const batches: string[] = []
    for (let start = 0; start < WRITE_COST_ROWS; start += HEARTBEAT_BATCH) {
        const rows = []
        for (let n = start; n < start + HEARTBEAT_BATCH; n++) {
            const place = writeCostPlace(n, operators)
            rows.push({
                id: `write-cost-${String(n).padStart(6, '0')}`,
                service_id: place.serviceId,
                operator_id: place.operator,
                blueprint_id: place.blueprintId,
                reported_blueprint_id: place.blueprintId,
                status_code: 0,
                event_timestamp: '0',
                block_number: 1,
                timestamp: new Date(HISTORY_END.getTime() + n * 1000).toISOString(),
                tx_hash: '0x',
            })
        }
        batches.push(JSON.stringify(rows))
    }
    return batches
}

/**
 * Times writing WRITE_COST_ROWS proof records (through the prober's insert) and heartbeats (one json_populate_recordset
 * statement a batch, as src/chain/write.ts writes a finalized batch) with the summary triggers enabled and disabled,
 * alternating. Each run is rolled back, so the database stays as seeded.
 */
async function measureWriteCost(pool: pg.Pool, operators: number, code: CodeVersion): Promise<void> {
    const proofs = proofBatches(operators)
    const heartbeats = heartbeatBatches(operators)
    const writes = [
        {table: 'proof_record', batches: proofs.length, write: (client: pg.PoolClient, i: number) => insertProofRecords(client, proofs[i])},
        {
            table: 'heartbeat',
            batches: heartbeats.length,
            write: (client: pg.PoolClient, i: number) =>
                client.query('INSERT INTO heartbeat SELECT * FROM json_populate_recordset(NULL::heartbeat, $1::json)', [heartbeats[i]]),
        },
    ]
    const client = await pool.connect()
    try {
        for (const {table, batches, write} of writes) {
            for (let round = 0; round < WRITE_COST_ROUNDS; round++) {
                for (const triggers of [true, false]) {
                    const context = runContext()
                    await client.query('BEGIN')
                    // USER leaves the foreign-key triggers on. heartbeat's reference check replaces its foreign keys, so
                    // it stays on too, and only the summary and scorecard-cache triggers are off.
                    if (!triggers) {
                        await client.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`)
                        if (table === 'heartbeat') await client.query('ALTER TABLE heartbeat ENABLE TRIGGER heartbeat_references_insert')
                    }
                    const started = performance.now()
                    for (let i = 0; i < batches; i++) await write(client, i)
                    const millis = performance.now() - started
                    await client.query('ROLLBACK')
                    const perBatch = millis / batches
                    const label = `write cost: ${WRITE_COST_ROWS} ${table} rows in ${batches} statements, triggers ${triggers ? 'on' : 'off'}`
                    console.log(`${label}: ${millis.toFixed(0)} ms, ${perBatch.toFixed(2)} ms a statement; load ${formatLoad(context)}`)
                    saveResult('api', {code, operators, name: label, millis, perBatch, context})
                }
            }
        }
    } finally {
        client.release()
    }
}

/** Wraps a runner to keep every statement it runs, for EXPLAIN. */
function recordingRunner(inner: SqlRunner, seen: {sql: string; params: unknown[]}[]): SqlRunner {
    return (sql, params) => {
        seen.push({sql, params})
        return inner(sql, params)
    }
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2), {
        values: ['operators', 'heartbeats', 'proofs', 'repeat', 'data-dir'],
        flags: ['explain', 'write-cost'],
    })
    const operators = numberArg(args, 'operators', 10_000)
    const heartbeats = numberArg(args, 'heartbeats', 2_000_000)
    const proofs = numberArg(args, 'proofs', 5_000_000)
    const repeat = numberArg(args, 'repeat', 30)
    await buildProjectIfMissing()
    // The queries run from src/ through vite-node, so the work tree is the code measured.
    const code = sourceVersion()
    console.log(`code: ${formatVersion(code)}`)

    const keptDir = args.get('data-dir')
    const dataDir = keptDir ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'proofgap-bench-api-')), 'data')
    if (keptDir === undefined) removeOnExit(path.dirname(dataDir))
    const server = await startEmbeddedPostgres({dataDir, ephemeral: keptDir === undefined})
    const pool = new pg.Pool({connectionString: server.url, max: 4})
    // As the API opens them: lock connections for cache fillers apart from the connections that compute.
    const cacheSettings = {lock: new pg.Pool({connectionString: server.url, max: 2}), compute: pool, maxBytes: scorecardCacheMaxBytes()}
    // Stopping the server terminates idle pool connections (57P01), at the end of the run or on Ctrl-C.
    tolerateShutdown(pool)
    tolerateShutdown(cacheSettings.lock)
    try {
        const seeded = await seededCounts(pool)
        if (seeded === null) {
            await applyMigrations(server.env)
            const seedStarted = performance.now()
            for (const statement of seedStatements(operators, heartbeats, proofs)) await pool.query(statement)
            const seedSeconds = (performance.now() - seedStarted) / 1000
            console.log(`seeded ${operators} operators, ${heartbeats} heartbeats, ${proofs} proof records in ${seedSeconds.toFixed(1)} s`)
        } else if (seeded.operators !== operators || seeded.heartbeats !== heartbeats || seeded.proofs !== proofs) {
            throw new Error(
                `the database in ${dataDir} holds ${seeded.operators} operators, ${seeded.heartbeats} heartbeats and ${seeded.proofs} proof records, ` +
                    'not the sizes requested: pass the same sizes or another --data-dir',
            )
        } else {
            const migrateStarted = performance.now()
            await applyMigrations(server.env)
            await pool.query('ANALYZE')
            const migrateSeconds = (performance.now() - migrateStarted) / 1000
            console.log(`reusing the seeded database in ${dataDir}; pending migrations and ANALYZE took ${migrateSeconds.toFixed(1)} s`)
        }
        if (args.has('write-cost')) await measureWriteCost(pool, operators, code)

        const operator = `0x${(operators >> 1).toString(16).padStart(40, '0')}`
        const service = String((operators >> 1) / OPERATORS_PER_SERVICE | 0)
        const week = parseIsoWeek(WEEK)
        const cases: {name: string; run: (sql: SqlRunner) => Promise<unknown>}[] = [
            {name: 'gaps: one operator', run: (sql) => queryGaps(sql, {operator, at: AT, limit: 100}, DEFAULT_GAP_CONFIG)},
            {name: 'gaps: one blueprint, first page of 100', run: (sql) => queryGaps(sql, {blueprintId: '1', at: AT, limit: 100}, DEFAULT_GAP_CONFIG)},
            {
                name: 'gaps: one blueprint, status PROVEN, first page of 100',
                run: (sql) => queryGaps(sql, {blueprintId: '1', status: 'PROVEN', at: AT, limit: 100}, DEFAULT_GAP_CONFIG),
            },
            {
                name: 'gaps: one blueprint, status PROVEN, after the last record',
                run: (sql) => queryGaps(sql, {blueprintId: '1', status: 'PROVEN', at: HISTORY_END, limit: 100}, DEFAULT_GAP_CONFIG),
            },
            {name: 'scorecard: one operator-week', run: (sql) => loadScorecards(sql, {operator}, week, DEFAULT_GAP_CONFIG)},
            {name: 'scorecard: all operators of a blueprint, one week', run: (sql) => loadScorecards(sql, {blueprintId: '1'}, week, DEFAULT_GAP_CONFIG)},
            // Through scorecard_cache, as the API serves it: the warm-up call computes and stores, the timed calls read.
            {
                name: 'scorecard: one operator-week, stored',
                run: (sql) => loadScorecardsCached(cacheSettings, sql, {operator}, week, DEFAULT_GAP_CONFIG),
            },
            {
                name: 'scorecard: all operators of a blueprint, one week, filling the cache (emptied before each call)',
                run: async (sql) => {
                    await pool.query('DELETE FROM scorecard_cache')
                    return loadScorecardsCached(cacheSettings, sql, {blueprintId: '1'}, week, DEFAULT_GAP_CONFIG)
                },
            },
            {
                name: 'scorecard: all operators of a blueprint, one week, stored',
                run: (sql) => loadScorecardsCached(cacheSettings, sql, {blueprintId: '1'}, week, DEFAULT_GAP_CONFIG),
            },
            {
                name: 'evidence bundle: one operator-week',
                run: (sql) => buildEvidenceBundle(sql, {serviceId: service, operator, from: week.from, to: week.to}, DEFAULT_GAP_CONFIG),
            },
        ]

        const baseRunner = pgRunner(pool)
        for (const testCase of cases) {
            const context = runContext()
            const seen: {sql: string; params: unknown[]}[] = []
            await testCase.run(recordingRunner(baseRunner, seen)) // warm-up, and the statements for EXPLAIN
            const millis: number[] = []
            for (let index = 0; index < repeat; index++) {
                const started = performance.now()
                await testCase.run(baseRunner)
                millis.push(performance.now() - started)
            }
            millis.sort((a, b) => a - b)
            const p50 = percentile(millis, 0.5)
            const p95 = percentile(millis, 0.95)
            console.log(`${testCase.name}: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms over ${repeat} ${repeat === 1 ? 'call' : 'calls'}, ${seen.length} statements; load ${formatLoad(context)}`)
            const plans: string[] = []
            for (const statement of seen) {
                const plan = await pool.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${statement.sql}`, statement.params)
                plans.push(plan.rows.map((row) => row['QUERY PLAN']).join('\n'))
            }
            if (args.has('explain')) for (const [index, plan] of plans.entries()) console.log(`--- ${testCase.name}, statement ${index + 1}\n${seen[index].sql.trim()}\n${plan}\n`)
            saveResult('api', {code, operators, heartbeats, proofs, name: testCase.name, p50, p95, repeat, context, plans})
        }
    } finally {
        await cacheSettings.lock.end()
        await pool.end()
        await server.stop()
        // The ephemeral server removes its data folder, and the benchmark removes the temporary folder around it.
        if (keptDir === undefined) rmSync(path.dirname(dataDir), {recursive: true, force: true})
    }
}

runBenchmark(main)
