import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, Index as Index_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class Redemption {
    constructor(props?: Partial<Redemption>) {
        Object.assign(this, props)
    }

    /**
     * Redemption id (bytes32 hex).
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    settlement!: string

    @StringColumn_({nullable: false})
    lotId!: string

    @Index_()
    @StringColumn_({nullable: false})
    issuer!: string

    @StringColumn_({nullable: false})
    holder!: string

    @BigIntColumn_({nullable: false})
    qtyTokens!: bigint

    @BigIntColumn_({nullable: false})
    deadline!: bigint

    /**
     * REQUESTED, ATTESTED, CHALLENGED, SETTLED or DEFAULTED.
     */
    @Index_()
    @StringColumn_({nullable: false})
    status!: string

    @BigIntColumn_({nullable: true})
    servedTokens!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    notionalDebitMicro!: bigint | undefined | null

    @StringColumn_({nullable: true})
    workCommitment!: string | undefined | null

    @BigIntColumn_({nullable: true})
    challengeDeadline!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    defaultId!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    payoutMicro!: bigint | undefined | null

    @IntColumn_({nullable: false})
    requestedAtBlock!: number

    @DateTimeColumn_({nullable: false})
    requestedAt!: Date

    @DateTimeColumn_({nullable: true})
    settledAt!: Date | undefined | null

    @DateTimeColumn_({nullable: true})
    defaultedAt!: Date | undefined | null
}
