// Simulated operator endpoints for the probing benchmark: one process listens on 127.0.0.1 on COUNT ports that the OS
// picks, prints `ready PORT PORT ...` and answers any path with a small JSON body. It exits by itself after
// LIFETIME_SECONDS, so a crashed benchmark leaves nothing running.
'use strict'
const http = require('node:http')

const [lifetimeSeconds, count] = process.argv.slice(2).map(Number)
if (!(lifetimeSeconds > 0) || !(count > 0)) {
    console.error('usage: node endpoint-server.cjs LIFETIME_SECONDS COUNT')
    process.exit(2)
}

const body = JSON.stringify({status: 'ok'})
const ports = []
for (let index = 0; index < count; index++) {
    const server = http.createServer((request, response) => {
        response.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})
        response.end(body)
    })
    // Port 0: the OS picks a free port, so no other process can take it between choosing and binding.
    server.listen(0, '127.0.0.1', () => {
        ports.push(server.address().port)
        if (ports.length === count) process.stdout.write(`ready ${ports.join(' ')}\n`)
    })
}
setTimeout(() => process.exit(0), lifetimeSeconds * 1000).unref()
setInterval(() => {}, 60_000).unref()
