import {execFile} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'
import {metricsHostFromEnv} from '../src/cli/prober'
import {graphqlUrl} from '../src/cli/start'
import {GRAPHQL_SERVER_LIMITS, PROJECT_ROOT} from '../src/stack/children'
import {listenHostProblem} from '../src/stack/listen-host'
import {listeningAddresses} from './helpers/listening'

const PRELOAD = path.join(PROJECT_ROOT, 'lib', 'stack', 'api-preload.js')

/**
 * Starts a node process with the preload, which opens servers the ways squid-graphql-server and other code call
 * `listen`, and reports the address of each from `server.address()` and from /proc/net.
 */
const SCRIPT = `
const net = require('node:net')
const calls = [
    (server, done) => server.listen(0, done),
    (server, done) => server.listen('0', done),
    (server, done) => server.listen({port: 0}, done),
    (server, done) => server.listen(0, '127.0.0.1', done),
]
;(async () => {
    const out = []
    for (const call of calls) {
        const server = net.createServer()
        await new Promise((resolve) => call(server, resolve))
        out.push({address: server.address().address, port: server.address().port})
        await new Promise((resolve) => server.close(resolve))
    }
    process.stdout.write(JSON.stringify(out))
})()
`

async function runWithPreload(env: Record<string, string | undefined>): Promise<{address: string; port: number}[]> {
    const {stdout} = await promisify(execFile)(process.execPath, ['--require', PRELOAD, '-e', SCRIPT], {env: {...process.env, GQL_HOST: undefined, ...env}})
    return JSON.parse(stdout)
}

