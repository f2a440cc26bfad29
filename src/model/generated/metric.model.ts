import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, BytesColumn as BytesColumn_, BigIntColumn as BigIntColumn_, BooleanColumn as BooleanColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"
import {Operator} from "./operator.model"

@Entity_()
export class Metric {
    constructor(props?: Partial<Metric>) {
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

    @StringColumn_({nullable: false})
    name!: string

    @BytesColumn_({nullable: false})
    nameRaw!: Uint8Array

    /**
     * Set for MetricReported.
     */
    @BigIntColumn_({nullable: true})
    value!: bigint | undefined | null

    /**
     * True for MetricViolation.
     */
    @BooleanColumn_({nullable: false})
    violation!: boolean

    @StringColumn_({nullable: true})
    reason!: string | undefined | null

    @BytesColumn_({nullable: true})
    reasonRaw!: Uint8Array | undefined | null

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
