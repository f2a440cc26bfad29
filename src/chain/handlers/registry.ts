import * as m from '../../model'
import {blockTime, str, type BatchContext, type DecodedLog} from '../context'

const lower = (address: string) => address.toLowerCase()

/** Statuses the registry stores: 0 Healthy, 1 Degraded, 2 Offline, 3 Slashed, 4 Exiting. */
const STATUS_OFFLINE = 2

export function prefetchRegistry(ctx: BatchContext, d: DecodedLog): void {
    const a = d.args
    if (a.serviceId !== undefined) ctx.services.want(a.serviceId.toString())
    if (a.operator !== undefined) {
        ctx.operators.want(lower(a.operator))
        ctx.serviceStates.want(`${a.serviceId}-${lower(a.operator)}`)
    }
}

/** Heartbeats, statuses, metrics and the registry's own registrations (the OperatorStatusRegistry contract). */
export function handleRegistry(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const at = blockTime(log)
    const service = ctx.services.get(a.serviceId.toString())
    if (!service) return ctx.recordUnhandled(log, 'ORPHAN', `service ${a.serviceId} is not indexed`, d.name)
    const base = {id: log.id, service, blockNumber: log.block.height, timestamp: at, txHash: log.transactionHash}

    if (d.name === 'HeartbeatConfigUpdated') {
        service.heartbeatInterval = a.interval
        service.heartbeatMaxMissed = Number(a.maxMissed)
        service.heartbeatConfigured = true
        ctx.services.touch(service)
        ctx.inserts.heartbeatConfigChanges.push(new m.HeartbeatConfigChange({...base, interval: a.interval, maxMissed: Number(a.maxMissed)}))
        return
    }

    const operator = ctx.operator(a.operator, log)
    const stateId = `${service.id}-${operator.id}`
    const state =
        ctx.serviceStates.get(stateId) ??
        new m.OperatorServiceState({
            id: stateId,
            service,
            operator,
            lastHeartbeatAt: null,
            lastHeartbeatBlock: null,
            lastStatusCode: null,
            heartbeatCount: 0,
            status: null,
            registeredInRegistry: false,
        })
    ctx.serviceStates.set(state)
    const statusEvent = (kind: string, extra: Partial<m.StatusEvent> = {}): void => {
        ctx.inserts.statusEvents.push(new m.StatusEvent({...base, operator, kind, ...extra}))
    }

    switch (d.name) {
        case 'HeartbeatReceived':
            // Before the state moves on, because it still contains the pair's previous heartbeat.
            ctx.heartbeatCover.add(state, service, operator.id, at, Number(a.statusCode))
            // The event's blueprintId is supplied by the caller and never checked on chain: take the service's.
            ctx.inserts.heartbeats.push(
                new m.Heartbeat({
                    ...base,
                    operator,
                    blueprintId: BigInt(service.blueprint.id),
                    reportedBlueprintId: a.blueprintId,
                    statusCode: Number(a.statusCode),
                    eventTimestamp: a.timestamp,
                }),
            )
            state.lastHeartbeatAt = at
            state.lastHeartbeatBlock = log.block.height
            state.lastStatusCode = Number(a.statusCode)
            state.heartbeatCount += 1
            return
        case 'StatusChanged':
            state.status = Number(a.newStatus)
            return statusEvent('STATUS_CHANGED', {oldStatus: Number(a.oldStatus), newStatus: Number(a.newStatus)})
        case 'OperatorWentOffline':
            state.status = STATUS_OFFLINE
            return statusEvent('WENT_OFFLINE', {missedBeats: Number(a.missedBeats)})
        case 'OperatorCameOnline':
            return statusEvent('CAME_ONLINE')
        case 'SlashingTriggered': {
            const reason = str(a.reason)
            return statusEvent('SLASHING_TRIGGERED', {reason: reason.display, reasonRaw: reason.raw})
        }
        case 'OperatorRegistered':
            // A registration after a deregistration resets the registry's view of the operator.
            state.registeredInRegistry = true
            state.status = null
            return statusEvent('REGISTRY_REGISTERED')
        case 'OperatorDeregistered':
            state.registeredInRegistry = false
            return statusEvent('REGISTRY_DEREGISTERED')
        case 'MetricReported':
        case 'MetricViolation': {
            const name = str(a.metricName)
            const reason = a.reason !== undefined ? str(a.reason) : undefined
            ctx.inserts.metrics.push(
                new m.Metric({
                    ...base,
                    operator,
                    name: name.display,
                    nameRaw: name.raw,
                    value: a.value ?? null,
                    violation: d.name === 'MetricViolation',
                    reason: reason?.display ?? null,
                    reasonRaw: reason?.raw ?? null,
                }),
            )
            return
        }
    }
}
