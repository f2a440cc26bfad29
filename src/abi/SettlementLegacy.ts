import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    'BatchSettled(uint64 indexed,bytes32,uint256,bool)': event("0xb09c975f58359d485199f1a594c7d145e51e55966c287e6058d7683bfe40183b", "BatchSettled(uint64,bytes32,uint256,bool)", {"batchNonce": indexed(p.uint64), "fillsHash": p.bytes32, "fillCount": p.uint256, "proven": p.bool}),
    'BatchSettled(bytes32 indexed,uint64 indexed,bytes32,uint256,bool)': event("0x40301028735844096fda3c4202ee175073eeffe311edb64ef026eae2fea72521", "BatchSettled(bytes32,uint64,bytes32,uint256,bool)", {"bookId": indexed(p.bytes32), "batchNonce": indexed(p.uint64), "fillsHash": p.bytes32, "fillCount": p.uint256, "proven": p.bool}),
    AttestersSet: event("0xc2c8853f3ac33fc05967698752251ba073e5bc0880ed83a01cef31dc55b95c2a", "AttestersSet(address[],uint16)", {"attesters": p.array(p.address), "threshold": p.uint16}),
    RedemptionSettled: event("0xaecfd4d5f9a1b6cdabc1b49b1b09948c1b88dc1bd359399f83047fcfe1e581c1", "RedemptionSettled(bytes32,uint64,uint256)", {"redemptionId": indexed(p.bytes32), "servedTokens": p.uint64, "notionalDebitMicro": p.uint256}),
}

export class Contract extends ContractBase {
}

/// Event types
export type BatchSettledEventArgs_0 = EParams<typeof events['BatchSettled(uint64 indexed,bytes32,uint256,bool)']>
export type BatchSettledEventArgs_1 = EParams<typeof events['BatchSettled(bytes32 indexed,uint64 indexed,bytes32,uint256,bool)']>
export type AttestersSetEventArgs = EParams<typeof events.AttestersSet>
export type RedemptionSettledEventArgs = EParams<typeof events.RedemptionSettled>
