import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, BytesColumn as BytesColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Registration} from "./registration.model"

@Entity_()
export class RegistrationChange {
    constructor(props?: Partial<RegistrationChange>) {
        Object.assign(this, props)
    }

    /**
     * Log id.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Registration, {nullable: true})
    registration!: Registration

    /**
     * PRE_REGISTERED, REGISTERED, PREFERENCES_UPDATED or UNREGISTERED.
     */
    @StringColumn_({nullable: false})
    kind!: string

    @StringColumn_({nullable: true})
    rpcAddress!: string | undefined | null

    @BytesColumn_({nullable: true})
    rpcAddressRaw!: Uint8Array | undefined | null

    @StringColumn_({nullable: true})
    ecdsaPublicKey!: string | undefined | null

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
