import * as m from '../model'
import type {CopySource} from './write'

/** Columns of the heartbeat table in the order of `HeartbeatRows.copyText`. */
export const HEARTBEAT_COPY_COLUMNS = [
    'id',
    'service_id',
    'operator_id',
    'blueprint_id',
    'reported_blueprint_id',
    'status_code',
    'event_timestamp',
    'block_number',
    'timestamp',
    'tx_hash',
] as const

/** Rows per COPY chunk, which bounds one string to about 1 MB (a row is about 200 bytes). */
const CHUNK_ROWS = 5_000

/** Characters that COPY's text format escapes, and NUL, which no text column can hold. */
const COPY_UNSAFE = /[\\\t\n\r\0]/

/**
 * The heartbeats of one batch, kept as columns of plain values in place of one entity object each.
 *
 * Heartbeats are most of a chain's logs. Building an entity per log, then a record of its column values, then a COPY
 * line took 39 µs of processor CPU per heartbeat on a long run. With these columns it takes 23 to 25 µs (BENCHMARKS.md),
 * because a finalized batch writes the COPY text straight from the columns. A hot block, or a batch too small
 * for COPY, gets the entities (`entities`).
 */
export class HeartbeatRows implements CopySource {
    readonly entityClass = m.Heartbeat
    readonly columns = HEARTBEAT_COPY_COLUMNS
    private readonly ids: string[] = []
    private readonly services: m.Service[] = []
    private readonly operators: m.Operator[] = []
    private readonly reportedBlueprintIds: bigint[] = []
    private readonly statusCodes: number[] = []
    private readonly eventTimestamps: bigint[] = []
    private readonly blockNumbers: number[] = []
    private readonly timestampsMs: number[] = []
    private readonly txHashes: string[] = []

    get length(): number {
        return this.ids.length
    }

    /**
     * Adds one heartbeat. The blueprint stored is the service's (`service.blueprint.id`): the event's blueprintId is
     * supplied by the caller and never checked on chain, so it is kept apart as `reportedBlueprintId`.
     */
    add(
        id: string,
        service: m.Service,
        operator: m.Operator,
        reportedBlueprintId: bigint,
        statusCode: number,
        eventTimestamp: bigint,
        blockNumber: number,
        timestampMs: number,
        txHash: string,
    ): void {
        this.ids.push(id)
        this.services.push(service)
        this.operators.push(operator)
        this.reportedBlueprintIds.push(reportedBlueprintId)
        this.statusCodes.push(statusCode)
        this.eventTimestamps.push(eventTimestamp)
        this.blockNumbers.push(blockNumber)
        this.timestampsMs.push(timestampMs)
        this.txHashes.push(txHash)
    }

    /** Returns the rows as entities, for the store (hot blocks) and the JSON statement. */
    entities(): m.Heartbeat[] {
        const out: m.Heartbeat[] = []
        for (let i = 0; i < this.ids.length; i++) {
            out.push(
                new m.Heartbeat({
                    id: this.ids[i],
                    service: this.services[i],
                    operator: this.operators[i],
                    blueprintId: BigInt(this.services[i].blueprint.id),
                    reportedBlueprintId: this.reportedBlueprintIds[i],
                    statusCode: this.statusCodes[i],
                    eventTimestamp: this.eventTimestamps[i],
                    blockNumber: this.blockNumbers[i],
                    timestamp: new Date(this.timestampsMs[i]),
                    txHash: this.txHashes[i],
                }),
            )
        }
        return out
    }

    /**
     * Returns the rows in COPY's text format, columns as in HEARTBEAT_COPY_COLUMNS, in chunks. Returns undefined when a
     * text value would need escaping or contains NUL, so the caller writes `entities` instead. The SDK checks that
     * hashes are hex and makes the ids itself, so this does not happen with logs from a node.
     */
    copyText(): Buffer[] | undefined {
        const chunks: Buffer[] = []
        const blueprintIds = new Map<m.Service, string>()
        // The heartbeats of one block share its timestamp.
        let lastMs = NaN
        let lastTime = ''
        for (let start = 0; start < this.ids.length; start += CHUNK_ROWS) {
            let text = ''
            const end = Math.min(this.ids.length, start + CHUNK_ROWS)
            for (let i = start; i < end; i++) {
                const service = this.services[i]
                let blueprintId = blueprintIds.get(service)
                if (blueprintId === undefined) {
                    // The blueprint row's id is a decimal number, and numeric columns take the text as it is.
                    blueprintId = BigInt(service.blueprint.id).toString()
                    blueprintIds.set(service, blueprintId)
                }
                const id = this.ids[i]
                const serviceId = service.id
                const operatorId = this.operators[i].id
                const txHash = this.txHashes[i]
                if (COPY_UNSAFE.test(id) || COPY_UNSAFE.test(serviceId) || COPY_UNSAFE.test(operatorId) || COPY_UNSAFE.test(txHash)) {
                    return undefined
                }
                const ms = this.timestampsMs[i]
                if (ms !== lastMs) {
                    lastMs = ms
                    lastTime = new Date(ms).toISOString()
                }
                text +=
                    id + '\t' + serviceId + '\t' + operatorId + '\t' + blueprintId + '\t' + this.reportedBlueprintIds[i] + '\t' +
                    this.statusCodes[i] + '\t' + this.eventTimestamps[i] + '\t' + this.blockNumbers[i] + '\t' +
                    lastTime + '\t' + txHash + '\n'
            }
            chunks.push(Buffer.from(text, 'utf8'))
        }
        return chunks
    }
}
