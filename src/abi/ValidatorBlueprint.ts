import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    ValidatorRegisteredEvent: event("0x462b2562714dda9f927a1d3a06d79d50bfc3dab726e7ae2e32757a10b48f3bb4", "ValidatorRegisteredEvent(uint64,address)", {"serviceId": indexed(p.uint64), "validator": indexed(p.address)}),
    LivenessRecorded: event("0xbee9ef7fc8e3f66a44142f386ae095a015228d37f0b60a75b252e23f0767af7f", "LivenessRecorded(uint64,address,uint256)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "timestamp": p.uint256}),
    ReputationUpdated: event("0x6f524b6c99d15cee115eb2be4987ef4fc3441d54a589ffcfdf437a48e5321059", "ReputationUpdated(uint64,address,int256)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "newReputation": p.int256}),
}

export class Contract extends ContractBase {
}

/// Event types
export type ValidatorRegisteredEventEventArgs = EParams<typeof events.ValidatorRegisteredEvent>
export type LivenessRecordedEventArgs = EParams<typeof events.LivenessRecorded>
export type ReputationUpdatedEventArgs = EParams<typeof events.ReputationUpdated>
