import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, Index as Index_, BigIntColumn as BigIntColumn_, JSONColumn as JSONColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class ProductEvent {
    constructor(props?: Partial<ProductEvent>) {
        Object.assign(this, props)
    }

    /**
     * Log id. Product events kept as they are: sandbox workflow and routing events, trading lifecycle, policy and signer changes, validator and fee events, settlement spends, lots, collateral, surplus manager events.
     */
    @PrimaryColumn_()
    id!: string

    /**
     * sandbox, trading, vault, policy, validator, fees, factory, validatorBlueprint, settlement or surplusManager.
     */
    @StringColumn_({nullable: false})
    family!: string

    /**
     * Event name, e.g. TradingStarted.
     */
    @Index_()
    @StringColumn_({nullable: false})
    kind!: string

    @StringColumn_({nullable: false})
    contract!: string

    @Index_()
    @BigIntColumn_({nullable: true})
    serviceId!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    callId!: bigint | undefined | null

    @StringColumn_({nullable: true})
    vault!: string | undefined | null

    @StringColumn_({nullable: true})
    operator!: string | undefined | null

    /**
     * Every decoded field; numbers as decimal strings.
     */
    @JSONColumn_({nullable: false})
    detail!: unknown

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
