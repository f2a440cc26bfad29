import {DEFAULT_SLOW_RESPONSE_DELAY_MS, isOperatorBehaviour, type OperatorBehaviour, type SimulatedProduct} from './behaviour'
import {LoopbackServer, type SimulatedReply, type SimulatedRequest} from './loopback-server'
import {routeSidecar, SandboxOperatorState, type SandboxSimulationOptions} from './sandbox-operator'
import {SurplusOperatorState, type ClobPeer, type SurplusSimulationOptions} from './surplus-operator'
import {buildSimulatedTdxAttestationJson, PLACEHOLDER_ATTESTATION_JSON} from './tee-fixture'
import {TradingOperatorState, type TradingSimulationOptions} from './trading-operator'

export interface SimulatedOperatorSpec {
    product: SimulatedProduct
    /** Defaults to 'healthy'. */
    behaviour?: OperatorBehaviour
    /** Name for `OperatorFleet.byName`; defaults to `${product}-${index}` in a fleet. */
    name?: string
    /** Response delay of the 'slow' behaviour, milliseconds. Default 30,000. */
    slowDelayMs?: number
    sandbox?: SandboxSimulationOptions
    trading?: TradingSimulationOptions & {
        /** Whether the trading API (the 9100 surface) listens; default false, so its URL refuses connections. */
        exposeTradingApi?: boolean
    }
    surplus?: SurplusSimulationOptions & {
        /** Surplus venues of a fleet with the same group share one CLOB and list each other in /clob/status. */
        clobGroup?: string
        /** Quorum threshold of the group; default a majority of its members. */
        clobThreshold?: number
    }
}

export interface SimulatedOperator {
    readonly product: SimulatedProduct
    readonly name: string
    /** Base URL of the operator's public API on 127.0.0.1. */
    readonly url: string
    readonly behaviour: OperatorBehaviour
    /** Sandbox: URL of the sidecar, which listens only under 'sidecar-outside'. */
    readonly sidecarUrl: string | null
    /** Trading: URL of the trading API (9100 surface); it answers only when `exposeTradingApi` is set. */
    readonly tradingApiUrl: string | null
    /** Trading: id of the simulated bot. */
    readonly botId: string | null
    /** Surplus: operator address the venue reports as `me`. */
    readonly operatorAddress: string | null
    /** Switches the behaviour; 'down' closes the servers and any other behaviour reopens them on the same ports. */
    setBehaviour(behaviour: OperatorBehaviour): Promise<void>
    /**
     * Sandbox: the attestation JSON this operator publishes in its job result; null for an operator without TEE.
     * The devnet scenario puts it and its keccak256 on chain.
     */
    teeAttestationJson(nowUnixSeconds: number): string | null
    /** Surplus: makes the venue a shared-book venue with these operators and threshold. */
    setClob(peers: ClobPeer[], threshold: number): void
    close(): Promise<void>
}

/** Behaviours that apply to every product before the product routes run. */
async function applyCommonBehaviour(
    behaviour: OperatorBehaviour,
    request: SimulatedRequest,
    route: (request: SimulatedRequest, behaviour: OperatorBehaviour) => SimulatedReply | Promise<SimulatedReply>,
): Promise<SimulatedReply> {
    if (behaviour === 'guarded') return {status: 401, body: {error: 'authentication required'}, headers: {'www-authenticate': 'Bearer'}}
    return route(request, behaviour)
}

