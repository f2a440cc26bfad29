import {keccak256} from '../keccak'
import * as m from '../../model'
import {blockTime, hexBytes, str, type BatchContext, type DecodedLog} from '../context'
import {jobName} from '../../config'
import {storedUrl, toJsonValue} from '../strings'
import {decodeJobOutput} from '../outputs'
import {readJobInput} from '../inputs'

const id = (value: bigint) => value.toString()
const lower = (address: string) => address.toLowerCase()

/** Announce the rows a Tangle core log will read, so the batch loads them with one query per table. */
export function prefetchTangle(ctx: BatchContext, d: DecodedLog, serviceIdsForMemberships: Set<string>, requestIds: Set<string>): void {
    const a = d.args
    if (a.blueprintId !== undefined) ctx.blueprints.want(id(a.blueprintId))
    if (a.operator !== undefined) ctx.operators.want(lower(a.operator))
    if (a.blueprintId !== undefined && a.operator !== undefined) ctx.registrations.want(`${a.blueprintId}-${lower(a.operator)}`)
    if (a.requestId !== undefined) {
        ctx.requests.want(id(a.requestId))
        requestIds.add(id(a.requestId))
    }
    if (a.serviceId !== undefined) {
        ctx.services.want(id(a.serviceId))
        serviceIdsForMemberships.add(id(a.serviceId))
    }
    if (a.serviceId !== undefined && a.callId !== undefined) ctx.jobCalls.want(`${a.serviceId}-${a.callId}`)
    if (a.slashId !== undefined) ctx.slashes.want(id(a.slashId))
}

