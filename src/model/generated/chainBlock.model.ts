import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, IntColumn as IntColumn_, Index as Index_, StringColumn as StringColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class ChainBlock {
    constructor(props?: Partial<ChainBlock>) {
        Object.assign(this, props)
    }

    /**
     * Squid block id: height padded to 10 digits, then the first hex digits of the hash.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @IntColumn_({nullable: false})
    height!: number

    /**
     * Full block hash, so evidence can name the block exactly.
     */
    @StringColumn_({nullable: false})
    hash!: string

    @DateTimeColumn_({nullable: false})
    timestamp!: Date
}
