/**
 * Indexing benchmark: builds a devnet chain of heartbeats on anvil, indexes it from block 0 to head with the compiled
 * processor once per RPC setting, and measures the floor (eth_getLogs + COPY, no decoding) on the same chain and server,
 * before and after the processor runs.
 *
 *   npm run bench:indexing -- --shape reference
 *   npm run bench:indexing -- --events 100000 --per-block 10
 *   npm run bench:indexing -- --events 10000 --per-block 1
 *
 * Options: --shape reference (20,000 heartbeats, 10 per block, 104 empty blocks), --events N, --per-block K,
 * --empty-tail M, --settings default,tuned (comma-separated names of PROCESSOR_SETTINGS), --no-floor,
 * --cpu-prof DIR (write a V8 CPU profile of each full processor run into DIR), --skip-build (reuse bench/.build),
 * --processor-log FILE (append the processor's stderr of each full run to FILE).
 * --data-dir DIR keeps PostgreSQL's data directory in DIR after the run, to inspect the indexed databases (without it the
 * directory is temporary).
 * --baseline-build DIR adds the setting `baseline`: default settings, run from another compiled copy of the project (a
 * folder with lib/main.js and lib/model, such as a bench/.build saved before a change). Two versions of the code are
 * then compared on one chain: --settings default,baseline,default,baseline.
 * --write-breakdown times, after the runs, 10,000 heartbeat rows written into the first run's database with COPY and
 * with the JSON statement: as a hot block writes them, as a finalized batch does (without the cover trigger's work), with
 * per-row foreign keys in place of the reference check, without the check, without any trigger, and without indexes.
 */
