import {createPublicClient, decodeEventLog, http, type Hex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {DEVNET_ADDRESSES} from '../src/config/networks/presets'
import {OPERATORS} from '../src/devnet/actors'
import {startAnvil, type AnvilInstance} from '../src/devnet/anvil'
import {abiEvents} from '../src/devnet/encode'
import {liveHeartbeats, startHeartbeatPump} from '../src/devnet/heartbeat-pump'
import {buildScenario, runScenario, type Scenario, type ScenarioEvent} from '../src/devnet/scenario'

const REGISTRY = DEVNET_ADDRESSES.operatorStatusRegistry as Hex
const TANGLE = DEVNET_ADDRESSES.tangle as Hex
const TRADING_MANAGER = DEVNET_ADDRESSES.tradingManager as Hex

function tangle(event: string, args: Record<string, unknown>): ScenarioEvent {
    return {kind: 'event', abi: 'Tangle', event, address: TANGLE, args}
}

function heartbeat(serviceId: bigint, operator: Hex, statusCode: number, timestamp: number): ScenarioEvent {
    return {
        kind: 'event',
        abi: 'OperatorStatusRegistry',
        event: 'HeartbeatReceived',
        address: REGISTRY,
        args: {serviceId, blueprintId: 1n, operator, statusCode, timestamp: BigInt(timestamp)},
    }
}

describe('liveHeartbeats of the demo scenario', () => {
    it('operators heartbeating at the end', () => {
        const pairs = liveHeartbeats(buildScenario())
            .map(({event}) => `${String(event.args.serviceId)}/${OPERATORS.indexOf(event.args.operator as Hex)}`)
            .sort()
        // Operator 2 left service 0 after the heartbeat rounds, and operator 8 was forced out of service 3 during them.
        expect(pairs).toEqual(['0/0', '0/1', '3/6', '3/7', '5/10', '5/11', '5/9'])
    })
})

describe('liveHeartbeats membership', () => {
    const genesis = 1_800_000_000
    const scenarioOf = (...entries: ScenarioEvent[][]): Scenario => ({
        genesisTimestamp: genesis,
        emitterAddresses: [],
        steps: entries.map((step, index) => ({advanceSeconds: 60, entries: [...step, heartbeat(1n, OPERATORS[9], 0, genesis + 60 * (index + 1))]})),
    })
    const liveOperators = (scenario: Scenario): number[] =>
        liveHeartbeats(scenario, [1n, 2n]).map(({event}) => OPERATORS.indexOf(event.args.operator as Hex)).sort((a, b) => a - b)

    it('silent after leaving the service', () => {
        const scenario = scenarioOf([heartbeat(1n, OPERATORS[0], 0, genesis + 60)], [tangle('OperatorLeftService', {serviceId: 1n, operator: OPERATORS[0]})])
        expect(liveOperators(scenario)).toEqual([9])
    })

    it('silent after a forced exit', () => {
        const scenario = scenarioOf([heartbeat(1n, OPERATORS[0], 0, genesis + 60), tangle('ExitForced', {serviceId: 1n, operator: OPERATORS[0], forcer: OPERATORS[5]})])
        expect(liveOperators(scenario)).toEqual([9])
    })

    it('heartbeats again after rejoining', () => {
        const scenario = scenarioOf(
            [heartbeat(1n, OPERATORS[0], 0, genesis + 60), tangle('OperatorLeftService', {serviceId: 1n, operator: OPERATORS[0]})],
            [tangle('OperatorJoinedService', {serviceId: 1n, operator: OPERATORS[0], exposureBps: 5000}), heartbeat(1n, OPERATORS[0], 0, genesis + 120)],
        )
        expect(liveOperators(scenario)).toEqual([0, 9])
    })

    it('leaving one service keeps the other', () => {
        const scenario = scenarioOf([heartbeat(2n, OPERATORS[0], 0, genesis + 60), tangle('OperatorLeftService', {serviceId: 1n, operator: OPERATORS[0]})])
        expect(liveOperators(scenario)).toEqual([0, 9])
    })

    it('silent in a terminated service', () => {
        const scenario = scenarioOf([heartbeat(2n, OPERATORS[0], 0, genesis + 60)], [tangle('ServiceTerminated', {serviceId: 2n})])
        expect(liveOperators(scenario)).toEqual([9])
    })

    it('trading manager termination ignored', () => {
        // The trading manager's ServiceTerminated has the core event's signature but ends no membership.
        const terminated: ScenarioEvent = {kind: 'event', abi: 'TradingBlueprint', event: 'ServiceTerminated', address: TRADING_MANAGER, args: {serviceId: 2n}}
        const scenario = scenarioOf([heartbeat(2n, OPERATORS[0], 0, genesis + 60)], [terminated])
        expect(liveOperators(scenario)).toEqual([0, 9])
    })
})

describe('heartbeat pump on anvil', () => {
    let anvil: AnvilInstance
    const genesis = Math.floor(Date.now() / 1000) - 3600

    beforeAll(async () => {
        anvil = await startAnvil({genesisTimestamp: genesis})
    })

    afterAll(async () => {
        await anvil?.stop()
    })

    it('resends live heartbeats stamped now', async () => {
        const scenario: Scenario = {
            genesisTimestamp: genesis,
            emitterAddresses: [REGISTRY],
            steps: [
                {advanceSeconds: 12, entries: [heartbeat(1n, OPERATORS[0], 0, genesis + 12), heartbeat(1n, OPERATORS[1], 0, genesis + 12)]},
                // Operator 1 stops; operator 0 goes on and reports a degraded status last.
                {advanceSeconds: 1800, entries: [heartbeat(1n, OPERATORS[0], 1, genesis + 1812)]},
            ],
        }
        expect(liveHeartbeats(scenario, [1n]).map(({event}) => event.args.operator)).toEqual([OPERATORS[0]])
        await runScenario(anvil.rpcUrl, scenario)
        const client = createPublicClient({transport: http(anvil.rpcUrl)})
        const headBefore = await client.getBlockNumber()

        const errors: unknown[] = []
        const startedAt = Math.floor(Date.now() / 1000)
        const pump = startHeartbeatPump(anvil.rpcUrl, scenario, {periodMs: 200, services: [1n], onError: (error) => errors.push(error)})
        const deadline = Date.now() + 10_000
        while ((await client.getBlockNumber()) < headBefore + 2n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
        await pump.stop()
        expect(errors).toEqual([])

        const logs = await client.getLogs({address: REGISTRY, fromBlock: headBefore + 1n})
        expect(logs.length).toBeGreaterThanOrEqual(2)
        const events = abiEvents('OperatorStatusRegistry')
        for (const log of logs) {
            const decoded = decodeEventLog({abi: events, data: log.data, topics: log.topics}) as {eventName: string; args: Record<string, unknown>}
            expect(decoded.eventName).toBe('HeartbeatReceived')
            expect(String(decoded.args.operator).toLowerCase()).toBe(OPERATORS[0].toLowerCase())
            expect(decoded.args.statusCode).toBe(1)
            const block = await client.getBlock({blockNumber: log.blockNumber!})
            expect(decoded.args.timestamp).toBe(block.timestamp)
            expect(Number(block.timestamp)).toBeGreaterThanOrEqual(startedAt)
        }
        // Stopped: no block comes after stop() returned.
        const head = await client.getBlockNumber()
        await new Promise((resolve) => setTimeout(resolve, 600))
        expect(await client.getBlockNumber()).toBe(head)
    })
})
