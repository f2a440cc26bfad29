import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, IntColumn as IntColumn_, JSONColumn as JSONColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Blueprint} from "./blueprint.model"

@Entity_()
export class BlueprintSourceUpdate {
    constructor(props?: Partial<BlueprintSourceUpdate>) {
        Object.assign(this, props)
    }

    /**
     * Log id.
     */
    @PrimaryColumn_()
    id!: string

    @Index_()
    @ManyToOne_(() => Blueprint, {nullable: true})
    blueprint!: Blueprint

    @Index_()
    @StringColumn_({nullable: false})
    sourcesHash!: string

    @IntColumn_({nullable: false})
    sourceCount!: number

    /**
     * Decoded sources (kind, container, wasm, native, testing, binaries); numbers as decimal strings.
     */
    @JSONColumn_({nullable: false})
    sources!: unknown

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
