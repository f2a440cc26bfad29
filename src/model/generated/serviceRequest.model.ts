import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, BigIntColumn as BigIntColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, IntColumn as IntColumn_, BooleanColumn as BooleanColumn_, DateTimeColumn as DateTimeColumn_, OneToMany as OneToMany_} from "@subsquid/typeorm-store"
import {Blueprint} from "./blueprint.model"
import {ServiceRequestResponse} from "./serviceRequestResponse.model"

@Entity_()
export class ServiceRequest {
    constructor(props?: Partial<ServiceRequest>) {
        Object.assign(this, props)
    }

    /**
     * Request id (decimal).
     */
    @PrimaryColumn_()
    id!: string

    @BigIntColumn_({nullable: false})
    requestId!: bigint

    @Index_()
    @ManyToOne_(() => Blueprint, {nullable: true})
    blueprint!: Blueprint

    @Index_()
    @StringColumn_({nullable: false})
    requester!: string

    @IntColumn_({nullable: false})
    confidentiality!: number

    @BooleanColumn_({nullable: false})
    withSecurity!: boolean

    /**
     * PENDING or ACTIVATED.
     */
    @StringColumn_({nullable: false})
    status!: string

    @BigIntColumn_({nullable: true})
    serviceId!: bigint | undefined | null

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string

    @OneToMany_(() => ServiceRequestResponse, e => e.request)
    responses!: ServiceRequestResponse[]
}
