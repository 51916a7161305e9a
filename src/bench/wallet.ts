/**
 * `npm run bench:wallet`: the cost of opening and writing btcli keyfiles on this machine.
 *
 *   node dist/bench/wallet.js [--runs 2] [--json]
 *
 * Prints the median time of a NaCl keyfile's argon2i13 key derivation at btcli's SENSITIVE limits
 * (8 passes over 512 MiB), which every encrypted import and export pays once, and of reading and
 * checking one keypair JSON (phrase to key, public key and address checks).
 */
import { parseArgs } from 'node:util'
import { mnemonicGenerate, cryptoWaitReady } from '@polkadot/util-crypto'
import { naclDecrypt, naclEncrypt, parseKeypairJson } from '../node/wallet/index.js'

const { values } = parseArgs({ options: { runs: { type: 'string' }, json: { type: 'boolean' } } })
const RUNS = Math.max(1, Number(values.runs ?? 2))
const results: Record<string, string | number> = {}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

await cryptoWaitReady()
const json = new TextEncoder().encode(JSON.stringify({ secretPhrase: mnemonicGenerate(12) }))

const nacl: number[] = []
let sealed = await naclEncrypt(json, 'bench password')
for (let i = 0; i < RUNS; i++) {
  const t = performance.now()
  await naclDecrypt(sealed, 'bench password', 'bench')
  nacl.push(performance.now() - t)
}
results.naclOpenMs = Math.round(median(nacl))
const tw = performance.now()
sealed = await naclEncrypt(json, 'bench password')
results.naclSealMs = Math.round(performance.now() - tw)

const parse: number[] = []
for (let i = 0; i < 20; i++) {
  const t = performance.now()
  await parseKeypairJson(json, 'bench')
  parse.push(performance.now() - t)
}
results.keypairJsonMs = Number(median(parse).toFixed(2))
results.runs = RUNS
results.rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20)

if (values.json === true) {
  console.log(JSON.stringify(results))
} else {
  console.log(`NaCl keyfile open (argon2i13, 8 passes, 512 MiB), median of ${RUNS}: ${results.naclOpenMs} ms`)
  console.log(`NaCl keyfile seal: ${results.naclSealMs} ms`)
  console.log(`keypair JSON read and checked (phrase to key, addresses): ${results.keypairJsonMs} ms`)
  console.log(`resident memory: ${results.rssMiB} MiB`)
}
