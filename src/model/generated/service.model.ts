import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, BigIntColumn as BigIntColumn_, ManyToOne as ManyToOne_, Index as Index_, BooleanColumn as BooleanColumn_, IntColumn as IntColumn_, StringColumn as StringColumn_, DateTimeColumn as DateTimeColumn_, OneToMany as OneToMany_} from "@subsquid/typeorm-store"
import {Blueprint} from "./blueprint.model"
import {ServiceRequest} from "./serviceRequest.model"
import {ServiceMembership} from "./serviceMembership.model"
import {JobCall} from "./jobCall.model"

@Entity_()
export class Service {
    constructor(props?: Partial<Service>) {
        Object.assign(this, props)
    }

    /**
     * Service id (decimal).
     */
    @PrimaryColumn_()
    id!: string

    @BigIntColumn_({nullable: false})
    serviceId!: bigint

    @Index_()
    @ManyToOne_(() => Blueprint, {nullable: true})
    blueprint!: Blueprint

    /**
     * The request that ServiceActivated names; null when the service came from a quote (request id 0).
     */
    @Index_()
    @ManyToOne_(() => ServiceRequest, {nullable: true})
    request!: ServiceRequest | undefined | null

    /**
     * Request id as ServiceActivated names it (0 for a service from a quote).
     */
    @BigIntColumn_({nullable: false})
    activationRequestId!: bigint

    @BooleanColumn_({nullable: false})
    fromQuote!: boolean

    /**
     * 0 Any, 1 TeeRequired, 2 StandardRequired, 3 TeePreferred.
     */
    @IntColumn_({nullable: false})
    confidentiality!: number

    /**
     * ACTIVE or TERMINATED.
     */
    @Index_()
    @StringColumn_({nullable: false})
    status!: string

    /**
     * TERMINATED or NON_PAYMENT when status is TERMINATED.
     */
    @StringColumn_({nullable: true})
    terminationReason!: string | undefined | null

    /**
     * Heartbeat interval in seconds; 300 until a HeartbeatConfigUpdated sets it.
     */
    @BigIntColumn_({nullable: false})
    heartbeatInterval!: bigint

    @IntColumn_({nullable: false})
    heartbeatMaxMissed!: number

    @BooleanColumn_({nullable: false})
    heartbeatConfigured!: boolean

    @IntColumn_({nullable: false})
    activatedAtBlock!: number

    @DateTimeColumn_({nullable: false})
    activatedAt!: Date

    @StringColumn_({nullable: false})
    activatedTx!: string

    @DateTimeColumn_({nullable: true})
    terminatedAt!: Date | undefined | null

    @StringColumn_({nullable: true})
    terminatedTx!: string | undefined | null

    @OneToMany_(() => ServiceMembership, e => e.service)
    memberships!: ServiceMembership[]

    @OneToMany_(() => JobCall, e => e.service)
    jobCalls!: JobCall[]
}
