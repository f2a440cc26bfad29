import * as m from '../../model'
import {blockTime, str, type BatchContext, type DecodedLog} from '../context'
import {storedUrl} from '../strings'

const lower = (address: string) => address.toLowerCase()
const countSkip = (ctx: BatchContext, key: string) => (ctx.counters.unhandled[key] = (ctx.counters.unhandled[key] ?? 0) + 1)

/** Announce rows product logs will read. Vault events are keyed by their emitter. */
export function prefetchProduct(ctx: BatchContext, d: DecodedLog, endpointServices: Set<string>): void {
    const a = d.args
    if (a.serviceId !== undefined) ctx.services.want(a.serviceId.toString())
    if (a.operator !== undefined && typeof a.operator === 'string') ctx.operators.want(lower(a.operator))
    if (d.family === 'sandbox') {
        if (a.sandboxHash !== undefined) ctx.sandboxes.want(a.sandboxHash)
        if (d.name === 'OperatorDeprovisioned') endpointServices.add(a.serviceId.toString())
    }
    if (d.family === 'vault') ctx.vaults.want(lower(d.log.address))
    if (a.vault !== undefined) ctx.vaults.want(lower(a.vault))
    if (a.vault !== undefined && a.signer !== undefined) ctx.signers.want(`${lower(a.vault)}-${lower(a.signer)}`)
    if (a.redemptionId !== undefined) ctx.redemptions.want(a.redemptionId)
    if (a.bookId !== undefined) ctx.books.want(a.bookId)
}

export function handleSandbox(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const at = blockTime(log)
    switch (d.name) {
        case 'OperatorProvisioned':
        case 'OperatorDeprovisioned':
        case 'TeeAttestationStored': {
            const service = ctx.services.get(a.serviceId.toString())
            if (!service) return ctx.recordUnhandled(log, 'ORPHAN', `service ${a.serviceId} is not indexed`, d.name)
            const operator = ctx.operator(a.operator, log)
            if (d.name === 'TeeAttestationStored') {
                ctx.inserts.teeAttestations.push(
                    new m.TeeAttestation({
                        id: log.id,
                        service,
                        operator,
                        attestationHash: a.attestationHash,
                        blockNumber: log.block.height,
                        timestamp: at,
                        txHash: log.transactionHash,
                    }),
                )
                return
            }
            if (d.name === 'OperatorDeprovisioned') {
                const open = ctx.endpoints.values().filter((e) => e.active && e.service.id === service.id && e.operator.id === operator.id)
                if (open.length === 0) return ctx.recordUnhandled(log, 'ORPHAN', `operator ${operator.id} has no provisioned endpoint in service ${service.id}`, d.name)
                for (const endpoint of open) {
                    endpoint.active = false
                    endpoint.deprovisionedAt = at
                    ctx.endpoints.touch(endpoint)
                }
                return
            }
            const sandboxId = str(a.sandboxId)
            const sidecarUrl = storedUrl(str(a.sidecarUrl))
            ctx.endpoints.set(
                new m.ProvisionedEndpoint({
                    id: log.id,
                    service,
                    operator,
                    sandboxId: sandboxId.display,
                    sandboxIdRaw: sandboxId.raw,
                    sidecarUrl: sidecarUrl.display,
                    sidecarUrlRaw: sidecarUrl.raw,
                    active: true,
                    blockNumber: log.block.height,
                    timestamp: at,
                    txHash: log.transactionHash,
                    deprovisionedAt: null,
                }),
            )
            return
        }
        case 'SandboxCreated': {
            const sandbox =
                ctx.sandboxes.get(a.sandboxHash) ??
                new m.Sandbox({id: a.sandboxHash, status: 'ACTIVE', createdAtBlock: log.block.height, createdAt: at})
            sandbox.operator = sandbox.operator ?? lower(a.operator)
            ctx.sandboxes.set(sandbox)
            return
        }
        case 'SandboxDeleted': {
            const sandbox = ctx.sandboxes.get(a.sandboxHash)
            if (!sandbox) return ctx.recordUnhandled(log, 'ORPHAN', `sandbox ${a.sandboxHash} is not indexed`, d.name)
            sandbox.status = 'DELETED'
            sandbox.deletedAt = at
            ctx.sandboxes.touch(sandbox)
            return
        }
        default:
            ctx.recordProductEvent(d, {serviceId: a.serviceId ?? null, callId: a.callId ?? null, operator: a.operator ?? null})
    }
}

