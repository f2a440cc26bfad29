import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Operator} from "./operator.model"

@Entity_()
export class OperatorStakeChange {
    constructor(props?: Partial<OperatorStakeChange>) {
        Object.assign(this, props)
    }

    /**
     * Log id.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator

    /**
     * REGISTERED, STAKE_INCREASED, UNSTAKE_SCHEDULED, LEAVING_SCHEDULED, LEFT, BLUEPRINT_ADDED, BLUEPRINT_REMOVED.
     */
    @StringColumn_({nullable: false})
    kind!: string

    @BigIntColumn_({nullable: true})
    amount!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    readyRound!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    blueprintId!: bigint | undefined | null

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
