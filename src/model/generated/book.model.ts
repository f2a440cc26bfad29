import {Entity as Entity_, Column as Column_, PrimaryColumn as PrimaryColumn_, StringColumn as StringColumn_, IntColumn as IntColumn_, DateTimeColumn as DateTimeColumn_} from "@subsquid/typeorm-store"

@Entity_()
export class Book {
    constructor(props?: Partial<Book>) {
        Object.assign(this, props)
    }

    /**
     * Book id (bytes32 hex).
     */
    @PrimaryColumn_()
    id!: string

    @StringColumn_({nullable: false})
    settlement!: string

    @StringColumn_({array: true, nullable: false})
    attesters!: (string)[]

    @IntColumn_({nullable: false})
    threshold!: number

    @IntColumn_({nullable: true})
    feeBps!: number | undefined | null

    @StringColumn_({nullable: true})
    feeRecipient!: string | undefined | null

    @IntColumn_({nullable: false})
    rotations!: number

    @DateTimeColumn_({nullable: false})
    registeredAt!: Date

    @DateTimeColumn_({nullable: false})
    updatedAt!: Date
}
