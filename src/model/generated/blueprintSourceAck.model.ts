import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, ManyToOne as ManyToOne_, Index as Index_, StringColumn as StringColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"
import {Blueprint} from "./blueprint.model"
import {Operator} from "./operator.model"

@Entity_()
export class BlueprintSourceAck {
    constructor(props?: Partial<BlueprintSourceAck>) {
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
    @ManyToOne_(() => Operator, {nullable: true})
    operator!: Operator

    @StringColumn_({nullable: false})
    sourcesHash!: string

    @IntColumn_({nullable: false})
    blockNumber!: number

    @DateTimeColumn_({nullable: false})
    timestamp!: Date

    @StringColumn_({nullable: false})
    txHash!: string
}
