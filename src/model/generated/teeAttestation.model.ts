import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"
import {Operator} from "./operator.model"

@Entity_()
export class TeeAttestation {
    constructor(props?: Partial<TeeAttestation>) {
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
    attestationHash!: string

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
