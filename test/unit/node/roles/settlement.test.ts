import { describe, expect, it } from 'vitest'
import { SupplierSettlement } from '../../../../src/node/roles/supplier/settlement.js'
import { cannotSettle } from '../../../../src/node/fee-funds.js'
import { awaitSettled, settledAmounts } from '../../../../src/node/roles/renter/settle.js'
import { settleRent, type OpenedEscrow, type RentContext } from '../../../../src/node/roles/renter/saga.js'
import type { SupplierJobRecord } from '../../../../src/node/roles/supplier/types.js'
import { roleMetrics } from '../../../../src/node/roles/metrics.js'
import { Registry } from '../../../../src/node/metrics.js'
import { silentLogger } from '../../../../src/node/logger.js'
import { ManualClock } from '../../../../src/util/clock.js'
import type { EscrowChainStatus, EscrowOnChain } from '../../../../src/escrow/chain/port.js'
import type { CloseMode } from '../../../../src/escrow/service.js'
import { EscrowError } from '../../../../src/escrow/errors.js'
import type { SignedVoucher } from '../../../../src/escrow/types.js'
import { closeRecord, encodeRecord } from '../../../../src/escrow/chain/records.js'
import { parties, signer, T0, terms as mkTerms } from '../../escrow/fixtures.js'

const p = await parties()
const t = mkTerms(p)
const ID = t.escrowId

/** a chain whose escrow's status the test sets; counts the reads */
function chain (): { get: (id: string) => Promise<EscrowOnChain | undefined>, status?: EscrowChainStatus, reads: number, remark?: string } {
  const c = {
    status: 'open' as EscrowChainStatus | undefined,
    reads: 0,
    remark: undefined as string | undefined,
    get: async (id: string): Promise<EscrowOnChain | undefined> => {
      c.reads++
      if (id !== ID || c.status == null) return undefined
      const records = c.remark != null ? [{ kind: 'close' as const, escrowId: ID, blockNumber: 2, blockHash: '0x', txHash: '0x', remark: c.remark }] : []
      return { terms: t, asset: { kind: 'alpha', netuid: t.netuid }, account: p.other.address, status: c.status, balance: 0n, records }
    }
  }
  return c
}

function supplier (opts: { latest?: SignedVoucher, executesAt?: 'first', cooperativeFails?: boolean, arbiterFails?: EscrowError } = {}): { clock: ManualClock, c: ReturnType<typeof chain>, closes: CloseMode[], settlement: SupplierSettlement, record: SupplierJobRecord } {
  const clock = new ManualClock(T0)
  const c = chain()
  const closes: CloseMode[] = []
  const settlement = new SupplierSettlement({
    escrow: {
      close: async (_id, o = {}) => {
        // the renter's approval looked for before a retry with the arbiter: there is none
        if (o.ifApproved === true) return { executed: false } as never
        closes.push(o.mode ?? 'cooperative')
        if (opts.cooperativeFails === true && o.mode === 'cooperative') throw new EscrowError('INSUFFICIENT_BALANCE', 'the chain refused the approval')
        if (opts.arbiterFails != null && o.mode === 'arbiter') throw opts.arbiterFails
        return { executed: opts.executesAt === 'first' || o.mode === 'arbiter' } as never
      }
    },
    chain: c,
    vouchers: { latest: async () => opts.latest },
    clock,
    metrics: roleMetrics(new Registry()),
    logger: silentLogger
  }, { settleWaitMs: 15_000 })
  return { clock, c, closes, settlement, record: { agreementId: ID.slice(2) } }
}

const voucher = (): SignedVoucher => signer().sign({ escrowId: ID, cumulative: 5_000n, sequence: 3n })