/** Trading manager, vault factory, policy engine, trade validator, fee distributor, validator blueprint and vaults. */
export function handleTrading(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const at = blockTime(log)
    switch (`${d.family}.${d.name}`) {
        case 'trading.BotVaultDeployed':
        case 'factory.VaultCreated': {
            const address = lower(a.vault)
            const vault =
                ctx.vaults.get(address) ??
                new m.BotVault({
                    id: address,
                    serviceId: a.serviceId,
                    announcedBy: d.family === 'trading' ? 'MANAGER' : 'FACTORY',
                    windDownActive: false,
                    tradeCount: 0,
                    createdAtBlock: log.block.height,
                    createdAt: at,
                })
            vault.shareToken = lower(a.shareToken)
            if (d.family === 'trading') {
                vault.callId = a.callId
                vault.announcedBy = 'MANAGER'
            } else {
                vault.assetToken = lower(a.assetToken)
                vault.admin = lower(a.admin)
                vault.operator = lower(a.operator)
            }
            ctx.vaults.set(vault)
            return
        }
        case 'policy.VaultInitialized':
        case 'validator.VaultConfigured': {
            const vault = ctx.vaults.get(lower(a.vault))
            if (!vault) return ctx.recordUnhandled(log, 'ORPHAN', `vault ${lower(a.vault)} was never announced`, d.name)
            if (d.name === 'VaultInitialized') {
                vault.admin = lower(a.admin)
                vault.leverageCap = a.leverageCap
                vault.maxTradesPerHour = a.maxTradesPerHour
                vault.maxSlippageBps = a.maxSlippageBps
            } else {
                vault.requiredSignatures = a.requiredSignatures
                vault.totalSigners = a.totalSigners
            }
            ctx.vaults.touch(vault)
            ctx.recordProductEvent(d, {vault: vault.id})
            return
        }
        case 'validator.SignerAdded':
        case 'validator.SignerRemoved': {
            const vault = lower(a.vault)
            const signerId = `${vault}-${lower(a.signer)}`
            const signer = ctx.signers.get(signerId) ?? new m.VaultSigner({id: signerId, vault, signer: lower(a.signer), active: false})
            signer.active = d.name === 'SignerAdded'
            ctx.signers.set(signer)
            ctx.recordProductEvent(d, {vault})
            return
        }
        case 'vault.TradeExecuted':
        case 'vault.DebtReductionExecuted': {
            const vault = ctx.vaults.get(lower(log.address))
            if (!vault) return ctx.recordUnhandled(log, 'UNKNOWN_EMITTER', `${log.address} is not a vault announced by a configured manager or factory`, d.name)
            ctx.inserts.trades.push(
                new m.Trade({
                    id: log.id,
                    vault,
                    kind: d.name === 'TradeExecuted' ? 'TRADE' : 'DEBT_REDUCTION',
                    target: lower(a.target),
                    value: a.value,
                    outputGained: a.outputGained ?? a.debtDecreased ?? null,
                    outputToken: a.outputToken ? lower(a.outputToken) : a.debtToken ? lower(a.debtToken) : null,
                    intentHash: a.intentHash,
                    blockNumber: log.block.height,
                    timestamp: at,
                    txHash: log.transactionHash,
                }),
            )
            vault.tradeCount += 1
            ctx.vaults.touch(vault)
            return
        }
        case 'vault.WindDownActivated':
        case 'vault.WindDownDeactivated':
        case 'vault.EnvelopeConsumed':
        case 'vault.PositionUnwound': {
            const vault = ctx.vaults.get(lower(log.address))
            if (!vault) return ctx.recordUnhandled(log, 'UNKNOWN_EMITTER', `${log.address} is not a vault announced by a configured manager or factory`, d.name)
            if (d.name === 'WindDownActivated') vault.windDownActive = true
            if (d.name === 'WindDownDeactivated') vault.windDownActive = false
            ctx.vaults.touch(vault)
            ctx.recordProductEvent(d, {vault: vault.id, serviceId: vault.serviceId})
            return
        }
        default:
            ctx.recordProductEvent(d, {
                serviceId: a.serviceId ?? null,
                callId: a.callId ?? a.jobCallId ?? null,
                vault: a.vault ?? null,
                operator: a.operator ?? a.validator ?? null,
            })
    }
}