export function handleTangle(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const at = blockTime(log)
    switch (d.name) {
        case 'BlueprintCreated': {
            const uri = str(a.metadataUri)
            const bid = id(a.blueprintId)
            ctx.blueprints.set(
                new m.Blueprint({
                    id: bid,
                    blueprintId: a.blueprintId,
                    owner: lower(a.owner),
                    manager: lower(a.manager),
                    metadataUri: uri.display,
                    metadataUriRaw: uri.raw,
                    metadataHash: a.metadataHash ?? null,
                    product: ctx.config.blueprints[bid] ?? null,
                    shape: d.shape,
                    active: true,
                    createdAtBlock: log.block.height,
                    createdAt: at,
                    createdTx: log.transactionHash,
                    deactivatedAt: null,
                }),
            )
            return
        }
        case 'BlueprintUpdated':
        case 'BlueprintDeactivated':
        case 'BlueprintTransferred':
        case 'BlueprintSourcesRecorded':
        case 'BlueprintSourcesAcked': {
            const blueprint = ctx.blueprints.get(id(a.blueprintId))
            if (!blueprint) return ctx.recordUnhandled(log, 'ORPHAN', `blueprint ${a.blueprintId} is not indexed`, d.name)
            handleBlueprintChange(ctx, d, blueprint)
            return
        }
        case 'OperatorPreRegistered':
        case 'OperatorRegistered':
        case 'OperatorUnregistered':
        case 'OperatorPreferencesUpdated':
            return handleRegistration(ctx, d)
        case 'ServiceRequested':
        case 'ServiceRequestedWithSecurity': {
            const blueprint = ctx.blueprints.get(id(a.blueprintId))
            if (!blueprint) return ctx.recordUnhandled(log, 'ORPHAN', `blueprint ${a.blueprintId} is not indexed`, d.name)
            ctx.requests.set(
                new m.ServiceRequest({
                    id: id(a.requestId),
                    requestId: a.requestId,
                    blueprint,
                    requester: lower(a.requester),
                    confidentiality: Number(a.confidentiality),
                    withSecurity: d.name === 'ServiceRequestedWithSecurity',
                    status: 'PENDING',
                    serviceId: null,
                    blockNumber: log.block.height,
                    timestamp: at,
                    txHash: log.transactionHash,
                }),
            )
            return
        }
        case 'ServiceApproved':
        case 'ServiceRejected': {
            const request = ctx.requests.get(id(a.requestId))
            if (!request) return ctx.recordUnhandled(log, 'ORPHAN', `service request ${a.requestId} is not indexed`, d.name)
            const operator = ctx.operator(a.operator, log)
            ctx.requestResponses.set(
                new m.ServiceRequestResponse({
                    id: `${request.id}-${operator.id}`,
                    request,
                    operator,
                    approved: d.name === 'ServiceApproved',
                    blockNumber: log.block.height,
                    timestamp: at,
                    txHash: log.transactionHash,
                }),
            )
            return
        }
        case 'ServiceActivated':
            return handleServiceActivated(ctx, d)
        case 'ServiceTerminated':
        case 'ServiceTerminatedForNonPayment': {
            const service = ctx.services.get(id(a.serviceId))
            if (!service) return ctx.recordUnhandled(log, 'ORPHAN', `service ${a.serviceId} is not indexed`, d.name)
            service.status = 'TERMINATED'
            service.terminationReason = d.name === 'ServiceTerminated' ? 'TERMINATED' : 'NON_PAYMENT'
            service.terminatedAt = at
            service.terminatedTx = log.transactionHash
            ctx.services.touch(service)
            // Termination emits no OperatorLeftService: close every open membership here.
            for (const membership of ctx.activeMembershipsOf(service.id)) closeMembership(ctx, membership, 'SERVICE_TERMINATED', d)
            return
        }
        case 'OperatorJoinedService':
        case 'OperatorLeftService':
        case 'ExitScheduled':
        case 'ExitCanceled':
        case 'ExitForced':
            return handleMembershipEvent(ctx, d)
        case 'JobSubmitted':
        case 'JobSubmittedFromQuote': {
            const service = ctx.services.get(id(a.serviceId))
            if (!service) return ctx.recordUnhandled(log, 'ORPHAN', `service ${a.serviceId} is not indexed`, d.name)
            const product = ctx.config.blueprints[service.blueprint.id]
            const inputs = hexBytes(a.inputs)
            const read = readJobInput(product, Number(a.jobIndex), inputs)
            ctx.jobCalls.set(
                new m.JobCall({
                    id: `${service.id}-${a.callId}`,
                    service,
                    callId: a.callId,
                    jobIndex: Number(a.jobIndex),
                    jobName: product ? jobName(product, Number(a.jobIndex)) : null,
                    caller: lower(a.caller),
                    fromQuote: d.name === 'JobSubmittedFromQuote',
                    quotedOperators: a.quotedOperators ? (a.quotedOperators as string[]).map(lower) : null,
                    totalPrice: a.totalPrice ?? null,
                    inputsSize: inputs.length,
                    inputsHash: keccak256(inputs),
                    inputError: read.error ?? null,
                    shape: d.shape,
                    completed: false,
                    completedAt: null,
                    resultCount: 0,
                    blockNumber: log.block.height,
                    timestamp: at,
                    txHash: log.transactionHash,
                }),
            )
            // The caller published these, not an operator: `operator` stays null.
            for (const secret of read.secrets) {
                ctx.inserts.secretExposures.push(
                    new m.SecretExposure({
                        id: `${log.id}-${secret.field}`,
                        kind: secret.kind,
                        service,
                        callId: a.callId,
                        operator: null,
                        txHash: log.transactionHash,
                        blockNumber: log.block.height,
                        timestamp: at,
                        secretHash: secret.hash,
                        redacted: secret.redacted,
                    }),
                )
            }
            return
        }
        case 'JobResultSubmitted':
        case 'AggregatedResultSubmitted':
            return handleJobResult(ctx, d)
        case 'JobCompleted': {
            const call = ctx.jobCalls.get(`${a.serviceId}-${a.callId}`)
            if (!call) return ctx.recordUnhandled(log, 'ORPHAN', `job call ${a.serviceId}/${a.callId} is not indexed`, d.name)
            call.completed = true
            call.completedAt = at
            ctx.jobCalls.touch(call)
            return
        }
        case 'SlashProposed': {
            const operator = ctx.operator(a.operator, log)
            if (!ctx.services.get(id(a.serviceId))) {
                ctx.counters.unhandled['SLASH_SERVICE_UNKNOWN'] = (ctx.counters.unhandled['SLASH_SERVICE_UNKNOWN'] ?? 0) + 1
            }
            ctx.slashes.set(
                new m.Slash({
                    id: id(a.slashId),
                    slashId: a.slashId,
                    serviceId: a.serviceId,
                    operator,
                    proposer: lower(a.proposer),
                    slashBps: Number(a.slashBps),
                    effectiveSlashBps: Number(a.effectiveSlashBps),
                    evidence: a.evidence,
                    executeAfter: a.executeAfter,
                    status: 'PROPOSED',
                    proposedAtBlock: log.block.height,
                    proposedAt: at,
                    proposedTx: log.transactionHash,
                }),
            )
            return
        }
        case 'SlashDisputed':
        case 'SlashCancelled':
        case 'SlashExecuted': {
            const slash = ctx.slashes.get(id(a.slashId))
            if (!slash) return ctx.recordUnhandled(log, 'ORPHAN', `slash ${a.slashId} is not indexed`, d.name)
            if (d.name === 'SlashDisputed') {
                slash.status = 'DISPUTED'
                slash.disputer = lower(a.disputer)
                slash.disputeReason = str(a.reason).display
                slash.disputedAt = at
            } else if (d.name === 'SlashCancelled') {
                slash.status = 'CANCELLED'
                slash.canceller = lower(a.canceller)
                slash.cancelReason = str(a.reason).display
                slash.cancelledAt = at
            } else {
                slash.status = 'EXECUTED'
                slash.actualSlashed = a.actualSlashed
                slash.executedAt = at
            }
            ctx.slashes.touch(slash)
            return
        }
        default:
            ctx.recordUnhandled(log, 'DECODE_FAILED', `no handler for Tangle event ${d.name}`, d.name)
    }
}

