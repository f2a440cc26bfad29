import {spawn, type ChildProcess} from 'node:child_process'
import {keccak256, stringToHex} from 'viem'
import {copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {freePort} from '../src/db/embedded'
import {MAX_PAGE_LIMIT} from '../src/gap/query'
import {binPath, graphqlServerCommand, PROJECT_ROOT, runToEnd, stopChild} from '../src/stack/children'
import {startSeededDatabase, type SeededDatabase} from './gap-database'
import {AT, CONTRADICTED, GOOD, heartbeat, insertOutsider, NEVER_PROBED, OUTSIDER, SERVICE, STALE} from './gap-world'

let world: SeededDatabase
let server: ChildProcess
let endpoint: string
let serverLog = ''
let apiDir: string | undefined

async function waitForServer(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
        if (server.exitCode !== null) throw new Error(`graphql server exited with ${server.exitCode}:\n${serverLog}`)
        try {
            const response = await fetch(url, {
                method: 'POST',
                headers: {'content-type': 'application/json'},
                body: JSON.stringify({query: '{ __typename }'}),
            })
            if (response.ok) return
        } catch {
            // Not listening yet.
        }
        await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(`graphql server did not answer within ${timeoutMs} ms:\n${serverLog}`)
}

type GraphqlResult = {data?: any; errors?: Array<{message: string}>}

async function graphql(query: string, variables: Record<string, unknown> = {}): Promise<GraphqlResult> {
    const response = await fetch(endpoint, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({query, variables}),
    })
    return (await response.json()) as GraphqlResult
}

beforeAll(async () => {
    // The server loads <cwd>/lib/server-extension/resolvers. Compiling into a private folder keeps this file from
    // rewriting the shared lib/, which migrations of test files running in parallel load at the same time.
    apiDir = mkdtempSync(path.join(os.tmpdir(), 'proofgap-api-'))
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(apiDir as string, 'node_modules'), 'dir')
    copyFileSync(path.join(PROJECT_ROOT, 'schema.graphql'), path.join(apiDir, 'schema.graphql'))
    // Type errors in other files do not stop tsc from emitting, so the exit code is not checked.
    await runToEnd(binPath('tsc'), ['-p', 'tsconfig.json', '--outDir', path.join(apiDir, 'lib')], {}, 150_000)
    if (!existsSync(path.join(apiDir, 'lib/server-extension/resolvers/index.js'))) {
        throw new Error('tsc did not emit lib/server-extension/resolvers/index.js')
    }
    world = await startSeededDatabase()
    const port = await freePort()
    endpoint = `http://127.0.0.1:${port}/graphql`
    const graphql = graphqlServerCommand(path.join(apiDir, 'lib'))
    server = spawn(graphql.command, graphql.args, {
        cwd: apiDir,
        env: {...process.env, ...world.db.env, GQL_PORT: String(port), GQL_HOST: '127.0.0.1'},
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
    })
    server.stdout?.on('data', (chunk: Buffer) => (serverLog = (serverLog + chunk.toString()).slice(-5000)))
    server.stderr?.on('data', (chunk: Buffer) => (serverLog = (serverLog + chunk.toString()).slice(-5000)))
    await waitForServer(endpoint, 60_000)
})

afterAll(async () => {
    if (server !== undefined) await stopChild(server)
    await world?.close()
    if (apiDir !== undefined) rmSync(apiDir, {recursive: true, force: true})
})

const GAPS = `query($operator: String, $service: String, $status: String, $at: String, $limit: Int, $orderBy: String) {
  gaps(operator: $operator, service: $service, status: $status, at: $at, limit: $limit, orderBy: $orderBy) {
    totalCount gaps { operator blueprintId serviceId kind status reason claims lastProofAt }
  }
}`

type Row = {operator: string; serviceId: string | null; kind: string; status: string; reason: string}

async function serviceGaps(operator: string): Promise<Row[]> {
    const result = await graphql(GAPS, {operator, service: SERVICE, at: AT.toISOString(), limit: 100})
    expect(result.errors).toBeUndefined()
    return result.data.gaps.gaps
}

function statusOf(rows: Row[], kind: string): string | undefined {
    return rows.find((row) => row.kind === kind)?.status
}

