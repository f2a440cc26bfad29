import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    OperatorAssigned: event("0xb9ea9cc58aa965865dee8f1f5bb584c61153702a0f7ad7ac44cf14fc2f80c96e", "OperatorAssigned(uint64,uint64,address)", {"serviceId": indexed(p.uint64), "callId": indexed(p.uint64), "operator": indexed(p.address)}),
    OperatorRouted: event("0xca14a8b491e791de9a5184a4eee11cdbaae5cf70b06e7533461b5bdaea301358", "OperatorRouted(uint64,uint64,address)", {"serviceId": indexed(p.uint64), "callId": indexed(p.uint64), "operator": indexed(p.address)}),
    SandboxCreated: event("0x692d24089f5ce12650972d07bad3cd6b3a66b3746c7b00200cebde801092b205", "SandboxCreated(bytes32,address)", {"sandboxHash": indexed(p.bytes32), "operator": indexed(p.address)}),
    SandboxDeleted: event("0xaabcb2bf315cc76b9033dddf4cf2a567d780fa119fa8b21414e38abfdc9644bc", "SandboxDeleted(bytes32,address)", {"sandboxHash": indexed(p.bytes32), "operator": indexed(p.address)}),
    OperatorProvisioned: event("0x34db7976be8be535c4f749188b584e44c63d0187892620b473b050be8d26f84b", "OperatorProvisioned(uint64,address,string,string)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "sandboxId": p.string, "sidecarUrl": p.string}),
    OperatorDeprovisioned: event("0x2a1cfe18c67b816e284a7b5c06107797aeadb9711f1e9bcbb78dd0275b141f38", "OperatorDeprovisioned(uint64,address)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address)}),
    TeeAttestationStored: event("0xcc51e4bf8464c0b68a359f7adc9370499eace074c8ebc892611bcf0fe6677079", "TeeAttestationStored(uint64,address,bytes32)", {"serviceId": indexed(p.uint64), "operator": indexed(p.address), "attestationHash": p.bytes32}),
    WorkflowStored: event("0x7283e38e25c7309f2175cc91551a87bfddd8b4571786c0636488f887ee4c15f5", "WorkflowStored(uint64,string,string)", {"workflow_id": indexed(p.uint64), "trigger_type": p.string, "trigger_config": p.string}),
    WorkflowTriggered: event("0x52894bf410391c8267dc287bf3d988452b13aa9d8a108a198b432f9b3dde053c", "WorkflowTriggered(uint64,uint64)", {"workflow_id": indexed(p.uint64), "triggered_at": p.uint64}),
    WorkflowCanceled: event("0x00caf25cd8dbb236a2061f3a49389fbb219c5da4e24df3ef91dffcf8c4dc3778", "WorkflowCanceled(uint64,uint64)", {"workflow_id": indexed(p.uint64), "canceled_at": p.uint64}),
    ServiceTerminationReceived: event("0x903335f1f59de0cbd1c07a1ac3190fb839fe28015eb4f68f7c35e80a27879e0d", "ServiceTerminationReceived(uint64,address)", {"serviceId": indexed(p.uint64), "owner": indexed(p.address)}),
    ServiceConfigStored: event("0x0f0958bcaa82fb3cd5edf9a69cb2b22d534c156e94820f105a086e959bc485f9", "ServiceConfigStored(uint64,uint64)", {"serviceId": indexed(p.uint64), "requestId": indexed(p.uint64)}),
    ServiceRequestValidated: event("0x5e0efede4a8741bd3f47bdd439d761daf67c7de86f352cb2130531be2008ea9e", "ServiceRequestValidated(uint64,address,uint32)", {"requestId": indexed(p.uint64), "requester": p.address, "operatorCount": p.uint32}),
}

export class Contract extends ContractBase {
}

/// Event types
export type OperatorAssignedEventArgs = EParams<typeof events.OperatorAssigned>
export type OperatorRoutedEventArgs = EParams<typeof events.OperatorRouted>
export type SandboxCreatedEventArgs = EParams<typeof events.SandboxCreated>
export type SandboxDeletedEventArgs = EParams<typeof events.SandboxDeleted>
export type OperatorProvisionedEventArgs = EParams<typeof events.OperatorProvisioned>
export type OperatorDeprovisionedEventArgs = EParams<typeof events.OperatorDeprovisioned>
export type TeeAttestationStoredEventArgs = EParams<typeof events.TeeAttestationStored>
export type WorkflowStoredEventArgs = EParams<typeof events.WorkflowStored>
export type WorkflowTriggeredEventArgs = EParams<typeof events.WorkflowTriggered>
export type WorkflowCanceledEventArgs = EParams<typeof events.WorkflowCanceled>
export type ServiceTerminationReceivedEventArgs = EParams<typeof events.ServiceTerminationReceived>
export type ServiceConfigStoredEventArgs = EParams<typeof events.ServiceConfigStored>
export type ServiceRequestValidatedEventArgs = EParams<typeof events.ServiceRequestValidated>
