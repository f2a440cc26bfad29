import type {Store} from '@subsquid/typeorm-store'
import {In, type EntityManager} from 'typeorm'
import type {NetworkConfig} from '../config'
import * as m from '../model'
import {EntityCache, type FinalizedEntityMemory} from './cache'
import {finalizedEntityManager, writeRows, type RowWrite} from './write'
import {HeartbeatRows} from './heartbeat-rows'
import {ADD_COVER_SQL, COVER_SETTING, graceMsOf, HeartbeatCoverChange, PREVIOUS_BEATS_SQL, type CoverBeat} from './heartbeat-cover'
import type {Family} from './decode'
import {chainString, toJsonValue, type ChainString} from './strings'
import {isSecretName} from '../proofs/http/redact-url'
import {CREDENTIAL_IN_TEXT} from './inputs'

/** The squid log as the handlers see it (a subset of evm-processor's Log). */
export interface LogRecord {
    id: string
    address: string
    topics: string[]
    data: string
    logIndex: number
    transactionIndex: number
    transactionHash: string
    block: {height: number; hash: string; timestamp: number}
}

/** A log that decoded, with the family and shape it decoded as. */
export interface DecodedLog {
    log: LogRecord
    family: Family
    name: string
    shape: string
    args: Record<string, any>
    stringParams: string[]
}

/** Counters a batch reports to the logs and metrics. */
export interface BatchCounters {
    handled: number
    unhandled: Record<string, number>
}

/**
 * State of one batch: caches of mutable entities, lists of append-only rows, and helpers the handlers share.
 * Handlers run strictly in log order and only touch memory; `flush` writes everything in foreign-key order.
 */
export class BatchContext {
    readonly blueprints: EntityCache<m.Blueprint>
    readonly operators: EntityCache<m.Operator>
    readonly registrations: EntityCache<m.Registration>
    readonly requests: EntityCache<m.ServiceRequest>
    // Loaded per request or service by group queries (see the load* methods), so never carried between batches.
    readonly requestResponses = new EntityCache(m.ServiceRequestResponse)
    readonly services: EntityCache<m.Service>
    readonly memberships = new EntityCache(m.ServiceMembership)
    readonly jobCalls: EntityCache<m.JobCall>
    readonly serviceStates: EntityCache<m.OperatorServiceState>
    readonly slashes: EntityCache<m.Slash>
    readonly sandboxes: EntityCache<m.Sandbox>
    readonly endpoints = new EntityCache(m.ProvisionedEndpoint)
    readonly vaults: EntityCache<m.BotVault>
    readonly signers: EntityCache<m.VaultSigner>
    readonly redemptions: EntityCache<m.Redemption>
    readonly books: EntityCache<m.Book>

    /** Append-only rows, inserted after the mutable entities they refer to. */
    readonly inserts = {
        blocks: [] as m.ChainBlock[],
        sourceUpdates: [] as m.BlueprintSourceUpdate[],
        sourceAcks: [] as m.BlueprintSourceAck[],
        transfers: [] as m.BlueprintTransfer[],
        stakeChanges: [] as m.OperatorStakeChange[],
        registrationChanges: [] as m.RegistrationChange[],
        jobResults: [] as m.JobResult[],
        secretExposures: [] as m.SecretExposure[],
        heartbeats: new HeartbeatRows(),
        statusEvents: [] as m.StatusEvent[],
        heartbeatConfigChanges: [] as m.HeartbeatConfigChange[],
        metrics: [] as m.Metric[],
        teeAttestations: [] as m.TeeAttestation[],
        productEvents: [] as m.ProductEvent[],
        trades: [] as m.Trade[],
        fills: [] as m.SettlementFill[],
        batches: [] as m.SettlementBatch[],
        unhandled: [] as m.UnhandledLog[],
    }

    readonly counters: BatchCounters = {handled: 0, unhandled: {}}

    /** The heartbeat cover the batch adds, written by `flush` for a finalized batch in place of the INSERT trigger. */
    readonly heartbeatCover = new HeartbeatCoverChange()

    /**
     * Milliseconds spent in each phase of the batch: decoding with the log check, loading rows, the handlers, and
     * writing.
     */
    readonly timings = {decodeMs: 0, loadMs: 0, handleMs: 0, writeMs: 0}

