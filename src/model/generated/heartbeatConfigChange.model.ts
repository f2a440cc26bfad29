import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, ManyToOne as ManyToOne_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_, StringColumn as StringColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"

@Index_(["service", "timestamp", "id"], {unique: false})
@Entity_()
export class HeartbeatConfigChange {
    constructor(props?: Partial<HeartbeatConfigChange>) {
        Object.assign(this, props)
    }

    /**
     * Log id.
     */
    @PrimaryColumn_()
    id!: string

    @ManyToOne_(() => Service, {nullable: true})
    service!: Service

    @BigIntColumn_({nullable: false})
    interval!: bigint

    @IntColumn_({nullable: false})
    maxMissed!: number

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
