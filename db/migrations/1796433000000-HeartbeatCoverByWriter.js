// Written by hand: lets the processor keep heartbeat_day_cover itself for the heartbeats of a finalized batch.
//
// The INSERT trigger of 1796431000000-HeartbeatCoverNearRows.js computes the cover of every written heartbeat in SQL,
// with and without the new rows: about 10 µs of the 25 to 35 µs that one heartbeat row costs to write. A finalized
// batch only appends heartbeats after the latest one of each (operator, service), so the processor can compute the
// same cover in memory (src/chain/heartbeat-cover.ts) and add it in one statement. It says so by setting
// `proofgap.heartbeat_cover` to `writer` for its transaction; the trigger then returns at once. Every other writer
// (hot blocks, tests, manual inserts) leaves the setting empty and the trigger does the work as before. DELETE and
// UPDATE are unchanged.

const {insertFunction} = require('./1796431000000-HeartbeatCoverNearRows.js')

const GUARD = `
    IF current_setting('proofgap.heartbeat_cover', true) = 'writer' THEN
        RETURN NULL;
    END IF;`

module.exports = class HeartbeatCoverByWriter1796433000000 {
    name = 'HeartbeatCoverByWriter1796433000000'

    async up(db) {
        await db.query(insertFunction(GUARD))
    }

    async down(db) {
        await db.query(insertFunction())
    }
}