    /** Active memberships loaded per service id, so membership lookups never query per log. */
    private readonly activeMembershipsLoaded = new Set<string>()
    private readonly responsesLoaded = new Set<string>()
    private readonly endpointsLoaded = new Set<string>()

    /** @param memory rows carried over from earlier finalized batches; undefined: start empty. */
    constructor(
        readonly store: Store,
        readonly config: NetworkConfig,
        memory?: FinalizedEntityMemory,
    ) {
        const cache = <E extends {id: string}>(entityClass: {new (props?: Partial<E>): E; name: string}) =>
            new EntityCache(entityClass, memory?.mapOf(entityClass))
        this.blueprints = cache(m.Blueprint)
        this.operators = cache(m.Operator)
        this.registrations = cache(m.Registration)
        this.requests = cache(m.ServiceRequest)
        this.services = cache(m.Service)
        this.jobCalls = cache(m.JobCall)
        this.serviceStates = cache(m.OperatorServiceState)
        this.slashes = cache(m.Slash)
        this.sandboxes = cache(m.Sandbox)
        this.vaults = cache(m.BotVault)
        this.signers = cache(m.VaultSigner)
        this.redemptions = cache(m.Redemption)
        this.books = cache(m.Book)
    }

    // ---- loading -------------------------------------------------------------------------------------------

    /** Load all active memberships of these services into the membership cache. */
    async loadActiveMemberships(serviceIds: Iterable<string>): Promise<void> {
        const ids = [...new Set(serviceIds)].filter((id) => !this.activeMembershipsLoaded.has(id))
        if (ids.length === 0) return
        for (const id of ids) this.activeMembershipsLoaded.add(id)
        const found = await this.store.find(m.ServiceMembership, {
            where: {service: {id: In(ids)}, active: true},
            loadRelationIds: {disableMixedMap: true},
        } as any)
        this.memberships.adopt(found)
    }

    /** Load every response of these requests into the response cache. */
    async loadResponses(requestIds: Iterable<string>): Promise<void> {
        const ids = [...new Set(requestIds)].filter((id) => !this.responsesLoaded.has(id))
        if (ids.length === 0) return
        for (const id of ids) this.responsesLoaded.add(id)
        const found = await this.store.find(m.ServiceRequestResponse, {
            where: {request: {id: In(ids)}},
            loadRelationIds: {disableMixedMap: true},
        } as any)
        this.requestResponses.adopt(found)
    }

    /** Load the active provisioned endpoints of these services. */
    async loadActiveEndpoints(serviceIds: Iterable<string>): Promise<void> {
        const ids = [...new Set(serviceIds)].filter((id) => !this.endpointsLoaded.has(id))
        if (ids.length === 0) return
        for (const id of ids) this.endpointsLoaded.add(id)
        const found = await this.store.find(m.ProvisionedEndpoint, {
            where: {service: {id: In(ids)}, active: true},
            loadRelationIds: {disableMixedMap: true},
        } as any)
        this.endpoints.adopt(found)
    }

    activeMembership(serviceId: string, operator: string): m.ServiceMembership | undefined {
        return this.memberships
            .values()
            .find((ms) => ms.active && ms.service.id === serviceId && ms.operator.id === operator)
    }

