import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    VaultCreated: event("0xc8d7f4d6deb9da1292220432e43f5f495b9c06e1faef74af2914132950185fd3", "VaultCreated(uint64,address,address,address,address,address)", {"serviceId": indexed(p.uint64), "vault": indexed(p.address), "shareToken": indexed(p.address), "assetToken": p.address, "admin": p.address, "operator": p.address}),
}

export class Contract extends ContractBase {
}

/// Event types
export type VaultCreatedEventArgs = EParams<typeof events.VaultCreated>
