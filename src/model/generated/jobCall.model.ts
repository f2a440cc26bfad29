import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, ManyToOne as ManyToOne_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, StringColumn as StringColumn_, BooleanColumn as BooleanColumn_, DateTimeColumn as DateTimeColumn_, OneToMany as OneToMany_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"
import {JobResult} from "./jobResult.model"

@Index_(["service", "callId"], {unique: true})
@Entity_()
export class JobCall {
    constructor(props?: Partial<JobCall>) {
        Object.assign(this, props)
    }

    /**
     * <serviceId>-<callId>
     */
    @PrimaryColumn_()
    id!: string

    @ManyToOne_(() => Service, {nullable: true})
    service!: Service

    @BigIntColumn_({nullable: false})
    callId!: bigint

    @IntColumn_({nullable: false})
    jobIndex!: number

    /**
     * Job name for the service's product, or null when the product or index is unknown.
     */
    @StringColumn_({nullable: true})
    jobName!: string | undefined | null

    @Index_()
    @StringColumn_({nullable: false})
    caller!: string

    @BooleanColumn_({nullable: false})
    fromQuote!: boolean

    @StringColumn_({array: true, nullable: true})
    quotedOperators!: (string)[] | undefined | null

    @BigIntColumn_({nullable: true})
    totalPrice!: bigint | undefined | null

    @IntColumn_({nullable: false})
    inputsSize!: number

    @StringColumn_({nullable: false})
    inputsHash!: string

    /**
     * Why the inputs were not read completely for published secrets (DECODE_FAILED, JSON_INVALID, NESTED_TOO_DEEP, TOO_MANY_SECRETS); null when they were, or when proofgap reads no input of this job (only sandbox_create inputs are read).
     */
    @StringColumn_({nullable: true})
    inputError!: string | undefined | null

    /**
     * Shape of the JobSubmitted log: current (jobIndex in data) or indexed-job-index.
     */
    @StringColumn_({nullable: false})
    shape!: string

    @BooleanColumn_({nullable: false})
    completed!: boolean

    @DateTimeColumn_({nullable: true})
    completedAt!: Date | undefined | null

    @IntColumn_({nullable: false})
    resultCount!: number

    @Index_()
    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string

    @OneToMany_(() => JobResult, e => e.call)
    results!: JobResult[]
}
