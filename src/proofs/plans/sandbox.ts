import {keccak256, stringToBytes} from 'viem'
import type {ProbeResponse, ProofVerdict} from '../types'
import {Confidentiality, type ChainFacts} from './facts'
import type {KindPlan} from './plan-types'
import {
    asRecord,
    parseJsonBody,
    readArray,
    readNullableString,
    readRecord,
    readString,
    ResponseShapeError,
    type JsonRecord,
} from './read-json'
import {getRequest, joinUrl} from './target'
import {normalizeMeasurement, readSevLaunchDigest, readTdxMrtd, type MeasurementReading} from './tee-evidence'
import {
    authProxyVerdict,
    fail,
    findByPathPattern,
    findByPathSuffix,
    inconclusive,
    missingResponse,
    notApplicable,
    pass,
    transportVerdict,
} from './verdicts'

/**
 * A protected route that any anonymous request must be rejected on.
 * NOTE: the route name is assumed from the sandbox API's own-sandbox list. Only the rule is known: protected routes
 * return 401 without a token.
 */
export const SANDBOX_PROTECTED_ROUTE = '/api/sandboxes'

/** How far in the future an attestation timestamp may lie before it counts as forged (clock skew allowance). */
const ATTESTATION_FUTURE_SKEW_SECONDS = 300n

const PROVISION_PHASES_IN_PROGRESS = ['queued', 'image_pull', 'container_create', 'container_start', 'health_check']

interface SandboxHealth {
    status: string
    runtimeStatus: string
    storeStatus: string
    runtimeBackend: string
    runtimeError: string | null
}

function readSandboxHealth(json: unknown): SandboxHealth {
    const body = asRecord(json, 'health')
    const checks = readRecord(body, 'checks', 'health')
    return {
        status: readString(body, 'status', 'health'),
        runtimeStatus: readString(readRecord(checks, 'runtime', 'health.checks'), 'status', 'health.checks.runtime'),
        storeStatus: readString(readRecord(checks, 'store', 'health.checks'), 'status', 'health.checks.store'),
        runtimeBackend: readString(body, 'runtime_backend', 'health'),
        runtimeError: readNullableString(body, 'runtime_error', 'health'),
    }
}

function isTeeRequired(facts: ChainFacts): boolean {
    return facts.confidentiality === Confidentiality.TeeRequired
}

/** Fails a TEE-required service that runs on docker: that contradicts the chain, whatever else the operator reports. */
function dockerOnTeeVerdict(runtimeBackend: string | null, facts: ChainFacts, httpStatus: number): ProofVerdict | null {
    if (!isTeeRequired(facts) || runtimeBackend !== 'docker') return null
    return fail('TEE_REQUIRED_DOCKER_RUNTIME', `status=${httpStatus} runtime_backend=docker confidentiality=TeeRequired`)
}

function evaluateEndpointHealth(responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    const response = findByPathSuffix(responses, '/health')
    if (response === undefined) return missingResponse('/health')
    const early = transportVerdict(response) ?? authProxyVerdict(response)
    if (early !== null) return early

    const status = response.status as number
    if (status !== 200 && status !== 503) return fail('UNEXPECTED_STATUS', `status=${status} on /health`)

    const health = readSandboxHealth(parseJsonBody(response))
    const errorText = health.runtimeError === null ? '' : ` runtime_error=${health.runtimeError}`
    const observed = `status=${status} health=${health.status} runtime=${health.runtimeStatus} store=${health.storeStatus} runtime_backend=${health.runtimeBackend}${errorText}`

    const contradiction = dockerOnTeeVerdict(health.runtimeBackend, facts, status)
    if (contradiction !== null) return contradiction
    if (health.runtimeBackend === 'invalid') return fail('RUNTIME_BACKEND_INVALID', observed)

    const allOk = status === 200 && health.status === 'ok' && health.runtimeStatus === 'ok' && health.storeStatus === 'ok'
    return allOk ? pass('HEALTH_OK', observed) : fail('HEALTH_DEGRADED', observed)
}

