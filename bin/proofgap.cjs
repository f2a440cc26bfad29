#!/usr/bin/env node
// The CLI is compiled TypeScript; `npm run build` (run by `npm start` and `npm test`) produces lib/.
const path = require('node:path')
const fs = require('node:fs')

const entry = path.join(__dirname, '..', 'lib', 'cli', 'main.js')
if (!fs.existsSync(entry)) {
    process.stderr.write(`proofgap: ${path.relative(process.cwd(), entry) || entry} is missing: run "npm run build" in ${path.join(__dirname, '..')} first\n`)
    process.exit(1)
}
require(entry)
