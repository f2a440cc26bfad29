import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, BytesColumn as BytesColumn_, BooleanColumn as BooleanColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"
import {Operator} from "./operator.model"

@Entity_()
export class ProvisionedEndpoint {
    constructor(props?: Partial<ProvisionedEndpoint>) {
        Object.assign(this, props)
    }

    /**
     * Log id of OperatorProvisioned.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Service, {nullable: true})
    service!: Service

    @Index_()
    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator

    @StringColumn_({nullable: false})
    sandboxId!: string

    @BytesColumn_({nullable: false})
    sandboxIdRaw!: Uint8Array

    @StringColumn_({nullable: false})
    sidecarUrl!: string

    @BytesColumn_({nullable: false})
    sidecarUrlRaw!: Uint8Array

    @Index_()
    @BooleanColumn_({nullable: false})
    active!: boolean

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string

    @DateTimeColumn_({nullable: true})
    deprovisionedAt!: Date | undefined | null
}
