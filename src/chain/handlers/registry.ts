import * as m from '../../model'
import {blockTime, str, type BatchContext, type DecodedLog} from '../context'

const lower = (address: string) => address.toLowerCase()

/** Statuses the registry stores: 0 Healthy, 1 Degraded, 2 Offline, 3 Slashed, 4 Exiting. */
const STATUS_OFFLINE = 2

/**
 * Announces the rows a registry log will read. A heartbeat's service also joins `serviceIdsForMemberships`, because
 * the batch's heartbeat cover counts only heartbeats sent while the operator was a member.
 */
export function prefetchRegistry(ctx: BatchContext, d: DecodedLog, serviceIdsForMemberships: Set<string>): void {
    const a = d.args
    if (a.serviceId !== undefined) ctx.services.want(a.serviceId.toString())
    if (d.name === 'HeartbeatReceived') serviceIdsForMemberships.add(a.serviceId.toString())
    if (a.operator !== undefined) {
        ctx.operators.want(lower(a.operator))
        ctx.serviceStates.want(`${a.serviceId}-${lower(a.operator)}`)
    }
}

/** Heartbeats, statuses, metrics and the registry's own registrations (the OperatorStatusRegistry contract). */
export function handleRegistry(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const service = ctx.services.get(a.serviceId.toString())
    if (!service) return ctx.recordUnhandled(log, 'ORPHAN', `service ${a.serviceId} is not indexed`, d.name)
    // Heartbeats are most of a chain's logs, so they take a short path that builds no entity object.
    if (d.name === 'HeartbeatReceived') return handleHeartbeat(ctx, d, service)
    const at = blockTime(log)
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
    const state = serviceState(ctx, service, operator)
    const statusEvent = (kind: string, extra: Partial<m.StatusEvent> = {}): void => {
        ctx.inserts.statusEvents.push(new m.StatusEvent({...base, operator, kind, ...extra}))
    }

    switch (d.name) {
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

function handleHeartbeat(ctx: BatchContext, d: DecodedLog, service: m.Service): void {
    const {log, args: a} = d
    const operator = ctx.operator(a.operator, log)
    const state = serviceState(ctx, service, operator)
    const atMs = log.block.timestamp
    const statusCode = Number(a.statusCode)
    // The service row has the heartbeat setting in force at this log, because logs are handled in chain order.
    ctx.heartbeatCover.add(service, operator.id, atMs, statusCode)
    ctx.inserts.heartbeats.add(log.id, service, operator, a.blueprintId, statusCode, a.timestamp, log.block.height, atMs, log.transactionHash)
    state.lastHeartbeatAt = new Date(atMs)
    state.lastHeartbeatBlock = log.block.height
    state.lastStatusCode = statusCode
    state.heartbeatCount += 1
}

/** Returns the registry state of an operator in a service, creating it on first sight, and marks it for writing. */
function serviceState(ctx: BatchContext, service: m.Service, operator: m.Operator): m.OperatorServiceState {
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
    return state
}
