import type {OperatorBehaviour, SimulatedOperatorSpec, SimulatedProduct} from '../devnet/operators'
import {OPERATORS} from '../devnet/actors'
import {REGISTRATIONS} from '../devnet/scenario'
import {DEVNET_BLUEPRINTS, productFamily, type Product} from '../config'

/**
 * Behaviour of each of the twelve devnet operators in the demo: a mix of healthy, degraded, down, lying and leaking
 * operators, so the gap API has something to show. Index = operator index in the scenario.
 */
export const DEMO_BEHAVIOURS: OperatorBehaviour[] = [
    'token-leak', // sandbox operator 0: its sandbox_create output publishes the sidecar token on chain
    'healthy',
    'down',
    'healthy',
    'guarded',
    'placeholder-tee',
    'healthy',
    'live-no-trades',
    'degraded',
    'healthy',
    'crossed-book',
    'slow',
]

/** Service of the scenario's trading-cloud operators. */
const DEMO_TRADING_SERVICE_ID = '3'

const SIMULATED: Record<string, SimulatedProduct> = {sandbox: 'sandbox', trading: 'trading', surplus: 'surplus'}

/** The product of the first blueprint an operator registers for in the scenario. */
export function operatorProduct(index: number): SimulatedProduct {
    for (const [blueprint, operators] of Object.entries(REGISTRATIONS)) {
        if (operators.includes(index)) {
            const product = DEVNET_BLUEPRINTS[blueprint as keyof typeof DEVNET_BLUEPRINTS] as Product
            return SIMULATED[productFamily(product)]
        }
    }
    return 'sandbox'
}

/** Specs of the simulated operators, one per scenario operator. */
export function demoFleetSpecs(): SimulatedOperatorSpec[] {
    return DEMO_BEHAVIOURS.map((behaviour, index) => {
        const product = operatorProduct(index)
        return {
            product,
            behaviour,
            name: `operator-${index}`,
            slowDelayMs: 20_000,
            ...(product === 'surplus' ? {surplus: {clobGroup: 'demo'}} : {}),
            // The prober finds a bot through `/api/bots?operator=`, so the bot must name its chain operator.
            // Trading operators 6, 7 and 8 serve service 3 of the scenario; their bots must say so to be found.
            ...(product === 'trading' ? {trading: {operatorAddress: OPERATORS[index], serviceId: DEMO_TRADING_SERVICE_ID}} : {}),
        }
    })
}

/** Length of the period the demo's evidence example covers, ending just after the first probe round. */
const DEMO_EVIDENCE_PERIOD_MS = 3_600_000

/** A bundle request of the ready message: its period, and the instant from which a bundle of it is accepted. */
export interface EvidenceExample {
    from: string
    to: string
    /** `to` plus the settle time that buildEvidenceBundle requires. */
    acceptedAt: Date
}

/**
 * Returns the period of the demo's evidence example: the hour up to the next whole minute after the first probe
 * round, so that the bundle contains signed proof records. Because a bundle's period must have ended `settleSeconds`
 * before, such a bundle is accepted only from `acceptedAt` on.
 */
export function demoEvidencePeriod(firstRoundDoneAt: Date, settleSeconds: number): EvidenceExample {
    const end = Math.ceil((firstRoundDoneAt.getTime() + 1) / 60_000) * 60_000
    return {
        from: new Date(end - DEMO_EVIDENCE_PERIOD_MS).toISOString(),
        to: new Date(end).toISOString(),
        acceptedAt: new Date(end + settleSeconds * 1000),
    }
}
