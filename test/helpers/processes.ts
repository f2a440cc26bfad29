import {execFileSync} from 'node:child_process'

/** Lists every descendant process id of `root`, from the ps process table. */
export function descendants(root: number): number[] {
    const table = execFileSync('ps', ['-eo', 'pid=,ppid='], {encoding: 'utf8'})
        .split('\n')
        .map((line) => line.trim().split(/\s+/).map(Number))
        .filter((pair) => pair.length === 2 && !Number.isNaN(pair[0]))
    const found: number[] = []
    const queue = [root]
    while (queue.length > 0) {
        const parent = queue.shift()!
        for (const [pid, ppid] of table) {
            if (ppid === parent) {
                found.push(pid)
                queue.push(pid)
            }
        }
    }
    return found
}

/**
 * Kills `root` and every descendant with SIGKILL: the services of a stack run in process groups of their own, so
 * killing the stack's group alone would leave them running.
 */
export function killTree(root: number): void {
    for (const pid of [...descendants(root).reverse(), root]) {
        try {
            process.kill(pid, 'SIGKILL')
        } catch {
            // Already gone.
        }
    }
}

export function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch {
        return false
    }
}
