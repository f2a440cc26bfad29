import {decodeAbiParameters, hexToBytes, keccak256, stringToBytes, toHex, type Hex} from 'viem'
import {DEVNET_BLUEPRINTS} from '../config/networks/presets'
import {jobName, type Product} from '../config/products'
import type {EmittedLog} from './emitter'
import {isRawString, type RawString} from './encode'
import {sandboxCreateInputType, scenarioEntries, type Scenario, type ScenarioEntry, type ScenarioEvent} from './scenario'

/*
 * The database state the processor must reach after indexing the scenario, computed from the scenario's own plain
 * values (never by decoding the logs as the handlers do), so a mapping bug cannot hide in its own expectation.
 *
 * Shape: table (snake_case, as squid-typeorm-codegen names it) -> row id -> column -> value, with values in the
 * form `pg` returns them after this normalisation: numeric -> decimal string, bytea -> lowercase 0x hex,
 * timestamptz -> ISO string (Date#toISOString), jsonb -> object, text[] -> array, int4 -> number.
 * Every table listed contains exactly the rows the database must contain. A column missing from a row is not checked:
 * its rule is not settled (see UNCHECKED_COLUMNS).
 */

export type ColumnValue = string | number | boolean | null | unknown[] | {[key: string]: unknown}
export type ExpectedRow = Record<string, ColumnValue>
export type ExpectedTable = Record<string, ExpectedRow>
export type ExpectedState = Record<string, ExpectedTable>

/** Columns the expectation leaves out, by table, because the rule for them is not settled. */
export const UNCHECKED_COLUMNS: Record<string, string[]> = {
    blueprint_source_update: ['sources'],
    operator: ['stake (only for an operator that LEFT the restaking layer)'],
    registration: ['unregistered_at (only after a re-registration)'],
    job_result: ['output (for tuple(string json) outputs of jobs other than sandbox_create)', 'output_error'],
    sandbox: ['tee_attestation_hash'],
    operator_service_state: ['status'],
    bot_vault: ['admin and operator of the manager-announced vault', 'trade_count'],
    trade: ['output_gained and output_token of DEBT_REDUCTION rows'],
    product_event: ['family', 'service_id', 'call_id', 'vault', 'operator', 'detail'],
    unhandled_log: ['detail'],
}

const DEFAULT_HEARTBEAT_INTERVAL_S = 300n
const DEFAULT_HEARTBEAT_MAX_MISSED = 3
const SECRET_PREFIX_CHARS = 4

/** Display form of a chain string: invalid UTF-8 replaced by U+FFFD, then each NUL by U+2400. */
export function displayString(bytes: Uint8Array): string {
    return new TextDecoder('utf-8', {fatal: false, ignoreBOM: true}).decode(bytes).replace(/\u0000/g, '\u2400')
}

export function isValidUtf8(bytes: Uint8Array): boolean {
    try {
        new TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(bytes)
        return true
    } catch {
        return false
    }
}

function stringBytes(value: unknown): Uint8Array {
    if (isRawString(value)) return hexToBytes((value as RawString).raw)
    return stringToBytes(value as string)
}

/** Redacts a secret to its first 4 characters (none when it has fewer than 20), an ellipsis and its length. */
export function redactSecret(secret: string): string {
    return `${secret.length >= 20 ? secret.slice(0, SECRET_PREFIX_CHARS) : ''}…[${secret.length} chars]`
}

const lower = (value: unknown): string => (value as string).toLowerCase()
const dec = (value: unknown): string => BigInt(value as bigint | number).toString()
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString()

interface LogContext {
    record: EmittedLog
    id: string
    block: number
    time: string
    tx: string
    /** Event name of the entry (the topic0's event for a raw log). */
    event: string
}

interface ServiceInfo {
    blueprintId: bigint
    product: Product | null
}

class StateBuilder {
    readonly tables = new Map<string, Map<string, ExpectedRow>>()

    table(name: string): Map<string, ExpectedRow> {
        let table = this.tables.get(name)
        if (!table) {
            table = new Map()
            this.tables.set(name, table)
        }
        return table
    }

    insert(name: string, id: string, row: ExpectedRow): ExpectedRow {
        const table = this.table(name)
        if (table.has(id)) throw new Error(`expected state: duplicate ${name} row ${id}`)
        const full = {id, ...row}
        table.set(id, full)
        return full
    }

    get(name: string, id: string): ExpectedRow | undefined {
        return this.table(name).get(id)
    }

    must(name: string, id: string): ExpectedRow {
        const row = this.get(name, id)
        if (!row) throw new Error(`expected state: ${name} row ${id} missing; the scenario refers to it before creating it`)
        return row
    }

    toState(): ExpectedState {
        const state: ExpectedState = {}
        for (const [name, table] of this.tables) state[name] = Object.fromEntries(table)
        return state
    }
}

function productOf(blueprintId: bigint): Product | null {
    return (DEVNET_BLUEPRINTS as Record<string, Product>)[blueprintId.toString()] ?? null
}

/**
 * Computes the expected database state from the scenario and the logs that `runScenario` emitted for it (the
 * records supply block numbers, hashes, times, transaction hashes and log ids).
 */
export function expectedState(scenario: Scenario, records: EmittedLog[]): ExpectedState {
    const entries = scenarioEntries(scenario)
    if (entries.length !== records.length) {
        throw new Error(`the scenario has ${entries.length} entries but ${records.length} emitted logs were given; pass the records runScenario returned for this scenario`)
    }
    const mapper = new ExpectationMapper()
    entries.forEach((entry, position) => {
        const record = records[position]
        const context: LogContext = {
            record,
            id: record.logId,
            block: record.blockNumber,
            time: iso(record.timestamp),
            tx: record.txHash,
            event: entry.kind === 'event' ? entry.event : entry.eventName,
        }
        mapper.apply(entry, context)
    })
    const state = mapper.state.toState()
    // Every block that carries a log gets a chain_block row with its full hash.
    state.chain_block = {}
    for (const record of records) {
        const id = `${String(record.blockNumber).padStart(10, '0')}-${record.blockHash.slice(2, 7)}`
        state.chain_block[id] = {height: record.blockNumber, hash: record.blockHash.toLowerCase(), timestamp: iso(record.timestamp)}
    }
    return state
}

