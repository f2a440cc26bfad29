// The project's processor (same data source, log requests and database) with a handler that does nothing: what
// ingestion and the batch transaction cost without decoding, handlers and entity writes. Runs from the benchmark's
// compiled copy (bench/.build, see build.ts) with the environment of lib/main.js.
'use strict'
const path = require('node:path')
const {TypeormDatabase} = require('@subsquid/typeorm-store')
const build = path.join(__dirname, '..', '.build', 'lib')
const {loadNetworkConfig, PROCESSOR_STATE_SCHEMA} = require(path.join(build, 'config'))
const {createProcessor} = require(path.join(build, 'chain', 'processor'))

const config = loadNetworkConfig()
const processor = createProcessor(config, {toBlock: Number(process.env.PROCESSOR_TO_BLOCK)})
let logs = 0
processor.run(new TypeormDatabase({supportHotBlocks: true, stateSchema: PROCESSOR_STATE_SCHEMA}), async (ctx) => {
    for (const block of ctx.blocks) logs += block.logs.length
})
process.on('exit', () => process.stderr.write(`BENCH_NOOP_LOGS=${logs}\n`))
