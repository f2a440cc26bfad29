import * as m from '../../model'
import {blockTime, type BatchContext, type DecodedLog} from '../context'

export function prefetchRestaking(ctx: BatchContext, d: DecodedLog): void {
    ctx.operators.want(d.args.operator.toLowerCase())
}

const KIND: Record<string, string> = {
    OperatorRegistered: 'REGISTERED',
    OperatorStakeIncreased: 'STAKE_INCREASED',
    OperatorUnstakeScheduled: 'UNSTAKE_SCHEDULED',
    OperatorLeavingScheduled: 'LEAVING_SCHEDULED',
    OperatorLeft: 'LEFT',
    OperatorBlueprintAdded: 'BLUEPRINT_ADDED',
    OperatorBlueprintRemoved: 'BLUEPRINT_REMOVED',
}

/** The restaking layer (MultiAssetDelegation): operator self-stake and status, kept exact. */
export function handleRestaking(ctx: BatchContext, d: DecodedLog): void {
    const {log, args: a} = d
    const operator = ctx.operator(a.operator, log)
    switch (d.name) {
        case 'OperatorRegistered':
            operator.stake = a.stake
            operator.restakingStatus = 'ACTIVE'
            break
        case 'OperatorStakeIncreased':
            operator.stake += a.amount
            break
        case 'OperatorUnstakeScheduled':
            operator.unstakeScheduled += a.amount
            break
        case 'OperatorLeavingScheduled':
            operator.restakingStatus = 'LEAVING'
            operator.leavingReadyRound = a.readyRound
            break
        case 'OperatorLeft':
            operator.restakingStatus = 'LEFT'
            break
    }
    ctx.operators.touch(operator)
    ctx.inserts.stakeChanges.push(
        new m.OperatorStakeChange({
            id: log.id,
            operator,
            kind: KIND[d.name],
            amount: a.stake ?? a.amount ?? null,
            readyRound: a.readyRound ?? null,
            blueprintId: a.blueprintId ?? null,
            blockNumber: log.block.height,
            timestamp: blockTime(log),
            txHash: log.transactionHash,
        }),
    )
}
