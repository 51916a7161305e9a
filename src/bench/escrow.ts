/**
 * `npm run bench:escrow`: voucher figures on one core (this process, one thread).
 *
 *   node dist/bench/escrow.js [--n 20000] [--json] [--chain ws://host:port]
 *
 * Prints vouchers signed and verified per second (ed25519, node:crypto), the full acceptance rule
 * (checkVoucher: bounds, sequence, signature), the metering codec, and the supplier's durable
 * acceptance (level with fsync per voucher: the write-before-ack cost). `--chain` hands over to the
 * chain benchmark of the subtensor adapter (blocks and seconds to open and settle, fees), which
 * lives with that adapter as `src/escrow/chain/subtensor/bench.ts` exporting
 * `benchChain(endpoint: string): Promise<Record<string, string | number>>`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ManualClock } from '../util/clock.js'
import { MeterRenter } from '../escrow/metering/renter.js'
import { MeterSupplier } from '../escrow/metering/supplier.js'
import { checkVoucher } from '../escrow/rules/voucher.js'
import { EscrowDb } from '../escrow/store/db.js'
import type { EscrowState, EscrowTerms, SignedVoucher } from '../escrow/types.js'
import { VoucherSigner } from '../escrow/voucher/keys.js'
import { verifyVoucher } from '../escrow/voucher/verify.js'
import { decodeMetering, encodeMetering } from '../protocols/metering/codec.js'

const { values } = parseArgs({ options: { n: { type: 'string' }, json: { type: 'boolean' }, chain: { type: 'string' } } })
const N = Number(values.n ?? 20_000)
const results: Record<string, string | number> = {}

function rate (label: string, n: number, fn: (i: number) => void): void {
  for (let i = 0; i < Math.min(n, 500); i++) fn(i) // warm up
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn(i)
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  results[label] = Math.round(n / s)
}

const signer = VoucherSigner.generate()
const escrowId = '0x' + 'ab'.repeat(32)
const terms: EscrowTerms = {
  escrowId,
  agreementHash: '0x' + 'cd'.repeat(32),
  // fixed dev addresses (//Alice, //Bob, //Charlie); the rules here never look at them
  payer: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
  payee: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
  arbiter: '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y',
  amount: 1n << 60n,
  netuid: 1,
  voucherKey: signer.publicKeyHex,
  expiresAt: Date.now() + 3_600_000
}

const vouchers: SignedVoucher[] = []
rate('voucher_sign_per_s', N, (i) => { vouchers[i] = signer.sign({ escrowId, cumulative: BigInt(i) * 1000n, sequence: BigInt(i + 1) }) })
rate('voucher_verify_per_s', N, (i) => { if (!verifyVoucher(vouchers[i], terms.voucherKey)) throw new Error('bad voucher') })
const state: EscrowState = { terms, status: 'open' }
rate('voucher_accept_rule_per_s', N, (i) => { if (checkVoucher({ ...state, best: i > 0 ? vouchers[i - 1] : undefined }, vouchers[i]) != null) throw new Error('refused') })
const frames = vouchers.map((v) => encodeMetering({ kind: 'voucher', voucher: v }))
rate('voucher_frame_decode_per_s', N, (i) => { decodeMetering(frames[i]) })

// the supplier's durable path: renter signs, supplier checks, fsyncs to level, acknowledges
const dir = await mkdtemp(join(tmpdir(), 'bazaar-bench-'))
try {
  const db = await EscrowDb.open(dir)
  const clock = new ManualClock()
  const supplier = await MeterSupplier.open({ terms, pricePerGpuHour: 3_600_000_000n, gpus: 1, store: db.vouchers, clock, graceMs: Number.MAX_SAFE_INTEGER })
  const renter = new MeterRenter({ terms, pricePerGpuHour: 3_600_000_000n, gpus: 1, signer, clock })
  supplier.start()
  renter.start()
  const M = Math.min(N, 2_000)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < M; i++) {
    clock.advance(1_000)
    await supplier.acceptVoucher(await renter.onReport(supplier.tick()!))
  }
  results.metering_round_durable_per_s = Math.round(M / (Number(process.hrtime.bigint() - t0) / 1e9))
  await db.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
results.n = N
results.node = process.version

if (values.chain != null) {
  const specifier = '../escrow/chain/subtensor/bench.js'
  try {
    const mod = await import(specifier) as { benchChain: (endpoint: string) => Promise<Record<string, string | number>> }
    Object.assign(results, await mod.benchChain(values.chain))
  } catch (err) {
    results.chain = `no chain benchmark available (${(err as Error).message.split('\n')[0]})`
  }
}

if (values.json === true) console.log(JSON.stringify(results))
else for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(32)} ${v}`)