function handleBlueprintChange(ctx: BatchContext, d: DecodedLog, blueprint: m.Blueprint): void {
    const {log, args: a} = d
    const base = {id: log.id, blueprint, blockNumber: log.block.height, timestamp: blockTime(log), txHash: log.transactionHash}
    switch (d.name) {
        case 'BlueprintUpdated': {
            const uri = str(a.metadataUri)
            blueprint.metadataUri = uri.display
            blueprint.metadataUriRaw = uri.raw
            blueprint.metadataHash = a.metadataHash
            break
        }
        case 'BlueprintDeactivated':
            blueprint.active = false
            blueprint.deactivatedAt = blockTime(log)
            break
        case 'BlueprintTransferred':
            blueprint.owner = lower(a.to)
            ctx.inserts.transfers.push(new m.BlueprintTransfer({...base, from: lower(a.from), to: lower(a.to)}))
            break
        case 'BlueprintSourcesRecorded':
            ctx.inserts.sourceUpdates.push(
                new m.BlueprintSourceUpdate({
                    ...base,
                    sourcesHash: a.sourcesHash,
                    sourceCount: (a.sources as unknown[]).length,
                    sources: toJsonValue(a.sources) as object,
                }),
            )
            return
        case 'BlueprintSourcesAcked':
            ctx.inserts.sourceAcks.push(
                new m.BlueprintSourceAck({...base, operator: ctx.operator(a.operator, log), sourcesHash: a.sourcesHash}),
            )
            return
    }
    ctx.blueprints.touch(blueprint)
}

function handleRegistration(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const at = blockTime(log)
    const blueprint = ctx.blueprints.get(id(a.blueprintId))
    if (!blueprint) return ctx.recordUnhandled(log, 'ORPHAN', `blueprint ${a.blueprintId} is not indexed`, d.name)
    const regId = `${blueprint.id}-${lower(a.operator)}`
    let registration = ctx.registrations.get(regId)
    if (!registration && (d.name === 'OperatorUnregistered' || d.name === 'OperatorPreferencesUpdated')) {
        return ctx.recordUnhandled(log, 'ORPHAN', `operator ${lower(a.operator)} has no registration for blueprint ${blueprint.id}`, d.name)
    }
    const operator = ctx.operator(a.operator, log)
    if (!registration) {
        registration = new m.Registration({
            id: regId,
            blueprint,
            operator,
            status: 'PRE_REGISTERED',
            registrationCount: 0,
            updatedAt: at,
        })
    }
    // Credentials in the advertised URL are public on chain; proofgap keeps and serves it without them.
    const rpc = a.rpcAddress !== undefined ? storedUrl(str(a.rpcAddress)) : undefined
    let kind: string
    switch (d.name) {
        case 'OperatorPreRegistered':
            kind = 'PRE_REGISTERED'
            if (registration.status !== 'ACTIVE') registration.status = 'PRE_REGISTERED'
            break
        case 'OperatorRegistered':
            kind = 'REGISTERED'
            registration.status = 'ACTIVE'
            registration.registrationCount += 1
            registration.registeredAtBlock = log.block.height
            registration.registeredAt = at
            registration.unregisteredAt = null
            break
        case 'OperatorUnregistered':
            kind = 'UNREGISTERED'
            registration.status = 'UNREGISTERED'
            registration.unregisteredAt = at
            break
        default:
            kind = 'PREFERENCES_UPDATED'
    }
    if (rpc) {
        registration.rpcAddress = rpc.display
        registration.rpcAddressRaw = rpc.raw
        registration.rpcAddressValidUtf8 = rpc.validUtf8
        registration.ecdsaPublicKey = a.ecdsaPublicKey
    }
    registration.updatedAt = at
    ctx.registrations.set(registration)
    ctx.inserts.registrationChanges.push(
        new m.RegistrationChange({
            id: log.id,
            registration,
            kind,
            rpcAddress: rpc?.display ?? null,
            rpcAddressRaw: rpc?.raw ?? null,
            ecdsaPublicKey: a.ecdsaPublicKey ?? null,
            blockNumber: log.block.height,
            timestamp: at,
            txHash: log.transactionHash,
        }),
    )
}

