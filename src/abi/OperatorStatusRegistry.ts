import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    HeartbeatReceived: event("0x658918e3147f13dd068ec21437b4c25c21682a8dc2129348671ead000db3e7b9", "HeartbeatReceived(uint64,uint64,address,uint8,uint256)", {"serviceId": indexed(p.uint64), "blueprintId": indexed(p.uint64), "operator": indexed(p.address), "statusCode": p.uint8, "timestamp": p.uint256}),
    OperatorWentOffline: event("0x44fd32b677704ce68e7763897c49733b8f5289018ac60a5c926802d63759db4d", "OperatorWentOffline(uint64,address,uint8)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "missedBeats": p.uint8}),
    OperatorCameOnline: event("0xc9862c5f02eefbdcea01c207ae538e1d304dc93026870f48951e48a0f4c8470c", "OperatorCameOnline(uint64,address)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address)}),
    StatusChanged: event("0x228824b86c256469125f525ce18c6c2d0a9e133d13b8ec7a2c96a193b0c28a09", "StatusChanged(uint64,address,uint8,uint8)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "oldStatus": p.uint8, "newStatus": p.uint8}),
    HeartbeatConfigUpdated: event("0xc9599ed962624a858ec59bae0ed86c75f4db65fe04570021277edbedd04ea564", "HeartbeatConfigUpdated(uint64,uint64,uint8)", {"serviceId": indexed(p.uint64), "interval": p.uint64, "maxMissed": p.uint8}),
    MetricReported: event("0x23ed02bd3605bdea6a8afa76c46f00d274860ba6cea980f2585b696df9e182bd", "MetricReported(uint64,address,string,uint256)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "metricName": p.string, "value": p.uint256}),
    MetricViolation: event("0xe08f42896ce3aec2ff7da95a00372f33cf677e75ad602590832a8dffcdad6315", "MetricViolation(uint64,address,string,string)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "metricName": p.string, "reason": p.string}),
    SlashingTriggered: event("0x1e2909cf45d70cf003f334b73c93330ce7e572782dfc82fab79deb8855a7c791", "SlashingTriggered(uint64,address,string)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "reason": p.string}),
    OperatorRegistered: event("0x8e2d88795a3c66719a287658cbf68b3eb2b8e183cb18f46f4813913fc8aafc4b", "OperatorRegistered(uint64,address)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address)}),
    OperatorDeregistered: event("0x08bb93e5444209b15155078a13f6e341299d748d0c299f722c9cbc0723f0fe9e", "OperatorDeregistered(uint64,address)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address)}),
}

export class Contract extends ContractBase {
}

/// Event types
export type HeartbeatReceivedEventArgs = EParams<typeof events.HeartbeatReceived>
export type OperatorWentOfflineEventArgs = EParams<typeof events.OperatorWentOffline>
export type OperatorCameOnlineEventArgs = EParams<typeof events.OperatorCameOnline>
export type StatusChangedEventArgs = EParams<typeof events.StatusChanged>
export type HeartbeatConfigUpdatedEventArgs = EParams<typeof events.HeartbeatConfigUpdated>
export type MetricReportedEventArgs = EParams<typeof events.MetricReported>
export type MetricViolationEventArgs = EParams<typeof events.MetricViolation>
export type SlashingTriggeredEventArgs = EParams<typeof events.SlashingTriggered>
export type OperatorRegisteredEventArgs = EParams<typeof events.OperatorRegistered>
export type OperatorDeregisteredEventArgs = EParams<typeof events.OperatorDeregistered>
