/**
 * The subtensor adapter's escrows, by escrow id and payer. An escrow id is the agreement's hash,
 * public once a renter submits its open, so anyone can write an open record with the same id and
 * themselves as payer (the scan accepts an open only from its payer, funded in the same
 * `utility.batchAll`, so each such record is a real, funded escrow of its own account). Keeping
 * only the first open of an id let such a copy, included first, hide the renter's escrow from the
 * nodes of all three parties: its funds then sat in an account no node would settle. Each payer's
 * open of an id is kept instead, and callers name the payer they mean (the agreement's renter).
 */
import { accountHex } from './scan.js'

export interface IndexedEscrow {
  terms: { escrowId: string, payer: string }
  status: 'open' | 'closed' | 'refunded'
  sigs: { account: string }
}

export class EscrowIndex<E extends IndexedEscrow> {
  private readonly byId = new Map<string, E[]>()
  private count = 0

  constructor (private readonly max: number) {}

  get size (): number { return this.count }

  /** the escrow of `escrowId` opened by `payer`, or without a payer the first one seen */
  find (escrowId: string, payer?: string): E | undefined {
    const all = this.byId.get(escrowId)
    if (all == null) return undefined
    if (payer == null) return all[0]
    let who: string
    try { who = accountHex(payer) } catch { return undefined }
    return all.find((e) => accountHex(e.terms.payer) === who)
  }

  /** every escrow opened under `escrowId`, first seen first */
  withId (escrowId: string): readonly E[] {
    return this.byId.get(escrowId) ?? []
  }

  /** the escrow whose own account is `account` among those of `escrowId` */
  byAccount (escrowId: string, account: string): E | undefined {
    const who = accountHex(account)
    return this.byId.get(escrowId)?.find((e) => accountHex(e.sigs.account) === who)
  }

  /** adds an escrow unless its payer already opened one under its id (only that first open counts) */
  add (e: E): boolean {
    if (this.find(e.terms.escrowId, e.terms.payer) != null) return false
    this.evict()
    const all = this.byId.get(e.terms.escrowId)
    if (all == null) this.byId.set(e.terms.escrowId, [e])
    else all.push(e)
    this.count++
    return true
  }

  * entries (): IterableIterator<E> {
    for (const all of this.byId.values()) yield * all
  }

  /** at the bound: forgets a settled escrow, else the oldest */
  private evict (): void {
    if (this.count < this.max) return
    for (const [id, all] of this.byId) {
      const i = all.findIndex((e) => e.status !== 'open')
      if (i >= 0) { this.remove(id, all, i); return }
    }
    const first = this.byId.entries().next().value
    if (first != null) this.remove(first[0], first[1], 0)
  }

  private remove (id: string, all: E[], i: number): void {
    all.splice(i, 1)
    if (all.length === 0) this.byId.delete(id)
    this.count--
  }
}
