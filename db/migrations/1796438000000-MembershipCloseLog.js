// service_membership.left_log_id and left_tx: the log that closed a membership (OperatorLeftService, ExitForced,
// ServiceTerminated or ServiceTerminatedForNonPayment), so that an evidence bundle can carry it as a chain fact.
// Memberships closed before this migration keep null until the chain is indexed again.
module.exports = class MembershipCloseLog1796438000000 {
    name = 'MembershipCloseLog1796438000000'

    async up(db) {
        await db.query(`ALTER TABLE "service_membership" ADD "left_log_id" text`)
        await db.query(`ALTER TABLE "service_membership" ADD "left_tx" text`)
    }

    async down(db) {
        await db.query(`ALTER TABLE "service_membership" DROP COLUMN "left_tx"`)
        await db.query(`ALTER TABLE "service_membership" DROP COLUMN "left_log_id"`)
    }
}