import {spawn} from 'node:child_process'
import {appendFileSync, existsSync, mkdtempSync, rmSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {numberToHex} from 'viem'
import {startAnvil} from '../src/devnet/anvil'
import {startEmbeddedPostgres, type EmbeddedDatabase} from '../src/db/embedded'
import {applyMigrations, runMigration} from '../src/stack/children'
import {loadNetworkConfig} from '../src/config'
import {allContracts} from '../src/chain/processor'
import {buildChain, getLogsSpanBlocks, rpcBatch, type ChainShape} from './lib/chain'
import {buildProcessorCopy, buildProjectIfMissing, buildVersion, formatVersion, BENCH_BUILD_DIR} from './lib/build'
import {copyFrom} from '../src/db/copy'
import {measureWriteBreakdown, type WriteCost} from './lib/write-breakdown'
import {postgresCpuSeconds, processCpuSeconds} from './lib/cpu'
import {formatLoad, numberArg, parseArgs, runContext, removeOnExit, runBenchmark, saveResult, tolerateShutdown, UsageError, type RunContext} from './lib/machine'

/** Processor settings compared by the benchmark; `default` is what the devnet preset uses without RPC_* variables. */
const PROCESSOR_SETTINGS: Record<string, Record<string, string>> = {
    default: {},
    'batch-500': {RPC_MAX_BATCH_CALL_SIZE: '500'},
    'capacity-2': {RPC_CAPACITY: '2'},
    'capacity-20': {RPC_CAPACITY: '20'},
    'rate-100': {RPC_RATE_LIMIT: '100'},
    tuned: {RPC_CAPACITY: '20', RPC_MAX_BATCH_CALL_SIZE: '500'},
    /** Without the check of each block's log list against its logsBloom (on by default). */
    'no-log-check': {PROCESSOR_VERIFY_LOGS: 'false'},
    /** evm-processor 1.27's own batching: 10 blocks per request group and per handler call. */
    'sdk-batches': {RPC_BLOCKS_PER_REQUEST: '10', PROCESSOR_MAX_BATCH_BLOCKS: '10'},
    /** The same batches as `sdk-batches` with a handler that does nothing. */
    'noop-sdk-batches': {RPC_BLOCKS_PER_REQUEST: '10', PROCESSOR_MAX_BATCH_BLOCKS: '10'},
    /** Default settings with a handler that does nothing (bench/lib/noop-processor.cjs): ingestion alone. */
    'noop-handler': {},
    /** Default settings on the schema before 1796434000000-HeartbeatReferenceCheck.js: per-row foreign keys on heartbeat. */
    'row-fk': {},
}

/** Schema variants of settings: what differs, and the change run on the setting's database after the migrations. */
const SCHEMA_VARIANTS: Record<string, {note: string; apply: (client: pg.Client) => Promise<void>}> = {
    'row-fk': {
        note: 'schema: per-row foreign keys on heartbeat',
        apply: (client) => runMigration(client, '1796434000000-HeartbeatReferenceCheck.js', 'down'),
    },
}

/** Returns whether a setting writes heartbeat rows on the schema of the current migrations. */
function onCurrentSchema(setting: string): boolean {
    return !setting.startsWith('noop-') && !(setting in SCHEMA_VARIANTS)
}

let processorLogFile: string | undefined

/** Logs per block that fit one bulk transaction under anvil's default block gas limit of 30,000,000 (bulkEmitterGas). */
const MAX_LOGS_PER_BLOCK = 3_000

/** GNU time, which reports a processor run's peak RSS and CPU seconds. */
const GNU_TIME = '/usr/bin/time'

/** Setting that runs the default settings from the compiled copy given with --baseline-build. */
const BASELINE_SETTING = 'baseline'
let baselineBuildDir: string | undefined

/** Repetitions of each write-breakdown variant; their median is reported. */
const BREAKDOWN_REPEATS = 5

/** Hard limit of one processor run; a run that takes longer is killed and reported as failed. */
const PROCESSOR_TIMEOUT_MS = 60 * 60 * 1000

interface ProcessorRun {
    setting: string
    env: Record<string, string>
    seconds: number
    startupSeconds: number
    peakRssMiB: number
    heartbeatRows: number
    unhandledRows: number
    cpu: CpuSeconds
}

/** CPU seconds (user + system) that each process spent during one run. */
interface CpuSeconds {
    /** The processor, or the benchmark's own process for the floor. */
    indexer: number
    postgres: number
    anvil: number
}

/** Processes whose CPU time a run reads. */
interface CpuSources {
    anvilPid: number
    dataDir: string
}

interface FloorRun {
    cpu: CpuSeconds
    fetchSeconds: number
    copySeconds: number
    seconds: number
    logs: number
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2), {
        values: ['shape', 'events', 'per-block', 'empty-tail', 'settings', 'cpu-prof', 'processor-log', 'data-dir', 'baseline-build'],
        flags: ['no-floor', 'skip-build', 'write-breakdown'],
    })
    const reference = args.get('shape') === 'reference'
    const shape: ChainShape = {
        heartbeats: numberArg(args, 'events', 20_000),
        heartbeatsPerBlock: numberArg(args, 'per-block', 10),
        emptyTailBlocks: numberArg(args, 'empty-tail', reference ? 104 : 0, 0),
        services: 10,
        operatorsPerService: 10,
    }
    if (reference && (args.has('events') || args.has('per-block'))) throw new UsageError('--shape reference fixes --events and --per-block; leave them out')
    const settings = (args.get('settings') ?? 'default,tuned').split(',')
    if (settings.includes('')) throw new UsageError('--settings: a setting name is empty; give names separated by commas, such as default,tuned')
    if (args.has('shape') && !reference) throw new UsageError(`--shape: expected reference, received ${args.get('shape')}`)
    const baselineArg = args.get('baseline-build')
    baselineBuildDir = baselineArg ? path.resolve(baselineArg) : undefined
    if (baselineBuildDir) checkBaselineBuild(baselineBuildDir, settings)
    for (const name of settings) {
        if (name === BASELINE_SETTING) {
            if (!baselineBuildDir) throw new UsageError('--settings: the setting baseline needs --baseline-build DIR')
            continue
        }
        if (!(name in PROCESSOR_SETTINGS)) throw new UsageError(`--settings: unknown setting ${name}; known: ${Object.keys(PROCESSOR_SETTINGS).join(', ')}, baseline`)
    }
    if (args.has('write-breakdown') && !settings.some(onCurrentSchema)) {
        throw new UsageError('--write-breakdown: no setting writes rows on the current schema; add one that is neither noop-* nor row-fk, such as default')
    }
    const processorLog = args.get('processor-log')
    if (processorLog && !existsSync(path.dirname(path.resolve(processorLog)))) {
        throw new UsageError(`--processor-log: the folder of ${processorLog} does not exist`)
    }
    if (processorLog && existsSync(processorLog) && statSync(processorLog).isDirectory()) {
        throw new UsageError(`--processor-log: ${processorLog} is a folder; give a file name`)
    }
    if (shape.heartbeatsPerBlock > MAX_LOGS_PER_BLOCK) {
        throw new UsageError(`--per-block: at most ${MAX_LOGS_PER_BLOCK} (one transaction per block must fit anvil's block gas limit), received ${shape.heartbeatsPerBlock}`)
    }
    if (args.has('skip-build') && !existsSync(path.join(BENCH_BUILD_DIR, 'lib', 'main.js'))) {
        throw new UsageError(`--skip-build: ${path.join(BENCH_BUILD_DIR, 'lib')} has no compiled processor yet; run once without --skip-build`)
    }
    if (!existsSync(GNU_TIME)) throw new UsageError(`GNU time not found at ${GNU_TIME}: the benchmark reads peak RSS and CPU time with it. Install the package time`)

    const profileDir = args.get('cpu-prof')
    const profileArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir)] : []
    await buildProjectIfMissing()
    if (!args.has('skip-build')) await buildProcessorCopy()
    const code = {processor: buildVersion(BENCH_BUILD_DIR), baseline: baselineBuildDir ? buildVersion(baselineBuildDir) : undefined}
    console.log(
        `code: processor from ${formatVersion(code.processor)}` +
            (code.baseline ? `; baseline (${path.relative(process.cwd(), baselineBuildDir!) || '.'}) from ${formatVersion(code.baseline)}` : ''),
    )
    processorLogFile = args.get('processor-log')
    const keptDir = args.get('data-dir')
    const dataDir = keptDir ? path.resolve(keptDir) : path.join(mkdtempSync(path.join(os.tmpdir(), 'proofgap-bench-pg-')), 'data')
    if (!keptDir) removeOnExit(path.dirname(dataDir))
    const [anvil, server] = await Promise.all([startAnvil({pruneHistory: true}), startEmbeddedPostgres({dataDir, ephemeral: !keptDir})])
    try {
        const chain = await buildChain(anvil.rpcUrl, shape)
        const totalLogs = chain.setupLogs + chain.heartbeats
        console.log(`chain: ${chain.heartbeats} heartbeats + ${chain.setupLogs} setup logs, head ${chain.head}, generated in ${chain.generationSeconds.toFixed(1)} s`)

        // The floor runs before and after the processor runs. Its time varies by tens of percent from one hour to the
        // next, and the ratios use the faster of the two, so a slow floor cannot flatter the processor.
        const floors: {run: FloorRun; context: RunContext}[] = []
        const measureFloorOnce = async () => {
            const context = runContext()
            const run = await measureFloor(server, anvil.rpcUrl, chain.head, getLogsSpanBlocks(shape.heartbeatsPerBlock), {anvilPid: anvil.pid, dataDir})
            floors.push({run, context})
            console.log(
                `floor ${floors.length}: ${run.logs} logs in ${run.seconds.toFixed(2)} s (getLogs ${run.fetchSeconds.toFixed(2)} s, COPY ${run.copySeconds.toFixed(2)} s) ` +
                    `= ${Math.round(run.logs / run.seconds)} events/s; ${formatCpu(run.cpu, run.seconds)}; load ${formatLoad(context)}`,
            )
        }
        if (!args.has('no-floor')) await measureFloorOnce()

        const runs: {run: ProcessorRun; context: RunContext}[] = []
        for (const [index, setting] of settings.entries()) {
            const context = runContext()
            const run = await indexChain(server, `run_${index}`, anvil.rpcUrl, chain.head, setting, profileArgs, {anvilPid: anvil.pid, dataDir})
            if (!setting.startsWith('noop-') && run.heartbeatRows !== chain.heartbeats) {
                throw new Error(`setting ${setting}: ${run.heartbeatRows} heartbeat rows, expected ${chain.heartbeats}`)
            }
            runs.push({run, context})
            report(shape, chain.head, totalLogs, run, context, index + 1)
        }

        let floor: {run: FloorRun; context: RunContext} | undefined
        if (!args.has('no-floor')) {
            await measureFloorOnce()
            floor = floors.reduce((fastest, next) => (next.run.seconds < fastest.run.seconds ? next : fastest))
            console.log(`processor / floor (events/s), against the faster floor (${floor.run.seconds.toFixed(2)} s):`)
            for (const [index, {run: processorRun}] of runs.entries()) {
                const ratio = floor.run.seconds / processorRun.seconds
                console.log(`  run ${index + 1}, ${processorRun.setting}: ${(ratio * 100).toFixed(1)} %`)
            }
        }
        let writeBreakdown: {run: number; costs: WriteCost[]; context: RunContext} | undefined
        if (args.has('write-breakdown')) {
            const index = settings.findIndex(onCurrentSchema)
            const context = runContext()
            const client = new pg.Client({connectionString: `postgres://${server.user}:${server.password}@127.0.0.1:${server.port}/run_${index}`})
            tolerateShutdown(client)
            await client.connect()
            try {
                const rows = Math.min(10_000, chain.heartbeats)
                const costs = await measureWriteBreakdown(client, rows, BREAKDOWN_REPEATS)
                writeBreakdown = {run: index + 1, costs, context}
                console.log(
                    `write breakdown: ${rows} heartbeat rows in one statement into the database of run ${index + 1} (${settings[index]}), ` +
                        `median of ${BREAKDOWN_REPEATS}, rolled back; load ${formatLoad(context)}`,
                )
                for (const cost of costs) console.log(`  ${cost.via.padEnd(4)} ${cost.variant}: ${cost.microsPerRow.toFixed(1)} µs/row`)
            } finally {
                await client.end()
            }
        }
        saveResult('indexing', {command: process.argv.slice(2), code, baselineBuild: baselineBuildDir, shape, chain, runs, floor, floors, writeBreakdown})
    } finally {
        await Promise.all([anvil.stop(), server.stop()])
        if (!keptDir) rmSync(path.dirname(dataDir), {recursive: true, force: true})
    }
}

