/**
 * `npm run bench:escrow-chain -- [--chain <ws://host:port | chain spec path>[,...]] [--escrows 5] [--json]`
 *
 * Blocks, seconds and fees of open, cooperative close, payee+arbiter close and refund for a 1-alpha
 * escrow, and each path's fees as a percentage of it, for the subtensor adapter on a real Bittensor
 * runtime (see src/escrow/chain/subtensor/bench.ts for what is measured and how). Without --chain
 * it runs on both specs in ../shared/chain beside the checkout (runtime 218, runtime 293), one
 * after the other.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { benchChain } from '../escrow/chain/subtensor/bench.js'

/** dist/bench/escrow-chain.js (or src/bench) sits two levels below the package root */
const SHARED_CHAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/chain')

let values: { chain?: string, escrows?: string, port?: string, json?: boolean }
try {
  values = parseArgs({ options: { chain: { type: 'string' }, escrows: { type: 'string' }, port: { type: 'string' }, json: { type: 'boolean' } } }).values
} catch (err) {
  console.error(`escrow-chain: ${(err as Error).message.split('\n')[0]}`)
  process.exit(2)
}
const given = values.chain ?? process.env.BAZAAR_TEST_CHAIN_WS ?? process.env.BAZAAR_TEST_CHAIN_SPEC
const chains = given != null && given !== ''
  ? given.split(',').map((s) => s.trim()).filter((s) => s !== '')
  : ['raonet-218.json', 'aura-dev-293.json'].map((f) => path.join(SHARED_CHAIN, f)).filter((f) => existsSync(f))
const escrows = values.escrows != null ? Number(values.escrows) : undefined
if (chains.length === 0 || (escrows != null && (!Number.isInteger(escrows) || escrows < 1 || escrows > 100))) {
  console.error(`usage: escrow-chain [--chain <ws://host:port | subtensor chain spec path>[,...]] [--escrows 1..100] [--json] (default: the specs in ${SHARED_CHAIN})`)
  process.exit(2)
}
const basePort = values.port != null ? Number(values.port) : 19_950
try {
  for (const [i, chain] of chains.entries()) {
    const figures = await benchChain(chain, { escrows, port: basePort + i })
    if (values.json === true) {
      console.log(JSON.stringify(figures))
    } else {
      console.log(`# ${chain}`)
      for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(40)} ${v}`)
    }
  }
  process.exit(0)
} catch (err) {
  const code = (err as { code?: string }).code
  console.error(`escrow-chain: ${code != null ? code + ': ' : ''}${(err as Error).message}`)
  process.exit(1)
}
