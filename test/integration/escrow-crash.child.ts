/**
 * A supplier process for the crash tests, built on the escrow classes. Run by
 * escrow-crash.test.ts with `node --experimental-transform-types --import ./escrow-ts-hooks.mjs`.
 *
 *   supplier <dbDir> <termsJson>      metering: stdin lines {"tick":ms} | {"frame":hex}; stdout lines
 *                                     {"frame":hex} (a report or an ack, metering codec) or {"error":code}
 *   settle <dbDir> <ledgerDir> <mode> closes the escrow as the payee with its latest stored voucher
 *                                     ("arbiter": with an in-process arbiter; "cooperative": approves the
 *                                     cooperative settlement), prints {"executed":bool,"paid":"<amount>"}
 */
import { createInterface } from 'node:readline'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { Arbiter } from '../../src/escrow/arbiter/service.js'
import { EmbeddedLedger } from '../../src/escrow/chain/embedded/ledger.js'
import { fromJson } from '../../src/escrow/chain/embedded/codec.js'
import { EscrowError } from '../../src/escrow/errors.js'
import { MeterSupplier } from '../../src/escrow/metering/supplier.js'
import { EscrowService } from '../../src/escrow/service.js'
import { EscrowDb } from '../../src/escrow/store/db.js'
import type { EscrowTerms } from '../../src/escrow/types.js'
import { decodeMetering, encodeMetering } from '../../src/protocols/metering/codec.js'
import { ManualClock } from '../../src/util/clock.js'

const [mode, ...args] = process.argv.slice(2)
const out = (o: unknown): void => { process.stdout.write(JSON.stringify(o) + '\n') }
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

async function supplier (dbDir: string, termsJson: string): Promise<void> {
  const terms = fromJson<EscrowTerms>(termsJson)
  const db = await EscrowDb.open(dbDir)
  const clock = new ManualClock(Number(process.env.T0))
  const meter = await MeterSupplier.open({ terms, pricePerGpuHour: BigInt(process.env.PRICE!), gpus: Number(process.env.GPUS), store: db.vouchers, clock })
  meter.start()
  out({ ready: true })
  for await (const line of createInterface({ input: process.stdin })) {
    const msg = JSON.parse(line) as { tick?: number, frame?: string }
    try {
      if (msg.tick != null) {
        clock.advance(msg.tick)
        const r = meter.tick()
        if (r != null) out({ frame: hex(encodeMetering({ kind: 'report', report: r })) })
      } else if (msg.frame != null) {
        const m = decodeMetering(Buffer.from(msg.frame, 'hex'))
        if (m.kind !== 'voucher') throw new EscrowError('MALFORMED_VOUCHER')
        const ack = await meter.acceptVoucher(m.voucher)
        // printed only once acceptVoucher resolved, i.e. after the voucher is durable
        out({ frame: hex(encodeMetering({ kind: 'ack', ack })) })
      }
    } catch (err) {
      out({ error: (err as { code?: string }).code ?? 'UNKNOWN' })
    }
  }
}

async function settle (dbDir: string, ledgerDir: string, how: string): Promise<void> {
  await cryptoWaitReady()
  const kr = new Keyring({ type: 'sr25519', ss58Format: 42 })
  const payee = kr.addFromUri('//Bob')
  const arbiterKey = kr.addFromUri('//Charlie')
  const clock = new ManualClock(Number(process.env.NOW))
  const db = await EscrowDb.open(dbDir)
  const ledger = await EmbeddedLedger.open({ netuid: Number(process.env.NETUID), path: ledgerDir, clock })
  try {
    const arbiter = new Arbiter({ chain: ledger, key: arbiterKey, clock })
    const service = new EscrowService({ chain: ledger, escrows: db.escrows, vouchers: db.vouchers, account: payee, arbiter, clock })
    const escrowId = process.env.ESCROW_ID!
    const onChain = await ledger.get(escrowId)
    if (onChain == null) throw new EscrowError('UNKNOWN_ESCROW')
    await service.track(onChain.terms)
    const r = await service.close(escrowId, { mode: how === 'arbiter' ? 'arbiter' : 'cooperative' })
    out({ executed: r.executed, paid: (r.settlement.voucher?.cumulative ?? 0n).toString() })
  } finally {
    await ledger.close()
    await db.close()
  }
}

try {
  if (mode === 'supplier') await supplier(args[0], args[1])
  else if (mode === 'settle') await settle(args[0], args[1], args[2])
  else throw new Error(`unknown mode ${mode}`)
} catch (err) {
  out({ error: (err as { code?: string }).code ?? String(err) })
  process.exitCode = 1
}
