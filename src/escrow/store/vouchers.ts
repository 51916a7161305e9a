import type { Level } from 'level'
import { EscrowError } from '../errors.js'
import { isHex32, isHex64 } from '../hex.js'
import type { SignedVoucher } from '../types.js'
import { SerialQueue } from '../../util/serial.js'
import { decodeSs58 } from '../../util/ss58.js'

/**
 * Where a party keeps the latest voucher of each escrow. `put` resolves only once the voucher is
 * durable (fsync), which is what lets the supplier acknowledge it.
 *
 * `scope` keeps apart escrows that share an id: an escrow's id is its agreement's hash, public once
 * the escrow opens, and on subtensor anyone may open an escrow of their own under it (the chain
 * tells them apart by payer). A party to one escrow stores only that escrow's vouchers; an arbiter,
 * which serves whoever asks, scopes each by the escrow's payer (`payerScope`).
 */
export interface VoucherStore {
  /** stores `v` as the escrow's latest voucher unless a voucher with a higher sequence is stored */
  put (v: SignedVoucher, opts?: { signal?: AbortSignal, scope?: string }): Promise<void>
  latest (escrowId: string, opts?: { signal?: AbortSignal, scope?: string }): Promise<SignedVoucher | undefined>
}

/** the scope of an escrow's vouchers at an arbiter: its payer's account id, hex (ss58 spellings differ) */
export function payerScope (payer: string): string {
  return Buffer.from(decodeSs58(payer).accountId).toString('hex')
}

const SCOPE_RE = /^[0-9a-f]{64}$/

/** the key of an escrow's latest voucher, in a scope of its own where one is given */
function voucherKey (escrowId: string, scope?: string): string {
  if (scope == null) return escrowId
  if (!SCOPE_RE.test(scope)) throw new EscrowError('MALFORMED_VOUCHER', 'voucher scope must be an account id in hex')
  return `${escrowId}/${scope}`
}

interface StoredVoucher { cumulative: string, sequence: string, signature: string }

/** The `vouchers-v1` sublevel: key escrow id, value the latest voucher as JSON (decimal strings). */
export class LevelVoucherStore implements VoucherStore {
  private readonly serial = new SerialQueue()
  constructor (private readonly db: Level<string, string>, private readonly prefix: string) {}

  async put (v: SignedVoucher, opts: { scope?: string } = {}): Promise<void> {
    if (!isHex32(v.escrowId) || !isHex64(v.signature)) throw new EscrowError('MALFORMED_VOUCHER', 'voucher cannot be stored')
    const key = this.prefix + voucherKey(v.escrowId, opts.scope)
    // read-compare-write of one escrow must not interleave with another put
    await this.serial.run(async () => {
      const prev = await this.latest(v.escrowId, opts)
      if (prev != null && prev.sequence >= v.sequence) return
      const doc: StoredVoucher = { cumulative: v.cumulative.toString(), sequence: v.sequence.toString(), signature: v.signature }
      await this.db.put(key, JSON.stringify(doc), { sync: true })
    })
  }

  async latest (escrowId: string, opts: { scope?: string } = {}): Promise<SignedVoucher | undefined> {
    const raw = await this.db.get(this.prefix + voucherKey(escrowId, opts.scope))
    if (raw == null) return undefined
    const doc = JSON.parse(raw) as StoredVoucher
    return { escrowId, cumulative: BigInt(doc.cumulative), sequence: BigInt(doc.sequence), signature: doc.signature }
  }

  /** Every stored latest voucher of no scope. */
  async * all (): AsyncGenerator<SignedVoucher> {
    for await (const [k, raw] of this.db.iterator({ gte: this.prefix, lt: this.prefix + '\xff' })) {
      if (k.includes('/', this.prefix.length)) continue
      const doc = JSON.parse(raw) as StoredVoucher
      yield { escrowId: k.slice(this.prefix.length), cumulative: BigInt(doc.cumulative), sequence: BigInt(doc.sequence), signature: doc.signature }
    }
  }
}
