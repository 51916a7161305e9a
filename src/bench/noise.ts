/**
 * `npm run bench:noise`: noise's ChaCha20-Poly1305 as the node runs it (`node/noise-crypto.ts`:
 * libsodium under 16 KiB of plaintext, node:crypto from there) beside @chainsafe/libp2p-noise's default
 * (its AssemblyScript cipher under 1,200 bytes, node:crypto from there), at the frame sizes gossip
 * and jobs send. Each figure is the median over `--rounds` rounds of µs per seal and per open, the
 * two implementations alternating within each round, so that both see the same machine.
 *
 *   node dist/bench/noise.js [--rounds 7] [--json]
 */
import { parseArgs } from 'node:util'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { noiseCrypto, SODIUM_AEAD_MAX_BYTES } from '../node/noise-crypto.js'
import { SODIUM } from '../util/sodium.js'

const { values } = parseArgs({ options: { rounds: { type: 'string' }, json: { type: 'boolean' } } })
const ROUNDS = Math.max(1, Number(values.rounds ?? 7))
/** a market message in one frame (about 500 bytes), a small control frame, both sides of each switch, the largest noise frame */
const SIZES = [60, 500, 1_199, 4_096, 8_192, SODIUM_AEAD_MAX_BYTES - 1, SODIUM_AEAD_MAX_BYTES, 32_768, 65_519]

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** µs per call of `fn`, over about 20 ms after a warm-up */
function time (fn: () => unknown): number {
  for (let i = 0; i < 200; i++) fn()
  let n = 0
  const start = process.hrtime.bigint()
  let elapsed = 0n
  do {
    for (let i = 0; i < 50; i++) fn()
    n += 50
    elapsed = process.hrtime.bigint() - start
  } while (elapsed < 20_000_000n)
  return Number(elapsed) / n / 1000
}

function measure (crypto: ICryptoInterface, size: number): { seal: number, open: number } {
  const key = new Uint8Array(32).fill(7)
  const nonce = new Uint8Array(12)
  const ad = new Uint8Array(0)
  const plaintext = new Uint8Array(size).fill(3)
  const sealed = crypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key).subarray()
  return {
    seal: time(() => crypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key)),
    // no dst: each open writes a fresh array, so every call opens the same sealed bytes
    open: time(() => crypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, key))
  }
}

if (SODIUM === undefined) {
  console.error('bench:noise: sodium-native did not load on this platform; the node runs noise\'s default')
  process.exit(1)
}
const ours = noiseCrypto()
const rows = SIZES.map((size) => {
  const seal = { ours: [] as number[], noise: [] as number[] }
  const open = { ours: [] as number[], noise: [] as number[] }
  for (let r = 0; r < ROUNDS; r++) {
    const order: Array<['ours' | 'noise', ICryptoInterface]> = r % 2 === 0 ? [['ours', ours], ['noise', defaultCrypto]] : [['noise', defaultCrypto], ['ours', ours]]
    for (const [name, crypto] of order) {
      const m = measure(crypto, size)
      seal[name].push(m.seal)
      open[name].push(m.open)
    }
  }
  return {
    size,
    sealUs: { node: median(seal.ours), noiseDefault: median(seal.noise) },
    openUs: { node: median(open.ours), noiseDefault: median(open.noise) }
  }
})

if (values.json === true) {
  console.log(JSON.stringify({ rounds: ROUNDS, rows }))
} else {
  console.log(`noise ChaCha20-Poly1305, µs per call, median of ${ROUNDS} alternated rounds (node = libsodium under ${SODIUM_AEAD_MAX_BYTES} bytes, node:crypto from there; noise default = AssemblyScript under 1,200, node:crypto from there)`)
  console.log('bytes    seal node  seal default  ratio    open node  open default  ratio')
  for (const r of rows) {
    const f = (x: number): string => x.toFixed(2).padStart(9)
    console.log(`${String(r.size).padStart(6)} ${f(r.sealUs.node)}  ${f(r.sealUs.noiseDefault)}    ${(r.sealUs.noiseDefault / r.sealUs.node).toFixed(2)}x ${f(r.openUs.node)}  ${f(r.openUs.noiseDefault)}    ${(r.openUs.noiseDefault / r.openUs.node).toFixed(2)}x`)
  }
}