/** Counts the expected unhandled_log rows by reason. */
export function unhandledCountsByReason(state: ExpectedState): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const row of Object.values(state.unhandled_log ?? {})) {
        const reason = row.reason as string
        counts[reason] = (counts[reason] ?? 0) + 1
    }
    return counts
}

type Handler = (args: Record<string, unknown>, at: LogContext, entry: ScenarioEvent) => void

class ExpectationMapper {
    readonly state = new StateBuilder()
    private readonly services = new Map<string, ServiceInfo>()
    private readonly approvals = new Map<string, string[]>()
    private readonly calls = new Map<string, {block: number; seconds: number}>()
    private readonly announcedVaults = new Set<string>()
    private readonly handlers: Record<string, Handler>

    constructor() {
        this.handlers = {
            ...this.blueprintHandlers(),
            ...this.operatorHandlers(),
            ...this.serviceHandlers(),
            ...this.jobHandlers(),
            ...this.registryHandlers(),
            ...this.slashHandlers(),
            ...this.sandboxHandlers(),
            ...this.tradingHandlers(),
            ...this.settlementHandlers(),
        }
    }

    apply(entry: ScenarioEntry, at: LogContext): void {
        if (entry.kind === 'raw') {
            this.unhandled(at, entry.reason, entry.eventName)
            return
        }
        const handler = this.handlers[`${entry.abi}.${entry.event}`]
        if (!handler) throw new Error(`expected state: no expectation rule for ${entry.abi}.${entry.event}; add one`)
        handler(entry.args, at, entry)
    }

    private unhandled(at: LogContext, reason: string, eventName: string): void {
        const log = at.record
        this.state.insert('unhandled_log', at.id, {
            address: log.address.toLowerCase(),
            topic0: log.topics[0]?.toLowerCase() ?? null,
            topics: log.topics.map((topic) => topic.toLowerCase()),
            data: log.data.toLowerCase(),
            block_number: log.blockNumber,
            block_hash: log.blockHash.toLowerCase(),
            log_index: log.logIndex,
            transaction_index: log.transactionIndex,
            tx_hash: log.txHash.toLowerCase(),
            timestamp: at.time,
            reason,
            event_name: eventName,
        })
    }

    private stamp(at: LogContext): ExpectedRow {
        return {block_number: at.block, timestamp: at.time, tx_hash: at.tx}
    }

    private ensureOperator(address: unknown, at: LogContext): string {
        const id = lower(address)
        if (!this.state.get('operator', id)) {
            this.state.insert('operator', id, {
                stake: '0',
                restaking_status: 'NONE',
                unstake_scheduled: '0',
                leaving_ready_round: null,
                first_seen_block: at.block,
                first_seen_at: at.time,
            })
        }
        return id
    }

    // ---- blueprints ----

    private blueprintHandlers(): Record<string, Handler> {
        const create = (args: Record<string, unknown>, at: LogContext, shape: 'current' | 'legacy') => {
            const blueprintId = BigInt(args.blueprintId as bigint)
            const uri = stringBytes(args.metadataUri)
            this.state.insert('blueprint', blueprintId.toString(), {
                blueprint_id: blueprintId.toString(),
                owner: lower(args.owner),
                manager: lower(args.manager),
                metadata_uri: displayString(uri),
                metadata_uri_raw: toHex(uri),
                metadata_hash: shape === 'current' ? lower(args.metadataHash) : null,
                product: productOf(blueprintId),
                shape,
                active: true,
                created_at_block: at.block,
                created_at: at.time,
                created_tx: at.tx,
                deactivated_at: null,
            })
        }
        return {
            'Tangle.BlueprintCreated': (args, at) => create(args, at, 'current'),
            'TangleLegacy.BlueprintCreated': (args, at) => create(args, at, 'legacy'),
            'Tangle.BlueprintUpdated': (args) => {
                const row = this.state.must('blueprint', dec(args.blueprintId))
                const uri = stringBytes(args.metadataUri)
                row.metadata_uri = displayString(uri)
                row.metadata_uri_raw = toHex(uri)
                row.metadata_hash = lower(args.metadataHash)
            },
            'Tangle.BlueprintDeactivated': (args, at) => {
                const row = this.state.must('blueprint', dec(args.blueprintId))
                row.active = false
                row.deactivated_at = at.time
            },
            'Tangle.BlueprintTransferred': (args, at) => {
                const blueprint = this.state.must('blueprint', dec(args.blueprintId))
                blueprint.owner = lower(args.to)
                this.state.insert('blueprint_transfer', at.id, {
                    blueprint_id: dec(args.blueprintId),
                    from: lower(args.from),
                    to: lower(args.to),
                    ...this.stamp(at),
                })
            },
            'Tangle.BlueprintSourcesRecorded': (args, at) => {
                this.state.insert('blueprint_source_update', at.id, {
                    blueprint_id: dec(args.blueprintId),
                    sources_hash: lower(args.sourcesHash),
                    source_count: (args.sources as unknown[]).length,
                    ...this.stamp(at),
                })
            },
            'Tangle.BlueprintSourcesAcked': (args, at) => {
                this.state.insert('blueprint_source_ack', at.id, {
                    blueprint_id: dec(args.blueprintId),
                    operator_id: this.ensureOperator(args.operator, at),
                    sources_hash: lower(args.sourcesHash),
                    ...this.stamp(at),
                })
            },
        }
    }

    // ---- operators: restaking layer and blueprint registrations ----

    private stakeChange(at: LogContext, operator: string, kind: string, values: {amount?: unknown; readyRound?: unknown; blueprintId?: unknown}): void {
        this.state.insert('operator_stake_change', at.id, {
            operator_id: operator,
            kind,
            amount: values.amount === undefined ? null : dec(values.amount),
            ready_round: values.readyRound === undefined ? null : dec(values.readyRound),
            blueprint_id: values.blueprintId === undefined ? null : dec(values.blueprintId),
            ...this.stamp(at),
        })
    }

    private registrationChange(at: LogContext, registrationId: string, kind: string, rpc: Uint8Array | null, ecdsa: unknown): void {
        this.state.insert('registration_change', at.id, {
            registration_id: registrationId,
            kind,
            rpc_address: rpc ? displayString(rpc) : null,
            rpc_address_raw: rpc ? toHex(rpc) : null,
            ecdsa_public_key: ecdsa === undefined ? null : lower(ecdsa),
            ...this.stamp(at),
        })
    }

