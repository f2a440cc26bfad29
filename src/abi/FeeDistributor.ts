import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    FeesSettled: event("0x59ff80844efa1bcc5e53c82f09dc6ebd5aa9cf88eaeec29d8e8e6f7c680e3a8f", "FeesSettled(address,address,uint256,uint256,uint256,uint256)", {"vault": indexed(p.address), "feeToken": indexed(p.address), "performanceFee": p.uint256, "managementFee": p.uint256, "validatorShare": p.uint256, "protocolShare": p.uint256}),
}

export class Contract extends ContractBase {
}

/// Event types
export type FeesSettledEventArgs = EParams<typeof events.FeesSettled>
