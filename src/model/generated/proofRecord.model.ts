import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, StringColumn as StringColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_, BigIntColumn as BigIntColumn_} from "@subsquid/typeorm-store"

@Index_(["operator", "kind", "observedAt"], {unique: false})
@Index_(["operator", "kind", "outcome", "blueprintId", "serviceId", "observedAt", "id"], {unique: false})
@Index_(["serviceId", "operator", "observedAt"], {unique: false})
@Entity_()
export class ProofRecord {
    constructor(props?: Partial<ProofRecord>) {
        Object.assign(this, props)
    }

    @PrimaryColumn_()
    id!: string

    @Index_()
    @StringColumn_({nullable: false})
    targetId!: string

    @StringColumn_({nullable: true})
    round!: string | undefined | null

    @StringColumn_({nullable: false})
    url!: string

    @StringColumn_({nullable: false})
    operator!: string

    @Index_()
    @StringColumn_({nullable: false})
    blueprintId!: string

    @StringColumn_({nullable: true})
    serviceId!: string | undefined | null

    @StringColumn_({nullable: false})
    kind!: string

    @Index_()
    @StringColumn_({nullable: false})
    outcome!: string

    @StringColumn_({nullable: false})
    reason!: string

    @StringColumn_({nullable: false})
    observed!: string

    @IntColumn_({nullable: true})
    httpStatus!: number | undefined | null

    @IntColumn_({nullable: true})
    latencyMs!: number | undefined | null

    @Index_()
    @DateTimeColumn_({nullable: false})
    observedAt!: Date

    @BigIntColumn_({nullable: false})
    chainHead!: bigint

    @StringColumn_({nullable: true})
    excerpt!: string | undefined | null

    @StringColumn_({nullable: false})
    evidenceDigest!: string

    @StringColumn_({nullable: false})
    recordDigest!: string

    @StringColumn_({nullable: false})
    signature!: string

    @StringColumn_({nullable: false})
    signer!: string
}
