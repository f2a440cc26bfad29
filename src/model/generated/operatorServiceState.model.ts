import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, ManyToOne as ManyToOne_, DateTimeColumn as DateTimeColumn_, IntColumn as IntColumn_, BooleanColumn as BooleanColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"
import {Operator} from "./operator.model"

@Index_(["service", "operator"], {unique: true})
@Entity_()
export class OperatorServiceState {
    constructor(props?: Partial<OperatorServiceState>) {
        Object.assign(this, props)
    }

    /**
     * <serviceId>-<operator>: the latest heartbeat and registry state of one operator in one service.
     */
    @PrimaryColumn_()
    id!: string

    @ManyToOne_(() => Service, {nullable: true})
    service!: Service

    @Index_()
    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator

    @DateTimeColumn_({nullable: true})
    lastHeartbeatAt!: Date | undefined | null

    @IntColumn_({nullable: true})
    lastHeartbeatBlock!: number | undefined | null

    @IntColumn_({nullable: true})
    lastStatusCode!: number | undefined | null

    @IntColumn_({nullable: false})
    heartbeatCount!: number

    /**
     * Stored registry status: 0 Healthy, 1 Degraded, 2 Offline, 3 Slashed, 4 Exiting.
     */
    @IntColumn_({nullable: true})
    status!: number | undefined | null

    @BooleanColumn_({nullable: false})
    registeredInRegistry!: boolean
}
