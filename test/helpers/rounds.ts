import {MAX_SCHEDULE_LEAD_MS} from '../../src/proofs/worker/rounds'

/** Time a test's round keeps after the workers start: the scheduling lead and 5 minutes of test. */
export const ROUND_TIME_LEFT_MS = MAX_SCHEDULE_LEAD_MS + 5 * 60_000

/**
 * Returns a probe interval of 10 minutes or more whose current round ends at least `timeLeftMs` after `nowMs`.
 * Rounds are buckets of wall-clock time and the next one is scheduled MAX_SCHEDULE_LEAD_MS ahead, so a test that
 * expects one round would see every target probed twice when a round ends while it runs.
 */
export function intervalWithTimeLeft(nowMs = Date.now(), timeLeftMs = ROUND_TIME_LEFT_MS): number {
    let intervalMs = 600_000
    while (intervalMs - (nowMs % intervalMs) < timeLeftMs) intervalMs += 60_000
    return intervalMs
}
