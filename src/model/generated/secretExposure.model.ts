import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, ManyToOne as ManyToOne_, Index as Index_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"

@Entity_()
export class SecretExposure {
    constructor(props?: Partial<SecretExposure>) {
        Object.assign(this, props)
    }

    /**
     * <log id>-<field>
     */
    @PrimaryColumn_()
    id!: string

    /**
     * SIDECAR_TOKEN
     */
    @StringColumn_({nullable: false})
    kind!: string

    @Index_()
    @ManyToOne_(() => Service, {nullable: true})
    service!: Service

    @BigIntColumn_({nullable: false})
    callId!: bigint

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
