import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    VaultConfigured: event("0xb3724bf4a7699a3bf4f9153502f8cae92e1c318803bdb0eecf788ec9ead4e885", "VaultConfigured(address,uint256,uint256)", {"vault": indexed(p.address), "requiredSignatures": p.uint256, "totalSigners": p.uint256}),
    SignerAdded: event("0x12146497b3b826918ec47f0cac7272a09ed06b30c16c030e99ec48ff5dd60b47", "SignerAdded(address,address)", {"vault": indexed(p.address), "signer": indexed(p.address)}),
    SignerRemoved: event("0x98d1ebbe00ae92a5de96a0f49742a8afa89f42363592bc2e7cfaaed68b45e7a6", "SignerRemoved(address,address)", {"vault": indexed(p.address), "signer": indexed(p.address)}),
    ScoreThresholdUpdated: event("0xe9f0225dd97d39796edb0352d77cf4aaf229f43220fca00f3865f0e472d04abf", "ScoreThresholdUpdated(address,uint256)", {"vault": indexed(p.address), "threshold": p.uint256}),
}

export class Contract extends ContractBase {
}

/// Event types
export type VaultConfiguredEventArgs = EParams<typeof events.VaultConfigured>
export type SignerAddedEventArgs = EParams<typeof events.SignerAdded>
export type SignerRemovedEventArgs = EParams<typeof events.SignerRemoved>
export type ScoreThresholdUpdatedEventArgs = EParams<typeof events.ScoreThresholdUpdated>