/**
 * Checks that DIR is a compiled copy the benchmark can run: lib/main.js and lib/model, and the project's modules
 * reachable from it (Node looks for node_modules in the folders above it).
 */
function checkBaselineBuild(dir: string, settings: string[]): void {
    if (!settings.includes(BASELINE_SETTING)) throw new UsageError('--baseline-build is given, but --settings has no baseline to run from it')
    for (const file of [path.join('lib', 'main.js'), path.join('lib', 'model')]) {
        if (!existsSync(path.join(dir, file))) throw new UsageError(`--baseline-build: ${dir} has no ${file}; give a compiled copy of the project, such as bench/.build/base`)
    }
    try {
        require.resolve('@subsquid/typeorm-store', {paths: [dir]})
    } catch {
        throw new UsageError(`--baseline-build: the project's modules cannot be found from ${dir}; put the copy inside the project folder, such as bench/.build/base`)
    }
}

function report(shape: ChainShape, head: number, totalLogs: number, run: ProcessorRun, context: RunContext, number: number): void {
    const steadySeconds = Math.max(0.001, run.seconds - run.startupSeconds)
    const variant = SCHEMA_VARIANTS[run.setting]
    const schema = variant ? ` (${variant.note})` : ''
    console.log(
        `run ${number}, ${run.setting} ${JSON.stringify(run.env)}${schema}: ${shape.heartbeats} heartbeats (${shape.heartbeatsPerBlock}/block) ` +
            `and ${totalLogs - shape.heartbeats} setup logs in ${run.seconds.toFixed(2)} s ` +
            `= ${Math.round(totalLogs / run.seconds)} events/s, ${Math.round((head + 1) / run.seconds)} blocks/s; ` +
            `without the ${run.startupSeconds.toFixed(2)} s start-up: ${Math.round(totalLogs / steadySeconds)} events/s; ` +
            `peak RSS ${run.peakRssMiB} MiB; ${formatCpu(run.cpu, run.seconds)}; load ${formatLoad(context)}`,
    )
}

