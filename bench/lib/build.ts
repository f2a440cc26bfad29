import {execFile} from 'node:child_process'
import {existsSync, renameSync, rmSync} from 'node:fs'
import path from 'node:path'
import {promisify} from 'node:util'
import {PROJECT_ROOT, binPath} from '../../src/stack/children'

/**
 * Folder of the benchmark's own compiled copy of the project. The processor runs with this folder as its working
 * directory, so @subsquid/typeorm-config finds the model in its `lib/model`, and `npm run build` in the project
 * (which rewrites lib/) cannot break a running benchmark.
 */
export const BENCH_BUILD_DIR = path.join(PROJECT_ROOT, 'bench', '.build')

/**
 * Compiles the project into lib/ (as `npm run build` does) when lib/model is missing, as on a fresh clone: the
 * migrations that every benchmark applies read the model from there. Like the copy below, it compiles beside lib/ first.
 */
export async function buildProjectIfMissing(): Promise<void> {
    if (existsSync(path.join(PROJECT_ROOT, 'lib', 'model', 'index.js'))) return
    console.log('lib/model is missing: compiling the project (npm run build) for the migrations')
    await compileAndSwap(path.join(PROJECT_ROOT, 'lib'))
}

/**
 * Compiles src/ into bench/.build/lib with the project's tsconfig. It compiles into a folder beside it first, so an
 * interrupted compile leaves the previous copy whole for --skip-build.
 */
export async function buildProcessorCopy(): Promise<void> {
    await compileAndSwap(path.join(BENCH_BUILD_DIR, 'lib'))
}

/** Compiles the project into `<outDir>-next`, then puts that folder in place of `outDir`. */
async function compileAndSwap(outDir: string): Promise<void> {
    const next = `${outDir}-next`
    rmSync(next, {recursive: true, force: true})
    await compile(['--outDir', next])
    rmSync(outDir, {recursive: true, force: true})
    renameSync(next, outDir)
}

async function compile(extraArgs: string[]): Promise<void> {
    try {
        await promisify(execFile)(binPath('tsc'), ['-p', path.join(PROJECT_ROOT, 'tsconfig.json'), ...extraArgs], {cwd: PROJECT_ROOT})
    } catch (error) {
        const output = error as {stdout?: string; stderr?: string}
        throw new Error(`compiling the project for the benchmark failed:\n${output.stdout ?? ''}${output.stderr ?? ''}`)
    }
}
