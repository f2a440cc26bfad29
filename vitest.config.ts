import {defineConfig} from 'vitest/config'

export default defineConfig({
    test: {
        include: ['test/**/*.test.ts'],
        testTimeout: 120_000,
        hookTimeout: 180_000,
        // End-to-end files each start their own PostgreSQL and anvil; two at a time fits a 2-core machine.
        maxWorkers: 2,
        minWorkers: 1,
        // The recap repeats each failure in a few lines after the summary, where a truncated CI log still shows it.
        reporters: ['default', './test/reporters/recap.ts'],
    },
})
