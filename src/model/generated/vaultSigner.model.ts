import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, Index as Index_, BooleanColumn as BooleanColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class VaultSigner {
    constructor(props?: Partial<VaultSigner>) {
        Object.assign(this, props)
    }

    /**
     * <vault>-<signer>
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @StringColumn_({nullable: false})
    vault!: string

    @StringColumn_({nullable: false})
    signer!: string

    @BooleanColumn_({nullable: false})
    active!: boolean
}
