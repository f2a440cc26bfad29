import {In, type FindOptionsWhere} from 'typeorm'
import type {Store} from '@subsquid/typeorm-store'

type EntityClass<E> = {new (props?: Partial<E>): E; name: string}

const LOAD_CHUNK = 5_000

/**
 * Entities of one type for one batch: ids are announced first (`want`), loaded with one query per chunk, changed in
 * memory while the batch's logs are handled in order, and written with one upsert at the end.
 *
 * Relations are loaded as `{id}` stubs, so an upsert of a loaded entity writes its foreign keys back unchanged.
 */
export class EntityCache<E extends {id: string}> {
    private readonly wanted = new Set<string>()
    private readonly dirty = new Set<string>()

    /**
     * @param entities known rows by id (`null`: known to be absent). A finalized batch passes the map it carries over
     *   from the previous finalized batch (see FinalizedEntityMemory); otherwise each batch starts empty.
     */
    constructor(
        readonly entityClass: EntityClass<E>,
        private readonly entities: Map<string, E | null> = new Map(),
    ) {}

    want(id: string): void {
        if (!this.entities.has(id)) this.wanted.add(id)
    }

    async load(store: Store): Promise<void> {
        const ids = [...this.wanted].filter((id) => !this.entities.has(id))
        this.wanted.clear()
        for (let i = 0; i < ids.length; i += LOAD_CHUNK) {
            const chunk = ids.slice(i, i + LOAD_CHUNK)
            const found = await store.find(this.entityClass, {
                where: {id: In(chunk)} as FindOptionsWhere<E>,
                loadRelationIds: {disableMixedMap: true},
            } as any)
            for (const entity of found) this.entities.set(entity.id, entity)
        }
        for (const id of ids) if (!this.entities.has(id)) this.entities.set(id, null)
    }

    /** Add entities found by another query (for example all active memberships of some services). */
    adopt(entities: E[]): void {
        for (const entity of entities) if (!this.entities.get(entity.id)) this.entities.set(entity.id, entity)
    }

    get(id: string): E | undefined {
        const entity = this.entities.get(id)
        if (entity === undefined && !this.entities.has(id)) {
            throw new Error(`${this.entityClass.name} ${id} was read before it was loaded; announce it with want() first`)
        }
        return entity ?? undefined
    }

    /** Like get, for ids that may not have been announced: an id never loaded counts as absent. */
    peek(id: string): E | undefined {
        return this.entities.get(id) ?? undefined
    }

    values(): E[] {
        return [...this.entities.values()].filter((e): e is E => e !== null)
    }

    set(entity: E): E {
        this.entities.set(entity.id, entity)
        this.dirty.add(entity.id)
        return entity
    }

    touch(entity: E): void {
        this.dirty.add(entity.id)
    }

    /** The rows changed since the last call, to be upserted. */
    takeChanged(): E[] {
        const list = [...this.dirty].map((id) => this.entities.get(id)).filter((e): e is E => e != null)
        this.dirty.clear()
        return list
    }
}

/** Past this many remembered rows the memory starts over, so a long history cannot grow the heap without bound. */
const MEMORY_MAX_ENTITIES = 500_000

/**
 * Rows of mutable entities carried from one finalized batch to the next, so a batch reads from the database only the
 * rows no earlier batch touched. Only finalized blocks may fill it, because a rollback reverts the rows of hot blocks in
 * the database but not the objects in memory. The memory is dropped when a batch contains a hot block, when a batch
 * repeats blocks (the store retries a failed transaction) and when a batch fails.
 *
 * Invariant: every entry equals the committed row (or its absence) as of `lastHeight`, since only this processor
 * writes these tables.
 */
export class FinalizedEntityMemory {
    private readonly maps = new Map<string, Map<string, unknown>>()
    /** Height of the last block of the last finalized batch handled; -1 when the memory is empty. */
    private lastHeight = -1

    /**
     * Prepares the memory for a batch and returns whether the batch may use it (only a finalized batch may). A batch
     * that is hot or does not start after the last one handled empties the memory first.
     */
    begin(firstHeight: number, finalized: boolean): boolean {
        if (!finalized || firstHeight <= this.lastHeight || this.size() > MEMORY_MAX_ENTITIES) this.clear()
        return finalized
    }

    /** Records a finished finalized batch; its rows are now the committed state (or the process stops). */
    commit(lastHeight: number): void {
        this.lastHeight = lastHeight
    }

    clear(): void {
        this.maps.clear()
        this.lastHeight = -1
    }

    mapOf<E>(entityClass: EntityClass<E>): Map<string, E | null> {
        let map = this.maps.get(entityClass.name)
        if (!map) {
            map = new Map()
            this.maps.set(entityClass.name, map)
        }
        return map as Map<string, E | null>
    }

    size(): number {
        let total = 0
        for (const map of this.maps.values()) total += map.size
        return total
    }
}
