import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, BigIntColumn as BigIntColumn_, Index as Index_, ManyToOne as ManyToOne_, StringColumn as StringColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Operator} from "./operator.model"

@Entity_()
export class Slash {
    constructor(props?: Partial<Slash>) {
        Object.assign(this, props)
    }

    /**
     * Slash id (decimal).
     */
    @PrimaryColumn_()
    id!: string

    @BigIntColumn_({nullable: false})
    slashId!: bigint

    /**
     * Service id as SlashProposed names it; the service may be unknown to the index.
     */
    @Index_()
    @BigIntColumn_({nullable: false})
    serviceId!: bigint

    @Index_()
    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator

    @StringColumn_({nullable: false})
    proposer!: string

    @IntColumn_({nullable: false})
    slashBps!: number

    @IntColumn_({nullable: false})
    effectiveSlashBps!: number

    @Index_()
    @StringColumn_({nullable: false})
    evidence!: string

    @BigIntColumn_({nullable: false})
    executeAfter!: bigint

    /**
     * PROPOSED, DISPUTED, CANCELLED or EXECUTED.
     */
    @Index_()
    @StringColumn_({nullable: false})
    status!: string

    @StringColumn_({nullable: true})
    disputer!: string | undefined | null

    @StringColumn_({nullable: true})
    disputeReason!: string | undefined | null

    @StringColumn_({nullable: true})
    canceller!: string | undefined | null

    @StringColumn_({nullable: true})
    cancelReason!: string | undefined | null

    @BigIntColumn_({nullable: true})
    actualSlashed!: bigint | undefined | null

    @IntColumn_({nullable: false})
    proposedAtBlock!: number

    @DateTimeColumn_({nullable: false})
    proposedAt!: Date

    @StringColumn_({nullable: false})
    proposedTx!: string

    @DateTimeColumn_({nullable: true})
    disputedAt!: Date | undefined | null

    @DateTimeColumn_({nullable: true})
    cancelledAt!: Date | undefined | null

    @DateTimeColumn_({nullable: true})
    executedAt!: Date | undefined | null
}