    private operatorHandlers(): Record<string, Handler> {
        const registrationRow = (args: Record<string, unknown>, at: LogContext) => {
            const operator = this.ensureOperator(args.operator, at)
            const id = `${dec(args.blueprintId)}-${operator}`
            let row = this.state.get('registration', id)
            if (!row) {
                row = this.state.insert('registration', id, {
                    blueprint_id: dec(args.blueprintId),
                    operator_id: operator,
                    status: 'PRE_REGISTERED',
                    rpc_address: null,
                    rpc_address_raw: null,
                    rpc_address_valid_utf8: null,
                    ecdsa_public_key: null,
                    registration_count: 0,
                    registered_at_block: null,
                    registered_at: null,
                    unregistered_at: null,
                    updated_at: at.time,
                })
            }
            return row
        }
        const setEndpoint = (row: ExpectedRow, args: Record<string, unknown>) => {
            const rpc = stringBytes(args.rpcAddress)
            row.rpc_address = displayString(rpc)
            row.rpc_address_raw = toHex(rpc)
            row.rpc_address_valid_utf8 = isValidUtf8(rpc)
            row.ecdsa_public_key = lower(args.ecdsaPublicKey)
            return rpc
        }
        return {
            'MultiAssetDelegation.OperatorRegistered': (args, at) => {
                const id = this.ensureOperator(args.operator, at)
                const row = this.state.must('operator', id)
                row.stake = dec(args.stake)
                row.restaking_status = 'ACTIVE'
                this.stakeChange(at, id, 'REGISTERED', {amount: args.stake})
            },
            'MultiAssetDelegation.OperatorStakeIncreased': (args, at) => {
                const id = this.ensureOperator(args.operator, at)
                const row = this.state.must('operator', id)
                row.stake = (BigInt(row.stake as string) + BigInt(args.amount as bigint)).toString()
                this.stakeChange(at, id, 'STAKE_INCREASED', {amount: args.amount})
            },
            'MultiAssetDelegation.OperatorUnstakeScheduled': (args, at) => {
                const id = this.ensureOperator(args.operator, at)
                const row = this.state.must('operator', id)
                row.unstake_scheduled = (BigInt(row.unstake_scheduled as string) + BigInt(args.amount as bigint)).toString()
                this.stakeChange(at, id, 'UNSTAKE_SCHEDULED', {amount: args.amount, readyRound: args.readyRound})
            },
            'MultiAssetDelegation.OperatorLeavingScheduled': (args, at) => {
                const id = this.ensureOperator(args.operator, at)
                const row = this.state.must('operator', id)
                row.restaking_status = 'LEAVING'
                row.leaving_ready_round = dec(args.readyRound)
                this.stakeChange(at, id, 'LEAVING_SCHEDULED', {readyRound: args.readyRound})
            },
            'MultiAssetDelegation.OperatorLeft': (args, at) => {
                const id = this.ensureOperator(args.operator, at)
                const row = this.state.must('operator', id)
                row.restaking_status = 'LEFT'
                // NOTE: whether the stake of a departed operator drops to 0 or keeps its last value is not settled.
                delete row.stake
                this.stakeChange(at, id, 'LEFT', {})
            },
            'MultiAssetDelegation.OperatorBlueprintAdded': (args, at) => {
                this.stakeChange(at, this.ensureOperator(args.operator, at), 'BLUEPRINT_ADDED', {blueprintId: args.blueprintId})
            },
            'Tangle.OperatorPreRegistered': (args, at) => {
                const row = registrationRow(args, at)
                row.updated_at = at.time
                this.registrationChange(at, row.id as string, 'PRE_REGISTERED', null, undefined)
            },
            'Tangle.OperatorRegistered': (args, at) => {
                const row = registrationRow(args, at)
                const rpc = setEndpoint(row, args)
                if ((row.registration_count as number) > 0) delete row.unregistered_at
                row.status = 'ACTIVE'
                row.registration_count = (row.registration_count as number) + 1
                row.registered_at_block = at.block
                row.registered_at = at.time
                row.updated_at = at.time
                this.registrationChange(at, row.id as string, 'REGISTERED', rpc, args.ecdsaPublicKey)
            },
            'Tangle.OperatorPreferencesUpdated': (args, at) => {
                const row = this.state.must('registration', `${dec(args.blueprintId)}-${lower(args.operator)}`)
                const rpc = setEndpoint(row, args)
                row.updated_at = at.time
                this.registrationChange(at, row.id as string, 'PREFERENCES_UPDATED', rpc, args.ecdsaPublicKey)
            },
            'Tangle.OperatorUnregistered': (args, at) => {
                const row = this.state.must('registration', `${dec(args.blueprintId)}-${lower(args.operator)}`)
                row.status = 'UNREGISTERED'
                row.unregistered_at = at.time
                row.updated_at = at.time
                this.registrationChange(at, row.id as string, 'UNREGISTERED', null, undefined)
            },
        }
    }

    // ---- services and memberships ----

    private openMembership(at: LogContext, serviceId: string, operator: string, source: 'APPROVAL' | 'JOINED', exposureBps: number | null): void {
        this.state.insert('service_membership', `${serviceId}-${operator}-${at.id}`, {
            service_id: serviceId,
            operator_id: operator,
            source,
            exposure_bps: exposureBps,
            active: true,
            joined_at_block: at.block,
            joined_at: at.time,
            close_reason: null,
            left_at_block: null,
            left_at: null,
            left_log_id: null,
            left_tx: null,
            exit_scheduled_after: null,
            exit_canceled_at: null,
        })
    }

    private activeMemberships(serviceId: string, operator?: string): ExpectedRow[] {
        return [...this.state.table('service_membership').values()].filter(
            (row) => row.service_id === serviceId && row.active === true && (operator === undefined || row.operator_id === operator),
        )
    }

    private closeMemberships(rows: ExpectedRow[], reason: string, at: LogContext): void {
        for (const row of rows) {
            row.active = false
            row.close_reason = reason
            row.left_at_block = at.block
            row.left_at = at.time
            row.left_log_id = at.id
            row.left_tx = at.tx
        }
    }

