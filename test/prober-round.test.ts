import type pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Pool} from 'pg'
import {privateKeyToAccount} from 'viem/accounts'
import type {Hex} from 'viem'
import {NETWORK_PRESETS} from '../src/config/networks/presets'
import {loadNetworkConfig} from '../src/config/load'
import {freePort} from '../src/db/embedded'
import {startOperatorFleet, type OperatorFleet} from '../src/devnet/operators'
import {compileAddressPolicy, createSafeFetch} from '../src/proofs/http'
import {createProberMetrics, serveProberMetrics, type ProberMetrics} from '../src/proofs/metrics'
import {verifyRecord, type ProofRecordFields} from '../src/proofs/record'
import {startProberWorker, type ProberWorker, DEFAULT_PROBER_SETTINGS, type ProberLogger} from '../src/proofs/worker'
import {startTestDatabase, tolerateShutdown} from './helpers/stack'
import {intervalWithTimeLeft} from './helpers/rounds'

const PROBER_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const LEAKED_TOKEN = 'sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0'
const URL_PASSWORD = 'hunter2-url-password'
const ROUND_WAIT_MS = 60_000

const op = (n: number): string => `0x${n.toString(16).padStart(40, '0')}`

interface Row {
    [column: string]: unknown
}

describe('prober round', () => {
    let db: Awaited<ReturnType<typeof startTestDatabase>>
    let fleet: OperatorFleet
    let pool: Pool
    let worker: ProberWorker
    let metrics: ProberMetrics
    let metricsServer: {port: number; close(): Promise<void>} | undefined
    const logLines: string[] = []
    let records: Row[] = []
    let closedPortUrl = ''

    beforeAll(async () => {
        db = await startTestDatabase()
        fleet = await startOperatorFleet([
            {product: 'sandbox', name: 'sbx-healthy'},
            {product: 'sandbox', name: 'sbx-degraded', behaviour: 'degraded'},
            {product: 'sandbox', name: 'sbx-leak', behaviour: 'token-leak'},
            {product: 'sandbox', name: 'sbx-sidecar', behaviour: 'sidecar-outside'},
            {product: 'trading', name: 'trd-healthy', trading: {operatorAddress: op(5)}},
            {product: 'trading', name: 'trd-guarded', behaviour: 'guarded', trading: {operatorAddress: op(6)}},
            {product: 'surplus', name: 'mkt-healthy'},
            {product: 'surplus', name: 'mkt-crossed', behaviour: 'crossed-book'},
        ])
        closedPortUrl = `http://127.0.0.1:${await freePort()}`
        await seedChain(db.client, fleet, closedPortUrl)

        pool = tolerateShutdown(new Pool({connectionString: db.url, max: 4}))
        metrics = createProberMetrics()
        const capture = (level: string) => (attributes: object, message: string) => {
            logLines.push(`${level} ${message} ${JSON.stringify(attributes)}`)
        }
        const logger: ProberLogger = {info: capture('info'), warn: capture('warn'), error: capture('error')}
        const config = loadNetworkConfig({env: {NETWORK: 'devnet', RPC_URL: 'http://127.0.0.1:1'}})
        expect(config.probeAllow).toEqual(NETWORK_PRESETS.devnet.probeAllow)
        worker = await startProberWorker({
            pool,
            connectionString: db.url,
            config,
            settings: {...DEFAULT_PROBER_SETTINGS, intervalMs: intervalWithTimeLeft(), jitterMs: 0, timeoutMs: 2_000, pollIntervalMs: 500, concurrency: 4},
            account: privateKeyToAccount(PROBER_KEY),
            fetcher: createSafeFetch({policy: compileAddressPolicy({allow: config.probeAllow}), totalTimeoutMs: 2_000}),
            logger,
            metrics,
        })
        metricsServer = await serveProberMetrics(metrics, 0, '127.0.0.1')

        const targetCount = Number((await db.client.query(`SELECT count(*) FROM probe_target WHERE active`)).rows[0].count)
        const deadline = Date.now() + ROUND_WAIT_MS
        for (;;) {
            const probed = Number((await db.client.query(`SELECT count(*) FROM probe_target WHERE last_probed_at IS NOT NULL`)).rows[0].count)
            if (probed >= targetCount || Date.now() > deadline) break
            await new Promise((resolve) => setTimeout(resolve, 500))
        }
        records = (await db.client.query(`SELECT * FROM proof_record ORDER BY target_id, kind`)).rows
    })

    afterAll(async () => {
        await metricsServer?.close()
        await worker?.stop()
        await pool?.end()
        await fleet?.close()
        await db?.stop()
    })

    const recordOf = (operator: string, kind: string, source = 'RPC_ADDRESS'): Row | undefined =>
        records.find((row) => row.operator === operator && row.kind === kind && String(row.target_id).startsWith(source === 'VENUE' ? 'VENUE:' : `${source}:`))

    it('metrics count probes by outcome', async () => {
        const text = await (await fetch(`http://127.0.0.1:${metricsServer!.port}/metrics`)).text()
        const stored = records.filter((r) => r.kind === 'ENDPOINT_REACHABILITY' && r.outcome === 'PASS').length
        const line = text.split('\n').find((l) => l.startsWith('proofgap_prober_probes_total{') && l.includes('kind="ENDPOINT_REACHABILITY"') && l.includes('outcome="PASS"'))
        expect(line, text.slice(0, 2000)).toBeDefined()
        expect(Number(line!.split(' ').pop())).toBe(stored)
        expect(text).toContain('proofgap_prober_probe_duration_seconds_bucket')
        expect(text).toContain('proofgap_prober_queue_lag_seconds')
    })

    it('targets derived from chain tables', async () => {
        const targets = (await db.client.query(`SELECT id, source, operator, active, url FROM probe_target ORDER BY id`)).rows
        const active = targets.filter((target) => target.active)
        expect(active.filter((target) => target.source === 'RPC_ADDRESS')).toHaveLength(7)
        expect(active.filter((target) => target.source === 'VENUE')).toHaveLength(2)
        expect(active.filter((target) => target.source === 'SIDECAR')).toHaveLength(2)
        // The unregistered operator and the sandbox of the terminated service give no active target.
        expect(active.some((target) => target.operator === op(99))).toBe(false)
        expect(active.some((target) => String(target.url).includes('terminated-sidecar'))).toBe(false)
    })

    it('every active target probed once', async () => {
        const perTargetKind = (await db.client.query(
            `SELECT target_id, kind, count(*)::int AS n FROM proof_record GROUP BY target_id, kind HAVING count(*) > 1`,
        )).rows
        expect(perTargetKind).toEqual([])
        const unprobed = (await db.client.query(`SELECT id FROM probe_target WHERE active AND last_probed_at IS NULL`)).rows
        expect(unprobed).toEqual([])
    })

    it.each([
        ['sandbox health pass', 1, 'SANDBOX_ENDPOINT_HEALTH', 'RPC_ADDRESS', 'PASS', 'HEALTH_OK'],
        ['sandbox health degraded', 2, 'SANDBOX_ENDPOINT_HEALTH', 'RPC_ADDRESS', 'FAIL', 'HEALTH_DEGRADED'],
        ['secret handling pass', 1, 'SANDBOX_SECRET_HANDLING', 'RPC_ADDRESS', 'PASS', 'PROTECTED_ROUTE_REJECTS_ANONYMOUS'],
        ['secret leaked on chain', 3, 'SANDBOX_SECRET_HANDLING', 'RPC_ADDRESS', 'FAIL', 'TOKEN_LEAKED_ON_CHAIN'],
        ['sidecar closed', 1, 'PRIVATE_PORT_EXPOSURE', 'SIDECAR', 'PASS', 'PORTS_CLOSED'],
        ['sidecar exposed', 4, 'PRIVATE_PORT_EXPOSURE', 'SIDECAR', 'FAIL', 'PORT_EXPOSED'],
        ['trading health pass', 5, 'TRADING_BOT_HEALTH', 'RPC_ADDRESS', 'PASS', undefined],
        ['trading guarded', 6, 'TRADING_BOT_HEALTH', 'RPC_ADDRESS', 'INCONCLUSIVE', undefined],
        ['book consistent', 7, 'MARKET_ORDER_BOOK', 'VENUE', 'PASS', 'BOOK_CONSISTENT'],
        ['book crossed', 8, 'MARKET_ORDER_BOOK', 'VENUE', 'FAIL', undefined],
        ['reachability pass', 1, 'ENDPOINT_REACHABILITY', 'RPC_ADDRESS', 'PASS', 'ENDPOINT_ANSWERED'],
        ['reachability refused', 9, 'ENDPOINT_REACHABILITY', 'RPC_ADDRESS', 'UNREACHABLE', 'CONNECTION_REFUSED'],
        ['sp1 not enabled', 7, 'MARKET_SP1_PROOF_PATH', 'VENUE', 'NOT_APPLICABLE', 'SP1_NOT_ENABLED'],
        ['redemption defaulted', 7, 'MARKET_CREDIT_REDEMPTION', 'VENUE', 'FAIL', 'REDEMPTION_DEFAULTED'],
        ['redemption served', 8, 'MARKET_CREDIT_REDEMPTION', 'VENUE', 'PASS', 'REDEMPTIONS_SERVED'],
    ])('%s', (_name, operatorNumber, kind, source, outcome, reason) => {
        const row = recordOf(op(operatorNumber), kind, source)
        expect(row, `${kind} record of operator ${operatorNumber}`).toBeDefined()
        expect(row?.outcome).toBe(outcome)
        if (reason !== undefined) expect(row?.reason).toBe(reason)
        expect(String(row?.observed)).not.toBe('')
    })

    it('observed values name what was seen', () => {
        expect(String(recordOf(op(2), 'SANDBOX_ENDPOINT_HEALTH')?.observed)).toMatch(/status=503/)
        expect(String(recordOf(op(3), 'SANDBOX_SECRET_HANDLING')?.observed)).toMatch(/^service=3 call=7 tx=0x/)
        expect(String(recordOf(op(9), 'ENDPOINT_REACHABILITY')?.observed)).toMatch(/CONNECTION_REFUSED/)
        expect(recordOf(op(1), 'SANDBOX_ENDPOINT_HEALTH')?.http_status).toBe(200)
        expect(recordOf(op(9), 'ENDPOINT_REACHABILITY')?.http_status).toBeNull()
    })

    it('records carry round and chain head', () => {
        expect(records.length).toBeGreaterThan(30)
        const rounds = new Set(records.map((row) => row.round))
        expect(rounds.size).toBe(1)
        for (const row of records) expect(String(row.chain_head)).toBe('150')
    })

    it('records verify against prober signer', async () => {
        const signer = privateKeyToAccount(PROBER_KEY).address.toLowerCase()
        for (const row of records) {
            const verification = await verifyRecord(fieldsOf(row), row.signature as Hex, signer)
            expect(verification.valid, `${row.kind} of ${row.operator}`).toBe(true)
            if (verification.valid) expect(verification.recordDigest).toBe(row.record_digest)
        }
    })

    it('changed byte fails verification', async () => {
        const signer = privateKeyToAccount(PROBER_KEY).address.toLowerCase()
        const row = recordOf(op(2), 'SANDBOX_ENDPOINT_HEALTH') as Row
        const tamperedObserved = {...fieldsOf(row), observed: `${String(row.observed).slice(0, -1)}X`}
        expect((await verifyRecord(tamperedObserved, row.signature as Hex, signer)).valid).toBe(false)
        const tamperedOutcome = {...fieldsOf(row), outcome: 'PASS' as const}
        expect((await verifyRecord(tamperedOutcome, row.signature as Hex, signer)).valid).toBe(false)
    })

    it('leaked secrets stored nowhere', async () => {
        const proofText = JSON.stringify(records)
        const targetText = JSON.stringify((await db.client.query(`SELECT * FROM probe_target`)).rows)
        const logText = logLines.join('\n')
        expect(logLines.length).toBeGreaterThan(0)
        for (const secret of [LEAKED_TOKEN, URL_PASSWORD]) {
            expect(proofText.includes(secret)).toBe(false)
            expect(targetText.includes(secret)).toBe(false)
            expect(logText.includes(secret)).toBe(false)
        }
        expect(targetText).toContain('token=REDACTED')
    })
})