/** Surplus Market settlement contracts (current and older shapes) and its service manager. */
export function handleSettlement(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const at = blockTime(log)
    const settlement = log.address
    const base = {id: log.id, settlement, blockNumber: log.block.height, timestamp: at, txHash: log.transactionHash}
    switch (d.name) {
        case 'FillSettled':
            ctx.inserts.fills.push(
                new m.SettlementFill({
                    ...base,
                    buyOrderHash: a.buyOrderHash,
                    sellOrderHash: a.sellOrderHash,
                    instrument: a.instrument,
                    qtyTokens: a.qtyTokens,
                    execPriceMicroPerM: a.execPriceMicroPerM,
                    costMicro: a.costMicro,
                    lotId: a.lotId,
                }),
            )
            return
        case 'BatchSettled':
            ctx.inserts.batches.push(
                new m.SettlementBatch({
                    ...base,
                    bookId: a.bookId ?? null,
                    batchNonce: a.batchNonce,
                    fillsHash: a.fillsHash,
                    fillCount: a.fillCount,
                    proven: a.proven,
                    ordersCommitment: a.ordersCommitment ?? null,
                    shape: d.shape,
                }),
            )
            return
        case 'RedemptionRequested':
            ctx.redemptions.set(
                new m.Redemption({
                    id: a.redemptionId,
                    settlement,
                    lotId: a.lotId,
                    issuer: lower(a.issuer),
                    holder: lower(a.holder),
                    qtyTokens: a.qtyTokens,
                    deadline: a.deadline,
                    status: 'REQUESTED',
                    requestedAtBlock: log.block.height,
                    requestedAt: at,
                }),
            )
            return
        case 'AttestationPosted':
        case 'AttestationChallenged':
        case 'RedemptionSettled':
        case 'RedemptionDefaulted': {
            const redemption = ctx.redemptions.get(a.redemptionId)
            if (!redemption) return ctx.recordUnhandled(log, 'ORPHAN', `redemption ${a.redemptionId} is not indexed`, d.name)
            if (d.name === 'AttestationPosted') {
                redemption.status = 'ATTESTED'
                redemption.servedTokens = a.servedTokens
                redemption.workCommitment = a.workCommitment
                redemption.challengeDeadline = a.challengeDeadline
            } else if (d.name === 'AttestationChallenged') {
                redemption.status = 'CHALLENGED'
            } else if (d.name === 'RedemptionSettled') {
                redemption.status = 'SETTLED'
                redemption.servedTokens = a.servedTokens
                redemption.notionalDebitMicro = a.notionalDebitMicro
                redemption.workCommitment = a.workCommitment ?? redemption.workCommitment ?? null
                redemption.settledAt = at
            } else {
                redemption.status = 'DEFAULTED'
                redemption.defaultId = a.defaultId
                redemption.payoutMicro = a.payoutMicro
                redemption.defaultedAt = at
            }
            ctx.redemptions.touch(redemption)
            return
        }
        case 'BookRegistered':
            ctx.books.set(
                new m.Book({
                    id: a.bookId,
                    settlement,
                    attesters: (a.attesters as string[]).map(lower),
                    threshold: Number(a.threshold),
                    feeBps: Number(a.feeBps),
                    feeRecipient: lower(a.feeRecipient),
                    rotations: 0,
                    registeredAt: at,
                    updatedAt: at,
                }),
            )
            return
        case 'AttestersRotated': {
            const book = ctx.books.get(a.bookId)
            if (!book) return ctx.recordUnhandled(log, 'ORPHAN', `book ${a.bookId} is not indexed`, d.name)
            book.attesters = (a.attesters as string[]).map(lower)
            book.threshold = Number(a.threshold)
            book.rotations += 1
            book.updatedAt = at
            ctx.books.touch(book)
            return
        }
        default:
            ctx.recordProductEvent(d, {serviceId: a.serviceId ?? null, callId: a.jobCallId ?? null, operator: a.operator ?? a.issuer ?? null})
    }
}

export {countSkip}
