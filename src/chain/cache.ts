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
    private readonly entities = new Map<string, E | null>()
    private readonly wanted = new Set<string>()
    private readonly dirty = new Set<string>()

    constructor(readonly entityClass: EntityClass<E>) {}

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

    async save(store: Store): Promise<void> {
        if (this.dirty.size === 0) return
        const list = [...this.dirty].map((id) => this.entities.get(id)!).filter((e) => e != null)
        this.dirty.clear()
        await store.upsert(list)
    }
}
