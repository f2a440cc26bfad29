import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {concat, encodeAbiParameters, maxUint256, slice, stringToHex, type Hex} from 'viem'
import {DEVNET_ADDRESSES} from '../src/config/networks/presets'
import {ACTORS, OPERATORS, word} from '../src/devnet/actors'
import {SANDBOX_CREATE_INPUT, sandboxCreateInputType} from '../src/devnet/scenario'
import {startAnvil, DEVNET_GENESIS_TIMESTAMP_S, type AnvilInstance} from '../src/devnet/anvil'
import type {EmittedLog, LogToEmit} from '../src/devnet/emitter'
import type {RunResult} from '../src/stack/children'
import {normalise} from './helpers/db'
import {runProcessorTo, startTestDatabase} from './helpers/stack'
import {devnetEvent, restaking, startBlockEmitter, tangle} from './helpers/devnet-events'

/*
 * Hostile logs, one per block, each followed in the same block by a canary log (a stake increase of operator 11 by
 * the case number). A canary row proves that the processor went on past the hostile log.
 */

const A = DEVNET_ADDRESSES
const op = OPERATORS
const CANARY_OPERATOR = op[11]
const INITIAL_CANARY_STAKE = 1n
const TWO_POW_63 = 2n ** 63n
const NUL_URL = 'http://127.0.0.1:19003/\u0000\u0000injected'
const INVALID_UTF8_URL_BYTES = concat([stringToHex('http://127.0.0.1:19004/'), '0xfffe', stringToHex('admin')])

/** An API key that hostile sandbox_create inputs publish; it must be stored nowhere. */
const INPUT_API_KEY = 'sk-hostile-' + '7Qm2xV9pL4rT8wZ1'
/** A token of a known form under a harmless name. */
const INPUT_GITHUB_TOKEN = 'ghp_' + 'Hx81mBv20XkfP3aLw9TyQe45Rt67Uo89Pa'
/** Bytes of the name that hostileSandboxInputs() replaces with invalid UTF-8, same length. */
const NAME_PLACEHOLDER = 'PLACEHOLDER!'

/**
 * sandbox_create inputs with NUL in an env_json name and value, and invalid UTF-8 (0xff 0xfe) at the start of the
 * sandbox name.
 */
function hostileSandboxInputs(): Hex {
    const env = JSON.stringify({'OPENAI\u0000_API_KEY': `${INPUT_API_KEY}\u0000tail`, LOG_LEVEL: 'info'})
    const encoded = encodeAbiParameters(sandboxCreateInputType, [{...SANDBOX_CREATE_INPUT, name: NAME_PLACEHOLDER, env_json: env}])
    const placeholder = stringToHex(NAME_PLACEHOLDER).slice(2)
    const invalid = 'fffe' + stringToHex(NAME_PLACEHOLDER.slice(2)).slice(2)
    return encoded.replace(placeholder, invalid) as Hex
}

const heartbeat = (serviceId: bigint, operator: number) =>
    devnetEvent('OperatorStatusRegistry', A.operatorStatusRegistry, 'HeartbeatReceived', {
        serviceId,
        blueprintId: 1n,
        operator: op[operator],
        statusCode: 0,
        timestamp: BigInt(DEVNET_GENESIS_TIMESTAMP_S),
    })

