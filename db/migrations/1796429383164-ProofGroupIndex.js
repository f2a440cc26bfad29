module.exports = class ProofGroupIndex1796429383164 {
    name = 'ProofGroupIndex1796429383164'

    async up(db) {
        await db.query(`DROP INDEX "public"."IDX_eb545567399d9cb4649a124cc5"`)
        await db.query(`CREATE INDEX "IDX_319d9c4c19019bb5125f0a8e23" ON "proof_record" ("operator", "kind", "outcome", "blueprint_id", "service_id", "observed_at", "id") `)
    }

    async down(db) {
        // The generator listed the columns of the dropped index in alphabetical order; this is the order it had.
        await db.query(`CREATE INDEX "IDX_eb545567399d9cb4649a124cc5" ON "proof_record" ("operator", "kind", "outcome", "observed_at") `)
        await db.query(`DROP INDEX "public"."IDX_319d9c4c19019bb5125f0a8e23"`)
    }
}
