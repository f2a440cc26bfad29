import {execFile, execFileSync} from 'node:child_process'
import {existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
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
    await compileAndSwap(path.join(PROJECT_ROOT, 'lib'), false)
}

/**
 * Compiles src/ into bench/.build/lib with the project's tsconfig. It compiles into a folder beside it first, so an
 * interrupted compile leaves the previous copy whole for --skip-build.
 */
export async function buildProcessorCopy(): Promise<void> {
    await compileAndSwap(path.join(BENCH_BUILD_DIR, 'lib'), true)
}

/**
 * The commit a compiled copy was made from, and how many files under src/ (or tsconfig.json) differed from it then,
 * untracked ones included. Written into the copy's `lib/COMMIT`: the commit on the first line, `changed source files: N`
 * on the second. A copy compiled by hand can carry it
 * too (`git rev-parse HEAD > DIR/lib/COMMIT`).
 */
export interface CodeVersion {
    /** Full commit hash, or null when the folder is not a git work tree or the copy has no COMMIT file. */
    commit: string | null
    /** Files under src/, and tsconfig.json, that differed from the commit (staged, not staged or untracked); null when unknown. */
    changedFiles: number | null
    /** The reason a compiled copy has no known commit: no COMMIT file, or one that cannot be trusted. */
    note?: string
}

/** A COMMIT file this much older than the copy's lib/main.js was left by an earlier compile into the same folder. */
const STALE_COMMIT_FILE_MS = 60_000

/** Reads the commit of the project's work tree and counts the files that the compile reads and that differ from it. */
export function sourceVersion(): CodeVersion {
    try {
        const commit = execFileSync('git', ['rev-parse', 'HEAD'], {cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim()
        const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', 'src', 'tsconfig.json'], {
            cwd: PROJECT_ROOT,
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
        })
        return {commit, changedFiles: status.split('\n').filter((line) => line.trim() !== '').length}
    } catch {
        return {commit: null, changedFiles: null}
    }
}

/** Reads `lib/COMMIT` of a compiled copy (`buildDir`). */
export function buildVersion(buildDir: string): CodeVersion {
    const file = path.join(buildDir, 'lib', 'COMMIT')
    if (!existsSync(file)) return {commit: null, changedFiles: null, note: 'no lib/COMMIT'}
    const main = path.join(buildDir, 'lib', 'main.js')
    if (existsSync(main) && statSync(main).mtimeMs - statSync(file).mtimeMs > STALE_COMMIT_FILE_MS) {
        return {commit: null, changedFiles: null, note: 'lib/COMMIT is older than lib/main.js'}
    }
    const [first = '', ...rest] = readFileSync(file, 'utf8').split('\n')
    const commit = /^[0-9a-f]{7,64}$/i.test(first.trim()) ? first.trim().toLowerCase() : null
    const changed = /^changed source files: (\d+)$/m.exec(rest.join('\n'))
    return {commit, changedFiles: changed ? Number(changed[1]) : null}
}

/** `612cc5f`, `612cc5f + 2 changed source files`, or `unknown commit (why)`, for run lines. */
export function formatVersion(version: CodeVersion): string {
    if (!version.commit) return version.note ? `unknown commit (${version.note})` : 'unknown commit'
    const short = version.commit.slice(0, 7)
    if (version.changedFiles === null) return short
    return version.changedFiles === 0 ? short : `${short} + ${version.changedFiles} changed source file${version.changedFiles === 1 ? '' : 's'}`
}

/**
 * Compiles the project into `<outDir>-next`, then puts that folder in place of `outDir`. With `recordVersion`, the
 * copy gets a `COMMIT` file (see CodeVersion).
 */
async function compileAndSwap(outDir: string, recordVersion: boolean): Promise<void> {
    const next = `${outDir}-next`
    rmSync(next, {recursive: true, force: true})
    const version = sourceVersion()
    await compile(['--outDir', next])
    if (recordVersion && version.commit) writeFileSync(path.join(next, 'COMMIT'), `${version.commit}\nchanged source files: ${version.changedFiles}\n`)
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