    private terminate(args: Record<string, unknown>, at: LogContext, reason: 'TERMINATED' | 'NON_PAYMENT'): void {
        const serviceId = dec(args.serviceId)
        const service = this.state.must('service', serviceId)
        service.status = 'TERMINATED'
        service.termination_reason = reason
        service.terminated_at = at.time
        service.terminated_tx = at.tx
        this.closeMemberships(this.activeMemberships(serviceId), 'SERVICE_TERMINATED', at)
    }

    private serviceHandlers(): Record<string, Handler> {
        const request = (args: Record<string, unknown>, at: LogContext, withSecurity: boolean) => {
            this.state.insert('service_request', dec(args.requestId), {
                request_id: dec(args.requestId),
                blueprint_id: dec(args.blueprintId),
                requester: lower(args.requester),
                confidentiality: Number(args.confidentiality),
                with_security: withSecurity,
                status: 'PENDING',
                service_id: null,
                ...this.stamp(at),
            })
        }
        const respond = (args: Record<string, unknown>, at: LogContext, approved: boolean) => {
            const requestId = dec(args.requestId)
            this.state.must('service_request', requestId)
            const operator = this.ensureOperator(args.operator, at)
            this.state.insert('service_request_response', `${requestId}-${operator}`, {
                request_id: requestId,
                operator_id: operator,
                approved,
                ...this.stamp(at),
            })
            if (approved) this.approvals.set(requestId, [...(this.approvals.get(requestId) ?? []), operator])
        }
        return {
            'Tangle.ServiceRequested': (args, at) => request(args, at, false),
            'Tangle.ServiceRequestedWithSecurity': (args, at) => request(args, at, true),
            'Tangle.ServiceApproved': (args, at) => respond(args, at, true),
            'Tangle.ServiceRejected': (args, at) => respond(args, at, false),
            'Tangle.ServiceActivated': (args, at) => {
                const serviceId = dec(args.serviceId)
                const requestId = dec(args.requestId)
                const blueprintId = BigInt(args.blueprintId as bigint)
                const request = this.state.get('service_request', requestId)
                // Request rule: the named request is used when it exists, is still PENDING and is for the same
                // blueprint. Request id 0 failing that is a service from a quote. A non-zero id failing it never
                // occurs in the scenario.
                const fromRequest = request !== undefined && request.status === 'PENDING' && request.blueprint_id === blueprintId.toString()
                if (!fromRequest && requestId !== '0') throw new Error(`scenario: ServiceActivated ${serviceId} names unusable request ${requestId}`)
                this.services.set(serviceId, {blueprintId, product: productOf(blueprintId)})
                this.state.insert('service', serviceId, {
                    service_id: serviceId,
                    blueprint_id: blueprintId.toString(),
                    request_id: fromRequest ? requestId : null,
                    activation_request_id: requestId,
                    from_quote: !fromRequest,
                    confidentiality: Number(args.confidentiality),
                    status: 'ACTIVE',
                    termination_reason: null,
                    heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL_S.toString(),
                    heartbeat_max_missed: DEFAULT_HEARTBEAT_MAX_MISSED,
                    heartbeat_configured: false,
                    activated_at_block: at.block,
                    activated_at: at.time,
                    activated_tx: at.tx,
                    terminated_at: null,
                    terminated_tx: null,
                })
                if (!fromRequest) return
                request.status = 'ACTIVATED'
                request.service_id = serviceId
                for (const operator of this.approvals.get(requestId) ?? []) this.openMembership(at, serviceId, operator, 'APPROVAL', null)
            },
            'Tangle.OperatorJoinedService': (args, at) => {
                const serviceId = dec(args.serviceId)
                this.state.must('service', serviceId)
                this.openMembership(at, serviceId, this.ensureOperator(args.operator, at), 'JOINED', Number(args.exposureBps))
            },
            'Tangle.OperatorLeftService': (args, at) => {
                this.closeMemberships(this.activeMemberships(dec(args.serviceId), lower(args.operator)), 'LEFT', at)
            },
            'Tangle.ExitScheduled': (args) => {
                for (const row of this.activeMemberships(dec(args.serviceId), lower(args.operator))) row.exit_scheduled_after = dec(args.executeAfter)
            },
            'Tangle.ExitCanceled': (args, at) => {
                // A canceled exit is no longer scheduled; the cancel time stays.
                for (const row of this.activeMemberships(dec(args.serviceId), lower(args.operator))) {
                    row.exit_scheduled_after = null
                    row.exit_canceled_at = at.time
                }
            },
            'Tangle.ExitForced': (args, at) => {
                this.closeMemberships(this.activeMemberships(dec(args.serviceId), lower(args.operator)), 'EXIT_FORCED', at)
            },
            'Tangle.ServiceTerminated': (args, at) => this.terminate(args, at, 'TERMINATED'),
            'Tangle.ServiceTerminatedForNonPayment': (args, at) => this.terminate(args, at, 'NON_PAYMENT'),
        }
    }

    // ---- jobs ----

