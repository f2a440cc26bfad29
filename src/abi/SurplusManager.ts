import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    OperatorJoined: event("0xd79b1bbb86dde015080d65a0ec11178c4193cb7b03f13fce934101d5f5edf376", "OperatorJoined(uint64,address,uint16)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "exposureBps": p.uint16}),
    OperatorLeft: event("0x3a5a3dd759cc2ada419370a30f3f18ee303db1567179a2cc09255de051e34289", "OperatorLeft(uint64,address)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address)}),
    JobCalled: event("0x9492985ea21a8662dd067c19a0dada566180b69f1aed96c032b23eb396391157", "JobCalled(uint64,uint8,uint64)", {"serviceId": indexed(p.uint64), "job": indexed(p.uint8), "jobCallId": p.uint64}),
    JobResulted: event("0xb5e712b54afd04e8daea23dccc38e1a401762d21e33553b984023587c906c820", "JobResulted(uint64,uint8,uint64,address)", {"serviceId": indexed(p.uint64), "job": indexed(p.uint8), "jobCallId": p.uint64, "operator": indexed(p.address)}),
    DefaultChallenged: event("0x358aec7a2f8bb4b774a4d61a0b8da7d72829ecad6f23dd062a254539edcbe83c", "DefaultChallenged(uint256,uint64,address,uint64,uint16)", {"defaultId": indexed(p.uint256), "serviceId": indexed(p.uint64), "issuer": indexed(p.address), "slashId": p.uint64, "exposureBps": p.uint16}),
    ServiceInitialized: event("0x00fcd4755bf87163d46b7752488819da194922a457f033722a5c9a6932de1471", "ServiceInitialized(uint64,uint64,address,uint256)", {"serviceId": indexed(p.uint64), "requestId": indexed(p.uint64), "owner": indexed(p.address), "operatorCount": p.uint256}),
}

export class Contract extends ContractBase {
}

/// Event types
export type OperatorJoinedEventArgs = EParams<typeof events.OperatorJoined>
export type OperatorLeftEventArgs = EParams<typeof events.OperatorLeft>
export type JobCalledEventArgs = EParams<typeof events.JobCalled>
export type JobResultedEventArgs = EParams<typeof events.JobResulted>
export type DefaultChallengedEventArgs = EParams<typeof events.DefaultChallenged>
export type ServiceInitializedEventArgs = EParams<typeof events.ServiceInitialized>
