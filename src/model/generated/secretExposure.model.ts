import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, ManyToOne as ManyToOne_, Index as Index_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"

@Entity_()
export class SecretExposure {
    constructor(props?: Partial<SecretExposure>) {
        Object.assign(this, props)
    }

    /**
     * <log id>-<field>: the log of the job result (or, for INPUT_ kinds, of the job call) and the field the secret was in.
     */
    @PrimaryColumn_()
    id!: string

    /**
     * In a job result, published by an operator: SIDECAR_TOKEN, SECRET_FIELD, URL_CREDENTIALS. In a job call's inputs, published by its caller: INPUT_SECRET, INPUT_URL_CREDENTIALS.
     */
    @StringColumn_({nullable: false})
    kind!: string

    @Index_()
    @ManyToOne_(() => Service, {nullable: true})
    service!: Service

    @BigIntColumn_({nullable: false})
    callId!: bigint

    /**
     * The operator whose result published it; null for an aggregated result and for INPUT_ kinds (see the call's caller).
     */
    @StringColumn_({nullable: true})
    operator!: string | undefined | null

    @StringColumn_({nullable: false})
    txHash!: string

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    /**
     * keccak256 of the secret, to match it elsewhere without storing it.
     */
    @StringColumn_({nullable: false})
    secretHash!: string

    @StringColumn_({nullable: false})
    redacted!: string
}
