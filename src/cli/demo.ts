import * as tradingVault from '../abi/TradingVault'
import type {EmittedLog} from '../devnet/emitter'
import type {OperatorBehaviour, OperatorFleet, SimulatedOperatorSpec, SimulatedProduct} from '../devnet/operators'
import {ACTORS, OPERATORS} from '../devnet/actors'
import {REGISTRATIONS, TEE_SANDBOX_CALL_ID, type ScenarioOptions} from '../devnet/scenario'
import {DEVNET_BLUEPRINTS, productFamily, type Product} from '../config'

/**
 * Behaviour of each of the twelve devnet operators in the demo: a mix of healthy, degraded, down, lying and leaking
 * operators, so the gap API has something to show. Index = operator index in the scenario. The scenario's two
 * operators with hostile rpcAddresses (HOSTILE_URL_OPERATORS) have no simulated server.
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
/** The operator of the scenario's TEE service 2. */
const DEMO_TEE_OPERATOR = 5

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

/**
 * Specs of the simulated operators, one per scenario operator. `liveTradeTxHashes` is the list that healthy trading
 * bots report as their live trades. The bots read it on every request, so the caller fills it once the scenario has
 * put the trades on chain (see demoLiveTradeTxHashes).
 */
export function demoFleetSpecs(liveTradeTxHashes: string[] = []): SimulatedOperatorSpec[] {
    return DEMO_BEHAVIOURS.map((behaviour, index) => {
        const product = operatorProduct(index)
        // The prober finds a bot through `/api/bots?operator=`, so the bot must name its chain operator. Trading
        // operators 6, 7 and 8 serve service 3 of the scenario and its vault, so their bots report both.
        const trading = {
            operatorAddress: OPERATORS[index],
            serviceId: DEMO_TRADING_SERVICE_ID,
            vaultAddress: ACTORS.managerVault.toLowerCase(),
            ...(behaviour === 'healthy' ? {liveTradeTxHashes} : {}),
        }
        return {
            product,
            behaviour,
            name: `operator-${index}`,
            slowDelayMs: 20_000,
            ...(product === 'surplus' ? {surplus: {clobGroup: 'demo'}} : {}),
            ...(product === 'trading' ? {trading} : {}),
            // The TEE operator serves the provision of the sandbox_create call that publishes its attestation.
            ...(index === DEMO_TEE_OPERATOR ? {sandbox: {provisionCallIds: [String(TEE_SANDBOX_CALL_ID)]}} : {}),
        }
    })
}

/**
 * Returns the scenario options that point the demo chain at `fleet`, started from demoFleetSpecs: the operators'
 * URLs, their sidecars, and the attestation JSON that the TEE operator publishes at `nowUnixSeconds`.
 */
export function demoScenarioOptions(fleet: OperatorFleet, nowUnixSeconds: number): ScenarioOptions {
    const urls = fleet.operators.map((operator) => operator.url)
    const teeAttestationJson = fleet.operators[DEMO_TEE_OPERATOR]?.teeAttestationJson(nowUnixSeconds) ?? null
    return {
        // Index 12 is operator 1's updated URL, which points at operator 1's own server.
        operatorUrls: (index: number) => urls[index] ?? urls[1],
        sidecarUrls: (index: number) => fleet.operators[index]?.sidecarUrl ?? urls[0],
        ...(teeAttestationJson === null ? {} : {teeAttestationJson}),
    }
}

/** Returns the transactions of the scenario's TradeExecuted logs from the vault of service 3, as its bots list them. */
export function demoLiveTradeTxHashes(logs: readonly EmittedLog[]): string[] {
    const vault = ACTORS.managerVault.toLowerCase()
    return logs
        .filter((log) => log.address.toLowerCase() === vault && log.topics[0] === tradingVault.events.TradeExecuted.topic)
        .map((log) => log.txHash.toLowerCase())
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
