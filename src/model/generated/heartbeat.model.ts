import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, ManyToOne as ManyToOne_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_, StringColumn as StringColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"
import {Operator} from "./operator.model"

@Index_(["operator", "service", "timestamp"], {unique: false})
@Entity_()
export class Heartbeat {
    constructor(props?: Partial<Heartbeat>) {
        Object.assign(this, props)
    }

    /**
     * Log id. Append-only.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Service, {nullable: true})
    service!: Service

    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator

    /**
     * From the service, not from the event (the caller supplies the event's blueprintId unchecked).
     */
    @BigIntColumn_({nullable: false})
    blueprintId!: bigint

    @BigIntColumn_({nullable: false})
    reportedBlueprintId!: bigint

    @IntColumn_({nullable: false})
    statusCode!: number

    @BigIntColumn_({nullable: false})
    eventTimestamp!: bigint

    @Index_()
    @IntColumn_({nullable: false})
    blockNumber!: number

    @Index_()
    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
