// job_call.input_error: why a call's inputs were not read completely for secrets that the caller published on chain
// (see src/chain/inputs.ts). Calls indexed before this column existed keep null: their inputs were not read.
module.exports = class JobInputError1796435000000 {
    name = 'JobInputError1796435000000'

    async up(db) {
        await db.query(`ALTER TABLE "job_call" ADD "input_error" text`)
    }

    async down(db) {
        await db.query(`ALTER TABLE "job_call" DROP COLUMN "input_error"`)
    }
}
