/**
 * `npm run bench:scan -- [--spec <chain spec path>] [--blocks 150] [--latency 25] [--windows 1,8,16] [--rounds 2] [--reads 0] [--json]`
 *
 * How long the subtensor adapter's first scan takes (a restarted daemon's first escrow read, which a
 * supplier's escrow check waits for), reading `--blocks` blocks of a chopsticks chain through a relay
 * that delays each direction by `--latency` ms, as a public endpoint's round trip does. Each scan
 * window (`scanWindow`, blocks read at once) is measured in turn, every round, on the same chain
 * and relay: window 1, one block at a time, is the reference. Without --spec it runs on
 * ../shared/chain/aura-dev-293.json beside the checkout.
 *
 * `--reads N`: then, each round, N escrow reads (`get`) after the scan, as `bazaar escrow ls` makes
 * them: one after another (the reference, as `EscrowService.list` read them before) and LIST_READS
 * side by side (as it reads them now, the adapter's reads in flight sharing one block scan). The
 * escrows are ones no one opened, so each read is the block scan's round trips alone; a real
 * escrow's read adds one more, its balance.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { WsProvider } from '@polkadot/api'
import { createSubtensorChain } from '../escrow/chain/subtensor/adapter.js'
import { startDevchain } from '../escrow/chain/subtensor/devchain.js'
import { delayRelay } from './delay-relay.js'
import { LIST_READS } from '../escrow/service.js'
import { mapBounded } from '../util/abortable.js'

const SHARED_CHAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/chain')

function usage (why: string): never {
  console.error(`scan: ${why}\nusage: scan [--spec <chain spec path>] [--blocks 1..5000] [--latency 0..500] [--windows 1,8,...] [--rounds 1..10] [--reads 0..2000] [--port <n>] [--json]`)
  process.exit(2)
}

let values: { spec?: string, blocks?: string, latency?: string, windows?: string, rounds?: string, port?: string, reads?: string, json?: boolean }
try {
  values = parseArgs({ options: { spec: { type: 'string' }, blocks: { type: 'string' }, latency: { type: 'string' }, windows: { type: 'string' }, rounds: { type: 'string' }, port: { type: 'string' }, reads: { type: 'string' }, json: { type: 'boolean' } } }).values
} catch (err) {
  usage((err as Error).message.split('\n')[0]!)
}
const int = (v: string | undefined, dflt: number, min: number, max: number, name: string): number => {
  const n = v == null ? dflt : Number(v)
  if (!Number.isInteger(n) || n < min || n > max) usage(`--${name} must be a whole number ${min}..${max}`)
  return n
}
const spec = values.spec ?? path.join(SHARED_CHAIN, 'aura-dev-293.json')
if (!existsSync(spec)) usage(`no chain spec at ${spec}`)
const blocks = int(values.blocks, 150, 1, 5000, 'blocks')
const latency = int(values.latency, 25, 0, 500, 'latency')
const rounds = int(values.rounds, 2, 1, 10, 'rounds')
const port = int(values.port, 19_990, 1024, 65535, 'port')
const reads = int(values.reads, 0, 0, 2000, 'reads')
const windows = (values.windows ?? '1,8,16').split(',').map((w) => int(w.trim(), 1, 1, 256, 'windows'))

const devchain = await startDevchain({ spec, port })
let relay: { port: number, close: () => void } | undefined
try {
  // the blocks to read: chopsticks builds them on request
  const raw = new WsProvider(devchain.url, false, {}, 600_000)
  await raw.connect()
  await raw.isReady
  const built = performance.now()
  for (let left = blocks; left > 0; left -= 50) await raw.send('dev_newBlock', [{ count: Math.min(50, left) }])
  if (values.json !== true) console.log(`built ${blocks} blocks in ${((performance.now() - built) / 1000).toFixed(1)} s`)
  const head = parseInt((await raw.send<{ number: string }>('chain_getHeader', [])).number, 16)
  await raw.disconnect()
  relay = await delayRelay(devchain.port, latency)
  const url = `ws://127.0.0.1:${relay.port}`
  const results: Array<{ window: number, round: number, ms: number, blocksPerS: number }> = []
  for (let round = 1; round <= rounds; round++) {
    for (const window of windows) {
      const chain = await createSubtensorChain({ url, netuid: 1, fromBlock: head - blocks + 1, scanWindow: window })
      try {
        const t0 = performance.now()
        // an escrow no one opened: the read is the whole scan
        await chain.get('0x' + '00'.repeat(32))
        const ms = performance.now() - t0
        results.push({ window, round, ms: Math.round(ms), blocksPerS: Math.round(blocks / (ms / 1000)) })
      } finally {
        await chain.close()
      }
    }
  }
  const readResults: Array<{ round: number, oneByOneMs: number, sideBySideMs: number }> = []
  if (reads > 0) {
    const chain = await createSubtensorChain({ url, netuid: 1, fromBlock: head })
    try {
      const ids = Array.from({ length: reads }, (_, i) => '0x' + (i + 1).toString(16).padStart(64, '0'))
      await chain.get(ids[0]!)
      for (let round = 1; round <= rounds; round++) {
        let t0 = performance.now()
        for (const id of ids) await chain.get(id)
        const oneByOneMs = Math.round(performance.now() - t0)
        t0 = performance.now()
        await mapBounded(ids, LIST_READS, async (id, signal) => await chain.get(id, { signal }))
        readResults.push({ round, oneByOneMs, sideBySideMs: Math.round(performance.now() - t0) })
      }
    } finally {
      await chain.close()
    }
  }
  if (values.json === true) {
    console.log(JSON.stringify({ blocks, latencyMs: latency, results, ...(reads > 0 ? { reads, listReads: LIST_READS, readResults } : {}) }))
  } else {
    console.log(`# ${blocks} blocks of ${path.basename(spec)} through a relay delaying each direction ${latency} ms`)
    for (const r of results) {
      const ref = results.find((x) => x.round === r.round && x.window === windows[0])!
      console.log(`round ${r.round}  window ${String(r.window).padStart(3)}  ${(r.ms / 1000).toFixed(2).padStart(7)} s  ${String(r.blocksPerS).padStart(6)} blocks/s  ${(ref.ms / r.ms).toFixed(2)}x window ${windows[0]!}`)
    }
    if (reads > 0) console.log(`# ${reads} escrow reads after the scan (escrows no one opened): one after another, then ${LIST_READS} side by side`)
    for (const r of readResults) {
      console.log(`round ${r.round}  one by one ${(r.oneByOneMs / 1000).toFixed(2).padStart(6)} s  side by side ${(r.sideBySideMs / 1000).toFixed(2).padStart(6)} s  ${(r.oneByOneMs / r.sideBySideMs).toFixed(1)}x`)
    }
  }
} finally {
  relay?.close()
  await devchain.stop()
}
process.exit(0)
