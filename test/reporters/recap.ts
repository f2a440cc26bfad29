import path from 'node:path'
import type {Reporter, SerializedError, TestModule} from 'vitest/node'

// Prints a short recap of what failed after the default reporter's summary. The CI log keeps only the end of the
// output, and the default reporter prints an unhandled error's message and stack well before its summary.

/** Lines of stack kept per error. */
const STACK_LINES = 6
/** Characters kept of a message. */
const MESSAGE_CHARS = 600

function clip(text: string, limit: number): string {
    return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`
}

function describeError(error: SerializedError): string[] {
    const lines = [`  ${error.name ?? 'Error'}: ${clip(error.message ?? '', MESSAGE_CHARS)}`]
    const details: string[] = []
    for (const key of ['type', 'code', 'VITEST_TEST_PATH', 'VITEST_TEST_NAME']) {
        const value = key === 'VITEST_TEST_PATH' && typeof error[key] === 'string' ? path.relative(process.cwd(), error[key]) : error[key]
        if (typeof value === 'string' || typeof value === 'number') details.push(`${key}=${value}`)
    }
    if (error.VITEST_AFTER_ENV_TEARDOWN === true) details.push('after the file finished')
    if (details.length > 0) lines.push(`    (${details.join(', ')})`)
    // An assertion's two sides, which the message may abbreviate.
    for (const side of ['expected', 'actual']) {
        const value = error[side]
        if (typeof value === 'string' && value !== '') lines.push(`    ${side}: ${clip(value.replace(/\s+/g, ' '), MESSAGE_CHARS / 3)}`)
    }
    // Frames of dependencies and of Node itself do not point at the failing code; all of them stay when nothing else is left.
    const allFrames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line))
    const ownFrames = allFrames.filter((line) => !/node_modules\/|node:internal\/|\(<anonymous>\)|^\s+at <anonymous>$/.test(line))
    const frames = (ownFrames.length > 0 ? ownFrames : allFrames).slice(0, STACK_LINES)
    lines.push(...frames.map((frame) => `    ${frame.trim().replaceAll(`file://${process.cwd()}/`, '').replaceAll(`${process.cwd()}/`, '')}`))
    if (error.cause && typeof error.cause === 'object') lines.push('    caused by:', ...describeError(error.cause).map((line) => `  ${line}`))
    return lines
}

export default class RecapReporter implements Reporter {
    private recap: string[] = []

    onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
        const lines: string[] = []
        for (const module of modules) {
            const file = path.relative(process.cwd(), module.moduleId)
            for (const error of module.errors()) lines.push(`file ${file}:`, ...describeError(error))
            for (const test of module.children.allTests('failed')) {
                lines.push(`test ${file} > ${test.fullName}:`)
                for (const error of test.result().errors ?? []) lines.push(...describeError(error))
            }
        }
        for (const error of unhandledErrors) lines.push('unhandled error:', ...describeError(error))
        this.recap = lines
    }

    // The default reporter prints its summary in onFinished, which runs after every reporter's onTestRunEnd.
    onFinished(): void {
        if (this.recap.length === 0) return
        process.stdout.write(`\nRecap of the failures above\n${this.recap.join('\n')}\n`)
    }
}
