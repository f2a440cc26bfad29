import {describe, expect, it} from 'vitest'
import {requiredKindsFor} from '../src/gap/claims'
import {DEFAULT_GAP_CONFIG, gapConfigFromEnv} from '../src/gap/config'
import {heartbeatLiveness, livenessDeadline} from '../src/gap/liveness'
import {decideGapStatus, type GapStatusInput} from '../src/gap/status'
import type {Liveness, ProofSummary} from '../src/gap/types'
import type {ProofOutcome} from '../src/proofs/types'

const AT = new Date('2026-01-07T12:00:00.000Z')
const HOUR_MS = 3_600_000

function summary(outcome: ProofOutcome, hoursAgo: number, reason = 'R'): ProofSummary {
    return {
        id: `${outcome}-${hoursAgo}`,
        operator: '0xa',
        blueprintId: '1',
        serviceId: '10',
        kind: 'ENDPOINT_REACHABILITY',
        outcome,
        reason,
        observedAt: new Date(AT.getTime() - hoursAgo * HOUR_MS),
    }
}

const healthy: Liveness = {
    operator: '0xa', serviceId: '10', lastHeartbeatAt: AT, lastStatusCode: 0, heartbeatIntervalSeconds: 60n,
    heartbeatMaxMissed: 3, deadline: AT, live: true, healthy: true,
}

function input(overrides: Partial<GapStatusInput>): GapStatusInput {
    return {kind: 'ENDPOINT_REACHABILITY', required: true, proofs: [], liveness: [], redemptions: [], at: AT, config: DEFAULT_GAP_CONFIG, ...overrides}
}

describe('decideGapStatus', () => {
    it.each([
        ['no claim requires kind', input({required: false, proofs: [summary('PASS', 1)]}), 'NOT_APPLICABLE'],
        ['never probed', input({}), 'UNPROVEN'],
        ['only inconclusive', input({proofs: [summary('INCONCLUSIVE', 1)]}), 'UNPROVEN'],
        ['fresh pass', input({proofs: [summary('PASS', 1)]}), 'PROVEN'],
        ['pass older than window', input({proofs: [summary('PASS', 7)]}), 'STALE'],
        ['fresh fail after pass', input({proofs: [summary('PASS', 3), summary('FAIL', 1)]}), 'FAILING'],
        ['fresh pass after fail', input({proofs: [summary('FAIL', 3), summary('PASS', 1)]}), 'PROVEN'],
        ['unreachable, heartbeat healthy', input({proofs: [summary('UNREACHABLE', 1)], liveness: [healthy]}), 'CONTRADICTED'],
        ['unreachable, no heartbeat', input({proofs: [summary('UNREACHABLE', 1)]}), 'FAILING'],
        ['docker runtime on TEE service', input({proofs: [summary('FAIL', 1, 'TEE_REQUIRED_DOCKER_RUNTIME')]}), 'CONTRADICTED'],
        ['live bot without trade', input({proofs: [summary('FAIL', 1, 'LIVE_WITHOUT_ONCHAIN_TRADE')]}), 'CONTRADICTED'],
        ['prober says not applicable', input({proofs: [summary('NOT_APPLICABLE', 1)]}), 'NOT_APPLICABLE'],
        ['proof after query instant ignored', input({proofs: [summary('PASS', -1)]}), 'UNPROVEN'],
    ])('%s', (_name, value, expected) => {
        expect(decideGapStatus(value).status).toBe(expected)
    })

    it('overdue redemption contradicts without a probe', () => {
        const result = decideGapStatus(
            input({
                kind: 'MARKET_CREDIT_REDEMPTION',
                redemptions: [{
                    id: '0x01', issuer: '0xa', status: 'REQUESTED', deadline: BigInt(AT.getTime() / 1000 - 60),
                    requestedAt: new Date(AT.getTime() - HOUR_MS), settledAt: null, defaultedAt: null,
                }],
            }),
        )
        expect(result.status).toBe('CONTRADICTED')
        expect(result.reason).toBe('REDEMPTION_PAST_DEADLINE_UNSETTLED')
    })

    it('settled redemption is no contradiction', () => {
        const result = decideGapStatus(
            input({
                kind: 'MARKET_CREDIT_REDEMPTION',
                redemptions: [{
                    id: '0x01', issuer: '0xa', status: 'SETTLED', deadline: BigInt(AT.getTime() / 1000 - 60),
                    requestedAt: new Date(AT.getTime() - HOUR_MS), settledAt: new Date(AT.getTime() - 2 * 60_000), defaultedAt: null,
                }],
            }),
        )
        expect(result.status).toBe('UNPROVEN')
    })
})

