/**
 * `EscrowService.list` (`bazaar escrow ls`, `GET /v1/escrows`) reads its escrows from the chain
 * side by side, LIST_READS at a time: the LIST_MAX it stored last, the latest first.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ChainPort, EscrowOnChain } from '../../../src/escrow/chain/port.js'
import { EscrowService, LIST_MAX, LIST_READS } from '../../../src/escrow/service.js'
import { escrowId, ledgerWorld, parties, terms as mkTerms, T0 } from './fixtures.js'

const p = await parties()
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

describe('escrow list', () => {
  it(`reads ${LIST_READS} escrows at a time and lists them in the order of their ids; a failed read fails the list, the reads running stopped`, async () => {
    const { supplierDb, ledger, clock } = await ledgerWorld(p, 5_000_000_000n, cleanups)
    const n = 20
    for (let i = n; i >= 1; i--) await supplierDb.escrows.put({ terms: mkTerms(p, { escrowId: escrowId(i) }), role: 'payee', createdAt: T0 })
    const reads: Array<{ id: string, signal?: AbortSignal, end: (e: EscrowOnChain | undefined | Error) => void }> = []
    // resolves once `k` reads have started
    let waiter: { k: number, resolve: () => void } | undefined
    const started = async (k: number): Promise<void> => { if (reads.length < k) await new Promise<void>((resolve) => { waiter = { k, resolve } }) }
    // a chain whose reads the test answers by hand
    const chain = new Proxy(ledger, {
      get: (target, key) => {
        if (key === 'get') {
          return async (id: string, opts: { signal?: AbortSignal } = {}) => await new Promise<EscrowOnChain | undefined>((resolve, reject) => {
            reads.push({ id, ...(opts.signal != null ? { signal: opts.signal } : {}), end: (e) => { if (e instanceof Error) reject(e); else resolve(e) } })
            if (waiter != null && reads.length >= waiter.k) { waiter.resolve(); waiter = undefined }
          })
        }
        const v = Reflect.get(target, key) as unknown
        return typeof v === 'function' ? v.bind(target) : v
      }
    }) as ChainPort
    const svc = new EscrowService({ chain, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, clock })
    const settle = async (): Promise<void> => { for (let i = 0; i < 50; i++) await Promise.resolve() }
    const listing = svc.list()
    await started(LIST_READS)
    await settle()
    expect(reads).toHaveLength(LIST_READS)
    // answered last first: each answer lets the next read start, never more than LIST_READS in flight
    let answered = 0
    while (answered < n) {
      const open = reads.slice(answered)
      expect(open.length).toBeLessThanOrEqual(LIST_READS)
      for (const r of open.reverse()) r.end(undefined)
      answered += open.length
      if (answered < n) await started(Math.min(n, answered + 1))
      await settle()
    }
    const listed = await listing
    expect(listed.map((e) => e.escrowId)).toEqual(Array.from({ length: n }, (_, i) => escrowId(i + 1)))
    expect(listed.every((e) => e.status === 'unknown')).toBe(true)
    // a read that fails: the list fails with it, the reads running are aborted, no more start
    reads.length = 0
    const failing = svc.list()
    void failing.catch(() => {})
    await started(LIST_READS)
    reads[3]!.end(Object.assign(new Error('no answer'), { code: 'CHAIN_TIMEOUT' }))
    await settle()
    expect(reads.filter((r) => r.signal?.aborted === true)).toHaveLength(LIST_READS)
    for (const r of reads) r.end(undefined)
    await expect(failing).rejects.toMatchObject({ code: 'CHAIN_TIMEOUT' })
    expect(reads).toHaveLength(LIST_READS)
  })

  it(`lists the ${LIST_MAX} escrows stored last, the latest first, ties in the order of their ids`, async () => {
    const { supplierDb, ledger, clock } = await ledgerWorld(p, 5_000_000_000n, cleanups)
    const n = LIST_MAX + 25
    // stored in an order unlike their ids' and their times'
    for (let k = 0; k < n; k++) {
      const i = (k * 7919) % n
      await supplierDb.escrows.put({ terms: mkTerms(p, { escrowId: escrowId(i + 1) }), role: 'payee', createdAt: T0 + Math.floor(i / 2) * 1000 })
    }
    const svc = new EscrowService({ chain: ledger, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, clock })
    const listed = (await svc.list()).map((e) => e.escrowId)
    expect(listed).toHaveLength(LIST_MAX)
    // escrows 2j+1 and 2j+2 share a time: the pair comes latest first, in id order within it
    const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => Math.floor(b / 2) - Math.floor(a / 2) || a - b).slice(0, LIST_MAX).map((i) => escrowId(i + 1))
    expect(listed).toEqual(expected)
    expect(listed[0]).toBe(escrowId(n))
  })
})
