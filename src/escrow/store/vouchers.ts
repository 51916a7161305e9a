import type { Level } from 'level'
import { EscrowError } from '../errors.js'
import { isHex32, isHex64 } from '../hex.js'
import type { SignedVoucher } from '../types.js'
import { SerialQueue } from '../../util/serial.js'

/**
 * Where a party keeps the latest voucher of each escrow. `put` resolves only once the voucher is
 * durable (fsync), which is what lets the supplier acknowledge it.
 */
export interface VoucherStore {
  /** stores `v` as the escrow's latest voucher unless a voucher with a higher sequence is stored */
  put (v: SignedVoucher, opts?: { signal?: AbortSignal }): Promise<void>
  latest (escrowId: string, opts?: { signal?: AbortSignal }): Promise<SignedVoucher | undefined>
}

interface StoredVoucher { cumulative: string, sequence: string, signature: string }

/** The `vouchers-v1` sublevel: key escrow id, value the latest voucher as JSON (decimal strings). */
export class LevelVoucherStore implements VoucherStore {
  private readonly serial = new SerialQueue()
  constructor (private readonly db: Level<string, string>, private readonly prefix: string) {}

  async put (v: SignedVoucher): Promise<void> {
    if (!isHex32(v.escrowId) || !isHex64(v.signature)) throw new EscrowError('MALFORMED_VOUCHER', 'voucher cannot be stored')
    // read-compare-write of one escrow must not interleave with another put
    await this.serial.run(async () => {
      const prev = await this.latest(v.escrowId)
      if (prev != null && prev.sequence >= v.sequence) return
      const doc: StoredVoucher = { cumulative: v.cumulative.toString(), sequence: v.sequence.toString(), signature: v.signature }
      await this.db.put(this.prefix + v.escrowId, JSON.stringify(doc), { sync: true })
    })
  }

  async latest (escrowId: string): Promise<SignedVoucher | undefined> {
    const raw = await this.db.get(this.prefix + escrowId)
    if (raw == null) return undefined
    const doc = JSON.parse(raw) as StoredVoucher
    return { escrowId, cumulative: BigInt(doc.cumulative), sequence: BigInt(doc.sequence), signature: doc.signature }
  }

  /** Every stored latest voucher. */
  async * all (): AsyncGenerator<SignedVoucher> {
    for await (const [k, raw] of this.db.iterator({ gte: this.prefix, lt: this.prefix + '\xff' })) {
      const doc = JSON.parse(raw) as StoredVoucher
      yield { escrowId: k.slice(this.prefix.length), cumulative: BigInt(doc.cumulative), sequence: BigInt(doc.sequence), signature: doc.signature }
    }
  }
}