describe('gaps over GraphQL', () => {
    it('healthy heartbeat, unreachable endpoint: CONTRADICTED', async () => {
        const rows = await serviceGaps(CONTRADICTED)
        const row = rows.find((r) => r.kind === 'ENDPOINT_REACHABILITY')
        expect(row?.status).toBe('CONTRADICTED')
        expect(row?.reason).toBe('HEARTBEAT_HEALTHY_ENDPOINT_UNREACHABLE')
    })

    it('good operator PROVEN on every applicable kind', async () => {
        const rows = await serviceGaps(GOOD)
        for (const kind of ['ENDPOINT_REACHABILITY', 'SANDBOX_ENDPOINT_HEALTH', 'SANDBOX_READINESS', 'SANDBOX_SECRET_HANDLING', 'SANDBOX_SIDECAR_CAPABILITIES']) {
            expect(statusOf(rows, kind), kind).toBe('PROVEN')
        }
        const applicable = rows.filter((row) => row.status !== 'NOT_APPLICABLE')
        expect(applicable.length).toBe(5)
        expect(applicable.every((row) => row.status === 'PROVEN')).toBe(true)
        expect(statusOf(rows, 'SANDBOX_TEE_ATTESTATION')).toBe('NOT_APPLICABLE')
    })

    it('good operator blueprint scope PROVEN', async () => {
        const result = await graphql(GAPS, {operator: GOOD, at: AT.toISOString(), limit: 100})
        const blueprintRows: Row[] = result.data.gaps.gaps.filter((row: Row) => row.serviceId === null)
        const proven = blueprintRows.filter((row) => row.status === 'PROVEN').map((row) => row.kind).sort()
        // A sandbox registration requires reachability only: the prober checks private ports on sidecars.
        expect(proven).toEqual(['ENDPOINT_REACHABILITY'])
        expect(blueprintRows.find((row) => row.kind === 'PRIVATE_PORT_EXPOSURE')?.status).toBe('NOT_APPLICABLE')
    })

    it('published sidecar requires port check', async () => {
        // GOOD has a PASS of PRIVATE_PORT_EXPOSURE in service 10; it counts once a sidecar URL is on chain.
        const before = await serviceGaps(GOOD)
        expect(statusOf(before, 'PRIVATE_PORT_EXPOSURE')).toBe('NOT_APPLICABLE')
        await world.client.query(
            `INSERT INTO provisioned_endpoint (id, service_id, operator_id, sandbox_id, sandbox_id_raw, sidecar_url,
                 sidecar_url_raw, active, block_number, timestamp, tx_hash, deprovisioned_at)
             VALUES ('sidecar-test', $1, $2, 'sbx-good', $3, 'http://127.0.0.1:9/', $3, true, 10,
                     '2026-01-01T00:00:00Z', '0x00', NULL)`,
            [SERVICE, GOOD, Buffer.from('raw')],
        )
        try {
            const rows = await serviceGaps(GOOD)
            const row = rows.find((r) => r.kind === 'PRIVATE_PORT_EXPOSURE') as Row & {claims: string[]}
            expect(row.status).toBe('PROVEN')
            expect(row.claims).toEqual(['SIDECAR_PUBLISHED'])
        } finally {
            await world.client.query(`DELETE FROM provisioned_endpoint WHERE id = 'sidecar-test'`)
        }
    })

    it('never probed operator UNPROVEN', async () => {
        const rows = await serviceGaps(NEVER_PROBED)
        expect(statusOf(rows, 'ENDPOINT_REACHABILITY')).toBe('UNPROVEN')
        expect(rows.find((row) => row.kind === 'SANDBOX_READINESS')?.reason).toBe('NEVER_PROBED')
    })

    it('old pass is STALE', async () => {
        const rows = await serviceGaps(STALE)
        expect(statusOf(rows, 'ENDPOINT_REACHABILITY')).toBe('STALE')
    })

    it('status filter returns only that status', async () => {
        const result = await graphql(GAPS, {status: 'CONTRADICTED', at: AT.toISOString()})
        const operators = result.data.gaps.gaps.map((row: Row) => row.operator)
        expect(new Set(operators)).toEqual(new Set([CONTRADICTED]))
        expect(result.data.gaps.totalCount).toBe(2)
    })

    it('after the liveness deadline, FAILING not CONTRADICTED', async () => {
        // Last beat at AT − 1 min, live for 3 × 60 s: at AT + 3 min the heartbeat no longer claims health, and
        // only the registration (blueprint scope) still requires the endpoint to respond.
        const later = new Date(AT.getTime() + 3 * 60_000).toISOString()
        const result = await graphql(GAPS, {operator: CONTRADICTED, at: later})
        const rows: Row[] = result.data.gaps.gaps.filter((r: Row) => r.kind === 'ENDPOINT_REACHABILITY')
        expect(rows.find((r) => r.serviceId === null)?.status).toBe('FAILING')
        expect(rows.find((r) => r.serviceId === SERVICE)?.status).toBe('NOT_APPLICABLE')
    })
})

