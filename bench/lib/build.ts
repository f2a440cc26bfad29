import {execFile} from 'node:child_process'
import path from 'node:path'
import {promisify} from 'node:util'
import {PROJECT_ROOT, binPath} from '../../src/stack/children'

/**
 * Folder of the benchmark's own compiled copy of the project. The processor runs with this folder as its working
 * directory, so @subsquid/typeorm-config finds the model in its `lib/model`, and `npm run build` in the project
 * (which deletes lib/) cannot break a running benchmark.
 */
export const BENCH_BUILD_DIR = path.join(PROJECT_ROOT, 'bench', '.build')

/** Compiles src/ into bench/.build/lib with the project's tsconfig. */
export async function buildProcessorCopy(): Promise<void> {
    try {
        await promisify(execFile)(binPath('tsc'), ['-p', path.join(PROJECT_ROOT, 'tsconfig.json'), '--outDir', path.join(BENCH_BUILD_DIR, 'lib')], {
            cwd: PROJECT_ROOT,
        })
    } catch (error) {
        const output = error as {stdout?: string; stderr?: string}
        throw new Error(`compiling the processor for the benchmark failed:\n${output.stdout ?? ''}${output.stderr ?? ''}`)
    }
}