function evaluateReadyz(response: ProbeResponse, facts: ChainFacts): ProofVerdict {
    const early = transportVerdict(response) ?? authProxyVerdict(response)
    if (early !== null) return early

    const status = response.status as number
    if (status !== 200 && status !== 503) return fail('UNEXPECTED_STATUS', `status=${status} on /readyz`)

    const body = asRecord(parseJsonBody(response), 'readyz')
    const readiness = readString(body, 'status', 'readyz')
    if (status === 200 && readiness === 'ready') return pass('READY', 'status=200 readyz=ready')

    const runtimeBackend = readNullableString(body, 'runtime_backend', 'readyz')
    const runtimeError = readNullableString(body, 'runtime_error', 'readyz')
    const contradiction = dockerOnTeeVerdict(runtimeBackend, facts, status)
    if (contradiction !== null) return contradiction
    const errorText = runtimeError === null ? '' : ` runtime_error=${runtimeError}`
    return fail('NOT_READY', `status=${status} readyz=${readiness} runtime_backend=${runtimeBackend ?? 'none'}${errorText}`)
}

function evaluateProvision(response: ProbeResponse): ProofVerdict {
    const early = transportVerdict(response) ?? authProxyVerdict(response)
    if (early !== null) return early
    if (response.status === 404) return fail('PROVISION_NOT_FOUND', 'status=404 on /api/provisions')
    if (response.status !== 200) return fail('UNEXPECTED_STATUS', `status=${response.status} on /api/provisions`)

    const body = asRecord(parseJsonBody(response), 'provision')
    const phase = readString(body, 'phase', 'provision')
    const callId = body.call_id
    if (typeof callId !== 'string' && typeof callId !== 'number') {
        throw new ResponseShapeError('WRONG_SHAPE', `provision.call_id: expected string or number, got ${typeof callId}`)
    }
    const requestedCallId = response.request.url.split('/').pop()
    const observed = `call_id=${callId} phase=${phase}`
    if (requestedCallId !== undefined && String(callId) !== decodeURIComponent(requestedCallId)) {
        return fail('PROVISION_CALL_ID_MISMATCH', `${observed} requested=${requestedCallId}`)
    }
    if (phase === 'ready') return pass('PROVISION_READY', observed)
    if (phase === 'failed') return fail('PROVISION_FAILED', observed)
    if (PROVISION_PHASES_IN_PROGRESS.includes(phase)) return inconclusive('PROVISION_IN_PROGRESS', observed)
    return fail('PROVISION_PHASE_UNKNOWN', observed)
}

function evaluateReadiness(responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    const readyz = findByPathSuffix(responses, '/readyz')
    if (readyz === undefined) return missingResponse('/readyz')
    const readyzVerdict = evaluateReadyz(readyz, facts)
    const provision = findByPathPattern(responses, /\/api\/provisions\/[^/]+$/)
    if (provision === undefined || readyzVerdict.outcome !== 'PASS') return readyzVerdict
    return evaluateProvision(provision)
}

function evaluateSecretHandling(responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    // A leak on chain is final whatever the endpoint does now: the token stays public in the block history.
    if (facts.leakedSecrets.length > 0) {
        const first = facts.leakedSecrets[0]
        const more = facts.leakedSecrets.length > 1 ? ` (+${facts.leakedSecrets.length - 1} more)` : ''
        return fail(
            'TOKEN_LEAKED_ON_CHAIN',
            `service=${first.serviceId} call=${first.callId} tx=${first.txHash} field=${first.field}${more}`,
        )
    }

    const response = findByPathSuffix(responses, SANDBOX_PROTECTED_ROUTE)
    if (response === undefined) return missingResponse(SANDBOX_PROTECTED_ROUTE)
    const early = transportVerdict(response)
    if (early !== null) return early

    const status = response.status as number
    if (status === 401 || status === 403) return pass('PROTECTED_ROUTE_REJECTS_ANONYMOUS', `status=${status} on ${SANDBOX_PROTECTED_ROUTE}`)
    if (status >= 200 && status < 300) return fail('PROTECTED_ROUTE_OPEN', `status=${status} without token on ${SANDBOX_PROTECTED_ROUTE}`)
    if (status === 404) return inconclusive('PROTECTED_ROUTE_NOT_FOUND', `status=404 on ${SANDBOX_PROTECTED_ROUTE}`)
    return inconclusive('UNEXPECTED_STATUS', `status=${status} on ${SANDBOX_PROTECTED_ROUTE}`)
}

