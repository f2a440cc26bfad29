import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, IntColumn as IntColumn_, BytesColumn as BytesColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"
import {Operator} from "./operator.model"

@Entity_()
export class StatusEvent {
    constructor(props?: Partial<StatusEvent>) {
        Object.assign(this, props)
    }

    /**
     * Log id.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Service, {nullable: true})
    service!: Service

    @Index_()
    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator

    /**
     * STATUS_CHANGED, WENT_OFFLINE, CAME_ONLINE, REGISTRY_REGISTERED, REGISTRY_DEREGISTERED, SLASHING_TRIGGERED.
     */
    @StringColumn_({nullable: false})
    kind!: string

    @IntColumn_({nullable: true})
    oldStatus!: number | undefined | null

    @IntColumn_({nullable: true})
    newStatus!: number | undefined | null

    @IntColumn_({nullable: true})
    missedBeats!: number | undefined | null

    @StringColumn_({nullable: true})
    reason!: string | undefined | null

    @BytesColumn_({nullable: true})
    reasonRaw!: Uint8Array | undefined | null

    @Index_()
    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
