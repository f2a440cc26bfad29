import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, Index as Index_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class UnhandledLog {
    constructor(props?: Partial<UnhandledLog>) {
        Object.assign(this, props)
    }

    /**
     * Log id.
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    address!: string

    @Index_()
    @StringColumn_({nullable: true})
    topic0!: string | undefined | null

    @StringColumn_({array: true, nullable: false})
    topics!: (string)[]

    /**
     * Raw data, with the bytes of secrets replaced by * (string members with a secret name, credentials of a known form, PEM private keys).
     */
    @StringColumn_({nullable: false})
    data!: string

    @Index_()
    @IntColumn_({nullable: false})
    blockNumber!: number

    @StringColumn_({nullable: false})
    blockHash!: string

    @IntColumn_({nullable: false})
    logIndex!: number

    @IntColumn_({nullable: false})
    transactionIndex!: number

    @StringColumn_({nullable: false})
    txHash!: string

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    /**
     * DECODE_FAILED, TOPIC_COUNT_MISMATCH, ORPHAN or UNKNOWN_EMITTER.
     */
    @Index_()
    @StringColumn_({nullable: false})
    reason!: string

    /**
     * Event the log was taken for, when known.
     */
    @StringColumn_({nullable: true})
    eventName!: string | undefined | null

    @StringColumn_({nullable: false})
    detail!: string
}