describe('gaps arguments', () => {
    it('limit above the cap rejected', async () => {
        const result = await graphql(GAPS, {limit: MAX_PAGE_LIMIT + 1})
        expect(result.data ?? null).toBeNull()
        expect(result.errors?.[0]?.message).toMatch(/limit 1001 is out of range: pass 1 to 1000/)
    })

    it('unknown sort key rejected', async () => {
        const result = await graphql(GAPS, {orderBy: 'operator; DROP TABLE proof_record'})
        expect(result.errors?.[0]?.message).toMatch(/is not a sort key/)
        const count = await world.client.query('SELECT count(*)::int AS n FROM proof_record')
        expect(count.rows[0].n).toBeGreaterThan(0)
    })

    it('whitelisted sort key orders rows', async () => {
        const result = await graphql(GAPS, {service: SERVICE, at: AT.toISOString(), orderBy: 'lastProofAt_DESC', limit: 5})
        const times: Array<string | null> = result.data.gaps.gaps.map((row: {lastProofAt: string | null}) => row.lastProofAt)
        expect(times.length).toBe(5)
        const sorted = [...times].sort((a, b) => (b ?? '').localeCompare(a ?? ''))
        expect(times).toEqual(sorted)
    })

    it('hostile operator string rejected', async () => {
        const result = await graphql(GAPS, {operator: "0x' OR '1'='1"})
        expect(result.errors?.[0]?.message).toMatch(/operator .* is invalid: expected a 0x address/)
    })
})

