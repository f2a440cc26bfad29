import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, BigIntColumn as BigIntColumn_, StringColumn as StringColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_, OneToMany as OneToMany_} from "@subsquid/typeorm-store"
import {Registration} from "./registration.model"
import {ServiceMembership} from "./serviceMembership.model"
import {OperatorStakeChange} from "./operatorStakeChange.model"

@Entity_()
export class Operator {
    constructor(props?: Partial<Operator>) {
        Object.assign(this, props)
    }

    /**
     * Lowercase address.
     */
    @PrimaryColumn_()
    id!: string

    /**
     * Self-stake in the restaking layer (MultiAssetDelegation), exact.
     */
    @BigIntColumn_({nullable: false})
    stake!: bigint

    /**
     * NONE (never registered in the restaking layer), ACTIVE, LEAVING or LEFT.
     */
    @StringColumn_({nullable: false})
    restakingStatus!: string

    @BigIntColumn_({nullable: false})
    unstakeScheduled!: bigint

    @BigIntColumn_({nullable: true})
    leavingReadyRound!: bigint | undefined | null

    @IntColumn_({nullable: false})
    firstSeenBlock!: number

    @DateTimeColumn_({nullable: false})
    firstSeenAt!: Date

    @OneToMany_(() => Registration, e => e.operator)
    registrations!: Registration[]

    @OneToMany_(() => ServiceMembership, e => e.operator)
    memberships!: ServiceMembership[]

    @OneToMany_(() => OperatorStakeChange, e => e.operator)
    stakeChanges!: OperatorStakeChange[]
}
