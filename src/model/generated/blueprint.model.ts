import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, BigIntColumn as BigIntColumn_, Index as Index_, StringColumn as StringColumn_, BytesColumn as BytesColumn_, BooleanColumn as BooleanColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_, OneToMany as OneToMany_} from "@subsquid/typeorm-store"
import {BlueprintSourceUpdate} from "./blueprintSourceUpdate.model"
import {Registration} from "./registration.model"
import {Service} from "./service.model"

@Entity_()
export class Blueprint {
    constructor(props?: Partial<Blueprint>) {
        Object.assign(this, props)
    }

    @PrimaryColumn_()
    id!: string

    @Index_()
    @BigIntColumn_({nullable: false})
    blueprintId!: bigint

    @Index_()
    @StringColumn_({nullable: false})
    owner!: string

    @StringColumn_({nullable: true})
    manager!: string | undefined | null

    @StringColumn_({nullable: true})
    metadataUri!: string | undefined | null

    @BytesColumn_({nullable: true})
    metadataUriRaw!: Uint8Array | undefined | null

    @StringColumn_({nullable: true})
    metadataHash!: string | undefined | null

    /**
     * Product mapped from the network configuration: sandbox-cloud, trading-instance, surplus-market, ... or null.
     */
    @Index_()
    @StringColumn_({nullable: true})
    product!: string | undefined | null

    /**
     * Event shape that created the row: current, or legacy (no metadataHash).
     */
    @StringColumn_({nullable: false})
    shape!: string

    @BooleanColumn_({nullable: false})
    active!: boolean

    @IntColumn_({nullable: false})
    createdAtBlock!: number

    @DateTimeColumn_({nullable: false})
    createdAt!: Date

    @StringColumn_({nullable: false})
    createdTx!: string

    @DateTimeColumn_({nullable: true})
    deactivatedAt!: Date | undefined | null

    @OneToMany_(() => BlueprintSourceUpdate, e => e.blueprint)
    sourceUpdates!: BlueprintSourceUpdate[]

    @OneToMany_(() => Registration, e => e.blueprint)
    registrations!: Registration[]

    @OneToMany_(() => Service, e => e.blueprint)
    services!: Service[]
}
