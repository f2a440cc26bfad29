import {execFileSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

let ticksPerSecond: number | undefined

function clockTicks(): number {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
    return ticksPerSecond
}

/** Returns the fields of /proc/PID/stat after the command name, or undefined once the process is gone. */
function statFields(pid: number): string[] | undefined {
    try {
        const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
        // The command name may contain spaces and parentheses, so the fields start after its last ')'.
        return text.slice(text.lastIndexOf(')') + 2).split(' ')
    } catch {
        return undefined
    }
}

/**
 * Returns the CPU seconds (user + system) of a process and of the children it has waited for, all threads included.
 * Linux only.
 */
export function processCpuSeconds(pid: number): number {
    const fields = statFields(pid)
    if (!fields) return 0
    // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    return ticks / clockTicks()
}

function childrenOf(parent: number): number[] {
    const children: number[] = []
    for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue
        const fields = statFields(Number(entry))
        if (fields && Number(fields[1]) === parent) children.push(Number(entry))
    }
    return children
}

/**
 * Returns the CPU seconds of a PostgreSQL server: the postmaster with the backends it has reaped, plus the processes still
 * running under it. Reads the postmaster's pid from the data directory. Waits up to 2 s for the backends of closed
 * connections to exit, until no more than `settledChildren` processes run under the postmaster.
 */
export async function postgresCpuSeconds(dataDir: string, settledChildren = Infinity): Promise<{seconds: number; children: number}> {
    const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    const deadline = Date.now() + 2_000
    let children = childrenOf(postmaster)
    while (children.length > settledChildren && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        children = childrenOf(postmaster)
    }
    let seconds = processCpuSeconds(postmaster)
    for (const child of children) seconds += processCpuSeconds(child)
    return {seconds, children: children.length}
}
