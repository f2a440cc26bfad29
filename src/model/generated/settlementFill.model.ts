import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, BigIntColumn as BigIntColumn_, Index as Index_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class SettlementFill {
    constructor(props?: Partial<SettlementFill>) {
        Object.assign(this, props)
    }

    /**
     * Log id.
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    settlement!: string

    @StringColumn_({nullable: false})
    buyOrderHash!: string

    @StringColumn_({nullable: false})
    sellOrderHash!: string

    @StringColumn_({nullable: false})
    instrument!: string

    @BigIntColumn_({nullable: false})
    qtyTokens!: bigint

    @BigIntColumn_({nullable: false})
    execPriceMicroPerM!: bigint

    @BigIntColumn_({nullable: false})
    costMicro!: bigint

    @Index_()
    @StringColumn_({nullable: false})
    lotId!: string

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
