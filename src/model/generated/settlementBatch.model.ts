import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, BigIntColumn as BigIntColumn_, BooleanColumn as BooleanColumn_, Index as Index_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class SettlementBatch {
    constructor(props?: Partial<SettlementBatch>) {
        Object.assign(this, props)
    }

    /**
     * Log id.
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    settlement!: string

    @StringColumn_({nullable: true})
    bookId!: string | undefined | null

    @BigIntColumn_({nullable: false})
    batchNonce!: bigint

    @StringColumn_({nullable: false})
    fillsHash!: string

    @BigIntColumn_({nullable: false})
    fillCount!: bigint

    /**
     * Settled with an SP1 proof.
     */
    @Index_()
    @BooleanColumn_({nullable: false})
    proven!: boolean

    @StringColumn_({nullable: true})
    ordersCommitment!: string | undefined | null

    /**
     * current, legacy-v1 (no book) or legacy-v2 (no orders commitment).
     */
    @StringColumn_({nullable: false})
    shape!: string

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
