import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    BlueprintCreated: event("0x7ccd26bc6775ae4936200d467efc9a0e4e5f2fa8877e86faa1c7a1453a93a7fc", "BlueprintCreated(uint64,address,address,string,bytes32)", {"blueprintId": indexed(p.uint64), "owner": indexed(p.address), "manager": p.address, "metadataUri": p.string, "metadataHash": p.bytes32}),
    BlueprintUpdated: event("0x2a63eae57789a34134d3e1e4cb40aa4d154a2c6b35b52a938d6833de9514ad34", "BlueprintUpdated(uint64,string,bytes32)", {"blueprintId": indexed(p.uint64), "metadataUri": p.string, "metadataHash": p.bytes32}),
    BlueprintDeactivated: event("0xe14286f3ad49ada6d0911adda8ef90616999045bde2a33e391a7b5ae6589e789", "BlueprintDeactivated(uint64)", {"blueprintId": indexed(p.uint64)}),
    BlueprintTransferred: event("0xd2b958a1b0b978ceded4986b4f49c8b25fbd6e812cb8925e13efc731ea4aa24d", "BlueprintTransferred(uint64,address,address)", {"blueprintId": indexed(p.uint64), "from": indexed(p.address), "to": indexed(p.address)}),
    BlueprintSourcesRecorded: event("0x68554f1241fea0bb1dd1abad2eef6cb250c1de4ed6404474c046251ccc3ca64c", "BlueprintSourcesRecorded(uint64,bytes32,(uint8,(string,string,string),(uint8,uint8,string,string),(uint8,string,string),(string,string,string),(uint8,uint8,string,bytes32)[])[])", {"blueprintId": indexed(p.uint64), "sourcesHash": indexed(p.bytes32), "sources": p.array(p.struct({"kind": p.uint8, "container": p.struct({"registry": p.string, "image": p.string, "tag": p.string}), "wasm": p.struct({"runtime": p.uint8, "fetcher": p.uint8, "artifactUri": p.string, "entrypoint": p.string}), "native": p.struct({"fetcher": p.uint8, "artifactUri": p.string, "entrypoint": p.string}), "testing": p.struct({"cargoPackage": p.string, "cargoBin": p.string, "basePath": p.string}), "binaries": p.array(p.struct({"arch": p.uint8, "os": p.uint8, "name": p.string, "sha256": p.bytes32}))}))}),
    BlueprintSourcesAcked: event("0xeea6987858321b10512b8727111031ec8fc574aa02aefff8a767f28eb826a59e", "BlueprintSourcesAcked(uint64,address,bytes32)", {"blueprintId": indexed(p.uint64), "operator": indexed(p.address), "sourcesHash": p.bytes32}),
    OperatorPreRegistered: event("0xd39ff75a15c31a272891c52e42995acfa27459ba1c12239cbac23cdb76f53084", "OperatorPreRegistered(uint64,address)", {"blueprintId": indexed(p.uint64), "operator": indexed(p.address)}),
    OperatorRegistered: event("0x0455541bf5feb5fcc32e827dc18bf2175448427c6ae72c8d5e985c99e4104102", "OperatorRegistered(uint64,address,bytes,string)", {"blueprintId": indexed(p.uint64), "operator": indexed(p.address), "ecdsaPublicKey": p.bytes, "rpcAddress": p.string}),
    OperatorUnregistered: event("0x88e46e95bcdf1020c0caf9f3dd5fde69c41d2151dbbca0a77c03c4e28b4d3ec1", "OperatorUnregistered(uint64,address)", {"blueprintId": indexed(p.uint64), "operator": indexed(p.address)}),
    OperatorPreferencesUpdated: event("0xbaca468a52670b77d74d0423b33ac5227a7f1a5c548e07006b29c6e2289779a6", "OperatorPreferencesUpdated(uint64,address,bytes,string)", {"blueprintId": indexed(p.uint64), "operator": indexed(p.address), "ecdsaPublicKey": p.bytes, "rpcAddress": p.string}),
    ServiceRequested: event("0x5c92301c22df4cc7209a8b0b25b2f5787750237e110e09a276a9f7d16e6709a4", "ServiceRequested(uint64,uint64,address,uint8)", {"requestId": indexed(p.uint64), "blueprintId": indexed(p.uint64), "requester": indexed(p.address), "confidentiality": p.uint8}),
    ServiceRequestedWithSecurity: event("0xf45574f7771d997cae170535fede6911c984b9238cc1177c2fad12af1775c82d", "ServiceRequestedWithSecurity(uint64,uint64,address,uint8)", {"requestId": indexed(p.uint64), "blueprintId": indexed(p.uint64), "requester": indexed(p.address), "confidentiality": p.uint8}),
    ServiceApproved: event("0xceda1a44ead4da3d3abaaa941afa6d9530fd84dd8e99385c9183d986dcab980f", "ServiceApproved(uint64,address)", {"requestId": indexed(p.uint64), "operator": indexed(p.address)}),
    ServiceRejected: event("0xc63050b963ec6e2cf36df90ecacaa43212c0e74b8c3a58a0f8cce3bd5a2a7675", "ServiceRejected(uint64,address)", {"requestId": indexed(p.uint64), "operator": indexed(p.address)}),
    ServiceActivated: event("0x0325bb1c453505f13d5546dda087be5e237f7cf249f79a0ee406d97ef0ca7ee9", "ServiceActivated(uint64,uint64,uint64,uint8)", {"serviceId": indexed(p.uint64), "requestId": indexed(p.uint64), "blueprintId": indexed(p.uint64), "confidentiality": p.uint8}),
    ServiceTerminated: event("0x3fd558a59bbce1d996d17eab7fde314bcd201ec3f17375a7f873b3162927e881", "ServiceTerminated(uint64)", {"serviceId": indexed(p.uint64)}),
    ServiceTerminatedForNonPayment: event("0x177f493cbd61eeae5a0c02d976ea06b25f860b94279db11adec411729ecde57f", "ServiceTerminatedForNonPayment(uint64,address,uint64,uint64,uint256,uint256)", {"serviceId": indexed(p.uint64), "triggeredBy": indexed(p.address), "dueAt": p.uint64, "graceEndsAt": p.uint64, "requiredAmount": p.uint256, "escrowBalance": p.uint256}),
    OperatorJoinedService: event("0x2457918796078440068385e73e422539c84f2f9045dd442e123d4284258ae24a", "OperatorJoinedService(uint64,address,uint16)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "exposureBps": p.uint16}),
    OperatorLeftService: event("0x8ce53e4b6002ff090e641ddecdaf7edd2813a98e19139fa7d1c79fccc3c4dead", "OperatorLeftService(uint64,address)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address)}),
    ExitScheduled: event("0xa1743517e1241c2957a2cfebae41444b881d1a3c4cb1c27c5d6a6f0c89772776", "ExitScheduled(uint64,address,uint64)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "executeAfter": p.uint64}),
    ExitCanceled: event("0x26375c5eb2623da8a9e0afa670bddc76625d4b095a73d409cf8f4702f79a9c08", "ExitCanceled(uint64,address)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address)}),
    ExitForced: event("0x0b1abe3cefb4560dc6d7fdbdafd545aeb6fa1e8c3713a6e6d5a628165861a809", "ExitForced(uint64,address,address)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "forcer": indexed(p.address)}),
    JobSubmitted: event("0xde37cc48d21778e1c9a075c4e41c5aff6918c3ea6151221f0af3ce8121a29db5", "JobSubmitted(uint64,uint64,uint8,address,bytes)", {"serviceId": indexed(p.uint64), "callId": indexed(p.uint64), "jobIndex": p.uint8, "caller": p.address, "inputs": p.bytes}),
    JobSubmittedFromQuote: event("0xb707259a8a1604adca251fecf84eb283329cd45175690dcb8ff1cf52a6252422", "JobSubmittedFromQuote(uint64,uint64,uint8,address,address[],uint256,bytes)", {"serviceId": indexed(p.uint64), "callId": indexed(p.uint64), "jobIndex": p.uint8, "caller": p.address, "quotedOperators": p.array(p.address), "totalPrice": p.uint256, "inputs": p.bytes}),
    JobResultSubmitted: event("0x8a04f99fe23284e874e8dd017345248279cc59701695e73bcdbeb6241bcd2ac6", "JobResultSubmitted(uint64,uint64,address,bytes)", {"serviceId": indexed(p.uint64), "callId": indexed(p.uint64), "operator": indexed(p.address), "output": p.bytes}),
    AggregatedResultSubmitted: event("0xe6fcb3342abe43c21acc6a04e3d7912476836976e07ed47d0b15a374e200e2f0", "AggregatedResultSubmitted(uint64,uint64,uint256,bytes)", {"serviceId": indexed(p.uint64), "callId": indexed(p.uint64), "signerBitmap": p.uint256, "output": p.bytes}),
    JobCompleted: event("0x60a7649f6e93e7a3ce1dc9729c20e3d95dce28c6a6bd957cde09d8a1cb37c19f", "JobCompleted(uint64,uint64)", {"serviceId": indexed(p.uint64), "callId": indexed(p.uint64)}),
    SlashProposed: event("0xea15712b428139839309538b7a37df5b88a90b4d776dbf7aa14d95c28304b9fc", "SlashProposed(uint64,uint64,address,address,uint16,uint16,bytes32,uint64)", {"slashId": indexed(p.uint64), "serviceId": indexed(p.uint64), "operator": indexed(p.address), "proposer": p.address, "slashBps": p.uint16, "effectiveSlashBps": p.uint16, "evidence": p.bytes32, "executeAfter": p.uint64}),
    SlashDisputed: event("0x0d4418cc07b1c81f56e2d1277f5d11c1b27ebac6cdacafccecd4add6742b4b0f", "SlashDisputed(uint64,address,string)", {"slashId": indexed(p.uint64), "disputer": indexed(p.address), "reason": p.string}),
    SlashCancelled: event("0xe80d1a183af30916f79b15a6c85e82470d0b88065dfdd2505d106adf0e8b7796", "SlashCancelled(uint64,address,string)", {"slashId": indexed(p.uint64), "canceller": indexed(p.address), "reason": p.string}),
    SlashExecuted: event("0x4a816e132712dbdfe6a363965e5bc68f8e283b999ae11afe294a3162973c3855", "SlashExecuted(uint64,uint64,address,uint256)", {"slashId": indexed(p.uint64), "serviceId": indexed(p.uint64), "operator": indexed(p.address), "actualSlashed": p.uint256}),
}

export class Contract extends ContractBase {
}

/// Event types
export type BlueprintCreatedEventArgs = EParams<typeof events.BlueprintCreated>
export type BlueprintUpdatedEventArgs = EParams<typeof events.BlueprintUpdated>
export type BlueprintDeactivatedEventArgs = EParams<typeof events.BlueprintDeactivated>
export type BlueprintTransferredEventArgs = EParams<typeof events.BlueprintTransferred>
export type BlueprintSourcesRecordedEventArgs = EParams<typeof events.BlueprintSourcesRecorded>
export type BlueprintSourcesAckedEventArgs = EParams<typeof events.BlueprintSourcesAcked>
export type OperatorPreRegisteredEventArgs = EParams<typeof events.OperatorPreRegistered>
export type OperatorRegisteredEventArgs = EParams<typeof events.OperatorRegistered>
export type OperatorUnregisteredEventArgs = EParams<typeof events.OperatorUnregistered>
export type OperatorPreferencesUpdatedEventArgs = EParams<typeof events.OperatorPreferencesUpdated>
export type ServiceRequestedEventArgs = EParams<typeof events.ServiceRequested>
export type ServiceRequestedWithSecurityEventArgs = EParams<typeof events.ServiceRequestedWithSecurity>
export type ServiceApprovedEventArgs = EParams<typeof events.ServiceApproved>
export type ServiceRejectedEventArgs = EParams<typeof events.ServiceRejected>
export type ServiceActivatedEventArgs = EParams<typeof events.ServiceActivated>
export type ServiceTerminatedEventArgs = EParams<typeof events.ServiceTerminated>
export type ServiceTerminatedForNonPaymentEventArgs = EParams<typeof events.ServiceTerminatedForNonPayment>
export type OperatorJoinedServiceEventArgs = EParams<typeof events.OperatorJoinedService>
export type OperatorLeftServiceEventArgs = EParams<typeof events.OperatorLeftService>
export type ExitScheduledEventArgs = EParams<typeof events.ExitScheduled>
export type ExitCanceledEventArgs = EParams<typeof events.ExitCanceled>
export type ExitForcedEventArgs = EParams<typeof events.ExitForced>
export type JobSubmittedEventArgs = EParams<typeof events.JobSubmitted>
export type JobSubmittedFromQuoteEventArgs = EParams<typeof events.JobSubmittedFromQuote>
export type JobResultSubmittedEventArgs = EParams<typeof events.JobResultSubmitted>
export type AggregatedResultSubmittedEventArgs = EParams<typeof events.AggregatedResultSubmitted>
export type JobCompletedEventArgs = EParams<typeof events.JobCompleted>
export type SlashProposedEventArgs = EParams<typeof events.SlashProposed>
export type SlashDisputedEventArgs = EParams<typeof events.SlashDisputed>
export type SlashCancelledEventArgs = EParams<typeof events.SlashCancelled>
export type SlashExecutedEventArgs = EParams<typeof events.SlashExecuted>