function fieldsOf(row: Row): ProofRecordFields {
    return {
        targetUrl: row.url as string,
        operator: row.operator as string,
        blueprintId: row.blueprint_id as string,
        serviceId: (row.service_id as string | null) ?? null,
        kind: row.kind as string,
        outcome: row.outcome as ProofRecordFields['outcome'],
        reason: row.reason as string,
        observed: row.observed as string,
        httpStatus: (row.http_status as number | null) ?? null,
        latencyMs: row.latency_ms as number,
        observedAt: (row.observed_at as Date).toISOString(),
        chainHead: String(row.chain_head),
        excerpt: (row.excerpt as string | null) ?? '',
        evidenceDigest: row.evidence_digest as Hex,
    }
}

const TX = (n: number): string => `0x${n.toString(16).padStart(64, 'a')}`

/**
 * Seeds the chain tables as the processor would after indexing: blueprints 1 (sandbox-cloud), 4 (trading-cloud) and
 * 7 (surplus-market), one registration per simulated operator, services with memberships, sandboxes with sidecars,
 * a leaked sidecar token and redemptions.
 */
async function seedChain(client: pg.Client, fleet: OperatorFleet, closedPortUrl: string): Promise<void> {
    const at = '2025-06-01T00:00:00.000Z'
    for (const [id, product] of [['1', 'sandbox-cloud'], ['4', 'trading-cloud'], ['7', 'surplus-market']]) {
        await client.query(
            `INSERT INTO blueprint (id, blueprint_id, owner, product, shape, active, created_at_block, created_at, created_tx)
             VALUES ($1, $6, $2, $3, 'current', true, 1, $4, $5)`,
            [id, op(1000), product, at, TX(Number(id)), id],
        )
    }
    const registrations: Array<[number, string, string, string]> = [
        [1, '1', fleet.byName('sbx-healthy').url, 'ACTIVE'],
        [2, '1', fleet.byName('sbx-degraded').url, 'ACTIVE'],
        // Credentials in a chain URL are public by accident; they must not reach any table or log.
        [3, '1', fleet.byName('sbx-leak').url.replace('http://', `http://probe:${URL_PASSWORD}@`), 'ACTIVE'],
        [4, '1', fleet.byName('sbx-sidecar').url, 'ACTIVE'],
        [5, '4', fleet.byName('trd-healthy').url, 'ACTIVE'],
        [6, '4', fleet.byName('trd-guarded').url, 'ACTIVE'],
        [7, '7', fleet.byName('mkt-healthy').url, 'ACTIVE'],
        [8, '7', fleet.byName('mkt-crossed').url, 'ACTIVE'],
        [9, '1', closedPortUrl, 'ACTIVE'],
        [99, '1', fleet.byName('sbx-healthy').url, 'UNREGISTERED'],
    ]
    for (const [n, blueprint, url, status] of registrations) {
        await client.query(
            `INSERT INTO operator (id, stake, restaking_status, unstake_scheduled, first_seen_block, first_seen_at)
             VALUES ($1, 1000000000000000000000, 'ACTIVE', 0, 1, $2)`,
            [op(n), at],
        )
        await client.query(
            `INSERT INTO registration (id, blueprint_id, operator_id, status, rpc_address, registration_count, registered_at_block, registered_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7)`,
            [`${blueprint}-${op(n)}`, blueprint, op(n), status, url, 100 + n, at],
        )
    }
    // Services 1..6, one operator each; service 10 is terminated.
    const services: Array<[number, string, number, string]> = [
        [1, '1', 1, 'ACTIVE'],
        [2, '1', 2, 'ACTIVE'],
        [3, '1', 3, 'ACTIVE'],
        [4, '1', 4, 'ACTIVE'],
        [5, '4', 5, 'ACTIVE'],
        [6, '4', 6, 'ACTIVE'],
        [10, '1', 1, 'TERMINATED'],
    ]
    for (const [id, blueprint, operator, status] of services) {
        await client.query(
            `INSERT INTO service (id, service_id, blueprint_id, activation_request_id, from_quote, confidentiality, status, heartbeat_interval,
                 heartbeat_max_missed, heartbeat_configured, activated_at_block, activated_at, activated_tx)
             VALUES ($1, $6, $2, 0, true, 0, $3, 300, 3, false, 110, $4, $5)`,
            [String(id), blueprint, status, at, TX(200 + id), id],
        )
        await client.query(
            `INSERT INTO service_membership (id, service_id, operator_id, source, active, joined_at_block, joined_at)
             VALUES ($1, $2, $3, 'APPROVAL', $4, 110, $5)`,
            [`${id}-${op(operator)}-log${id}`, String(id), op(operator), status === 'ACTIVE', at],
        )
    }
    const sandboxes: Array<[string, number, number, string]> = [
        ['0x' + '01'.repeat(32), 1, 1, fleet.byName('sbx-healthy').sidecarUrl as string],
        ['0x' + '04'.repeat(32), 4, 4, `${fleet.byName('sbx-sidecar').sidecarUrl as string}?token=${LEAKED_TOKEN}`],
        ['0x' + '0a'.repeat(32), 10, 1, 'http://127.0.0.1:9/terminated-sidecar'],
    ]
    for (const [id, service, operator, sidecarUrl] of sandboxes) {
        await client.query(
            `INSERT INTO sandbox (id, sandbox_id, service_id, operator, call_id, sidecar_url, status, created_at_block, created_at)
             VALUES ($1, $2, $3, $4, 7, $5, 'ACTIVE', 115, $6)`,
            [id, `sbx-${service}`, String(service), op(operator), sidecarUrl, at],
        )
    }
    await client.query(
        `INSERT INTO secret_exposure (id, kind, service_id, call_id, operator, tx_hash, block_number, timestamp, secret_hash, redacted)
         VALUES ('0000000118-abcde-000003-token', 'SIDECAR_TOKEN', '3', 7, $1, $2, 118, $3, $4, 'sk-l…a0')`,
        [op(3), TX(318), at, TX(999)],
    )
    // A customer's API key in the inputs of a call to service 1: the caller's leak, which operator 1's secret handling
    // must not be blamed for (it still passes).
    await client.query(
        `INSERT INTO secret_exposure (id, kind, service_id, call_id, operator, tx_hash, block_number, timestamp, secret_hash, redacted)
         VALUES ('0000000117-abcde-000002-env_json.OPENAI_API_KEY', 'INPUT_SECRET', '1', 6, NULL, $1, 117, $2, $3, 'sk-p…[28 chars]')`,
        [TX(317), at, TX(998)],
    )
    // Venue 7 has one defaulted redemption; venue 8 has one settled.
    const redemptions: Array<[string, number, string]> = [
        ['0x' + 'd7'.repeat(32), 7, 'DEFAULTED'],
        ['0x' + 'd8'.repeat(32), 8, 'SETTLED'],
    ]
    for (const [id, issuer, status] of redemptions) {
        await client.query(
            `INSERT INTO redemption (id, settlement, lot_id, issuer, holder, qty_tokens, deadline, status, requested_at_block, requested_at)
             VALUES ($1, $2, $3, $4, $5, 1000, 1748736000, $6, 119, $7)`,
            [id, op(2000), TX(7), op(issuer), op(3000), status, at],
        )
    }
    // The processor's own status row: the chain head every record must name.
    await client.query(`CREATE SCHEMA squid_processor`)
    await client.query(`CREATE TABLE squid_processor.status (id int PRIMARY KEY, height int NOT NULL, hash text, nonce int)`)
    await client.query(`INSERT INTO squid_processor.status VALUES (0, 150, '0x', 1)`)
    await client.query(
        `INSERT INTO job_result (id, aggregated, output_hash, output_size, latency_blocks, latency_seconds, block_number, timestamp, tx_hash, service_id)
         VALUES ('0000000120-fffff-000001', false, $1, 0, 1, 2, 120, $2, $3, '1')`,
        [TX(120), at, TX(121)],
    )
}
