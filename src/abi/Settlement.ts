import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    FillSettled: event("0x2c482a67bbec58ca936dfb826f762468dd564abbb73692f83f6cfb5a66a007de", "FillSettled(bytes32,bytes32,bytes32,uint64,uint64,uint256,bytes32)", {"buyOrderHash": indexed(p.bytes32), "sellOrderHash": indexed(p.bytes32), "instrument": p.bytes32, "qtyTokens": p.uint64, "execPriceMicroPerM": p.uint64, "costMicro": p.uint256, "lotId": p.bytes32}),
    BatchSettled: event("0xb3242b4091e1ee3fec362464119d92e2604916f1e89c8af3f5192eba4e015ca4", "BatchSettled(bytes32,uint64,bytes32,uint256,bool,bytes32)", {"bookId": indexed(p.bytes32), "batchNonce": indexed(p.uint64), "fillsHash": p.bytes32, "fillCount": p.uint256, "proven": p.bool, "ordersCommitment": p.bytes32}),
    RedemptionRequested: event("0x1f25fa58c9dc9ba414aa718d0b4a9d48e4cfe0af61632d85173d53860947ceab", "RedemptionRequested(bytes32,bytes32,address,address,uint64,uint64)", {"redemptionId": indexed(p.bytes32), "lotId": indexed(p.bytes32), "issuer": indexed(p.address), "holder": p.address, "qtyTokens": p.uint64, "deadline": p.uint64}),
    RedemptionSettled: event("0xd0e94f8dd5d8c130ed43fc52dced71634e8b16f78eca0b37ac6cff3619170146", "RedemptionSettled(bytes32,uint64,uint256,bytes32)", {"redemptionId": indexed(p.bytes32), "servedTokens": p.uint64, "notionalDebitMicro": p.uint256, "workCommitment": p.bytes32}),
    AttestationPosted: event("0x7b0d2dd2af79794234d54f8269511277b7ccbf3a2a087889d36cdfff50cf329b", "AttestationPosted(bytes32,bytes32,uint64,bytes32,uint64)", {"redemptionId": indexed(p.bytes32), "bookId": indexed(p.bytes32), "servedTokens": p.uint64, "workCommitment": p.bytes32, "challengeDeadline": p.uint64}),
    AttestationChallenged: event("0x45c96cd8aaa31347459ccd9ec0d65c099a9624a4b91498320c6e1741128124b2", "AttestationChallenged(bytes32,address)", {"redemptionId": indexed(p.bytes32), "holder": indexed(p.address)}),
    RedemptionDefaulted: event("0x0bb60405c360796503909dccd69f858d375fef8e7436fdbeffdc8250f51e5661", "RedemptionDefaulted(uint256,bytes32,address,address,uint256)", {"defaultId": indexed(p.uint256), "redemptionId": indexed(p.bytes32), "issuer": indexed(p.address), "holder": p.address, "payoutMicro": p.uint256}),
    SpendSettled: event("0x2bd035961d06f5530f2bf4299d2973d24c48456063599d40e5424fdb8c3a792c", "SpendSettled(bytes32,bytes32,uint64,uint64,uint256)", {"authDigest": indexed(p.bytes32), "lotId": indexed(p.bytes32), "deltaTokens": p.uint64, "cumulativeTokens": p.uint64, "debitMicro": p.uint256}),
    LotExpiredReclaimed: event("0xaeb3589e324e66f08d24b1b29e65af8832e14cd7237097194c5d41585c91cf19", "LotExpiredReclaimed(bytes32,address,uint256)", {"lotId": indexed(p.bytes32), "holder": indexed(p.address), "refundMicro": p.uint256}),
    LotTransferred: event("0x6d1e077fe488ba1355cd897c5d7405d6299130612f0da09d5b05a82bcde08fd5", "LotTransferred(bytes32,address,address)", {"lotId": indexed(p.bytes32), "from": indexed(p.address), "to": indexed(p.address)}),
    BookRegistered: event("0x10ed8ca8b689e9421f1f695be383b405bd1128f6dbdd5271702188d8c8191637", "BookRegistered(bytes32,address[],uint16,uint16,address)", {"bookId": indexed(p.bytes32), "attesters": p.array(p.address), "threshold": p.uint16, "feeBps": p.uint16, "feeRecipient": p.address}),
    AttestersRotated: event("0x827183420b1ea789d3b5f7549996f6c9839e521ece72d9448d0daad0c545ff5d", "AttestersRotated(bytes32,address[],uint16)", {"bookId": indexed(p.bytes32), "attesters": p.array(p.address), "threshold": p.uint16}),
    Sp1VerifierSet: event("0x38609acc1967d5b251cd3bcc6e5811be9889da5bc42522768d9ee76a544ad167", "Sp1VerifierSet(address,bytes32)", {"verifier": p.address, "vkey": p.bytes32}),
    CollateralDeposited: event("0xd7243f6f8212d5188fd054141cf6ea89cfc0d91facb8c3afe2f88a1358480142", "CollateralDeposited(address,uint256)", {"issuer": indexed(p.address), "amount": p.uint256}),
    CollateralWithdrawn: event("0xc30fcfbcaac9e0deffa719714eaa82396ff506a0d0d0eebe170830177288715d", "CollateralWithdrawn(address,uint256)", {"issuer": indexed(p.address), "amount": p.uint256}),
    OrderCancelled: event("0xa6eb7cdc219e1518ced964e9a34e61d68a94e4f1569db3e84256ba981ba52753", "OrderCancelled(bytes32,address)", {"orderHash": indexed(p.bytes32), "trader": indexed(p.address)}),
}

export class Contract extends ContractBase {
}

/// Event types
export type FillSettledEventArgs = EParams<typeof events.FillSettled>
export type BatchSettledEventArgs = EParams<typeof events.BatchSettled>
export type RedemptionRequestedEventArgs = EParams<typeof events.RedemptionRequested>
export type RedemptionSettledEventArgs = EParams<typeof events.RedemptionSettled>
export type AttestationPostedEventArgs = EParams<typeof events.AttestationPosted>
export type AttestationChallengedEventArgs = EParams<typeof events.AttestationChallenged>
export type RedemptionDefaultedEventArgs = EParams<typeof events.RedemptionDefaulted>
export type SpendSettledEventArgs = EParams<typeof events.SpendSettled>
export type LotExpiredReclaimedEventArgs = EParams<typeof events.LotExpiredReclaimed>
export type LotTransferredEventArgs = EParams<typeof events.LotTransferred>
export type BookRegisteredEventArgs = EParams<typeof events.BookRegistered>
export type AttestersRotatedEventArgs = EParams<typeof events.AttestersRotated>
export type Sp1VerifierSetEventArgs = EParams<typeof events.Sp1VerifierSet>
export type CollateralDepositedEventArgs = EParams<typeof events.CollateralDeposited>
export type CollateralWithdrawnEventArgs = EParams<typeof events.CollateralWithdrawn>
export type OrderCancelledEventArgs = EParams<typeof events.OrderCancelled>