    activeMembershipsOf(serviceId: string): m.ServiceMembership[] {
        return this.memberships.values().filter((ms) => ms.active && ms.service.id === serviceId)
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    /** The operator row for an address, created on first sight. */
    operator(address: string, log: LogRecord): m.Operator {
        const id = address.toLowerCase()
        const existing = this.operators.get(id)
        if (existing) return existing
        return this.operators.set(
            new m.Operator({
                id,
                stake: 0n,
                restakingStatus: 'NONE',
                unstakeScheduled: 0n,
                leavingReadyRound: null,
                firstSeenBlock: log.block.height,
                firstSeenAt: new Date(log.block.timestamp),
            }),
        )
    }

    /** Keep a product event as it is, with every decoded field. */
    recordProductEvent(d: DecodedLog, fields: {serviceId?: bigint | null; callId?: bigint | null; vault?: string | null; operator?: string | null} = {}): void {
        const log = d.log
        this.inserts.productEvents.push(
            new m.ProductEvent({
                id: log.id,
                family: d.family,
                kind: d.name,
                contract: log.address,
                serviceId: fields.serviceId ?? null,
                callId: fields.callId ?? null,
                vault: fields.vault?.toLowerCase() ?? null,
                operator: fields.operator?.toLowerCase() ?? null,
                detail: toJsonValue(displayArgs(d)) as object,
                blockNumber: log.block.height,
                timestamp: new Date(log.block.timestamp),
                txHash: log.transactionHash,
            }),
        )
    }

    recordUnhandled(log: LogRecord, reason: string, detail: string, eventName?: string): void {
        this.counters.unhandled[reason] = (this.counters.unhandled[reason] ?? 0) + 1
        this.inserts.unhandled.push(
            new m.UnhandledLog({
                id: log.id,
                address: log.address,
                topic0: log.topics[0] ?? null,
                topics: log.topics,
                data: maskSecretBytes(log.data),
                blockNumber: log.block.height,
                blockHash: log.block.hash,
                logIndex: log.logIndex,
                transactionIndex: log.transactionIndex,
                txHash: log.transactionHash,
                timestamp: new Date(log.block.timestamp),
                reason,
                eventName: eventName ?? null,
                detail: detail.slice(0, 2000),
            }),
        )
    }

    // ---- writing -------------------------------------------------------------------------------------------

    async flush(): Promise<void> {
        // Parents before children: every foreign key points at a row written earlier in this list.
        const upserts = [
            this.operators,
            this.blueprints,
            this.registrations,
            this.requests,
            this.requestResponses,
            this.services,
            this.memberships,
            this.jobCalls,
            this.serviceStates,
            this.slashes,
            this.sandboxes,
            this.endpoints,
            this.vaults,
            this.signers,
            this.redemptions,
            this.books,
        ] as EntityCache<{id: string}>[]
        const i = this.inserts
        // Heartbeat setting changes go before the heartbeats, so that the cover of a hot block's heartbeats, which the
        // INSERT trigger computes, reads the setting in force at each of them.
        const insertsBefore = [
            i.blocks,
            i.sourceUpdates,
            i.sourceAcks,
            i.transfers,
            i.stakeChanges,
            i.registrationChanges,
            i.jobResults,
            i.secretExposures,
            i.heartbeatConfigChanges,
        ] as {id: string}[][]
        const insertsAfter = [
            i.statusEvents,
            i.metrics,
            i.teeAttestations,
            i.productEvents,
            i.trades,
            i.fills,
            i.batches,
            i.unhandled,
        ] as {id: string}[][]
        const insert = (rows: {id: string}[]): RowWrite => ({rows, mode: 'insert'})
        const writes: RowWrite[] = [
            ...upserts.map((cache): RowWrite => ({rows: cache.takeChanged(), mode: 'upsert'})),
            ...insertsBefore.map(insert),
            {source: i.heartbeats, mode: 'insert'},
            ...insertsAfter.map(insert),
        ]
        const heartbeatsAt = upserts.length + insertsBefore.length
        const em = finalizedEntityManager(this.store)
        if (!em || this.heartbeatCover.isEmpty || !(await hasCoverGuard(em))) return writeRows(this.store, writes)

        // Memberships, services and setting changes are written in a statement before the heartbeats. Their triggers
        // then see none of the new heartbeats, whose cover is added below, and the latest counted heartbeat stored
        // before the batch is read with the batch's memberships.
        await writeRows(this.store, writes.slice(0, heartbeatsAt))
        const cover = this.heartbeatCover.rows(await this.previousBeats(em), this.membershipCheck())
        // Heartbeats out of time order are left to the trigger.
        if (!cover) return writeRows(this.store, writes.slice(heartbeatsAt))
        // The trigger of 1796437000000-HeartbeatCoverBySetting.js leaves this transaction's heartbeats to the processor.
        await em.query(`SELECT set_config($1, 'writer', true)`, [COVER_SETTING])
        await writeRows(this.store, writes.slice(heartbeatsAt))
        if (cover.length > 0) await em.query(ADD_COVER_SQL, [JSON.stringify(cover)])
        await em.query(`SELECT set_config($1, '', true)`, [COVER_SETTING])
    }

    /** Reads the latest counted heartbeat stored for each pair with heartbeats in the batch, in one statement. */
    private async previousBeats(em: EntityManager): Promise<Map<string, CoverBeat>> {
        const rows: {operator: string; service: string; at_ms: string; status_code: number; grace_ms: string}[] = await em.query(
            PREVIOUS_BEATS_SQL,
            this.heartbeatCover.pairParameters(),
        )
        const previous = new Map<string, CoverBeat>()
        for (const row of rows) {
            previous.set(`${row.service}-${row.operator}`, {
                atMs: Number(row.at_ms),
                statusCode: row.status_code,
                graceMs: graceMsOf(BigInt(row.grace_ms)),
            })
        }
        return previous
    }

    /**
     * Returns the membership rule of counted heartbeats over the memberships in the cache: those active when the batch
     * began (loaded for every service with heartbeats) and those the batch opened or closed.
     */
    private membershipCheck(): (serviceId: string, operatorId: string, atMs: number) => boolean {
        const spans = new Map<string, {joinedMs: number; leftMs: number}[]>()
        for (const membership of this.memberships.values()) {
            const key = `${membership.service.id}-${membership.operator.id}`
            const span = {joinedMs: membership.joinedAt.getTime(), leftMs: membership.leftAt?.getTime() ?? Infinity}
            const list = spans.get(key)
            if (list === undefined) spans.set(key, [span])
            else list.push(span)
        }
        return (serviceId, operatorId, atMs) =>
            spans.get(`${serviceId}-${operatorId}`)?.some((span) => span.joinedMs <= atMs && atMs < span.leftMs) ?? false
    }
}

let coverGuard: Promise<boolean> | undefined

/**
 * Returns whether the function of the heartbeat INSERT trigger can leave a writer's heartbeats to it. Reads the catalog
 * once per process.
 */
function hasCoverGuard(em: EntityManager): Promise<boolean> {
    coverGuard ??= em
        .query(
            `SELECT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                            WHERE t.tgrelid = 'heartbeat'::regclass AND t.tgname = 'heartbeat_cover_insert'
                              AND strpos(p.prosrc, $1) > 0) AS guarded`,
            [COVER_SETTING],
        )
        .then((rows: {guarded: boolean}[]) => rows[0]?.guarded === true)
    // After a failed query, the next batch reads the catalog again.
    coverGuard.catch(() => (coverGuard = undefined))
    return coverGuard
}

/** Decoded arguments with string parameters in display form. */
export function displayArgs(d: DecodedLog): Record<string, any> {
    if (d.stringParams.length === 0) return d.args
    const out = {...d.args}
    for (const key of d.stringParams) out[key] = str(out[key]).display
    return out
}

export function blockTime(log: LogRecord): Date {
    return new Date(log.block.timestamp)
}

/** Decode chain string bytes given as 0x-hex. */
export function str(hex: string): ChainString {
    return chainString(hexBytes(hex))
}

export function hexBytes(hex: string): Uint8Array {
    return Uint8Array.from(Buffer.from(hex.startsWith('0x') ? hex.slice(2) : hex, 'hex'))
}

/** A quoted JSON member in raw log bytes read as latin1: the name as group 2, the string value as group 3. */
const QUOTED_MEMBER_BYTES = /("([^"\\]{1,200})"\s*:\s*")((?:[^"\\]|\\.)*)(")/g

/** A PEM private key in raw log bytes, up to its END line or the end of the data. */
const PEM_PRIVATE_KEY_BYTES = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g

/**
 * Returns log data with the bytes of secrets replaced by `*`, so that a log kept raw (unhandled, orphan) brings no
 * secret into the database. Secrets are string members with a secret name (`"token"`, `"OPENAI_API_KEY"`), credentials
 * of a known form (`sk-…`, `ghp_…`) and PEM private keys. The length stays the same.
 */
export function maskSecretBytes(dataHex: string): string {
    const bytes = Buffer.from(dataHex.slice(2), 'hex')
    const text = bytes.toString('latin1')
    const stars = (secret: string) => '*'.repeat(secret.length)
    const masked = text
        .replace(QUOTED_MEMBER_BYTES, (all, start: string, name: string, value: string, end: string) =>
            value !== '' && isSecretName(name) ? start + stars(value) + end : all,
        )
        .replace(CREDENTIAL_IN_TEXT, stars)
        .replace(PEM_PRIVATE_KEY_BYTES, stars)
    if (masked === text) return dataHex
    return '0x' + Buffer.from(masked, 'latin1').toString('hex')
}