function formatCpu(cpu: CpuSeconds, wallSeconds: number): string {
    const total = cpu.indexer + cpu.postgres + cpu.anvil
    return (
        `CPU s: indexer ${cpu.indexer.toFixed(2)}, PostgreSQL ${cpu.postgres.toFixed(2)}, anvil ${cpu.anvil.toFixed(2)} ` +
        `= ${total.toFixed(2)} (${((total / wallSeconds) * 100).toFixed(0)} % of one core over the run)`
    )
}

/** Returns the CPU seconds of PostgreSQL and anvil so far. After a run, pass `before` to wait for the run's backends to exit. */
async function cpuSnapshot(sources: CpuSources, before?: {children: number}): Promise<{postgres: number; anvil: number; children: number}> {
    const postgres = await postgresCpuSeconds(sources.dataDir, before?.children)
    return {postgres: postgres.seconds, anvil: processCpuSeconds(sources.anvilPid), children: postgres.children}
}

/** Creates a database with the migrations applied on the shared benchmark server and returns its DB_* variables. */
async function createDatabase(server: EmbeddedDatabase, name: string, schemaChange?: (client: pg.Client) => Promise<void>): Promise<Record<string, string>> {
    const admin = new pg.Client({connectionString: server.url})
    tolerateShutdown(admin)
    await admin.connect()
    try {
        await admin.query(`DROP DATABASE IF EXISTS ${name}`)
        await admin.query(`CREATE DATABASE ${name}`)
    } finally {
        await admin.end()
    }
    const env = {...server.env, DB_NAME: name}
    await applyMigrations(env)
    if (schemaChange) {
        const client = new pg.Client({connectionString: `postgres://${server.user}:${server.password}@127.0.0.1:${server.port}/${name}`})
        tolerateShutdown(client)
        await client.connect()
        try {
            await schemaChange(client)
        } finally {
            await client.end()
        }
    }
    return env
}