/** Hostile cases in chain order; the canary of case i raises operator 11's stake by i + 1. */
const HOSTILE_CASES = {
    jobSubmittedIndexedJobIndex: devnetEvent('TangleLegacy', A.tangle, 'JobSubmitted', {
        serviceId: 0n,
        callId: 3n,
        jobIndex: 2,
        caller: ACTORS.customerA,
        inputs: '0x01',
    }),
    legacyBlueprintCreated: devnetEvent('TangleLegacy', A.tangle, 'BlueprintCreated', {
        blueprintId: 8n,
        owner: ACTORS.blueprintOwner,
        manager: A.sandboxManager,
        metadataUri: 'ipfs://bafy-hostile-legacy-8',
    }),
    topicCountMismatch: (() => {
        const activated = tangle('ServiceActivated', {serviceId: 77n, requestId: 77n, blueprintId: 1n, confidentiality: 0})
        return {...activated, topics: activated.topics.slice(0, 3)}
    })(),
    truncatedPayload: (() => {
        const beat = heartbeat(0n, 0)
        return {...beat, data: slice(beat.data, 0, 40)}
    })(),
    orphanJobResult: tangle('JobResultSubmitted', {serviceId: 99n, callId: 0n, operator: op[0], output: stringToHex('orphan')}),
    orphanHeartbeat: heartbeat(99n, 0),
    orphanUnregistration: tangle('OperatorUnregistered', {blueprintId: 1n, operator: op[5]}),
    rpcAddressWithNul: tangle('OperatorRegistered', {
        blueprintId: 1n,
        operator: op[3],
        ecdsaPublicKey: '0x04' + word('hostile-key-3').slice(2),
        rpcAddress: NUL_URL,
    }),
    rpcAddressInvalidUtf8: tangle('OperatorRegistered', {
        blueprintId: 1n,
        operator: op[4],
        ecdsaPublicKey: '0x04' + word('hostile-key-4').slice(2),
        rpcAddress: {raw: INVALID_UTF8_URL_BYTES},
    }),
    undecodableSandboxOutput: tangle('JobResultSubmitted', {serviceId: 0n, callId: 0n, operator: op[0], output: '0xdeadbeef'}),
    sandboxInputHostileStrings: tangle('JobSubmitted', {serviceId: 0n, callId: 10n, jobIndex: 0, caller: ACTORS.customerB, inputs: hostileSandboxInputs()}),
    sandboxInputNotJson: tangle('JobSubmitted', {
        serviceId: 0n,
        callId: 11n,
        jobIndex: 0,
        caller: ACTORS.customerB,
        inputs: encodeAbiParameters(sandboxCreateInputType, [{...SANDBOX_CREATE_INPUT, env_json: `OPENAI_API_KEY=${INPUT_API_KEY}\nX=1`}]),
    }),
    orphanSandboxCreate: tangle('JobSubmitted', {
        serviceId: 99n,
        callId: 0n,
        jobIndex: 0,
        caller: ACTORS.customerB,
        inputs: encodeAbiParameters(sandboxCreateInputType, [
            {...SANDBOX_CREATE_INPUT, env_json: JSON.stringify({OPENAI_API_KEY: INPUT_API_KEY, GH: INPUT_GITHUB_TOKEN, LOG_LEVEL: 'info'})},
        ]),
    }),
} satisfies Record<string, LogToEmit>

type CaseName = keyof typeof HOSTILE_CASES

let anvil: AnvilInstance
let db: Awaited<ReturnType<typeof startTestDatabase>>
let run: RunResult
const emitted = {} as Record<CaseName, {hostile: EmittedLog; canary: EmittedLog}>

beforeAll(async () => {
    ;[anvil, db] = await Promise.all([startAnvil(), startTestDatabase()])
    const {client, block} = await startBlockEmitter(anvil.rpcUrl)

    await block(
        tangle('BlueprintCreated', {
            blueprintId: 1n,
            owner: ACTORS.blueprintOwner,
            manager: A.sandboxManager,
            metadataUri: 'ipfs://bafy-hostile-1',
            metadataHash: word('hostile-metadata-1'),
        }),
        restaking('OperatorRegistered', {operator: op[0], stake: maxUint256}),
        restaking('OperatorRegistered', {operator: op[1], stake: TWO_POW_63}),
        restaking('OperatorRegistered', {operator: CANARY_OPERATOR, stake: INITIAL_CANARY_STAKE}),
    )
    await block(
        tangle('ServiceRequested', {requestId: 0n, blueprintId: 1n, requester: ACTORS.customerA, confidentiality: 0}),
        tangle('ServiceApproved', {requestId: 0n, operator: op[0]}),
    )
    await block(
        tangle('ServiceActivated', {serviceId: 0n, requestId: 0n, blueprintId: 1n, confidentiality: 0}),
        tangle('JobSubmitted', {serviceId: 0n, callId: 0n, jobIndex: 0, caller: ACTORS.customerA, inputs: '0x'}),
    )
    let caseNumber = 0n
    for (const [name, hostile] of Object.entries(HOSTILE_CASES) as [CaseName, LogToEmit][]) {
        caseNumber += 1n
        const canary = restaking('OperatorStakeIncreased', {operator: CANARY_OPERATOR, amount: caseNumber})
        const [hostileLog, canaryLog] = await block(hostile, canary)
        emitted[name] = {hostile: hostileLog, canary: canaryLog}
    }

    const head = Number(await client.request({method: 'eth_blockNumber'}))
    run = await runProcessorTo(anvil.rpcUrl, db.env, head)
})

