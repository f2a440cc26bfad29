import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    OperatorRegistered: event("0xbc11617e575d658c74e921c8df22f8e48566072fa78145a6cfe18420bf8d0c4e", "OperatorRegistered(address,uint256)", {"operator": indexed(p.address), "stake": p.uint256}),
    OperatorStakeIncreased: event("0x614a3fa8467eb54cb60af3aab440279837c9fcd75c5a2617fe0af9c6e5e60e83", "OperatorStakeIncreased(address,uint256)", {"operator": indexed(p.address), "amount": p.uint256}),
    OperatorUnstakeScheduled: event("0xf7e874d9fd42838b0f06a44c7bbe45417b991e6b000e8ca4c5c1f086084a9cd3", "OperatorUnstakeScheduled(address,uint256,uint64)", {"operator": indexed(p.address), "amount": p.uint256, "readyRound": p.uint64}),
    OperatorLeavingScheduled: event("0xfd47ed8e653fba5e6e9fcaa947419ca2334b3972ce196132ec69708574d6d35a", "OperatorLeavingScheduled(address,uint64)", {"operator": indexed(p.address), "readyRound": p.uint64}),
    OperatorLeft: event("0x120599f8830115ed973189f8f4947cc793fcd90a15d47c4d6ad8d1a3f15af734", "OperatorLeft(address)", {"operator": indexed(p.address)}),
    OperatorBlueprintAdded: event("0xb6d5e45d77b8967cff525b375be6e07f99ca5af91d88724ac1237aafe295d50e", "OperatorBlueprintAdded(address,uint64)", {"operator": indexed(p.address), "blueprintId": indexed(p.uint64)}),
    OperatorBlueprintRemoved: event("0x4b9bbf2ebc79e9fb39a64920934b3f458a486552d3df95395aa750ece9e97093", "OperatorBlueprintRemoved(address,uint64)", {"operator": indexed(p.address), "blueprintId": indexed(p.uint64)}),
}

export class Contract extends ContractBase {
}

/// Event types
export type OperatorRegisteredEventArgs = EParams<typeof events.OperatorRegistered>
export type OperatorStakeIncreasedEventArgs = EParams<typeof events.OperatorStakeIncreased>
export type OperatorUnstakeScheduledEventArgs = EParams<typeof events.OperatorUnstakeScheduled>
export type OperatorLeavingScheduledEventArgs = EParams<typeof events.OperatorLeavingScheduled>
export type OperatorLeftEventArgs = EParams<typeof events.OperatorLeft>
export type OperatorBlueprintAddedEventArgs = EParams<typeof events.OperatorBlueprintAdded>
export type OperatorBlueprintRemovedEventArgs = EParams<typeof events.OperatorBlueprintRemoved>