describe('supplier settlement on a ManualClock', () => {
  it('a cooperative close that executes at once settles the session', async () => {
    const s = supplier({ latest: voucher(), executesAt: 'first' })
    await s.settlement.settle(ID, s.record)
    expect(s.closes).toEqual(['cooperative'])
    expect(s.record).toMatchObject({ settledBy: 'cooperative', paid: '5000', vouchers: 3 })
    expect(s.clock.pending).toBe(0)
  })

  it('waits for the renter\'s approval to land, polling the chain as the clock advances', async () => {
    const s = supplier({ latest: voucher() })
    const done = s.settlement.settle(ID, s.record)
    await s.clock.advanceAsync(1_000)
    expect(s.record.settledBy).toBeUndefined()
    s.c.status = 'closed'
    await s.clock.advanceAsync(250)
    await done
    expect(s.closes).toEqual(['cooperative'])
    expect(s.record.settledBy).toBe('cooperative')
  })

  it('closes with the arbiter on the latest voucher once the wait is over, not before', async () => {
    const s = supplier({ latest: voucher() })
    const done = s.settlement.settle(ID, s.record)
    await s.clock.advanceAsync(14_999)
    expect(s.closes).toEqual(['cooperative'])
    await s.clock.advanceAsync(1)
    await done
    expect(s.closes).toEqual(['cooperative', 'arbiter'])
    expect(s.record.settledBy).toBe('arbiter')
    // polled every 250 ms over the 15 s wait, not more
    expect(s.c.reads).toBeLessThanOrEqual(15_000 / 250 + 1)
    expect(s.clock.pending).toBe(0)
  })

  it('a cooperative close that fails goes to the arbiter on the latest voucher at once, not at the next restart', async () => {
    const s = supplier({ latest: voucher(), cooperativeFails: true })
    await s.settlement.settle(ID, s.record)
    expect(s.closes).toEqual(['cooperative', 'arbiter'])
    expect(s.record).toMatchObject({ settledBy: 'arbiter', paid: '5000' })
    expect(s.clock.pending).toBe(0)
  })

  it('a node without an arbiter configured does not try again: nothing answers until it restarts with one', async () => {
    const s = supplier({ latest: voucher(), cooperativeFails: true, arbiterFails: new EscrowError('ARBITER_REFUSED', 'no arbiter configured', { reason: 'NO_ARBITER' }) })
    await s.settlement.settle(ID, s.record)
    expect(s.closes).toEqual(['cooperative', 'arbiter'])
    expect(s.record.settledBy).toBeUndefined()
    expect(s.clock.pending).toBe(0)
  })

  it('with no voucher stored there is nothing to claim: no arbiter close', async () => {
    const s = supplier()
    const done = s.settlement.settle(ID, s.record)
    await s.clock.advanceAsync(15_000)
    await done
    expect(s.closes).toEqual(['cooperative'])
    expect(s.record).toMatchObject({ settledBy: 'none', paid: '0' })
  })

  it('stops waiting on the signal (the role stopping) and leaves the escrow to recovery', async () => {
    const s = supplier({ latest: voucher() })
    const controller = new AbortController()
    const done = s.settlement.settle(ID, s.record, { signal: controller.signal })
    await s.clock.advanceAsync(500)
    controller.abort()
    await done
    expect(s.closes).toEqual(['cooperative'])
    expect(s.record.settledBy).toBeUndefined()
    expect(s.clock.pending).toBe(0)
  })
})

describe('renter settlement wait on a ManualClock', () => {
  it('returns as soon as the escrow leaves the open state, with what the close paid each side', async () => {
    const clock = new ManualClock(T0)
    const c = chain()
    const waiting = awaitSettled(c, ID, { clock, waitMs: 120_000 })
    await clock.advanceAsync(10_000)
    c.status = 'closed'
    c.remark = encodeRecord(closeRecord({ escrowId: ID, kind: 'cooperative', payouts: [{ to: t.payee, amount: 300n }, { to: t.payer, amount: t.amount - 300n }] }))
    await clock.advanceAsync(250)
    const e = await waiting
    expect(e?.status).toBe('closed')
    expect(clock.now()).toBe(T0 + 10_250)
    const amounts = settledAmounts(e, t.payee, t.payer)
    expect(amounts.paid).toBe(300n)
    expect(amounts.paid + amounts.refunded).toBe(t.amount)
  })

  it('says how the escrow settled: the parties\' close, a close on a voucher (the arbiter), a refund', async () => {
    for (const [kind, by] of [['cooperative', 'cooperative'], ['voucher', 'arbiter'], ['refund', 'refund']] as const) {
      const c = chain()
      c.status = kind === 'refund' ? 'refunded' : 'closed'
      c.remark = encodeRecord(closeRecord({ escrowId: ID, kind, payouts: [{ to: t.payer, amount: t.amount }] }))
      expect(settledAmounts(await c.get(ID), t.payee, t.payer).settledBy, kind).toBe(by)
    }
  })

  it('says which part of the payment the chain carried into the refund (a payee share too small to move as stake)', async () => {
    const c = chain()
    c.status = 'closed'
    c.remark = encodeRecord({ ...closeRecord({ escrowId: ID, kind: 'cooperative', payouts: [{ to: t.payee, amount: 300n }, { to: t.payer, amount: t.amount - 300n }] }), carried: '300' })
    expect(settledAmounts(await c.get(ID), t.payee, t.payer)).toEqual({ paid: 300n, refunded: t.amount - 300n, carried: 300n, settledBy: 'cooperative' })
  })

  it('gives up at the bound and reports the escrow still open', async () => {
    const clock = new ManualClock(T0)
    const c = chain()
    const waiting = awaitSettled(c, ID, { clock, waitMs: 120_000 })
    await clock.advanceAsync(120_000)
    expect((await waiting)?.status).toBe('open')
    expect(clock.pending).toBe(0)
  })

  it('waits for an escrow the chain does not know yet only when asked to', async () => {
    const clock = new ManualClock(T0)
    const c = chain()
    c.status = undefined
    expect(await awaitSettled(c, ID, { clock, waitMs: 1_000 })).toBeUndefined()
    expect(c.reads).toBe(1)
    const waiting = awaitSettled(c, ID, { clock, waitMs: 1_000, whileMissing: true })
    await clock.advanceAsync(1_000)
    expect(await waiting).toBeUndefined()
    expect(c.reads).toBeGreaterThan(2)
  })
})

