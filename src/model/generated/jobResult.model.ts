import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, BooleanColumn as BooleanColumn_, BigIntColumn as BigIntColumn_, StringColumn as StringColumn_, IntColumn as IntColumn_, JSONColumn as JSONColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {JobCall} from "./jobCall.model"
import {Service} from "./service.model"
import {Operator} from "./operator.model"

@Entity_()
export class JobResult {
    constructor(props?: Partial<JobResult>) {
        Object.assign(this, props)
    }

    /**
     * Log id.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => JobCall, {nullable: true})
    call!: JobCall

    @Index_()
    @ManyToOne_(() => Service, {nullable: true})
    service!: Service

    /**
     * Null for an aggregated result.
     */
    @Index_()
    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator | undefined | null

    @BooleanColumn_({nullable: false})
    aggregated!: boolean

    @BigIntColumn_({nullable: true})
    signerBitmap!: bigint | undefined | null

    @StringColumn_({nullable: false})
    outputHash!: string

    @IntColumn_({nullable: false})
    outputSize!: number

    /**
     * Decoded product output with secrets replaced by a redacted form; null when it did not decode.
     */
    @JSONColumn_({nullable: true})
    output!: unknown | undefined | null

    @StringColumn_({nullable: true})
    outputError!: string | undefined | null

    @IntColumn_({nullable: false})
    latencyBlocks!: number

    @IntColumn_({nullable: false})
    latencySeconds!: number

    @Index_()
    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
