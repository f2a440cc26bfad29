import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, symlinkSync} from 'node:fs'
import path from 'node:path'
import {expect} from 'vitest'
import {binPath, runToEnd, PROJECT_ROOT, type RunResult} from '../../src/stack/children'

/**
 * Compiles src/ into `dir`/lib with schema.graphql beside it, for the processor and the API. Type errors are printed
 * but do not stop the test, because tsc still emits JavaScript and other work in progress in the tree must not
 * block this one; a missing entry point does.
 */
export async function compileProject(dir: string): Promise<void> {
    const build = await runToEnd(binPath('tsc'), ['-p', 'tsconfig.json', '--outDir', path.join(dir, 'lib')], {}, 120_000)
    if (build.code !== 0) process.stderr.write(`tsc reported errors (exit ${build.code}):\n${build.stdout.slice(0, 2_000)}\n`)
    expect(existsSync(path.join(dir, 'lib', 'main.js')), 'compiled processor entry point').toBe(true)
    mkdirSync(dir, {recursive: true})
    const schema = path.join(dir, 'schema.graphql')
    if (!existsSync(schema)) symlinkSync(path.join(PROJECT_ROOT, 'schema.graphql'), schema)
}

/** Runs the compiled processor to its end block; typeorm finds the entity classes under the working folder's lib/. */
export function runProcessorInBuild(buildDir: string, env: Record<string, string>): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(buildDir, 'lib', 'main.js')], {
            cwd: buildDir,
            env: {...process.env, ...env},
            stdio: ['ignore', 'pipe', 'pipe'],
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString()).slice(-200_000)))
        child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-200_000)))
        const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
        child.on('error', reject)
        child.on('exit', (code, signal) => {
            clearTimeout(timer)
            resolve({code, signal, stdout, stderr})
        })
    })
}