describe('GraphQL listen address', () => {
    it('accepts IP addresses and localhost', () => {
        for (const host of ['127.0.0.1', '0.0.0.0', '::', '::1', '10.1.2.3', 'fe80::1', 'localhost']) expect(listenHostProblem(host)).toBeUndefined()
    })

    it('rejects host names, ports and empty text with the reason', () => {
        expect(listenHostProblem('example.org')).toBe(
            'expected an IPv4 or IPv6 address (such as 127.0.0.1, 0.0.0.0 or ::) or localhost, received "example.org"',
        )
        expect(listenHostProblem('127.0.0.1:4350')).toMatch(/received "127.0.0.1:4350"/)
        expect(listenHostProblem('256.1.1.1')).toMatch(/received "256.1.1.1"/)
        expect(listenHostProblem(' ')).toBe('empty; give an IP address such as 127.0.0.1 or 0.0.0.0')
    })

    it('preload adds GQL_HOST to listen calls', async () => {
        const servers = await runWithPreload({GQL_HOST: '127.0.0.1'})
        expect(servers.map((server) => server.address)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1'])
    })

    it('preload keeps an address the caller names', async () => {
        const servers = await runWithPreload({GQL_HOST: '0.0.0.0'})
        expect(servers.map((server) => server.address)).toEqual(['0.0.0.0', '0.0.0.0', '0.0.0.0', '127.0.0.1'])
    })

    it('preload ignores unset or empty GQL_HOST', async () => {
        for (const env of [{}, {GQL_HOST: ''}]) {
            const servers = await runWithPreload(env)
            // Node's default: every interface, IPv6 when the machine has it, else IPv4.
            expect(['::', '0.0.0.0']).toContain(servers[0].address)
            expect(servers[2].address).toBe(servers[0].address)
            expect(servers[3].address).toBe('127.0.0.1')
        }
    })

    it('preload stops the process on a bad GQL_HOST', async () => {
        const error = await promisify(execFile)(process.execPath, ['--require', PRELOAD, '-e', 'setTimeout(() => {}, 60000)'], {
            env: {...process.env, GQL_HOST: 'api.example.org'},
            timeout: 20_000,
        }).catch((err: {code?: number; stderr?: string}) => err)
        expect((error as {code?: number}).code).toBe(2)
        expect((error as {stderr?: string}).stderr).toBe(
            'GQL_HOST: expected an IPv4 or IPv6 address (such as 127.0.0.1, 0.0.0.0 or ::) or localhost, received "api.example.org"\n',
        )
    })

    it.each([
        ['PROOFGAP_FUTURE_TOLERANCE_SECONDS', 'abc', 'PROOFGAP_FUTURE_TOLERANCE_SECONDS must be a whole number of seconds, got "abc"\n'],
        ['PROOFGAP_PROOF_FRESHNESS_SECONDS', '-5', 'PROOFGAP_PROOF_FRESHNESS_SECONDS must be a positive whole number of seconds, got "-5"\n'],
    ])('preload stops the process on a bad %s', async (name, value, message) => {
        const error = await promisify(execFile)(process.execPath, ['--require', PRELOAD, '-e', 'setTimeout(() => {}, 60000)'], {
            env: {...process.env, GQL_HOST: undefined, [name]: value},
            timeout: 20_000,
        }).catch((err: {code?: number; stderr?: string}) => err)
        expect((error as {code?: number}).code).toBe(2)
        expect((error as {stderr?: string}).stderr).toBe(message)
    })

    it('ready URL uses loopback for wildcards', () => {
        expect(graphqlUrl('127.0.0.1', 4350)).toBe('http://127.0.0.1:4350/graphql')
        expect(graphqlUrl('0.0.0.0', 4350)).toBe('http://127.0.0.1:4350/graphql')
        expect(graphqlUrl('::', 4350)).toBe('http://[::1]:4350/graphql')
        expect(graphqlUrl('::1', 4350)).toBe('http://[::1]:4350/graphql')
        expect(graphqlUrl('localhost', 4350)).toBe('http://localhost:4350/graphql')
        expect(graphqlUrl('192.0.2.10', 4350)).toBe('http://192.0.2.10:4350/graphql')
    })

    it('prober metrics address is read and checked', () => {
        expect(metricsHostFromEnv({})).toBeUndefined()
        expect(metricsHostFromEnv({PROBER_METRICS_HOST: ''})).toBeUndefined()
        expect(metricsHostFromEnv({PROBER_METRICS_HOST: '127.0.0.1'})).toBe('127.0.0.1')
        expect(() => metricsHostFromEnv({PROBER_METRICS_HOST: 'metrics.example.org'})).toThrow(
            'PROBER_METRICS_HOST: expected an IPv4 or IPv6 address (such as 127.0.0.1, 0.0.0.0 or ::) or localhost, received "metrics.example.org"',
        )
        expect(() => metricsHostFromEnv({PROBER_METRICS_HOST: ' '})).toThrow('PROBER_METRICS_HOST: empty')
    })

    it('every way to run the API loads the preload', () => {
        const api = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).scripts.api as string
        const cloud = readFileSync(path.join(PROJECT_ROOT, 'squid.yaml'), 'utf8')
        const cloudApi = /\n  api:\n\s+cmd: (\[.*\])/.exec(cloud)
        expect(cloudApi, 'squid.yaml has no api cmd').not.toBeNull()
        // npm's shell is replaced by node (`exec`), so SIGTERM to `npm run api` reaches the server.
        expect(api.startsWith('exec node ')).toBe(true)
        for (const command of [api.replace(/^exec /, '').split(' '), JSON.parse(cloudApi![1]) as string[]]) {
            const preload = command.find((part) => part.endsWith('api-preload.js'))
            const server = command.find((part) => part.endsWith('graphql-server/bin/run.js'))
            expect(command[0]).toBe('node')
            expect(preload, command.join(' ')).toBeDefined()
            expect(server, command.join(' ')).toBeDefined()
            expect(existsSync(path.join(PROJECT_ROOT, preload!.replace(/^--require=/, '')))).toBe(true)
            expect(existsSync(path.join(PROJECT_ROOT, server!))).toBe(true)
            // The same limits as npm start.
            const limits = command.slice(command.indexOf(server!) + 1)
            for (let i = 0; i < GRAPHQL_SERVER_LIMITS.length; i += 2) {
                const at = limits.indexOf(GRAPHQL_SERVER_LIMITS[i])
                expect(at, `${command.join(' ')} lacks ${GRAPHQL_SERVER_LIMITS[i]}`).toBeGreaterThanOrEqual(0)
                expect(limits[at + 1]).toBe(GRAPHQL_SERVER_LIMITS[i + 1])
            }
        }
    })

    it('reads listening addresses from /proc/net', async () => {
        const net = await import('node:net')
        const server = net.createServer()
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
        try {
            const port = (server.address() as {port: number}).port
            expect(listeningAddresses(port)).toEqual(['127.0.0.1'])
        } finally {
            await new Promise((resolve) => server.close(resolve))
        }
    })
})
