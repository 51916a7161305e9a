/**
 * Starts chopsticks on a subtensor chain spec and prints its ws URL; Ctrl-C stops it.
 *
 *   npm run build && node scripts/chopsticks/start.ts <spec.json> [--port 9944] [--manual]
 *
 * `bazaar chain start` does the same and also funds dev accounts. Chopsticks comes from node_modules
 * (an optional dependency). Configs,
 * raw specs built from plain ones, and the chopsticks log go under <tmpdir>/bazaar-chopsticks;
 * nothing is written into the repository. Runs with Node 24's TypeScript type stripping, and uses
 * the built launcher in dist/ (the same code the chain tests and the chain bench use).
 */
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

type Devchain = typeof import('../../src/escrow/chain/subtensor/devchain.js')

const { values, positionals } = parseArgs({ allowPositionals: true, options: { port: { type: 'string' }, manual: { type: 'boolean' } } })
const spec = positionals[0]
if (spec == null) {
  console.error('usage: node scripts/chopsticks/start.ts <chain spec path> [--port 9944] [--manual]')
  process.exit(2)
}
const built = fileURLToPath(new URL('../../dist/escrow/chain/subtensor/devchain.js', import.meta.url))
const { startDevchain } = await import(built) as Devchain
try {
  const chain = await startDevchain({ spec, port: values.port != null ? Number(values.port) : 9944, buildBlockMode: values.manual === true ? 'Manual' : 'Instant' })
  console.log(chain.url)
  console.error(`chopsticks log: ${chain.logFile}; config: ${chain.configPath}; aura slot ${chain.slotMs} ms`)
  const stop = (): void => { chain.stop().then(() => process.exit(0), () => process.exit(1)) }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  chain.process.on('exit', (code) => { console.error(`chopsticks exited (${code})`); process.exit(1) })
} catch (err) {
  const code = (err as { code?: string }).code
  console.error(`chopsticks: ${code != null ? code + ': ' : ''}${(err as Error).message}`)
  process.exit(1)
}