/** Starts one simulated operator on 127.0.0.1 with free ports. */
export async function startSimulatedOperator(spec: SimulatedOperatorSpec): Promise<SimulatedOperator> {
    let behaviour: OperatorBehaviour = spec.behaviour ?? 'healthy'
    const slowDelayMs = spec.slowDelayMs ?? DEFAULT_SLOW_RESPONSE_DELAY_MS
    const delayMs = () => (behaviour === 'slow' ? slowDelayMs : 0)

    /** Servers that are up unless the behaviour is 'down'. */
    const publicServers: LoopbackServer[] = []
    /** A server with its own rule for when it listens, checked after every switch. */
    let auxiliary: {server: LoopbackServer; listensWhen: () => boolean} | null = null

    let sandbox: SandboxOperatorState | null = null
    let trading: TradingOperatorState | null = null
    let surplus: SurplusOperatorState | null = null

    if (spec.product === 'sandbox') {
        const sidecar = new LoopbackServer(routeSidecar, () => 0)
        await sidecar.reservePort()
        sandbox = new SandboxOperatorState(spec.sandbox ?? {}, () => sidecar.url)
        const state = sandbox
        publicServers.push(new LoopbackServer((request) => applyCommonBehaviour(behaviour, request, (r, b) => state.route(r, b)), delayMs))
        auxiliary = {server: sidecar, listensWhen: () => behaviour === 'sidecar-outside'}
    } else if (spec.product === 'trading') {
        trading = new TradingOperatorState(spec.trading ?? {})
        const state = trading
        publicServers.push(new LoopbackServer((request) => applyCommonBehaviour(behaviour, request, (r, b) => state.routeOperatorApi(r, b)), delayMs))
        const tradingApi = new LoopbackServer((request) => applyCommonBehaviour(behaviour, request, (r, b) => state.routeTradingApi(r, b)), delayMs)
        await tradingApi.reservePort()
        const exposed = spec.trading?.exposeTradingApi ?? false
        auxiliary = {server: tradingApi, listensWhen: () => exposed && behaviour !== 'down'}
    } else {
        surplus = new SurplusOperatorState(spec.surplus ?? {})
        const state = surplus
        publicServers.push(new LoopbackServer((request) => applyCommonBehaviour(behaviour, request, (r, b) => state.route(r, b)), delayMs))
    }

    async function applyListening(): Promise<void> {
        for (const server of publicServers) {
            if (behaviour === 'down') await server.stop()
            else await server.start()
        }
        if (auxiliary !== null) {
            if (auxiliary.listensWhen()) await auxiliary.server.start()
            else await auxiliary.server.stop()
        }
    }

    if (behaviour === 'down') {
        for (const server of publicServers) await server.reservePort()
    }
    await applyListening()

    const main = publicServers[0]
    const trackedAuxiliary = auxiliary
    return {
        product: spec.product,
        name: spec.name ?? spec.product,
        url: main.url,
        get behaviour() {
            return behaviour
        },
        sidecarUrl: sandbox !== null && trackedAuxiliary !== null ? trackedAuxiliary.server.url : null,
        tradingApiUrl: trading !== null && trackedAuxiliary !== null ? trackedAuxiliary.server.url : null,
        botId: trading?.botId ?? null,
        operatorAddress: surplus?.operatorAddress ?? null,
        async setBehaviour(next: OperatorBehaviour) {
            if (!isOperatorBehaviour(next)) throw new Error(`unknown operator behaviour ${JSON.stringify(next)}: use one of OPERATOR_BEHAVIOURS`)
            behaviour = next
            await applyListening()
        },
        teeAttestationJson(nowUnixSeconds: number) {
            if (sandbox === null) return null
            if (behaviour === 'placeholder-tee') return PLACEHOLDER_ATTESTATION_JSON
            if ((spec.sandbox?.runtimeBackend ?? 'firecracker') !== 'tee') return null
            return buildSimulatedTdxAttestationJson(nowUnixSeconds)
        },
        setClob(peers: ClobPeer[], threshold: number) {
            if (surplus === null) throw new Error(`setClob applies to surplus operators, not to ${spec.product}`)
            surplus.setClob(peers, threshold)
        },
        async close() {
            for (const server of publicServers) await server.stop()
            if (trackedAuxiliary !== null) await trackedAuxiliary.server.stop()
        },
    }
}

export interface OperatorFleet {
    operators: SimulatedOperator[]
    /** Finds an operator by its spec name; throws for an unknown name. */
    byName(name: string): SimulatedOperator
    close(): Promise<void>
}

/**
 * Starts many simulated operators in this process, one set of ports each, and links surplus venues of the same
 * `clobGroup` into one shared book. If one fails to start, the ones already started are closed.
 */
export async function startOperatorFleet(specs: SimulatedOperatorSpec[]): Promise<OperatorFleet> {
    const operators: SimulatedOperator[] = []
    try {
        for (const [index, spec] of specs.entries()) {
            operators.push(await startSimulatedOperator({...spec, name: spec.name ?? `${spec.product}-${index}`}))
        }
    } catch (error) {
        await Promise.all(operators.map((operator) => operator.close()))
        throw error
    }

    const groups = new Map<string, {operator: SimulatedOperator; threshold?: number}[]>()
    specs.forEach((spec, index) => {
        const group = spec.surplus?.clobGroup
        if (spec.product !== 'surplus' || group === undefined) return
        const members = groups.get(group) ?? []
        members.push({operator: operators[index], threshold: spec.surplus?.clobThreshold})
        groups.set(group, members)
    })
    for (const members of groups.values()) {
        const peers = members.map(({operator}) => ({address: operator.operatorAddress as string, url: operator.url}))
        const threshold = members.find((member) => member.threshold !== undefined)?.threshold ?? Math.floor(members.length / 2) + 1
        for (const {operator} of members) operator.setClob(peers, threshold)
    }

    return {
        operators,
        byName(name: string) {
            const found = operators.find((operator) => operator.name === name)
            if (found === undefined) throw new Error(`no simulated operator named ${JSON.stringify(name)} in the fleet`)
            return found
        },
        async close() {
            await Promise.all(operators.map((operator) => operator.close()))
        },
    }
}
