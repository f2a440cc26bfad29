import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createPublicClient, decodeEventLog, http, keccak256, stringToHex, type Hex, type Log} from 'viem'
import {DEVNET_ADDRESSES} from '../src/config/networks/presets'
import {HOSTILE_URL_OPERATORS, OPERATORS} from '../src/devnet/actors'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {squidLogId, type EmittedLog} from '../src/devnet/emitter'
import {findAbiEvent, isRawString} from '../src/devnet/encode'
import {
    displayString,
    expectedState,
    isValidUtf8,
    redactSecret,
    unhandledCountsByReason,
    type ExpectedState,
} from '../src/devnet/expected'
import {
    ACTIVATIONS,
    HOSTILE_RPC_ADDRESSES,
    LEAKED_SIDECAR_TOKEN,
    QUOTE_SERVICE,
    REGISTRATIONS,
    REQUESTS,
    SANDBOX_ID,
    buildScenario,
    entryLog,
    runScenario,
    scenarioEntries,
    type Scenario,
    type ScenarioEntry,
} from '../src/devnet/scenario'

const operatorUrl = (index: number) => `http://127.0.0.1:${7100 + index}/`

let anvil: AnvilInstance
let scenario: Scenario
let records: EmittedLog[]
let chainLogs: Log[]
let state: ExpectedState

beforeAll(async () => {
    anvil = await startAnvil()
    scenario = buildScenario({operatorUrls: operatorUrl})
    records = await runScenario(anvil.rpcUrl, scenario)
    const client = createPublicClient({transport: http(anvil.rpcUrl)})
    chainLogs = await client.getLogs({fromBlock: 0n, toBlock: 'latest'})
    state = expectedState(scenario, records)
})

afterAll(async () => {
    await anvil?.stop()
})

function hasRawString(entry: ScenarioEntry): boolean {
    return entry.kind === 'event' && Object.values(entry.args).some(isRawString)
}

describe('devnet scenario on anvil', () => {
    it('emits one log per scenario entry', () => {
        expect(chainLogs.length).toBe(scenarioEntries(scenario).length)
        expect(records.length).toBe(scenarioEntries(scenario).length)
    })

    it('puts every log on chain with its topics and data', () => {
        const entries = scenarioEntries(scenario)
        entries.forEach((entry, position) => {
            const expected = entryLog(entry)
            const log = chainLogs[position]
            expect(log.address.toLowerCase()).toBe(expected.address.toLowerCase())
            expect(log.topics).toEqual(expected.topics)
            expect(log.data).toBe(expected.data)
            expect(Number(log.blockNumber)).toBe(records[position].blockNumber)
            expect(log.logIndex).toBe(records[position].logIndex)
            expect(log.transactionHash).toBe(records[position].txHash)
        })
    })

    it('decodes each ABI event back with its own event', () => {
        for (const entry of scenarioEntries(scenario)) {
            if (entry.kind !== 'event' || hasRawString(entry)) continue
            const log = entryLog(entry)
            const decoded = decodeEventLog({abi: [findAbiEvent(entry.abi, entry.event)], topics: log.topics as [Hex, ...Hex[]], data: log.data})
            expect(decoded.eventName).toBe(entry.event)
        }
    })

    it('advances block time by each step', () => {
        let time = scenario.genesisTimestamp
        let position = 0
        for (const step of scenario.steps) {
            time += step.advanceSeconds
            for (let index = 0; index < step.entries.length; index++) expect(records[position++].timestamp).toBe(time)
        }
    })

    it('keeps the block count modest', () => {
        const blocks = new Set(records.map((record) => record.blockNumber))
        expect(blocks.size).toBe(scenario.steps.length)
        expect(blocks.size).toBeLessThan(300)
    })

    it('builds squid log ids from block, hash and index', () => {
        const record = records[records.length - 1]
        expect(record.logId).toMatch(/^\d{10}-[0-9a-f]{5}-\d{6}$/)
        expect(record.logId.slice(11, 16)).toBe(record.blockHash.slice(2, 7))
        expect(squidLogId(42, '0xabcdef0123', 7)).toBe('0000000042-abcde-000007')
    })
})

describe('devnet chain strings', () => {
    it.each([
        ['valid ASCII', new TextEncoder().encode('http://127.0.0.1:1/'), 'http://127.0.0.1:1/', true],
        ['NUL bytes', Uint8Array.from([0x61, 0x00, 0x62]), 'a\u2400b', true],
        ['invalid UTF-8', Uint8Array.from([0x61, 0xff, 0xfe]), 'a\ufffd\ufffd', false],
    ])('display form of %s', (_name, bytes, display, valid) => {
        expect(displayString(bytes)).toBe(display)
        expect(isValidUtf8(bytes)).toBe(valid)
    })

    it('redacts a secret to prefix and length', () => {
        expect(redactSecret(LEAKED_SIDECAR_TOKEN)).toBe('sbx_…[40 chars]')
    })
})