async function indexChain(
    server: EmbeddedDatabase,
    database: string,
    rpcUrl: string,
    head: number,
    setting: string,
    nodeArgs: string[],
    sources: CpuSources,
): Promise<ProcessorRun> {
    const settingEnv = PROCESSOR_SETTINGS[setting] ?? {}
    const buildDir = setting === BASELINE_SETTING ? baselineBuildDir! : BENCH_BUILD_DIR
    // Start-up cost (node, module load, database connection) measured on its own: index block 0 only, which has no logs.
    const startupDb = await createDatabase(server, `${database}_startup`)
    const startup = await runProcessor({...startupDb, ...settingEnv}, rpcUrl, 0, [], buildDir)

    const dbEnv = await createDatabase(server, database, SCHEMA_VARIANTS[setting]?.apply)
    const entry = setting.startsWith('noop-') ? path.join(__dirname, 'lib', 'noop-processor.cjs') : undefined
    const before = await cpuSnapshot(sources)
    const full = await runProcessor({...dbEnv, ...settingEnv}, rpcUrl, head, nodeArgs, buildDir, entry)
    const after = await cpuSnapshot(sources, before)
    const client = new pg.Client({connectionString: `postgres://${server.user}:${server.password}@127.0.0.1:${server.port}/${database}`})
    tolerateShutdown(client)
    await client.connect()
    try {
        const heartbeats = await client.query<{n: string}>('SELECT count(*)::text AS n FROM heartbeat')
        const unhandled = await client.query<{n: string}>('SELECT count(*)::text AS n FROM unhandled_log')
        return {
            setting,
            env: settingEnv,
            seconds: full.seconds,
            startupSeconds: startup.seconds,
            peakRssMiB: full.peakRssMiB,
            cpu: {indexer: full.cpuSeconds, postgres: after.postgres - before.postgres, anvil: after.anvil - before.anvil},
            heartbeatRows: Number(heartbeats.rows[0].n),
            unhandledRows: Number(unhandled.rows[0].n),
        }
    } finally {
        await client.end()
    }
}

