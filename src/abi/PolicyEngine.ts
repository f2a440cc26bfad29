import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    VaultInitialized: event("0x596dbe1540be51f3c8c657f697cca38cff031eabda5d7af0ed35770709abccf2", "VaultInitialized(address,address,uint256,uint256,uint256)", {"vault": indexed(p.address), "admin": indexed(p.address), "leverageCap": p.uint256, "maxTradesPerHour": p.uint256, "maxSlippageBps": p.uint256}),
    PolicyUpdated: event("0xdf27d8ea9d408cd1b6c9af876ee2dc1a7e47732f51e4342fa57bac6ea396e981", "PolicyUpdated(address,uint8)", {"vault": indexed(p.address), "policyType": indexed(p.uint8)}),
}

export class Contract extends ContractBase {
}

/// Event types
export type VaultInitializedEventArgs = EParams<typeof events.VaultInitialized>
export type PolicyUpdatedEventArgs = EParams<typeof events.PolicyUpdated>
