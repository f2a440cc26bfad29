import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    TradeExecuted: event("0x216ce3331f02dd9bb352bb381088004b186f07a99949b65fc5d4ee72f51d7388", "TradeExecuted(address,uint256,uint256,address,bytes32)", {"target": indexed(p.address), "value": p.uint256, "outputGained": p.uint256, "outputToken": p.address, "intentHash": indexed(p.bytes32)}),
    DebtReductionExecuted: event("0xb6a4f09549411ff8ea59db63ef4ad9fcbd33fd8767145844569b120fbefd1a33", "DebtReductionExecuted(address,uint256,address,uint256,address,bytes32)", {"target": indexed(p.address), "value": p.uint256, "inputToken": indexed(p.address), "debtDecreased": p.uint256, "debtToken": indexed(p.address), "intentHash": p.bytes32}),
    EnvelopeConsumed: event("0x8068cb532ed3c56ae1637488a38f7e1621f414685f41f10a48589d3a2c707c8a", "EnvelopeConsumed(bytes32,uint256,uint256)", {"envelopeHash": indexed(p.bytes32), "amount": p.uint256, "totalConsumed": p.uint256}),
    WindDownActivated: event("0x140bf8ab3c9f912126b5ab67b0bfd1fc60c63eb93665c1e4b638b219776cc233", "WindDownActivated(uint256)", {"timestamp": p.uint256}),
    WindDownDeactivated: event("0xc43c5bbc4bd47432138e2de3195b8e6b7d9b9264b9ca1bf8fee64738701ac940", "WindDownDeactivated(uint256)", {"timestamp": p.uint256}),
    PositionUnwound: event("0x49b4311c25c6943c8ecbcc13f6c6bc99816d0d57a337366fc6be6aee757e9941", "PositionUnwound(address,address,uint256)", {"caller": indexed(p.address), "target": indexed(p.address), "assetGained": p.uint256}),
    Deposit: event("0xdcbc1c05240f31ff3ad067ef1ee35ce4997762752e3a095284754544f4c709d7", "Deposit(address,address,uint256,uint256)", {"sender": indexed(p.address), "owner": indexed(p.address), "assets": p.uint256, "shares": p.uint256}),
    Withdraw: event("0xfbde797d201c681b91056529119e0b02407c7bb96a4a2c75c01fc9667232c8db", "Withdraw(address,address,address,uint256,uint256)", {"sender": indexed(p.address), "receiver": indexed(p.address), "owner": indexed(p.address), "assets": p.uint256, "shares": p.uint256}),
}

export class Contract extends ContractBase {
}

/// Event types
export type TradeExecutedEventArgs = EParams<typeof events.TradeExecuted>
export type DebtReductionExecutedEventArgs = EParams<typeof events.DebtReductionExecuted>
export type EnvelopeConsumedEventArgs = EParams<typeof events.EnvelopeConsumed>
export type WindDownActivatedEventArgs = EParams<typeof events.WindDownActivated>
export type WindDownDeactivatedEventArgs = EParams<typeof events.WindDownDeactivated>
export type PositionUnwoundEventArgs = EParams<typeof events.PositionUnwound>
export type DepositEventArgs = EParams<typeof events.Deposit>
export type WithdrawEventArgs = EParams<typeof events.Withdraw>