afterAll(async () => {
    await Promise.all([anvil?.stop(), db?.stop()])
})

async function row(table: string, id: string): Promise<Record<string, unknown> | undefined> {
    const result = await db.client.query(`SELECT * FROM "${table}" WHERE id = $1`, [id])
    if (result.rows.length === 0) return undefined
    return Object.fromEntries(Object.entries(result.rows[0]).map(([key, value]) => [key, normalise(value)]))
}

/** Asserts that the canary after a hostile log was indexed. */
async function expectCanaryIndexed(name: CaseName): Promise<void> {
    const canary = await row('operator_stake_change', emitted[name].canary.logId)
    expect(canary, `canary after ${name} not indexed`).toBeDefined()
    expect(canary!.kind).toBe('STAKE_INCREASED')
}

/** Asserts that a hostile log is kept in unhandled_log with its exact topics and data (data with secrets masked if `masked`). */
async function expectUnhandled(name: CaseName, reason: string, eventName: string, options: {masked?: boolean} = {}): Promise<void> {
    const hostile = emitted[name].hostile
    const stored = await row('unhandled_log', hostile.logId)
    expect(stored, `${name} not in unhandled_log`).toBeDefined()
    expect(stored!.reason).toBe(reason)
    expect(stored!.event_name).toBe(eventName)
    expect(stored!.address).toBe(hostile.address)
    expect(stored!.topics).toEqual(hostile.topics)
    if (options.masked) expect(stored!.data).not.toBe(hostile.data)
    else expect(stored!.data).toBe(hostile.data)
    expect(stored!.block_number).toBe(hostile.blockNumber)
    expect(stored!.block_hash).toBe(hostile.blockHash)
    expect(stored!.tx_hash).toBe(hostile.txHash)
    expect(stored!.detail).not.toBe('')
}

