import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {BotVault} from "./botVault.model"

@Entity_()
export class Trade {
    constructor(props?: Partial<Trade>) {
        Object.assign(this, props)
    }

    /**
     * Log id.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => BotVault, {nullable: true})
    vault!: BotVault

    /**
     * TRADE or DEBT_REDUCTION.
     */
    @StringColumn_({nullable: false})
    kind!: string

    @StringColumn_({nullable: false})
    target!: string

    @BigIntColumn_({nullable: false})
    value!: bigint

    @BigIntColumn_({nullable: true})
    outputGained!: bigint | undefined | null

    @StringColumn_({nullable: true})
    outputToken!: string | undefined | null

    @Index_()
    @StringColumn_({nullable: false})
    intentHash!: string

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @Index_()
    @StringColumn_({nullable: false})
    txHash!: string
}