describe('heartbeat liveness', () => {
    const membership = {
        operator: '0xa', serviceId: '10', blueprintId: '1', product: 'sandbox-cloud', confidentiality: 0, active: true,
        heartbeatIntervalSeconds: 60n, heartbeatMaxMissed: 3,
    }
    const beat = {operator: '0xa', serviceId: '10', at: AT, statusCode: 0, blockNumber: 1, heartbeatIntervalSeconds: 60n, heartbeatMaxMissed: 3}

    it('live until interval times max missed', () => {
        expect(heartbeatLiveness(membership, beat, new Date(AT.getTime() + 180_000)).live).toBe(true)
        expect(heartbeatLiveness(membership, beat, new Date(AT.getTime() + 180_001)).live).toBe(false)
    })

    it('deadline uses heartbeat setting', () => {
        // Sent under 3600 s × 2; the setting in force at the query instant (the membership's, 60 s × 3) is later.
        const hourly = {...beat, heartbeatIntervalSeconds: 3600n, heartbeatMaxMissed: 2}
        const state = heartbeatLiveness(membership, hourly, new Date(AT.getTime() + HOUR_MS))
        expect(state.deadline).toEqual(new Date(AT.getTime() + 2 * HOUR_MS))
        expect(state.heartbeatIntervalSeconds).toBe(3600n)
        expect(state.heartbeatMaxMissed).toBe(2)
        expect(state.live).toBe(true)
    })

    it('no heartbeat: setting at instant', () => {
        const state = heartbeatLiveness(membership, undefined, AT)
        expect(state.heartbeatIntervalSeconds).toBe(60n)
        expect(state.deadline).toBeNull()
        expect(state.live).toBe(false)
    })

    it('degraded status is live, not healthy', () => {
        const state = heartbeatLiveness(membership, {...beat, statusCode: 1}, AT)
        expect(state.live).toBe(true)
        expect(state.healthy).toBe(false)
    })

    it('huge uint64 interval does not overflow', () => {
        expect(livenessDeadline(AT, 2n ** 64n - 1n, 255).getTime()).toBe(8_640_000_000_000_000)
    })
})

describe('claim requirements', () => {
    it('TEE claim on sandbox needs attestation', () => {
        expect(requiredKindsFor('TEE_REQUIRED', 'sandbox-tee')).toContain('SANDBOX_TEE_ATTESTATION')
    })
    it('validator membership needs reachability only', () => {
        // The prober runs only reachability on a validator blueprint's address; validator status is a bot check.
        expect(requiredKindsFor('SERVICE_MEMBER', 'trading-validator', true)).toEqual(['ENDPOINT_REACHABILITY'])
    })
    it.each([
        ['sandbox registration', 'REGISTERED', 'sandbox-cloud', ['ENDPOINT_REACHABILITY']],
        ['surplus registration', 'REGISTERED', 'surplus-market', ['ENDPOINT_REACHABILITY']],
        ['trading registration', 'REGISTERED', 'trading-cloud', ['ENDPOINT_REACHABILITY', 'PRIVATE_PORT_EXPOSURE']],
        ['validator registration', 'REGISTERED', 'trading-validator', ['ENDPOINT_REACHABILITY']],
        ['sandbox sidecar', 'SIDECAR_PUBLISHED', 'sandbox-tee', ['PRIVATE_PORT_EXPOSURE']],
        ['unmapped sidecar', 'SIDECAR_PUBLISHED', null, ['PRIVATE_PORT_EXPOSURE']],
        ['validator job results', 'JOB_RESULTS_SUBMITTED', 'trading-validator', []],
    ] as const)('%s requires what the prober runs', (_name, claim, product, expected) => {
        expect(requiredKindsFor(claim, product)).toEqual(expected)
    })
    it('unmapped product needs only reachability', () => {
        expect(requiredKindsFor('HEARTBEATING', null)).toEqual(['ENDPOINT_REACHABILITY'])
    })
})

describe('gapConfigFromEnv', () => {
    it('reads per-kind freshness', () => {
        const config = gapConfigFromEnv({PROOFGAP_PROOF_FRESHNESS_BY_KIND: 'SANDBOX_TEE_ATTESTATION=86400'})
        expect(config.proofFreshnessSecondsByKind.SANDBOX_TEE_ATTESTATION).toBe(86400)
    })
    it('rejects a non-numeric window', () => {
        expect(() => gapConfigFromEnv({PROOFGAP_PROOF_FRESHNESS_SECONDS: '6h'})).toThrow(/must be a positive whole number of seconds, got "6h"/)
    })
})