describe('hostile logs indexed without a crash', () => {
    it('processor exits cleanly', () => {
        expect(run.code, run.stderr.slice(-4000)).toBe(0)
    })

    it('no handler error recorded', async () => {
        const errors = await db.client.query(`SELECT id, event_name, detail FROM unhandled_log WHERE reason = 'HANDLER_ERROR'`)
        expect(errors.rows).toEqual([])
    })

    it('every canary indexed', async () => {
        const sum = (BigInt(Object.keys(HOSTILE_CASES).length) * BigInt(Object.keys(HOSTILE_CASES).length + 1)) / 2n
        const canaryOperator = await row('operator', CANARY_OPERATOR.toLowerCase())
        expect(canaryOperator?.stake).toBe((INITIAL_CANARY_STAKE + sum).toString())
    })

    it('JobSubmitted with indexed jobIndex', async () => {
        const call = await row('job_call', '0-3')
        expect(call?.shape).toBe('indexed-job-index')
        expect(call?.job_index).toBe(2)
        expect(call?.job_name).toBe('workflow_create')
        expect(call?.caller).toBe(ACTORS.customerA.toLowerCase())
        expect(call?.inputs_size).toBe(1)
        await expectCanaryIndexed('jobSubmittedIndexedJobIndex')
    })

    it('legacy BlueprintCreated', async () => {
        const blueprint = await row('blueprint', '8')
        expect(blueprint?.shape).toBe('legacy')
        expect(blueprint?.metadata_hash).toBeNull()
        expect(blueprint?.metadata_uri).toBe('ipfs://bafy-hostile-legacy-8')
        expect(blueprint?.owner).toBe(ACTORS.blueprintOwner.toLowerCase())
        await expectCanaryIndexed('legacyBlueprintCreated')
    })

    it('wrong topic count kept', async () => {
        await expectUnhandled('topicCountMismatch', 'TOPIC_COUNT_MISMATCH', 'ServiceActivated')
        expect(await row('service', '77')).toBeUndefined()
        await expectCanaryIndexed('topicCountMismatch')
    })

    it('truncated payload kept', async () => {
        await expectUnhandled('truncatedPayload', 'DECODE_FAILED', 'HeartbeatReceived')
        const beats = await db.client.query(`SELECT count(*)::int AS n FROM heartbeat`)
        expect(beats.rows[0].n).toBe(0)
        await expectCanaryIndexed('truncatedPayload')
    })

    it('orphan JobResultSubmitted kept', async () => {
        await expectUnhandled('orphanJobResult', 'ORPHAN', 'JobResultSubmitted')
        await expectCanaryIndexed('orphanJobResult')
    })

    it('orphan HeartbeatReceived kept', async () => {
        await expectUnhandled('orphanHeartbeat', 'ORPHAN', 'HeartbeatReceived')
        await expectCanaryIndexed('orphanHeartbeat')
    })

    it('orphan OperatorUnregistered kept', async () => {
        await expectUnhandled('orphanUnregistration', 'ORPHAN', 'OperatorUnregistered')
        expect(await row('registration', `1-${op[5].toLowerCase()}`)).toBeUndefined()
        await expectCanaryIndexed('orphanUnregistration')
    })

    it('unhandled counts per reason', async () => {
        const counts = await db.client.query(`SELECT reason, count(*)::int AS n FROM unhandled_log GROUP BY reason ORDER BY reason`)
        expect(counts.rows).toEqual([
            {reason: 'DECODE_FAILED', n: 1},
            {reason: 'ORPHAN', n: 4},
            {reason: 'TOPIC_COUNT_MISMATCH', n: 1},
        ])
    })

    it('rpcAddress with NUL bytes', async () => {
        const registration = await row('registration', `1-${op[3].toLowerCase()}`)
        expect(registration?.rpc_address_raw).toBe(stringToHex(NUL_URL))
        expect(registration?.rpc_address).toBe('http://127.0.0.1:19003/\u2400\u2400injected')
        expect(registration?.rpc_address_valid_utf8).toBe(true)
        expect(registration?.status).toBe('ACTIVE')
        const change = await row('registration_change', emitted.rpcAddressWithNul.hostile.logId)
        expect(change?.rpc_address_raw).toBe(stringToHex(NUL_URL))
        await expectCanaryIndexed('rpcAddressWithNul')
    })

    it('rpcAddress with invalid UTF-8', async () => {
        const registration = await row('registration', `1-${op[4].toLowerCase()}`)
        expect(registration?.rpc_address_raw).toBe(INVALID_UTF8_URL_BYTES)
        expect(registration?.rpc_address).toBe('http://127.0.0.1:19004/\ufffd\ufffdadmin')
        expect(registration?.rpc_address_valid_utf8).toBe(false)
        const change = await row('registration_change', emitted.rpcAddressInvalidUtf8.hostile.logId)
        expect(change?.rpc_address_raw).toBe(INVALID_UTF8_URL_BYTES)
        await expectCanaryIndexed('rpcAddressInvalidUtf8')
    })

    it('uint256 max stake exact', async () => {
        const operator = await row('operator', op[0].toLowerCase())
        expect(operator?.stake).toBe('115792089237316195423570985008687907853269984665640564039457584007913129639935')
        const changes = await db.client.query(`SELECT amount FROM operator_stake_change WHERE operator_id = $1`, [op[0].toLowerCase()])
        expect(changes.rows).toEqual([{amount: maxUint256.toString()}])
    })

    it('2^63 stake exact', async () => {
        const operator = await row('operator', op[1].toLowerCase())
        expect(operator?.stake).toBe('9223372036854775808')
        expect(operator?.stake).toBe(TWO_POW_63.toString())
    })

    it('undecodable sandbox output kept', async () => {
        const result = await row('job_result', emitted.undecodableSandboxOutput.hostile.logId)
        expect(result).toBeDefined()
        expect(result!.output).toBeNull()
        expect(result!.output_error).toMatch(/^DECODE_FAILED/)
        expect(result!.output_size).toBe(4)
        const call = await row('job_call', '0-0')
        expect(call?.job_name).toBe('sandbox_create')
        expect(call?.result_count).toBe(1)
        await expectCanaryIndexed('undecodableSandboxOutput')
    })

    it('sandbox_create inputs that do not decode: the call says why', async () => {
        // Call 0-0 was submitted with empty inputs.
        const call = await row('job_call', '0-0')
        expect(call?.input_error).toMatch(/^DECODE_FAILED: /)
        expect(call?.inputs_size).toBe(0)
    })

    it('sandbox_create inputs with NUL and invalid UTF-8: the secret is reported, not stored', async () => {
        const call = await row('job_call', '0-10')
        expect(call?.input_error).toBeNull()
        const logId = emitted.sandboxInputHostileStrings.hostile.logId
        const found = await db.client.query(`SELECT id, kind, operator, redacted FROM secret_exposure WHERE call_id = 10 ORDER BY id`)
        expect(found.rows).toEqual([
            {id: `${logId}-env_json.OPENAI\u2400_API_KEY`, kind: 'INPUT_SECRET', operator: null, redacted: 'sk-h…[32 chars]'},
        ])
        await expectCanaryIndexed('sandboxInputHostileStrings')
    })

    it('env_json that is not JSON: reported as a whole, with the reason', async () => {
        const call = await row('job_call', '0-11')
        expect(call?.input_error).toBe('JSON_INVALID in env_json')
        const found = await db.client.query(`SELECT kind, field FROM (SELECT kind, split_part(id, '-', 4) AS field FROM secret_exposure WHERE call_id = 11) f`)
        expect(found.rows).toEqual([{kind: 'INPUT_SECRET', field: 'env_json'}])
        await expectCanaryIndexed('sandboxInputNotJson')
    })

    it('orphan sandbox_create kept masked', async () => {
        await expectUnhandled('orphanSandboxCreate', 'ORPHAN', 'JobSubmitted', {masked: true})
        const stored = await row('unhandled_log', emitted.orphanSandboxCreate.hostile.logId)
        const text = Buffer.from(String(stored!.data).slice(2), 'hex').toString('latin1')
        expect(text).toContain('"OPENAI_API_KEY":"' + '*'.repeat(INPUT_API_KEY.length) + '"')
        expect(text).toContain('"GH":"' + '*'.repeat(INPUT_GITHUB_TOKEN.length) + '"')
        expect(text).toContain('"LOG_LEVEL":"info"')
        expect(String(stored!.data).length).toBe(emitted.orphanSandboxCreate.hostile.data.length)
        await expectCanaryIndexed('orphanSandboxCreate')
    })

    it('input secrets stored nowhere', async () => {
        const tables = await db.client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
        for (const secret of [INPUT_API_KEY, INPUT_GITHUB_TOKEN]) {
            const hex = Buffer.from(secret, 'utf8').toString('hex')
            for (const {table_name} of tables.rows) {
                const hit = await db.client.query(`SELECT count(*)::int AS n FROM "${table_name}" t WHERE t::text LIKE $1 OR t::text LIKE $2`, [`%${secret}%`, `%${hex}%`])
                expect({table: table_name, secret: secret.slice(0, 4), hits: hit.rows[0].n}).toEqual({table: table_name, secret: secret.slice(0, 4), hits: 0})
            }
            expect(run.stdout.includes(secret) || run.stderr.includes(secret)).toBe(false)
        }
    })
})