    private jobHandlers(): Record<string, Handler> {
        const submit = (args: Record<string, unknown>, at: LogContext, shape: string, quote?: {operators: unknown[]; totalPrice: unknown}) => {
            const serviceId = dec(args.serviceId)
            const service = this.services.get(serviceId)
            if (!service) {
                this.unhandled(at, 'ORPHAN', 'JobSubmitted')
                return
            }
            const callId = dec(args.callId)
            const jobIndex = Number(args.jobIndex)
            const inputs = args.inputs as Hex
            this.calls.set(`${serviceId}-${callId}`, {block: at.block, seconds: at.record.timestamp})
            const readsInput = service.product !== undefined && service.product !== null && jobName(service.product, jobIndex) === 'sandbox_create'
            const inputError = readsInput ? this.sandboxCreateInput(inputs, at, serviceId, callId) : null
            this.state.insert('job_call', `${serviceId}-${callId}`, {
                service_id: serviceId,
                call_id: callId,
                job_index: jobIndex,
                job_name: service.product ? jobName(service.product, jobIndex) : null,
                caller: lower(args.caller),
                from_quote: quote !== undefined,
                quoted_operators: quote ? quote.operators.map(lower) : null,
                total_price: quote ? dec(quote.totalPrice) : null,
                inputs_size: hexToBytes(inputs).length,
                inputs_hash: keccak256(inputs),
                ...(inputError === undefined ? {} : {input_error: inputError}),
                shape,
                completed: false,
                completed_at: null,
                result_count: 0,
                ...this.stamp(at),
            })
        }
        const result = (args: Record<string, unknown>, at: LogContext, eventName: string, operator: string | null, signerBitmap: unknown) => {
            const serviceId = dec(args.serviceId)
            const callKey = `${serviceId}-${dec(args.callId)}`
            const call = this.calls.get(callKey)
            const service = this.services.get(serviceId)
            if (!call || !service) {
                this.unhandled(at, 'ORPHAN', eventName)
                return
            }
            const callRow = this.state.must('job_call', callKey)
            callRow.result_count = (callRow.result_count as number) + 1
            const output = args.output as Hex
            const row = this.state.insert('job_result', at.id, {
                call_id: callKey,
                service_id: serviceId,
                operator_id: operator,
                aggregated: operator === null,
                signer_bitmap: signerBitmap === undefined ? null : dec(signerBitmap),
                output_hash: keccak256(output),
                output_size: hexToBytes(output).length,
                latency_blocks: at.block - call.block,
                latency_seconds: at.record.timestamp - call.seconds,
                ...this.stamp(at),
            })
            const decoded = this.productOutput(service, Number(callRow.job_index), output, at, serviceId, dec(args.callId), operator)
            if (decoded !== undefined) row.output = decoded
        }
        return {
            'Tangle.JobSubmitted': (args, at) => submit(args, at, 'current'),
            'TangleLegacy.JobSubmitted': (args, at) => submit(args, at, 'indexed-job-index'),
            'Tangle.JobSubmittedFromQuote': (args, at) =>
                submit(args, at, 'current', {operators: args.quotedOperators as unknown[], totalPrice: args.totalPrice}),
            'Tangle.JobResultSubmitted': (args, at) => result(args, at, 'JobResultSubmitted', lower(args.operator), undefined),
            'Tangle.AggregatedResultSubmitted': (args, at) => result(args, at, 'AggregatedResultSubmitted', null, args.signerBitmap),
            'Tangle.JobCompleted': (args, at) => {
                const row = this.state.must('job_call', `${dec(args.serviceId)}-${dec(args.callId)}`)
                row.completed = true
                row.completed_at = at.time
            },
        }
    }

    /**
     * Expected `output` of a job result: the product output in plain form, `null` when it must fail to decode, or
     * undefined when the rule for that output is not settled (the column is then not checked).
     */
    private productOutput(
        service: ServiceInfo,
        jobIndex: number,
        output: Hex,
        at: LogContext,
        serviceId: string,
        callId: string,
        operator: string | null,
    ): ColumnValue | undefined {
        const product = service.product
        if ((product === 'sandbox-cloud' || product === 'sandbox-instance' || product === 'sandbox-tee') && jobIndex === 0) {
            return this.sandboxCreateOutput(output, at, serviceId, callId, operator)
        }
        if (product === 'trading-cloud' && jobIndex === 0) {
            const [value] = decodeAbiParameters(
                [{type: 'tuple', components: [{name: 'vault_address', type: 'address'}, {name: 'share_token', type: 'address'}, {name: 'sandbox_id', type: 'string'}, {name: 'workflow_id', type: 'uint64'}]}],
                output,
            )
            return {vault_address: lower(value.vault_address), share_token: lower(value.share_token), sandbox_id: value.sandbox_id, workflow_id: value.workflow_id.toString()}
        }
        if (product === 'trading-cloud' && jobIndex === 4) {
            const [value] = decodeAbiParameters(
                [{type: 'tuple', components: [{name: 'sandbox_id', type: 'string'}, {name: 'state', type: 'string'}, {name: 'portfolio_json', type: 'string'}, {name: 'trading_active', type: 'bool'}]}],
                output,
            )
            return {sandbox_id: value.sandbox_id, state: value.state, portfolio_json: value.portfolio_json, trading_active: value.trading_active}
        }
        if (product === 'surplus-market' && jobIndex === 0) {
            const [value] = decodeAbiParameters([{type: 'tuple', components: [{name: 'ok', type: 'bool'}, {name: 'instrumentId', type: 'string'}]}], output)
            return {ok: value.ok, instrumentId: value.instrumentId}
        }
        if (product === 'surplus-market' && jobIndex === 30) {
            const [value] = decodeAbiParameters(
                [{type: 'tuple', components: [{name: 'quoting', type: 'bool'}, {name: 'inventoryTokens', type: 'int64'}, {name: 'rationale', type: 'string'}]}],
                output,
            )
            return {quoting: value.quoting, inventoryTokens: value.inventoryTokens.toString(), rationale: value.rationale}
        }
        return undefined
    }

    /**
     * Records the secrets a sandbox_create request publishes in its env_json: members named like a key, token,
     * password or secret whose value is not a `$` reference. Returns the call's input_error: null, or undefined (not
     * checked) when the inputs do not decode.
     */
    private sandboxCreateInput(inputs: Hex, at: LogContext, serviceId: string, callId: string): null | undefined {
        let env: Record<string, unknown>
        try {
            const [value] = decodeAbiParameters(sandboxCreateInputType, inputs)
            env = value.env_json === '' ? {} : (JSON.parse(value.env_json) as Record<string, unknown>)
        } catch {
            return undefined
        }
        for (const [name, value] of Object.entries(env)) {
            if (typeof value !== 'string' || value === '' || value.startsWith('$')) continue
            if (!/(_KEY|_TOKEN|PASSWORD|SECRET)$/i.test(name)) continue
            this.state.insert('secret_exposure', `${at.id}-env_json.${name}`, {
                kind: 'INPUT_SECRET',
                service_id: serviceId,
                call_id: callId,
                operator: null,
                tx_hash: at.tx,
                block_number: at.block,
                timestamp: at.time,
                secret_hash: keccak256(stringToBytes(value)),
                redacted: redactSecret(value),
            })
        }
        return null
    }

