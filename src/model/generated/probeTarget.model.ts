import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, StringColumn as StringColumn_, BooleanColumn as BooleanColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

@Index_(["operator", "blueprintId"], {unique: false})
@Entity_()
export class ProbeTarget {
    constructor(props?: Partial<ProbeTarget>) {
        Object.assign(this, props)
    }

    /**
     * <kind-of-source>:<blueprintId>:<operator>:<url hash>
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    url!: string

    /**
     * RPC_ADDRESS, SIDECAR or VENUE.
     */
    @StringColumn_({nullable: false})
    source!: string

    @StringColumn_({nullable: false})
    operator!: string

    @StringColumn_({nullable: false})
    blueprintId!: string

    @StringColumn_({nullable: true})
    serviceId!: string | undefined | null

    @StringColumn_({nullable: true})
    product!: string | undefined | null

    @Index_()
    @BooleanColumn_({nullable: false})
    active!: boolean

    @DateTimeColumn_({nullable: false})
    firstSeenAt!: Date

    @DateTimeColumn_({nullable: false})
    lastSeenAt!: Date

    @DateTimeColumn_({nullable: true})
    lastProbedAt!: Date | undefined | null
}
