import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    BlueprintCreated: event("0x333da2452b770d8297cd9630b93a2a9190c82483327a16472f621efc11ace010", "BlueprintCreated(uint64,address,address,string)", {"blueprintId": indexed(p.uint64), "owner": indexed(p.address), "manager": p.address, "metadataUri": p.string}),
    JobSubmitted: event("0xde37cc48d21778e1c9a075c4e41c5aff6918c3ea6151221f0af3ce8121a29db5", "JobSubmitted(uint64,uint64,uint8,address,bytes)", {"serviceId": indexed(p.uint64), "callId": indexed(p.uint64), "jobIndex": indexed(p.uint8), "caller": p.address, "inputs": p.bytes}),
}

export class Contract extends ContractBase {
}

/// Event types
export type BlueprintCreatedEventArgs = EParams<typeof events.BlueprintCreated>
export type JobSubmittedEventArgs = EParams<typeof events.JobSubmitted>