    private sandboxCreateOutput(output: Hex, at: LogContext, serviceId: string, callId: string, operator: string | null): ColumnValue {
        let sandboxId: string
        let json: Record<string, unknown>
        try {
            const [value] = decodeAbiParameters([{type: 'tuple', components: [{name: 'sandboxId', type: 'string'}, {name: 'json', type: 'string'}]}], output)
            sandboxId = value.sandboxId
            json = JSON.parse(value.json) as Record<string, unknown>
        } catch {
            return null
        }
        const token = json.token as string
        const secretHash = keccak256(stringToBytes(token))
        const redacted = redactSecret(token)
        this.state.insert('secret_exposure', `${at.id}-token`, {
            kind: 'SIDECAR_TOKEN',
            service_id: serviceId,
            call_id: callId,
            operator,
            tx_hash: at.tx,
            block_number: at.block,
            timestamp: at.time,
            secret_hash: secretHash,
            redacted,
        })
        // The row id is sandboxHash = keccak256(bytes(sandboxId)), the key SandboxCreated carries too.
        this.state.insert('sandbox', keccak256(stringToBytes(sandboxId)), {
            sandbox_id: sandboxId,
            service_id: serviceId,
            operator,
            call_id: callId,
            sidecar_url: json.sidecarUrl as string,
            token_hash: secretHash,
            token_redacted: redacted,
            ssh_port: String(json.sshPort),
            status: 'ACTIVE',
            created_at_block: at.block,
            created_at: at.time,
            deleted_at: null,
        })
        return {sandboxId, json: {...json, token: redacted}}
    }

    // ---- heartbeat registry ----

    private operatorServiceState(serviceId: string, operator: string): ExpectedRow {
        const id = `${serviceId}-${operator}`
        return (
            this.state.get('operator_service_state', id) ??
            this.state.insert('operator_service_state', id, {
                service_id: serviceId,
                operator_id: operator,
                last_heartbeat_at: null,
                last_heartbeat_block: null,
                last_status_code: null,
                heartbeat_count: 0,
                registered_in_registry: false,
            })
        )
    }

    private statusEvent(at: LogContext, args: Record<string, unknown>, kind: string, fields: ExpectedRow = {}): void {
        this.state.insert('status_event', at.id, {
            service_id: dec(args.serviceId),
            operator_id: lower(args.operator),
            kind,
            old_status: null,
            new_status: null,
            missed_beats: null,
            reason: null,
            reason_raw: null,
            ...fields,
            ...this.stamp(at),
        })
    }

    private registryHandlers(): Record<string, Handler> {
        return {
            'OperatorStatusRegistry.HeartbeatReceived': (args, at) => {
                const serviceId = dec(args.serviceId)
                const service = this.services.get(serviceId)
                if (!service) {
                    this.unhandled(at, 'ORPHAN', 'HeartbeatReceived')
                    return
                }
                const operator = lower(args.operator)
                this.state.insert('heartbeat', at.id, {
                    service_id: serviceId,
                    operator_id: operator,
                    blueprint_id: service.blueprintId.toString(),
                    reported_blueprint_id: dec(args.blueprintId),
                    status_code: Number(args.statusCode),
                    event_timestamp: dec(args.timestamp),
                    ...this.stamp(at),
                })
                const state = this.operatorServiceState(serviceId, operator)
                state.last_heartbeat_at = at.time
                state.last_heartbeat_block = at.block
                state.last_status_code = Number(args.statusCode)
                state.heartbeat_count = (state.heartbeat_count as number) + 1
            },
            'OperatorStatusRegistry.HeartbeatConfigUpdated': (args, at) => {
                const serviceId = dec(args.serviceId)
                const service = this.state.must('service', serviceId)
                service.heartbeat_interval = dec(args.interval)
                service.heartbeat_max_missed = Number(args.maxMissed)
                service.heartbeat_configured = true
                this.state.insert('heartbeat_config_change', at.id, {
                    service_id: serviceId,
                    interval: dec(args.interval),
                    max_missed: Number(args.maxMissed),
                    ...this.stamp(at),
                })
            },
            'OperatorStatusRegistry.StatusChanged': (args, at) => {
                this.operatorServiceState(dec(args.serviceId), lower(args.operator))
                this.statusEvent(at, args, 'STATUS_CHANGED', {old_status: Number(args.oldStatus), new_status: Number(args.newStatus)})
            },
            'OperatorStatusRegistry.OperatorWentOffline': (args, at) => {
                this.operatorServiceState(dec(args.serviceId), lower(args.operator))
                this.statusEvent(at, args, 'WENT_OFFLINE', {missed_beats: Number(args.missedBeats)})
            },
            'OperatorStatusRegistry.OperatorCameOnline': (args, at) => {
                this.operatorServiceState(dec(args.serviceId), lower(args.operator))
                this.statusEvent(at, args, 'CAME_ONLINE')
            },
            'OperatorStatusRegistry.SlashingTriggered': (args, at) => {
                const reason = stringBytes(args.reason)
                this.statusEvent(at, args, 'SLASHING_TRIGGERED', {reason: displayString(reason), reason_raw: toHex(reason)})
            },
            'OperatorStatusRegistry.OperatorRegistered': (args, at) => {
                this.operatorServiceState(dec(args.serviceId), lower(args.operator)).registered_in_registry = true
                this.statusEvent(at, args, 'REGISTRY_REGISTERED')
            },
            'OperatorStatusRegistry.OperatorDeregistered': (args, at) => {
                this.operatorServiceState(dec(args.serviceId), lower(args.operator)).registered_in_registry = false
                this.statusEvent(at, args, 'REGISTRY_DEREGISTERED')
            },
            'OperatorStatusRegistry.MetricReported': (args, at) => this.metric(args, at, false),
            'OperatorStatusRegistry.MetricViolation': (args, at) => this.metric(args, at, true),
        }
    }

    private metric(args: Record<string, unknown>, at: LogContext, violation: boolean): void {
        const name = stringBytes(args.metricName)
        const reason = violation ? stringBytes(args.reason) : null
        this.state.insert('metric', at.id, {
            service_id: dec(args.serviceId),
            operator_id: lower(args.operator),
            name: displayString(name),
            name_raw: toHex(name),
            value: violation ? null : dec(args.value),
            violation,
            reason: reason ? displayString(reason) : null,
            reason_raw: reason ? toHex(reason) : null,
            ...this.stamp(at),
        })
    }

    // ---- slashes ----

