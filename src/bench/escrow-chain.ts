/**
 * `npm run bench:escrow-chain -- --chain <ws://host:port | chain spec path> [--escrows 5] [--json]`
 *
 * Blocks and seconds from agreement to an open escrow and from job end to settled, and the fees
 * paid per escrow, for the subtensor adapter on a real Bittensor runtime (see
 * src/escrow/chain/subtensor/bench.ts for what is measured and how).
 */
import { parseArgs } from 'node:util'
import { benchChain } from '../escrow/chain/subtensor/bench.js'

const { values } = parseArgs({ options: { chain: { type: 'string' }, escrows: { type: 'string' }, port: { type: 'string' }, json: { type: 'boolean' } } })
const chain = values.chain ?? process.env.BAZAAR_TEST_CHAIN_WS ?? process.env.BAZAAR_TEST_CHAIN_SPEC
if (chain == null || chain === '') {
  console.error('usage: escrow-chain --chain <ws://host:port | path to a subtensor chain spec> [--escrows N] [--json]')
  process.exit(2)
}
try {
  const figures = await benchChain(chain, { escrows: values.escrows != null ? Number(values.escrows) : undefined, port: values.port != null ? Number(values.port) : undefined })
  if (values.json === true) console.log(JSON.stringify(figures))
  else for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(36)} ${v}`)
  process.exit(0)
} catch (err) {
  const code = (err as { code?: string }).code
  console.error(`escrow-chain: ${code != null ? code + ': ' : ''}${(err as Error).message}`)
  process.exit(1)
}
