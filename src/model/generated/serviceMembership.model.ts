import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, ManyToOne as ManyToOne_, StringColumn as StringColumn_, IntColumn as IntColumn_, BooleanColumn as BooleanColumn_, DateTimeColumn as DateTimeColumn_, BigIntColumn as BigIntColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"
import {Operator} from "./operator.model"

@Index_(["service", "operator"], {unique: false})
@Entity_()
export class ServiceMembership {
    constructor(props?: Partial<ServiceMembership>) {
        Object.assign(this, props)
    }

    /**
     * <serviceId>-<operator>-<log id of the event that opened it (ServiceActivated for approvals, else OperatorJoinedService)>
     */
    @PrimaryColumn_()
    id!: string

    @ManyToOne_(() => Service, {nullable: true})
    service!: Service

    @Index_()
    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator

    /**
     * APPROVAL (request/approve path) or JOINED (OperatorJoinedService).
     */
    @StringColumn_({nullable: false})
    source!: string

    @IntColumn_({nullable: true})
    exposureBps!: number | undefined | null

    @Index_()
    @BooleanColumn_({nullable: false})
    active!: boolean

    @IntColumn_({nullable: false})
    joinedAtBlock!: number

    @DateTimeColumn_({nullable: false})
    joinedAt!: Date

    /**
     * LEFT, EXIT_FORCED or SERVICE_TERMINATED.
     */
    @StringColumn_({nullable: true})
    closeReason!: string | undefined | null

    @IntColumn_({nullable: true})
    leftAtBlock!: number | undefined | null

    @DateTimeColumn_({nullable: true})
    leftAt!: Date | undefined | null

    /**
     * Log id of the event that closed it: OperatorLeftService, ExitForced, ServiceTerminated or ServiceTerminatedForNonPayment. Null for memberships closed before 2026-12-05, until the chain is indexed again.
     */
    @StringColumn_({nullable: true})
    leftLogId!: string | undefined | null

    @StringColumn_({nullable: true})
    leftTx!: string | undefined | null

    @BigIntColumn_({nullable: true})
    exitScheduledAfter!: bigint | undefined | null

    @DateTimeColumn_({nullable: true})
    exitCanceledAt!: Date | undefined | null
}