    private slashHandlers(): Record<string, Handler> {
        return {
            'Tangle.SlashProposed': (args, at) => {
                this.state.insert('slash', dec(args.slashId), {
                    slash_id: dec(args.slashId),
                    // NOTE: the `service` relation and `serviceId` column share the name `service_id`; both hold this id.
                    service_id: dec(args.serviceId),
                    operator_id: lower(args.operator),
                    proposer: lower(args.proposer),
                    slash_bps: Number(args.slashBps),
                    effective_slash_bps: Number(args.effectiveSlashBps),
                    evidence: lower(args.evidence),
                    execute_after: dec(args.executeAfter),
                    status: 'PROPOSED',
                    disputer: null,
                    dispute_reason: null,
                    canceller: null,
                    cancel_reason: null,
                    actual_slashed: null,
                    proposed_at_block: at.block,
                    proposed_at: at.time,
                    proposed_tx: at.tx,
                    disputed_at: null,
                    cancelled_at: null,
                    executed_at: null,
                })
            },
            'Tangle.SlashDisputed': (args, at) => {
                const row = this.state.must('slash', dec(args.slashId))
                row.status = 'DISPUTED'
                row.disputer = lower(args.disputer)
                row.dispute_reason = displayString(stringBytes(args.reason))
                row.disputed_at = at.time
            },
            'Tangle.SlashCancelled': (args, at) => {
                const row = this.state.must('slash', dec(args.slashId))
                row.status = 'CANCELLED'
                row.canceller = lower(args.canceller)
                row.cancel_reason = displayString(stringBytes(args.reason))
                row.cancelled_at = at.time
            },
            'Tangle.SlashExecuted': (args, at) => {
                const row = this.state.must('slash', dec(args.slashId))
                row.status = 'EXECUTED'
                row.actual_slashed = dec(args.actualSlashed)
                row.executed_at = at.time
            },
        }
    }

    // ---- AI Agent Sandbox ----

    private sandboxHandlers(): Record<string, Handler> {
        return {
            'SandboxBlueprint.OperatorAssigned': (_args, at) => this.productEvent(at),
            'SandboxBlueprint.SandboxCreated': (args, at) => {
                const hash = lower(args.sandboxHash)
                if (this.state.get('sandbox', hash)) return
                this.state.insert('sandbox', hash, {
                    sandbox_id: null,
                    service_id: null,
                    operator: lower(args.operator),
                    call_id: null,
                    sidecar_url: null,
                    token_hash: null,
                    token_redacted: null,
                    ssh_port: null,
                    status: 'ACTIVE',
                    created_at_block: at.block,
                    created_at: at.time,
                    deleted_at: null,
                })
            },
            'SandboxBlueprint.SandboxDeleted': (args, at) => {
                const row = this.state.get('sandbox', lower(args.sandboxHash))
                if (!row) throw new Error('scenario: SandboxDeleted for a sandbox never created')
                row.status = 'DELETED'
                row.deleted_at = at.time
            },
            'SandboxBlueprint.TeeAttestationStored': (args, at) => {
                this.state.insert('tee_attestation', at.id, {
                    service_id: dec(args.serviceId),
                    operator_id: lower(args.operator),
                    attestation_hash: lower(args.attestationHash),
                    ...this.stamp(at),
                })
            },
            'SandboxBlueprint.OperatorProvisioned': (args, at) => {
                const sandboxId = stringBytes(args.sandboxId)
                const sidecarUrl = stringBytes(args.sidecarUrl)
                this.state.insert('provisioned_endpoint', at.id, {
                    service_id: dec(args.serviceId),
                    operator_id: lower(args.operator),
                    sandbox_id: displayString(sandboxId),
                    sandbox_id_raw: toHex(sandboxId),
                    sidecar_url: displayString(sidecarUrl),
                    sidecar_url_raw: toHex(sidecarUrl),
                    active: true,
                    ...this.stamp(at),
                    deprovisioned_at: null,
                })
            },
            'SandboxBlueprint.OperatorDeprovisioned': (args, at) => {
                for (const row of this.state.table('provisioned_endpoint').values()) {
                    if (row.service_id !== dec(args.serviceId) || row.operator_id !== lower(args.operator) || row.active !== true) continue
                    row.active = false
                    row.deprovisioned_at = at.time
                }
            },
        }
    }

    // ---- AI Trading ----

    /** A product event kept as it is: its kind is the event name, its contract the emitter. */
    private productEvent(at: LogContext): void {
        this.state.insert('product_event', at.id, {kind: at.event, contract: lower(at.record.address), ...this.stamp(at)})
    }

    private tradingEvent(at: LogContext): void {
        this.productEvent(at)
    }

    private vaultRow(vault: unknown): ExpectedRow {
        return this.state.must('bot_vault', lower(vault))
    }

