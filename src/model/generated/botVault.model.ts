import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, BigIntColumn as BigIntColumn_, Index as Index_, StringColumn as StringColumn_, BooleanColumn as BooleanColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_, OneToMany as OneToMany_} from "@subsquid/typeorm-store"
import {Trade} from "./trade.model"

@Entity_()
export class BotVault {
    constructor(props?: Partial<BotVault>) {
        Object.assign(this, props)
    }

    /**
     * Lowercase vault address.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @BigIntColumn_({nullable: false})
    serviceId!: bigint

    @BigIntColumn_({nullable: true})
    callId!: bigint | undefined | null

    @StringColumn_({nullable: true})
    shareToken!: string | undefined | null

    /**
     * MANAGER (BotVaultDeployed) or FACTORY (VaultCreated).
     */
    @StringColumn_({nullable: false})
    announcedBy!: string

    @StringColumn_({nullable: true})
    assetToken!: string | undefined | null

    @StringColumn_({nullable: true})
    admin!: string | undefined | null

    @StringColumn_({nullable: true})
    operator!: string | undefined | null

    @BigIntColumn_({nullable: true})
    leverageCap!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    maxTradesPerHour!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    maxSlippageBps!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    requiredSignatures!: bigint | undefined | null

    @BigIntColumn_({nullable: true})
    totalSigners!: bigint | undefined | null

    @BooleanColumn_({nullable: false})
    windDownActive!: boolean

    @IntColumn_({nullable: false})
    tradeCount!: number

    @IntColumn_({nullable: false})
    createdAtBlock!: number

    @DateTimeColumn_({nullable: false})
    createdAt!: Date

    @OneToMany_(() => Trade, e => e.vault)
    trades!: Trade[]
}
