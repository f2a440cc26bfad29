#!/usr/bin/env node
// The CLI is compiled TypeScript; `npm run build` (run by `npm start` and `npm test`) produces lib/.
require('../lib/cli/main.js')