    private tradingHandlers(): Record<string, Handler> {
        const newVault = (id: string, at: LogContext, fields: ExpectedRow) => {
            this.announcedVaults.add(id)
            this.state.insert('bot_vault', id, {
                leverage_cap: null,
                max_trades_per_hour: null,
                max_slippage_bps: null,
                required_signatures: null,
                total_signers: null,
                wind_down_active: false,
                created_at_block: at.block,
                created_at: at.time,
                ...fields,
            })
        }
        const trade = (at: LogContext, kind: string, fields: ExpectedRow) => {
            const vault = at.record.address.toLowerCase()
            if (!this.announcedVaults.has(vault)) throw new Error(`scenario: trade from unannounced vault ${vault}`)
            this.state.insert('trade', at.id, {vault_id: vault, kind, ...fields, ...this.stamp(at)})
        }
        return {
            'TradingBlueprint.BotVaultDeployed': (args, at) => {
                newVault(lower(args.vault), at, {
                    // NOTE: `service` relation and `serviceId` column share the name `service_id`; both hold this id.
                    service_id: dec(args.serviceId),
                    call_id: dec(args.callId),
                    share_token: lower(args.shareToken),
                    announced_by: 'MANAGER',
                    asset_token: null,
                })
            },
            'VaultFactory.VaultCreated': (args, at) => {
                newVault(lower(args.vault), at, {
                    service_id: dec(args.serviceId),
                    call_id: null,
                    share_token: lower(args.shareToken),
                    announced_by: 'FACTORY',
                    asset_token: lower(args.assetToken),
                    admin: lower(args.admin),
                    operator: lower(args.operator),
                })
            },
            'PolicyEngine.VaultInitialized': (args, at) => {
                this.productEvent(at)
                const row = this.vaultRow(args.vault)
                row.leverage_cap = dec(args.leverageCap)
                row.max_trades_per_hour = dec(args.maxTradesPerHour)
                row.max_slippage_bps = dec(args.maxSlippageBps)
            },
            'TradeValidator.VaultConfigured': (args, at) => {
                this.productEvent(at)
                const row = this.vaultRow(args.vault)
                row.required_signatures = dec(args.requiredSignatures)
                row.total_signers = dec(args.totalSigners)
            },
            'TradeValidator.SignerAdded': (args, at) => {
                const id = `${lower(args.vault)}-${lower(args.signer)}`
                const row = this.state.get('vault_signer', id) ?? this.state.insert('vault_signer', id, {vault: lower(args.vault), signer: lower(args.signer), active: true})
                row.active = true
                this.tradingEvent(at)
            },
            'TradeValidator.SignerRemoved': (args, at) => {
                this.state.must('vault_signer', `${lower(args.vault)}-${lower(args.signer)}`).active = false
                this.tradingEvent(at)
            },
            'TradingVault.TradeExecuted': (args, at) =>
                trade(at, 'TRADE', {
                    target: lower(args.target),
                    value: dec(args.value),
                    output_gained: dec(args.outputGained),
                    output_token: lower(args.outputToken),
                    intent_hash: lower(args.intentHash),
                }),
            'TradingVault.DebtReductionExecuted': (args, at) =>
                trade(at, 'DEBT_REDUCTION', {target: lower(args.target), value: dec(args.value), intent_hash: lower(args.intentHash)}),
            'TradingVault.WindDownActivated': (_args, at) => {
                this.vaultRow(at.record.address).wind_down_active = true
                this.tradingEvent(at)
            },
            'TradingBlueprint.BotVaultSkipped': (_args, at) => this.tradingEvent(at),
            'TradingBlueprint.OperatorGranted': (_args, at) => this.tradingEvent(at),
            'TradingBlueprint.TradingStarted': (_args, at) => this.tradingEvent(at),
            'TradingBlueprint.TradingStopped': (_args, at) => this.tradingEvent(at),
            'TradingBlueprint.ServiceTerminated': (_args, at) => this.tradingEvent(at),
            'PolicyEngine.PolicyUpdated': (_args, at) => this.tradingEvent(at),
        }
    }

    // ---- Surplus Market settlement ----

    private settlementHandlers(): Record<string, Handler> {
        const settlementOf = (at: LogContext) => at.record.address.toLowerCase()
        const redemption = (args: Record<string, unknown>) => this.state.must('redemption', lower(args.redemptionId))
        return {
            'Settlement.FillSettled': (args, at) => {
                this.state.insert('settlement_fill', at.id, {
                    settlement: settlementOf(at),
                    buy_order_hash: lower(args.buyOrderHash),
                    sell_order_hash: lower(args.sellOrderHash),
                    instrument: lower(args.instrument),
                    qty_tokens: dec(args.qtyTokens),
                    exec_price_micro_per_m: dec(args.execPriceMicroPerM),
                    cost_micro: dec(args.costMicro),
                    lot_id: lower(args.lotId),
                    ...this.stamp(at),
                })
            },
            'Settlement.BatchSettled': (args, at) => {
                this.state.insert('settlement_batch', at.id, {
                    settlement: settlementOf(at),
                    book_id: lower(args.bookId),
                    batch_nonce: dec(args.batchNonce),
                    fills_hash: lower(args.fillsHash),
                    fill_count: dec(args.fillCount),
                    proven: args.proven as boolean,
                    orders_commitment: lower(args.ordersCommitment),
                    shape: 'current',
                    ...this.stamp(at),
                })
            },
            'Settlement.BookRegistered': (args, at) => {
                this.state.insert('book', lower(args.bookId), {
                    settlement: settlementOf(at),
                    attesters: (args.attesters as unknown[]).map(lower),
                    threshold: Number(args.threshold),
                    fee_bps: Number(args.feeBps),
                    fee_recipient: lower(args.feeRecipient),
                    rotations: 0,
                    registered_at: at.time,
                    updated_at: at.time,
                })
            },
            'Settlement.AttestersRotated': (args, at) => {
                const row = this.state.must('book', lower(args.bookId))
                row.attesters = (args.attesters as unknown[]).map(lower)
                row.threshold = Number(args.threshold)
                row.rotations = (row.rotations as number) + 1
                row.updated_at = at.time
            },
            'Settlement.RedemptionRequested': (args, at) => {
                this.state.insert('redemption', lower(args.redemptionId), {
                    settlement: settlementOf(at),
                    lot_id: lower(args.lotId),
                    issuer: lower(args.issuer),
                    holder: lower(args.holder),
                    qty_tokens: dec(args.qtyTokens),
                    deadline: dec(args.deadline),
                    status: 'REQUESTED',
                    served_tokens: null,
                    notional_debit_micro: null,
                    work_commitment: null,
                    challenge_deadline: null,
                    default_id: null,
                    payout_micro: null,
                    requested_at_block: at.block,
                    requested_at: at.time,
                    settled_at: null,
                    defaulted_at: null,
                })
            },
            'Settlement.AttestationPosted': (args) => {
                const row = redemption(args)
                row.status = 'ATTESTED'
                row.served_tokens = dec(args.servedTokens)
                row.work_commitment = lower(args.workCommitment)
                row.challenge_deadline = dec(args.challengeDeadline)
            },
            'Settlement.RedemptionSettled': (args, at) => {
                const row = redemption(args)
                row.status = 'SETTLED'
                row.served_tokens = dec(args.servedTokens)
                row.notional_debit_micro = dec(args.notionalDebitMicro)
                row.work_commitment = lower(args.workCommitment)
                row.settled_at = at.time
            },
            'Settlement.RedemptionDefaulted': (args, at) => {
                const row = redemption(args)
                row.status = 'DEFAULTED'
                row.default_id = dec(args.defaultId)
                row.payout_micro = dec(args.payoutMicro)
                row.defaulted_at = at.time
            },
            'Settlement.SpendSettled': (_args, at) => {
                this.productEvent(at)
            },
        }
    }
}
