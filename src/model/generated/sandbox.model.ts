import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, ManyToOne as ManyToOne_, Index as Index_, BigIntColumn as BigIntColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Service} from "./service.model"

@Entity_()
export class Sandbox {
    constructor(props?: Partial<Sandbox>) {
        Object.assign(this, props)
    }

    /**
     * sandboxHash = keccak256(bytes(sandboxId)), known from SandboxCreated and from the sandbox_create output alike.
     */
    @PrimaryColumn_()
    id!: string

    /**
     * From the sandbox_create output; null while only SandboxCreated is known.
     */
    @StringColumn_({nullable: true})
    sandboxId!: string | undefined | null

    @Index_()
    @ManyToOne_(() => Service, {nullable: true})
    service!: Service | undefined | null

    @StringColumn_({nullable: true})
    operator!: string | undefined | null

    @BigIntColumn_({nullable: true})
    callId!: bigint | undefined | null

    @StringColumn_({nullable: true})
    sidecarUrl!: string | undefined | null

    /**
     * keccak256 of the sidecar bearer token published in the job output; the token itself is never stored.
     */
    @StringColumn_({nullable: true})
    tokenHash!: string | undefined | null

    @StringColumn_({nullable: true})
    tokenRedacted!: string | undefined | null

    @BigIntColumn_({nullable: true})
    sshPort!: bigint | undefined | null

    @StringColumn_({nullable: true})
    teeAttestationHash!: string | undefined | null

    /**
     * ACTIVE or DELETED.
     */
    @StringColumn_({nullable: false})
    status!: string

    @IntColumn_({nullable: false})
    createdAtBlock!: number

    @DateTimeColumn_({nullable: false})
    createdAt!: Date

    @DateTimeColumn_({nullable: true})
    deletedAt!: Date | undefined | null
}
