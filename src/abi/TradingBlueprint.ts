import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    BotVaultDeployed: event("0x6c2b9223a9f233060a72d56f41673b03a658e9f34ce2e08572bb1219cfc91290", "BotVaultDeployed(uint64,uint64,address,address)", {"serviceId": indexed(p.uint64), "callId": indexed(p.uint64), "vault": p.address, "shareToken": p.address}),
    BotVaultSkipped: event("0x1bbd811821458668b53933692461592e750f30229ed59ecac68853d74b586830", "BotVaultSkipped(uint64,uint64,string)", {"serviceId": indexed(p.uint64), "callId": indexed(p.uint64), "reason": p.string}),
    OperatorGranted: event("0x562c19e1ed28387db0393a283a2b61148c987428199cb9d8c61ea316995937dc", "OperatorGranted(uint64,address,address)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "vault": p.address}),
    TradingStarted: event("0xf7d049958fb503ba753b62536e342f47569fa7b444f4da625c53621ea9a7598c", "TradingStarted(uint64)", {"serviceId": indexed(p.uint64)}),
    TradingStopped: event("0xead0230d47741e81eb8cf74dfb50ffb42ebfae9db779166328df504568f715c1", "TradingStopped(uint64)", {"serviceId": indexed(p.uint64)}),
    ServiceTerminated: event("0x3fd558a59bbce1d996d17eab7fde314bcd201ec3f17375a7f873b3162927e881", "ServiceTerminated(uint64)", {"serviceId": indexed(p.uint64)}),
    BotExtended: event("0xe29ea6fd44bc15bb5145335c33fc556245459a30ac5a88f2123f4c4f9e6ffa29", "BotExtended(uint64,uint64,uint64)", {"serviceId": indexed(p.uint64), "jobCallId": p.uint64, "additionalDays": p.uint64}),
}

export class Contract extends ContractBase {
}

/// Event types
export type BotVaultDeployedEventArgs = EParams<typeof events.BotVaultDeployed>
export type BotVaultSkippedEventArgs = EParams<typeof events.BotVaultSkipped>
export type OperatorGrantedEventArgs = EParams<typeof events.OperatorGranted>
export type TradingStartedEventArgs = EParams<typeof events.TradingStarted>
export type TradingStoppedEventArgs = EParams<typeof events.TradingStopped>
export type ServiceTerminatedEventArgs = EParams<typeof events.ServiceTerminated>
export type BotExtendedEventArgs = EParams<typeof events.BotExtended>