/** Runs a compiled copy of the processor (`buildDir`) under GNU time (for its peak RSS) until `toBlock`. */
function runProcessor(
    env: Record<string, string>,
    rpcUrl: string,
    toBlock: number,
    nodeArgs: string[],
    buildDir: string,
    entry = path.join(buildDir, 'lib', 'main.js'),
): Promise<{seconds: number; peakRssMiB: number; cpuSeconds: number}> {
    return new Promise((resolve, reject) => {
        const started = performance.now()
        const child = spawn(GNU_TIME, ['-f', 'BENCH_MAX_RSS_KB=%M BENCH_CPU_S=%U+%S', process.execPath, ...nodeArgs, entry], {
            cwd: buildDir,
            env: {...process.env, ...env, NETWORK: 'devnet', RPC_URL: rpcUrl, PROCESSOR_TO_BLOCK: String(toBlock), PROMETHEUS_PORT: '0', SQD_INFO: ''},
            stdio: ['ignore', 'ignore', 'pipe'],
        })
        let stderr = ''
        child.stderr.on('data', (chunk: Buffer) => {
            if (processorLogFile && toBlock > 0) appendFileSync(processorLogFile, chunk)
            stderr = (stderr + chunk.toString()).slice(-20_000)
        })
        const timer = setTimeout(() => child.kill('SIGKILL'), PROCESSOR_TIMEOUT_MS)
        child.on('error', reject)
        child.on('exit', (code) => {
            clearTimeout(timer)
            const seconds = (performance.now() - started) / 1000
            const rss = /BENCH_MAX_RSS_KB=(\d+) BENCH_CPU_S=([\d.]+)\+([\d.]+)/.exec(stderr)
            if (code !== 0 || !rss) {
                reject(new Error(`processor failed (exit ${code}) while indexing to block ${toBlock}:\n${stderr.slice(-3000)}`))
                return
            }
            resolve({seconds, peakRssMiB: Math.round(Number(rss[1]) / 1024), cpuSeconds: Number(rss[2]) + Number(rss[3])})
        })
    })
}

interface RpcLog {
    address: string
    topics: string[]
    data: string
    blockNumber: string
    blockHash: string
    logIndex: string
    transactionHash: string
}

/**
 * Measures the floor: the same logs fetched with eth_getLogs (the processor's addresses, no topic filter) and written raw with
 * COPY into one table of the same server, without decoding. Fetch and write alternate, as a simple indexer would.
 */
async function measureFloor(server: EmbeddedDatabase, rpcUrl: string, head: number, spanBlocks: number, sources: CpuSources): Promise<FloorRun> {
    const dbEnv = await createDatabase(server, 'floor')
    const client = new pg.Client({connectionString: `postgres://${server.user}:${server.password}@127.0.0.1:${server.port}/${dbEnv.DB_NAME}`})
    tolerateShutdown(client)
    await client.connect()
    try {
        await client.query(
            'CREATE TABLE raw_log (id text PRIMARY KEY, block_number integer NOT NULL, block_hash text NOT NULL, log_index integer NOT NULL, ' +
                'tx_hash text NOT NULL, address text NOT NULL, topics text[] NOT NULL, data text NOT NULL)',
        )
        const config = loadNetworkConfig({env: {NETWORK: 'devnet', RPC_URL: rpcUrl}})
        const addresses = allContracts(config).map((ref) => ref.address)
        let fetchSeconds = 0
        let copySeconds = 0
        let logs = 0
        const before = await cpuSnapshot(sources)
        const ownBefore = process.cpuUsage()
        for (let from = 0; from <= head; from += spanBlocks) {
            const to = Math.min(head, from + spanBlocks - 1)
            let started = performance.now()
            const [result] = await rpcBatch(rpcUrl, [{method: 'eth_getLogs', params: [{fromBlock: numberToHex(from), toBlock: numberToHex(to), address: addresses}]}])
            const batch = result as RpcLog[]
            fetchSeconds += (performance.now() - started) / 1000

            started = performance.now()
            const lines = batch.map((log) => {
                const block = Number(log.blockNumber)
                const index = Number(log.logIndex)
                return `${block}-${index}\t${block}\t${log.blockHash}\t${index}\t${log.transactionHash}\t${log.address}\t{${log.topics.join(',')}}\t${log.data}\n`
            })
            if (lines.length > 0) await copyFrom(client, 'COPY raw_log FROM STDIN', [Buffer.from(lines.join(''))])
            copySeconds += (performance.now() - started) / 1000
            logs += batch.length
        }
        const own = process.cpuUsage(ownBefore)
        // The floor's connection stays open: its backend is counted while it runs.
        const after = await cpuSnapshot(sources)
        const cpu = {indexer: (own.user + own.system) / 1e6, postgres: after.postgres - before.postgres, anvil: after.anvil - before.anvil}
        return {cpu, fetchSeconds, copySeconds, seconds: fetchSeconds + copySeconds, logs}
    } finally {
        await client.end()
    }
}

runBenchmark(main)
