import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, BooleanColumn as BooleanColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_, StringColumn as StringColumn_} from "@subsquid/typeorm-store"
import {ServiceRequest} from "./serviceRequest.model"
import {Operator} from "./operator.model"

@Entity_()
export class ServiceRequestResponse {
    constructor(props?: Partial<ServiceRequestResponse>) {
        Object.assign(this, props)
    }

    /**
     * <requestId>-<operator>
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => ServiceRequest, {nullable: true})
    request!: ServiceRequest

    @Index_()
    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator

    @BooleanColumn_({nullable: false})
    approved!: boolean

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