/** Reads `runtime_backend` from /health when it can; the attestation check does not depend on it. */
function runtimeBackendOrNull(responses: ProbeResponse[]): {backend: string; status: number} | null {
    const response = findByPathSuffix(responses, '/health')
    if (response === undefined || transportVerdict(response) !== null || response.status === 401) return null
    try {
        const body = asRecord(parseJsonBody(response), 'health')
        const backend = body.runtime_backend
        return typeof backend === 'string' ? {backend, status: response.status as number} : null
    } catch {
        return null
    }
}

function readMeasurementFromEvidence(teeType: string, evidence: JsonRecord): MeasurementReading {
    if (teeType === 'tdx') {
        const quote = evidence.quote
        return typeof quote === 'string' ? readTdxMrtd(quote) : {ok: false, problem: 'evidence.quote is missing'}
    }
    const report = evidence.report
    return typeof report === 'string' ? readSevLaunchDigest(report) : {ok: false, problem: 'evidence.report is missing'}
}

/** Unix seconds from a number (seconds, or milliseconds when it is that large) or an ISO 8601 string. */
function readTimestampSeconds(value: unknown): bigint | null {
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
        const seconds = value > 1e12 ? value / 1000 : value
        return BigInt(Math.floor(seconds))
    }
    if (typeof value === 'string') {
        const millis = Date.parse(value)
        return Number.isNaN(millis) ? null : BigInt(Math.floor(millis / 1000))
    }
    return null
}

function evaluateTeeAttestation(responses: ProbeResponse[], facts: ChainFacts): ProofVerdict {
    const runtime = runtimeBackendOrNull(responses)
    const contradiction = dockerOnTeeVerdict(runtime?.backend ?? null, facts, runtime?.status ?? 0)
    if (contradiction !== null) return contradiction

    const confidentiality = `confidentiality=${facts.confidentiality ?? 'unknown'}`
    if (facts.attestationHash === null && facts.attestationJson === null) {
        return isTeeRequired(facts)
            ? fail('ATTESTATION_MISSING', `${confidentiality} no attestation on chain`)
            : notApplicable('TEE_NOT_REQUIRED', `${confidentiality} no attestation on chain`)
    }
    if (facts.attestationJson === null) {
        return inconclusive('ATTESTATION_JSON_UNKNOWN', `on-chain hash ${facts.attestationHash} without published JSON`)
    }

    const computedHash = keccak256(stringToBytes(facts.attestationJson))
    if (facts.attestationHash === null) {
        return inconclusive('ATTESTATION_HASH_NOT_ON_CHAIN', `published JSON hashes to ${computedHash}, no TeeAttestationStored`)
    }
    if (computedHash !== facts.attestationHash.toLowerCase()) {
        return fail('ATTESTATION_HASH_MISMATCH', `keccak256(json)=${computedHash} on-chain=${facts.attestationHash}`)
    }

    let parsed: unknown
    try {
        parsed = JSON.parse(facts.attestationJson)
    } catch {
        return fail('INVALID_JSON', `attestation JSON of ${facts.attestationJson.length} chars does not parse`)
    }
    const attestation = asRecord(parsed, 'attestation')
    const teeType = readString(attestation, 'tee_type', 'attestation').toLowerCase()
    if (teeType === 'none') return fail('ATTESTATION_TEE_NONE', 'tee_type=None')

    // The contract accepts any non-empty attestation, including `{"tee_type":"tdx","status":"pending"}`.
    const evidence = attestation.evidence
    if (attestation.status !== undefined || typeof evidence !== 'object' || evidence === null || Array.isArray(evidence)) {
        return fail('ATTESTATION_PLACEHOLDER', `tee_type=${teeType} status=${String(attestation.status ?? 'none')} evidence=${evidence === undefined ? 'missing' : 'present'}`)
    }
    if (teeType === 'nitro') {
        // NOTE: Nitro attestation documents are COSE/CBOR; reading PCRs from them is not implemented.
        return inconclusive('NITRO_DOCUMENT_NOT_PARSED', 'tee_type=Nitro, hash matches, measurement not read')
    }
    if (teeType !== 'tdx' && teeType !== 'sev') return fail('ATTESTATION_UNKNOWN_TEE_TYPE', `tee_type=${teeType}`)

    const reading = readMeasurementFromEvidence(teeType, evidence as JsonRecord)
    if (!reading.ok) return fail('ATTESTATION_EVIDENCE_UNPARSABLE', `tee_type=${teeType}: ${reading.problem}`)
    const measurement = reading.measurement
    const shortMeasurement = `${measurement.slice(0, 16)}…`

    const reported = attestation.measurement
    if (typeof reported === 'string' && normalizeMeasurement(reported) !== measurement) {
        return fail('ATTESTATION_MEASUREMENT_MISMATCH', `evidence=${shortMeasurement} reported=${normalizeMeasurement(reported).slice(0, 16)}…`)
    }

    const timestamp = readTimestampSeconds(attestation.timestamp)
    if (timestamp === null) return fail('ATTESTATION_TIMESTAMP_MISSING', `tee_type=${teeType} measurement=${shortMeasurement}`)
    const ageSeconds = facts.nowUnixSeconds - timestamp
    const observed = `tee_type=${teeType} measurement=${shortMeasurement} age_s=${ageSeconds}`
    if (ageSeconds < -ATTESTATION_FUTURE_SKEW_SECONDS) return fail('ATTESTATION_TIMESTAMP_IN_FUTURE', observed)
    if (ageSeconds > BigInt(facts.maxAttestationAgeSeconds)) return fail('ATTESTATION_STALE', observed)

    const allowlist = facts.measurementAllowlist.map(normalizeMeasurement)
    if (allowlist.length === 0) return inconclusive('MEASUREMENT_ALLOWLIST_EMPTY', observed)
    if (!allowlist.includes(measurement)) return fail('MEASUREMENT_NOT_ALLOWED', observed)
    // NOTE: the quote signature and TCB status are not verified here; that needs Intel or AMD collateral.
    return pass('ATTESTATION_MATCHES_ONCHAIN', observed)
}