describe('operatorSummary and scorecard over GraphQL', () => {
    it('summary counts and liveness', async () => {
        const result = await graphql(
            `query($op: String!, $at: String) { operatorSummary(operator: $op, at: $at) {
                claimsProven claims { kind } gapCounts { status count } proofCounts { status count }
                liveness { serviceId live healthy heartbeatIntervalSeconds deadline } } }`,
            {op: CONTRADICTED, at: AT.toISOString()},
        )
        expect(result.errors).toBeUndefined()
        const summary = result.data.operatorSummary
        expect(summary.claims.map((c: {kind: string}) => c.kind).sort()).toEqual(['HEARTBEATING', 'REGISTERED', 'SERVICE_MEMBER'])
        expect(summary.gapCounts.find((c: {status: string}) => c.status === 'CONTRADICTED').count).toBe(2)
        expect(summary.proofCounts).toEqual([{status: 'UNREACHABLE', count: 1}])
        expect(summary.liveness).toEqual([
            {serviceId: SERVICE, live: true, healthy: true, heartbeatIntervalSeconds: '60', deadline: '2026-01-07T12:02:00.000Z'},
        ])
    })

    it('scorecard by week', async () => {
        const result = await graphql(`{ scorecard(operator: "${GOOD}", week: "2026-W02") {
            methodologyVersion heartbeatUptime probeLatencyP50Ms jobsSubmitted slashesExecuted } }`)
        expect(result.errors).toBeUndefined()
        expect(result.data.scorecard).toEqual([
            {methodologyVersion: 'proofgap-scorecard/4', heartbeatUptime: '0.000794', probeLatencyP50Ms: 30, jobsSubmitted: 3, slashesExecuted: 1},
        ])
    })

    it('scorecard cache: stored, then dropped', async () => {
        const query = `{ scorecard(blueprint: "1", week: "2026-W02") { operator heartbeatUptime } }`
        const first = await graphql(query)
        expect(first.errors).toBeUndefined()
        const stored = await world.client.query(`SELECT operator_key, blueprint_key FROM scorecard_cache ORDER BY 1`)
        // The earlier query of one operator is stored too.
        expect(stored.rows).toEqual([{operator_key: '', blueprint_key: '1'}, {operator_key: GOOD, blueprint_key: ''}])
        expect((await graphql(query)).data).toEqual(first.data)

        const id = await heartbeat(world.client, GOOD, new Date('2026-01-07T03:00:00.000Z'), 0)
        try {
            expect((await world.client.query('SELECT count(*)::int AS n FROM scorecard_cache')).rows[0].n).toBe(0)
            const after = await graphql(query)
            const uptimeOf = (data: {scorecard: {operator: string; heartbeatUptime: string}[]}) =>
                data.scorecard.find((card) => card.operator === GOOD)?.heartbeatUptime
            // 180 s more of a 604,800 s week: 0.000794 + 0.000297.
            expect(uptimeOf(first.data)).toBe('0.000794')
            expect(uptimeOf(after.data)).toBe('0.001091')
        } finally {
            await world.client.query('DELETE FROM heartbeat WHERE id = $1', [id])
        }
    })

    it('unknown product, loose instants rejected', async () => {
        const product = await graphql(`{ gaps(product: "bogus") { totalCount } }`)
        expect(product.errors?.[0]?.message).toMatch(/^product "bogus" is invalid: expected one of sandbox-cloud, /)
        expect(product.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
        for (const at of ['1', 'Jan 7 2026', '2026-01-07 12:00', '2026-02-30T00:00:00Z']) {
            const loose = await graphql(`{ gaps(at: "${at}") { totalCount } }`)
            expect(loose.errors?.[0]?.message, at).toBe(`at ${JSON.stringify(at)} is not an ISO 8601 time`)
        }
        const evidence = await graphql(`{ evidenceBundle(service: "${SERVICE}", operator: "${GOOD}", from: "1", to: "2026-01-07T00:00:00Z") { root } }`)
        expect(evidence.errors?.[0]?.message).toBe('from "1" is not an ISO 8601 time')
    })

    it('future instants rejected', async () => {
        for (const query of [`{ gaps(at: "2099-01-01T00:00:00Z") { totalCount } }`, `{ operatorSummary(operator: "${GOOD}", at: "2099-01-01T00:00:00Z") { at } }`]) {
            const result = await graphql(query)
            expect(result.data, query).toBeNull()
            expect(result.errors?.[0]?.message, query).toMatch(/^at 2099-01-01T00:00:00\.000Z is in the future \(now is 20\d\d-[^;]+; up to 60 s ahead is accepted\)/)
            expect(result.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT')
        }
        // A minute ahead of the server's clock is accepted, for clients whose clocks run fast.
        const soon = new Date(Date.now() + 30_000).toISOString()
        const accepted = await graphql(`{ gaps(at: "${soon}") { at } }`)
        expect(accepted.errors).toBeUndefined()
    })

    it('scorecard arguments: invalid ones rejected', async () => {
        const both = await graphql(`{ scorecard(blueprint: "1", week: "2026-W02", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { operator } }`)
        expect(both.errors?.[0]?.message).toBe('scorecard takes week or from and to, not both')
        const future = await graphql(`{ scorecard(blueprint: "1", week: "2099-W02") { operator } }`)
        expect(future.errors?.[0]?.message).toMatch(/^period 2099-W02 has not started yet/)
        expect(future.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
        // A blueprint id with a leading zero names no stored blueprint; rejected as gaps rejects it.
        const padded = await graphql(`{ scorecard(blueprint: "001", week: "2026-W02") { operator heartbeatUptime } }`)
        expect(padded.errors?.[0]?.message).toBe('blueprint "001" is invalid: expected a decimal id such as "12"')
        // 2^64 has 20 digits like uint64's largest value, but no blueprint can have it.
        const huge = await graphql(`{ scorecard(blueprint: "18446744073709551616", week: "2026-W02") { operator } }`)
        expect(huge.errors?.[0]?.message).toBe('blueprint 18446744073709551616 is out of range: ids are uint64, at most 18446744073709551615')
        expect(huge.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
        for (const id of ['99999999999999999999', '99999999999999999999999']) {
            const service = await graphql(`{ gaps(service: "${id}") { totalCount } }`)
            expect(service.errors?.[0]?.message, id).toBe(`service ${id} is out of range: ids are uint64, at most 18446744073709551615`)
        }
        const largest = await graphql(`{ gaps(service: "18446744073709551615") { totalCount } }`)
        expect(largest.errors).toBeUndefined()
        expect(largest.data.gaps.totalCount).toBe(0)
    })

    it('generated OpenReader API still served', async () => {
        const result = await graphql('{ services { id heartbeatInterval } }')
        expect(result.data.services).toEqual([{id: SERVICE, heartbeatInterval: '60'}])
    })
})

const EVIDENCE = `query($service: String!, $operator: String!, $from: String!, $to: String!) {
  evidenceBundle(service: $service, operator: $operator, from: $from, to: $to) {
    root recordCount bundle linkedSlashes { slashId serviceId operator status proposedTx }
  }
}`
const EVIDENCE_FROM = '2026-01-05T00:00:00Z'

describe('evidenceBundle over GraphQL', () => {
    it('root equals the CLI bundle root', async () => {
        const result = await graphql(EVIDENCE, {service: SERVICE, operator: CONTRADICTED, from: EVIDENCE_FROM, to: AT.toISOString()})
        expect(result.errors).toBeUndefined()
        const served = result.data.evidenceBundle

        // The same inputs through the compiled `proofgap evidence` command, in its own process.
        const cli = await runToEnd(
            process.execPath,
            [path.join(apiDir as string, 'lib/cli/main.js'), 'evidence', '--service', SERVICE, '--operator', CONTRADICTED,
                '--from', EVIDENCE_FROM, '--to', AT.toISOString()],
            {...world.db.env, DB_URL: ''},
            60_000,
        )
        expect(cli.code, cli.stderr).toBe(0)
        const printed = JSON.parse(cli.stdout) as {root: string; records: unknown[]}
        expect(served.root).toMatch(/^0x[0-9a-f]{64}$/)
        expect(served.root).toBe(printed.root)
        expect(served.recordCount).toBe(printed.records.length)
        expect(served.bundle).toBe(cli.stdout)
    })

    it('slash citing the root linked', async () => {
        const first = await graphql(EVIDENCE, {service: SERVICE, operator: CONTRADICTED, from: EVIDENCE_FROM, to: AT.toISOString()})
        const root: string = first.data.evidenceBundle.root
        expect(first.data.evidenceBundle.linkedSlashes).toEqual([])
        const previous = await world.client.query('SELECT evidence FROM slash WHERE id = $1', ['1'])
        await world.client.query('UPDATE slash SET evidence = $1 WHERE id = $2', [root, '1'])
        try {
            const linked = await graphql(EVIDENCE, {service: SERVICE, operator: CONTRADICTED, from: EVIDENCE_FROM, to: AT.toISOString()})
            expect(linked.data.evidenceBundle.linkedSlashes).toEqual([
                {slashId: '1', serviceId: SERVICE, operator: GOOD, status: 'EXECUTED', proposedTx: keccak256(stringToHex('tx-3000'))},
            ])
        } finally {
            await world.client.query('UPDATE slash SET evidence = $1 WHERE id = $2', [previous.rows[0].evidence, '1'])
        }
    })

    it.each([
        ['operator not an address', {operator: '0x1234'}, /operator "0x1234" is not a 0x address/],
        ['service not decimal', {service: '10; DROP TABLE slash'}, /service "10; DROP TABLE slash" is not a decimal service id/],
        ['unknown service', {service: '999'}, /service 999 not found in the indexed chain tables/],
        ['unknown operator', {operator: `0x${'0'.repeat(39)}1`}, /^operator 0x0{39}1 not found in the indexed chain tables \(check the address\)$/],
        ['service above uint64', {service: '18446744073709551616'}, /^service 18446744073709551616 is out of range: ids are uint64/],
        ['period longer than the cap', {from: '2025-01-01T00:00:00Z'}, /too long: query at most 92 days at a time/],
        ['fractional days rounded', {from: '2025-01-01T08:00:00Z'}, /^period of \d+\.\d\d days is too long/],
    ])('%s rejected', async (_name, change, message) => {
        const result = await graphql(EVIDENCE, {service: SERVICE, operator: CONTRADICTED, from: EVIDENCE_FROM, to: AT.toISOString(), ...change})
        expect(result.data ?? null).toBeNull()
        expect(result.errors?.[0]?.message).toMatch(message)
        expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    })

    it('operator outside the service rejected', async () => {
        const removeOutsider = await insertOutsider(world.client)
        try {
            const result = await graphql(EVIDENCE, {service: SERVICE, operator: OUTSIDER, from: EVIDENCE_FROM, to: AT.toISOString()})
            expect(result.data ?? null).toBeNull()
            expect(result.errors?.[0]?.message).toBe(
                `operator ${OUTSIDER} is not a member of service ${SERVICE} (it did not join the service before ${AT.toISOString()})`,
            )
            expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
        } finally {
            await removeOutsider()
        }
    })
})