/**
 * Activation through the request/approve path emits no OperatorJoinedService, so the approving operators of the
 * request become members here. A quote-based service names request 0, which collides with a real request 0. The id is
 * taken as that request only while request 0 is still pending for the same blueprint. Otherwise the service came
 * from a quote and has no request.
 */
function handleServiceActivated(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const at = blockTime(log)
    const blueprint = ctx.blueprints.get(id(a.blueprintId))
    if (!blueprint) return ctx.recordUnhandled(log, 'ORPHAN', `blueprint ${a.blueprintId} is not indexed`, d.name)
    let request = ctx.requests.get(id(a.requestId))
    if (request && (request.status !== 'PENDING' || request.blueprint.id !== blueprint.id)) request = undefined
    const fromQuote = !request && a.requestId === 0n
    if (!request && !fromQuote) {
        ctx.counters.unhandled['ACTIVATION_REQUEST_UNKNOWN'] = (ctx.counters.unhandled['ACTIVATION_REQUEST_UNKNOWN'] ?? 0) + 1
    }
    const service = ctx.services.set(
        new m.Service({
            id: id(a.serviceId),
            serviceId: a.serviceId,
            blueprint,
            request: request ?? null,
            activationRequestId: a.requestId,
            fromQuote,
            confidentiality: Number(a.confidentiality),
            status: 'ACTIVE',
            terminationReason: null,
            heartbeatInterval: 300n,
            heartbeatMaxMissed: 3,
            heartbeatConfigured: false,
            activatedAtBlock: log.block.height,
            activatedAt: at,
            activatedTx: log.transactionHash,
            terminatedAt: null,
            terminatedTx: null,
        }),
    )
    if (!request) return
    request.status = 'ACTIVATED'
    request.serviceId = a.serviceId
    ctx.requests.touch(request)
    const approvals = ctx.requestResponses
        .values()
        .filter((r) => r.request.id === request!.id && r.approved)
        .sort((x, y) => (x.operator.id < y.operator.id ? -1 : 1))
    for (const approval of approvals) {
        // The approval created the operator row, possibly in an earlier batch that this one did not load: a reference
        // by id is all the membership needs.
        const operator = ctx.operators.peek(approval.operator.id) ?? new m.Operator({id: approval.operator.id})
        openMembership(ctx, service, operator, 'APPROVAL', null, d)
    }
}

function openMembership(
    ctx: BatchContext,
    service: m.Service,
    operator: m.Operator,
    source: string,
    exposureBps: number | null,
    d: DecodedLog,
): m.ServiceMembership {
    return ctx.memberships.set(
        new m.ServiceMembership({
            id: `${service.id}-${operator.id}-${d.log.id}`,
            service,
            operator,
            source,
            exposureBps,
            active: true,
            joinedAtBlock: d.log.block.height,
            joinedAt: blockTime(d.log),
            closeReason: null,
            leftAtBlock: null,
            leftAt: null,
            leftLogId: null,
            leftTx: null,
            exitScheduledAfter: null,
            exitCanceledAt: null,
        }),
    )
}