describe('devnet expected state', () => {
    const registrationCount = Object.values(REGISTRATIONS).reduce((sum, operators) => sum + operators.length, HOSTILE_RPC_ADDRESSES.length)
    const approvalMemberships = ACTIVATIONS.reduce(
        (sum, activation) => sum + REQUESTS.find((request) => request.requestId === activation.requestId)!.approve.length,
        0,
    )

    it.each([
        ['blueprint', 9],
        ['operator', OPERATORS.length + HOSTILE_RPC_ADDRESSES.length],
        ['registration', registrationCount],
        ['service_request', REQUESTS.length],
        ['service', ACTIVATIONS.length + 1],
        // Joined later: operator 2 in service 0, and operator 8 again in service 3 after its forced exit.
        ['service_membership', approvalMemberships + QUOTE_SERVICE.joined.length + 2],
        ['job_call', 9],
        ['job_result', 7],
        ['secret_exposure', 3],
        ['slash', 2],
        ['sandbox', 2],
        ['provisioned_endpoint', 3],
        ['tee_attestation', 1],
        ['bot_vault', 2],
        ['trade', 4],
        ['vault_signer', 3],
        ['settlement_fill', 3],
        ['settlement_batch', 2],
        ['redemption', 3],
        ['book', 1],
    ])('table %s has %i rows', (table, count) => {
        expect(Object.keys(state[table] ?? {}).length).toBe(count)
    })

    it('counts heartbeats of known services only', () => {
        const heartbeats = scenarioEntries(scenario).filter((entry) => entry.kind === 'event' && entry.event === 'HeartbeatReceived')
        expect(Object.keys(state.heartbeat).length).toBe(heartbeats.length - 1)
    })

    it('counts unhandled logs by reason', () => {
        expect(unhandledCountsByReason(state)).toEqual({TOPIC_COUNT_MISMATCH: 1, DECODE_FAILED: 1, ORPHAN: 2})
    })

    it('never contains the leaked sidecar token', () => {
        expect(JSON.stringify(state)).not.toContain(LEAKED_SIDECAR_TOKEN)
    })

    it('redacts the token in the sandbox output', () => {
        const result = Object.values(state.job_result).find((row) => (row.output as {sandboxId?: string} | null)?.sandboxId === SANDBOX_ID)
        expect(result).toBeDefined()
        expect((result!.output as {json: {token: string}}).json.token).toBe('sbx_…[40 chars]')
        expect(state.sandbox[keccak256(stringToHex(SANDBOX_ID))].status).toBe('DELETED')
    })

    it('marks the invalid UTF-8 rpcAddress', () => {
        const row = state.registration[`7-${HOSTILE_URL_OPERATORS.invalidUtf8.toLowerCase()}`]
        expect(row.rpc_address_valid_utf8).toBe(false)
        expect(row.rpc_address).toMatch(/^http:\/\/127\.0\.0\.1:\d+\ufffd+admin$/)
        expect(row.rpc_address_raw).toContain('fffe')
    })

    it('replaces NUL in the rpcAddress display form', () => {
        const row = state.registration[`7-${HOSTILE_URL_OPERATORS.nulBytes.toLowerCase()}`]
        expect(row.rpc_address).toMatch(/^http:\/\/127\.0\.0\.1:\d+\u2400\u2400injected$/)
        expect(row.rpc_address_valid_utf8).toBe(true)
    })

    it('keeps demo operator URLs intact', () => {
        // The hostile strings belong to operators of their own, so every demo operator's server can be reached.
        for (const [blueprintId, indexes] of Object.entries(REGISTRATIONS)) {
            for (const index of indexes) {
                const row = state.registration[`${blueprintId}-${OPERATORS[index].toLowerCase()}`]
                const expectedUrl = blueprintId === '1' && index === 1 ? operatorUrl(12) : operatorUrl(index)
                expect(row.rpc_address, `operator ${index} on blueprint ${blueprintId}`).toBe(expectedUrl)
                expect(row.rpc_address_valid_utf8).toBe(true)
            }
        }
    })

    it('rejoins operator 8 to service 3', () => {
        const memberships = Object.values(state.service_membership).filter(
            (row) => row.service_id === '3' && row.operator_id === OPERATORS[8].toLowerCase(),
        )
        expect(memberships.map((row) => row.close_reason)).toEqual(['EXIT_FORCED', null])
        expect(memberships.map((row) => row.active)).toEqual([false, true])
    })

    it('counts the re-registration', () => {
        const row = state.registration[`4-${OPERATORS[8].toLowerCase()}`]
        expect(row.registration_count).toBe(2)
        expect(row.status).toBe('ACTIVE')
    })

    it('takes the quote service apart from request 0', () => {
        expect(state.service['5'].from_quote).toBe(true)
        expect(state.service['0'].from_quote).toBe(false)
        expect(state.service_request['0'].service_id).toBe('0')
    })

    it('closes memberships with their reasons', () => {
        const reasons = Object.values(state.service_membership)
            .map((row) => row.close_reason)
            .filter((reason) => reason !== null)
            .sort()
        expect(reasons).toEqual(['EXIT_FORCED', 'LEFT', 'SERVICE_TERMINATED', 'SERVICE_TERMINATED', 'SERVICE_TERMINATED'])
    })

    it('keeps service 3 active after the trading manager event', () => {
        expect(state.service['3'].status).toBe('ACTIVE')
        expect(state.service['1'].termination_reason).toBe('TERMINATED')
        expect(state.service['6'].termination_reason).toBe('NON_PAYMENT')
    })

    it('takes the heartbeat blueprint from the service', () => {
        const lying = Object.values(state.heartbeat).filter((row) => row.reported_blueprint_id !== row.blueprint_id)
        expect(lying.length).toBe(1)
        expect(lying[0].blueprint_id).toBe('1')
    })

    it('keeps uint256 max values exact', () => {
        expect(state.operator[OPERATORS[10].toLowerCase()].stake).toBe((2n ** 256n - 1n).toString())
        expect(state.slash['1'].actual_slashed).toBe((2n ** 256n - 1n).toString())
    })

    it('uses the devnet contract addresses', () => {
        const settlement = Object.values(state.settlement_fill)[0]
        expect(settlement.settlement).toBe(DEVNET_ADDRESSES.settlement)
    })
})