function evaluateCapabilities(responses: ProbeResponse[]): ProofVerdict {
    const response = findByPathSuffix(responses, '/api/capabilities')
    if (response === undefined) return missingResponse('/api/capabilities')
    const early = transportVerdict(response) ?? authProxyVerdict(response)
    if (early !== null) return early
    if (response.status !== 200) return fail('UNEXPECTED_STATUS', `status=${response.status} on /api/capabilities`)

    const body = asRecord(parseJsonBody(response), 'capabilities')
    const capabilities = readArray(body, 'capabilities', 'capabilities')
    capabilities.forEach((entry, index) => {
        const path = `capabilities.capabilities[${index}]`
        const capability = asRecord(entry, path)
        readString(capability, 'id', path)
        readString(capability, 'label', path)
    })
    const harnessIds = readArray(body, 'harnesses', 'capabilities').map((entry, index) => {
        const path = `capabilities.harnesses[${index}]`
        const harness = asRecord(entry, path)
        readString(harness, 'label', path)
        return readString(harness, 'id', path)
    })

    const observed = `capabilities=${capabilities.length} harnesses=${harnessIds.join(',') || 'none'}`
    if (harnessIds.length === 0) return fail('NO_HARNESSES_LISTED', observed)
    // The list is static in the product today: it states support, it does not demonstrate it.
    return pass('CAPABILITIES_CLAIMED', observed)
}

export const SANDBOX_PLANS = {
    SANDBOX_ENDPOINT_HEALTH: {
        requests: (target) => [getRequest(joinUrl(target.baseUrl, '/health'))],
        evaluate: evaluateEndpointHealth,
    },
    SANDBOX_READINESS: {
        requests: (target) => {
            const requests = [getRequest(joinUrl(target.baseUrl, '/readyz'))]
            if (target.callId !== undefined) {
                requests.push(getRequest(joinUrl(target.baseUrl, `/api/provisions/${encodeURIComponent(target.callId)}`)))
            }
            return requests
        },
        evaluate: evaluateReadiness,
    },
    SANDBOX_SECRET_HANDLING: {
        requests: (target) => [getRequest(joinUrl(target.baseUrl, SANDBOX_PROTECTED_ROUTE))],
        evaluate: evaluateSecretHandling,
    },
    SANDBOX_TEE_ATTESTATION: {
        requests: (target) => [getRequest(joinUrl(target.baseUrl, '/health'))],
        evaluate: evaluateTeeAttestation,
    },
    SANDBOX_SIDECAR_CAPABILITIES: {
        requests: (target) => [getRequest(joinUrl(target.baseUrl, '/api/capabilities'))],
        evaluate: evaluateCapabilities,
    },
} satisfies Record<string, KindPlan>

