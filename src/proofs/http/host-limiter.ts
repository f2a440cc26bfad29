interface Waiter {
    grant: () => void
}

interface HostSlots {
    active: number
    waiters: Waiter[]
}

/** Releases a slot taken from a HostConcurrencyLimiter; calling it twice has no further effect. */
export type ReleaseSlot = () => void

/**
 * Counting semaphore per key (`host:port`), so that the prober never opens more than `maxPerHost` connections
 * to one endpoint at a time, however many probes target it. Idle keys are dropped, so memory follows the number of
 * hosts in flight, not the number ever seen.
 */
export class HostConcurrencyLimiter {
    private readonly slots = new Map<string, HostSlots>()

    constructor(readonly maxPerHost: number) {
        if (!Number.isInteger(maxPerHost) || maxPerHost < 1) {
            throw new RangeError(`maxPerHost must be a positive integer, got ${maxPerHost}`)
        }
    }

    /**
     * Waits up to `timeoutMs` for a free slot of `key`. Returns the release function, or undefined when the time ran
     * out first.
     */
    acquire(key: string, timeoutMs: number): Promise<ReleaseSlot | undefined> {
        const entry = this.entryOf(key)
        if (entry.active < this.maxPerHost) {
            entry.active++
            return Promise.resolve(this.releaseOnce(key))
        }

        return new Promise((resolve) => {
            const waiter: Waiter = {
                grant: () => {
                    clearTimeout(timer)
                    resolve(this.releaseOnce(key))
                },
            }
            const timer = setTimeout(() => {
                const index = entry.waiters.indexOf(waiter)
                if (index >= 0) {
                    entry.waiters.splice(index, 1)
                }
                this.dropIfIdle(key, entry)
                resolve(undefined)
            }, Math.max(0, timeoutMs))
            entry.waiters.push(waiter)
        })
    }

    /** Number of slots of `key` in use; for tests and metrics. */
    activeCount(key: string): number {
        return this.slots.get(key)?.active ?? 0
    }

    private entryOf(key: string): HostSlots {
        let entry = this.slots.get(key)
        if (entry === undefined) {
            entry = {active: 0, waiters: []}
            this.slots.set(key, entry)
        }
        return entry
    }

    private releaseOnce(key: string): ReleaseSlot {
        let released = false
        return () => {
            if (released) {
                return
            }
            released = true
            const entry = this.slots.get(key)
            if (entry === undefined) {
                return
            }
            // Hand the slot straight to the next waiter, so `active` never exceeds the limit in between.
            const next = entry.waiters.shift()
            if (next !== undefined) {
                next.grant()
                return
            }
            entry.active--
            this.dropIfIdle(key, entry)
        }
    }

    private dropIfIdle(key: string, entry: HostSlots): void {
        if (entry.active === 0 && entry.waiters.length === 0) {
            this.slots.delete(key)
        }
    }
}
