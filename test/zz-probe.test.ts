import {it} from 'vitest'
import path from 'node:path'
import {createPublicClient, http} from 'viem'
import {startAnvil} from '../src/devnet/anvil'
import {buildScenario, runScenario} from '../src/devnet/scenario'
import {startTestDatabase} from './helpers/stack'
import {PROJECT_ROOT, startChild} from '../src/stack/children'
it('probe', async () => {
  const anvil = await startAnvil(); const db = await startTestDatabase()
  await runScenario(anvil.rpcUrl, buildScenario())
  const head = Number(await createPublicClient({transport: http(anvil.rpcUrl)}).getBlockNumber())
  for (const env of [{RPC_RATE_LIMIT: '10'}, {RPC_RATE_LIMIT: '4', RPC_MAX_BATCH_CALL_SIZE: '1'}]) {
    await db.client.query('DROP SCHEMA IF EXISTS squid_processor CASCADE')
    const t = Date.now()
    const child = startChild(process.execPath, [path.join(PROJECT_ROOT, 'lib', 'main.js')], {...db.env, NETWORK: 'devnet', RPC_URL: anvil.rpcUrl, PROCESSOR_TO_BLOCK: String(head), PROMETHEUS_PORT: '0', ...env}, 'p')
    let out = ''; child.stderr!.on('data', (b) => out += b); child.stdout!.on('data', (b) => out += b)
    const seen: string[] = []
    let last = -2
    while (child.exitCode === null && Date.now() - t < 60000) {
      const r = await db.client.query(`SELECT height FROM squid_processor.status WHERE id=0`).catch(() => ({rows: []}))
      const h = r.rows.length ? Number(r.rows[0].height) : -1
      if (h !== last) { seen.push(`${Date.now()-t}ms:${h}`); last = h }
      await new Promise((r) => setTimeout(r, 50))
    }
    console.log(JSON.stringify(env), seen.join(' '), 'exit', child.exitCode)
  }
  await anvil.stop(); await db.stop()
}, 200000)