describe('renter settlement after the job (settleRent)', () => {
  it('a chain that cannot be read after the close loses the rental nothing: it resolves, says it is not yet settled, and keeps the key', async () => {
    const t = mkTerms(await parties())
    const events: Array<{ type: string, executed?: boolean }> = []
    const forgotten: string[] = []
    const ctx = {
      init: { chain: { get: async () => { throw new Error('chain RPC disconnected') } }, node: { clock: new ManualClock(T0) }, settleWaitMs: 1_000, escrowDb: { vouchers: { latest: async () => ({ cumulative: 5n }) } } },
      escrow: { close: async () => ({ executed: false }) },
      metrics: roleMetrics(new Registry()),
      logger: silentLogger,
      emit: (e: { type: string, executed?: boolean }) => { events.push(e) }
    } as unknown as RentContext
    const r = await settleRent(ctx, { escrowId: t.escrowId, terms: t } as unknown as OpenedEscrow, async (id) => { forgotten.push(id) })
    // what the close approved will pay once executed: the last voucher signed
    expect(r).toMatchObject({ executed: false, paid: 0n, refunded: 0n, approved: 5n })
    expect(r.final).toBeUndefined()
    expect(events).toEqual([expect.objectContaining({ type: 'settled', executed: false, approved: '5' })])
    expect(forgotten).toEqual([])
  })
})

describe('a supplier whose account cannot pay for settling', () => {
  const account = '5HbBb4oxtp9phFTwQ9tuKGsgVtPVj9fW6Dae5yC4neGW8cTe'
  it('is told what it holds, what a close needs and the command that sends it TAO', async () => {
    const why = await cannotSettle({ feeFunds: async (a) => { expect(a).toBe(account); return { free: 0n, needed: 211_000_000n } } }, account, 'supplier')
    expect(why).toBe(`the supplier's hotkey account ${account} holds 0 τ free, and closing an escrow needs about 0.211 τ (a multisig deposit, returned after, and fees): the jobs it runs earn nothing it can collect until it holds that (bazaar wallet fund --fees 0.211 sends it TAO from the coldkey)`)
  })

  it('is told nothing where it holds enough, where the chain charges nothing, or where the chain did not answer', async () => {
    expect(await cannotSettle({ feeFunds: async () => ({ free: 211_000_000n, needed: 211_000_000n }) }, account, 'supplier')).toBeUndefined()
    expect(await cannotSettle({}, account, 'supplier')).toBeUndefined()
    expect(await cannotSettle({ feeFunds: async () => { throw new Error('the chain did not answer') } }, account, 'supplier')).toBeUndefined()
  })

  it('an arbiter is told that what it co-signs fails until then', async () => {
    expect(await cannotSettle({ feeFunds: async () => ({ free: 1n, needed: 2n }) }, account, 'arbiter')).toMatch(/^the arbiter's hotkey account .* holds 0\.000000001 τ free, .*: every close or refund it co-signs fails until it holds that \(bazaar wallet fund --fees/)
  })
})
