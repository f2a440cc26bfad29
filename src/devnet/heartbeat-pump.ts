/**
 * Keeps the demo chain's operators heartbeating after the scenario has played, as operators of a real network do.
 * Without it, every demo heartbeat goes stale about 15 minutes after `npm start` (the longest liveness window of its
 * services). The contradictions and the current week's figures of the ready message then go stale too.
 */
import {createClient, http} from 'viem'
import {emitLogs} from './emitter'
import {DEFAULT_HEARTBEAT_INTERVAL_S, entryLog, scenarioDurationSeconds, type Scenario, type ScenarioEvent} from './scenario'

/** Time between two heartbeats of each live operator: within the shortest heartbeat interval of the demo (60 s). */
export const HEARTBEAT_PUMP_PERIOD_MS = 60_000

/** Services of the demo whose operators heartbeat through its last rounds. */
export const DEMO_HEARTBEAT_SERVICES: readonly bigint[] = [0n, 3n, 5n]

function pairKey(serviceId: unknown, operator: unknown): string {
    return `${String(serviceId)}/${String(operator).toLowerCase()}`
}

/** Tangle core events after which an operator is no longer a member of the service, as the indexer reads them. */
const MEMBERSHIP_END_EVENTS: ReadonlySet<string> = new Set(['OperatorLeftService', 'ExitForced'])
const SERVICE_END_EVENTS: ReadonlySet<string> = new Set(['ServiceTerminated', 'ServiceTerminatedForNonPayment'])

/**
 * Returns the heartbeats that the live operators of `services` sent last in the scenario: the last `HeartbeatReceived` of
 * each (service, operator) pair, for pairs whose last one came within one default heartbeat interval of the
 * service's last heartbeat and that are still members at the end. A pair that stopped earlier stays silent. So do an
 * operator that left the service or was forced out, the operators of a terminated service, and every service not
 * listed, such as the demo's heartbeat for a service that does not exist.
 */
export function liveHeartbeats(scenario: Scenario, services: readonly bigint[] = DEMO_HEARTBEAT_SERVICES): {event: ScenarioEvent; time: number}[] {
    const last = new Map<string, {event: ScenarioEvent; time: number; service: bigint}>()
    const formerMembers = new Set<string>()
    const endedServices = new Set<bigint>()
    let time = scenario.genesisTimestamp
    for (const step of scenario.steps) {
        time += step.advanceSeconds
        for (const entry of step.entries) {
            if (entry.kind !== 'event') continue
            if (entry.abi === 'Tangle') {
                // Only the core contract's events change membership: the trading manager emits a ServiceTerminated
                // of its own with the same signature, which the indexer does not read as a termination.
                const pair = pairKey(entry.args.serviceId, entry.args.operator)
                if (MEMBERSHIP_END_EVENTS.has(entry.event)) formerMembers.add(pair)
                if (entry.event === 'OperatorJoinedService') formerMembers.delete(pair)
                if (SERVICE_END_EVENTS.has(entry.event)) endedServices.add(entry.args.serviceId as bigint)
                continue
            }
            if (entry.event !== 'HeartbeatReceived') continue
            const service = entry.args.serviceId as bigint
            if (!services.includes(service)) continue
            last.set(pairKey(service, entry.args.operator), {event: entry, time, service})
        }
    }
    const newest = new Map<bigint, number>()
    for (const beat of last.values()) newest.set(beat.service, Math.max(newest.get(beat.service) ?? 0, beat.time))
    return [...last.entries()]
        .filter(([pair, beat]) => !formerMembers.has(pair) && !endedServices.has(beat.service))
        .map(([, beat]) => beat)
        .filter((beat) => beat.time >= (newest.get(beat.service) ?? 0) - DEFAULT_HEARTBEAT_INTERVAL_S)
        .map(({event, time: at}) => ({event, time: at}))
}

export interface HeartbeatPump {
    /** Stops the timer and waits for a block in flight. */
    stop(): Promise<void>
}

/**
 * Emits `liveHeartbeats(scenario, options.services)` again at once and then every `periodMs`, in one block stamped
 * with the current time. A failed block is passed to `onError` and the next period tries again.
 */
export function startHeartbeatPump(
    rpcUrl: string,
    scenario: Scenario,
    options: {periodMs?: number; services?: readonly bigint[]; onError?: (error: unknown) => void} = {},
): HeartbeatPump {
    const beats = liveHeartbeats(scenario, options.services).map((beat) => beat.event)
    const client = createClient({transport: http(rpcUrl, {batch: true})})
    let lastTime = scenario.genesisTimestamp + scenarioDurationSeconds(scenario)
    let inFlight: Promise<void> = Promise.resolve()
    const beat = async (): Promise<void> => {
        const time = Math.max(lastTime + 1, Math.floor(Date.now() / 1000))
        const logs = beats.map((event) => entryLog({...event, args: {...event.args, timestamp: BigInt(time)}}))
        await emitLogs(client, logs, {timestamp: time})
        lastTime = time
    }
    const send = (): void => {
        inFlight = inFlight.then(beat).catch((error: unknown) => options.onError?.(error))
    }
    // The first block goes out at once, because the scenario's last heartbeats are up to a minute old by now.
    send()
    const timer = setInterval(send, options.periodMs ?? HEARTBEAT_PUMP_PERIOD_MS)
    timer.unref()
    return {
        async stop() {
            clearInterval(timer)
            await inFlight
        },
    }
}