function closeMembership(ctx: BatchContext, membership: m.ServiceMembership, reason: string, d: DecodedLog): void {
    membership.active = false
    membership.closeReason = reason
    membership.leftAtBlock = d.log.block.height
    membership.leftAt = blockTime(d.log)
    membership.leftLogId = d.log.id
    membership.leftTx = d.log.transactionHash
    ctx.memberships.touch(membership)
}

function handleMembershipEvent(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const service = ctx.services.get(id(a.serviceId))
    if (!service) return ctx.recordUnhandled(log, 'ORPHAN', `service ${a.serviceId} is not indexed`, d.name)
    const operatorId = lower(a.operator)
    const membership = ctx.activeMembership(service.id, operatorId)
    if (d.name === 'OperatorJoinedService') {
        if (membership) {
            membership.exposureBps = Number(a.exposureBps)
            ctx.memberships.touch(membership)
        } else {
            openMembership(ctx, service, ctx.operator(a.operator, log), 'JOINED', Number(a.exposureBps), d)
        }
        return
    }
    if (!membership) {
        return ctx.recordUnhandled(log, 'ORPHAN', `operator ${operatorId} has no active membership in service ${service.id}`, d.name)
    }
    switch (d.name) {
        case 'OperatorLeftService':
            return closeMembership(ctx, membership, 'LEFT', d)
        case 'ExitForced':
            return closeMembership(ctx, membership, 'EXIT_FORCED', d)
        case 'ExitScheduled':
            membership.exitScheduledAfter = a.executeAfter
            membership.exitCanceledAt = null
            break
        case 'ExitCanceled':
            membership.exitScheduledAfter = null
            membership.exitCanceledAt = blockTime(log)
            break
    }
    ctx.memberships.touch(membership)
}

function handleJobResult(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const call = ctx.jobCalls.get(`${a.serviceId}-${a.callId}`)
    if (!call) return ctx.recordUnhandled(log, 'ORPHAN', `job call ${a.serviceId}/${a.callId} is not indexed`, d.name)
    const service = ctx.services.get(call.service.id)!
    const operator = d.name === 'JobResultSubmitted' ? ctx.operator(a.operator, log) : null
    const output = hexBytes(a.output)
    const product = ctx.config.blueprints[service.blueprint.id]
    const decoded = decodeJobOutput(product, call.jobIndex, output)
    const at = blockTime(log)

    ctx.inserts.jobResults.push(
        new m.JobResult({
            id: log.id,
            call,
            service,
            operator,
            aggregated: d.name === 'AggregatedResultSubmitted',
            signerBitmap: a.signerBitmap ?? null,
            outputHash: keccak256(output),
            outputSize: output.length,
            output: decoded.value ?? null,
            outputError: decoded.error ?? null,
            latencyBlocks: log.block.height - call.blockNumber,
            latencySeconds: Math.round((at.getTime() - call.timestamp.getTime()) / 1000),
            blockNumber: log.block.height,
            timestamp: at,
            txHash: log.transactionHash,
        }),
    )
    call.resultCount += 1
    ctx.jobCalls.touch(call)

    for (const secret of decoded.secrets) {
        ctx.inserts.secretExposures.push(
            new m.SecretExposure({
                id: `${log.id}-${secret.field}`,
                kind: secret.kind,
                service,
                callId: call.callId,
                operator: operator?.id ?? null,
                txHash: log.transactionHash,
                blockNumber: log.block.height,
                timestamp: at,
                secretHash: secret.hash,
                redacted: secret.redacted,
            }),
        )
    }
    if (decoded.sandbox) {
        const s = decoded.sandbox
        const sandbox =
            ctx.sandboxes.get(s.sandboxHash) ??
            new m.Sandbox({id: s.sandboxHash, status: 'ACTIVE', createdAtBlock: log.block.height, createdAt: at})
        sandbox.sandboxId = s.sandboxId
        sandbox.service = service
        sandbox.operator = operator?.id ?? sandbox.operator ?? null
        sandbox.callId = call.callId
        sandbox.sidecarUrl = s.sidecarUrl
        sandbox.tokenHash = s.tokenHash
        sandbox.tokenRedacted = s.tokenRedacted
        sandbox.sshPort = s.sshPort
        sandbox.teeAttestationHash = s.teeAttestationHash
        ctx.sandboxes.set(sandbox)
    }
}
