import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, Index as Index_, ManyToOne as ManyToOne_, StringColumn as StringColumn_, BytesColumn as BytesColumn_, BooleanColumn as BooleanColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_, OneToMany as OneToMany_} from "@subsquid/typeorm-store"
import {Blueprint} from "./blueprint.model"
import {Operator} from "./operator.model"
import {RegistrationChange} from "./registrationChange.model"

@Index_(["operator", "blueprint"], {unique: true})
@Entity_()
export class Registration {
    constructor(props?: Partial<Registration>) {
        Object.assign(this, props)
    }

    /**
     * <blueprintId>-<operator>
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Blueprint, {nullable: true})
    blueprint!: Blueprint

    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator

    /**
     * PRE_REGISTERED, ACTIVE or UNREGISTERED.
     */
    @Index_()
    @StringColumn_({nullable: false})
    status!: string

    @StringColumn_({nullable: true})
    rpcAddress!: string | undefined | null

    @BytesColumn_({nullable: true})
    rpcAddressRaw!: Uint8Array | undefined | null

    @BooleanColumn_({nullable: true})
    rpcAddressValidUtf8!: boolean | undefined | null

    @StringColumn_({nullable: true})
    ecdsaPublicKey!: string | undefined | null

    /**
     * How many times the operator registered (a second one follows an unregistration).
     */
    @IntColumn_({nullable: false})
    registrationCount!: number

    @IntColumn_({nullable: true})
    registeredAtBlock!: number | undefined | null

    @DateTimeColumn_({nullable: true})
    registeredAt!: Date | undefined | null

    @DateTimeColumn_({nullable: true})
    unregisteredAt!: Date | undefined | null

    @DateTimeColumn_({nullable: false})
    updatedAt!: Date

    @OneToMany_(() => RegistrationChange, e => e.registration)
    changes!: RegistrationChange[]
}
