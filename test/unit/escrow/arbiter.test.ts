import { afterEach, describe, expect, it } from 'vitest'
import type { EscrowOnChain } from '../../../src/escrow/chain/port.js'
import { EmbeddedLedger } from '../../../src/escrow/chain/embedded/ledger.js'
import { decide, type ArbiterRequest } from '../../../src/escrow/arbiter/rules.js'
import { Arbiter } from '../../../src/escrow/arbiter/service.js'
import { signArbiterRequest } from '../../../src/escrow/arbiter/request-signature.js'
import { closeSettlement, refundSettlement } from '../../../src/escrow/rules/settlement.js'
import { MemoryVoucherStore } from '../../../src/escrow/store/memory.js'
import type { LocalEscrow } from '../../../src/escrow/store/escrows.js'
import type { SignedVoucher } from '../../../src/escrow/types.js'
import { VoucherSigner } from '../../../src/escrow/voucher/keys.js'
import { ManualClock } from '../../../src/util/clock.js'
import { escrowId, NETUID, parties, signer, T0, terms as mkTerms } from './fixtures.js'

const p = await parties()
const t = mkTerms(p)
const v = (cumulative: bigint, sequence: bigint): SignedVoucher => signer().sign({ escrowId: t.escrowId, cumulative, sequence })
const chainView = (over: Partial<EscrowOnChain> = {}): EscrowOnChain => ({
  terms: t, asset: { kind: 'alpha', netuid: NETUID }, account: 'x', status: 'open', balance: t.amount, records: [], ...over
})
/** a close on voucher `x`, asked for by the payee (its remedy) */
const voucherReq = (x: SignedVoucher): ArbiterRequest => signArbiterRequest({ terms: t, settlement: closeSettlement(t, x, 'voucher'), voucher: x }, p.payee)
/** a refund, asked for by the payer (its remedy) */
const refundReq = (): ArbiterRequest => signArbiterRequest({ terms: t, settlement: refundSettlement(t) }, p.payer)

describe('arbiter rules', () => {
  const before = t.expiresAt - 1
  const after = t.expiresAt
  it('approves a close paying the payee the voucher and refunding the rest', () => {
    expect(decide(voucherReq(v(300n, 3n)), { escrow: chainView(), now: before })).toEqual({ approve: true })
  })
  it('approves a close with the highest voucher it has seen', () => {
    expect(decide(voucherReq(v(300n, 3n)), { escrow: chainView(), now: before, highest: v(300n, 3n) })).toEqual({ approve: true })
  })
  it('approves a refund to the payer at expiry', () => {
    expect(decide({ terms: t, settlement: refundSettlement(t) }, { escrow: chainView(), now: after })).toEqual({ approve: true })
  })

  const x = v(300n, 3n)
  it.each<[string, ArbiterRequest, Partial<{ escrow: EscrowOnChain | undefined, now: number, highest: SignedVoucher }>, string]>([
    ['an unknown escrow', voucherReq(x), { escrow: undefined }, 'UNKNOWN_ESCROW'],
    ['terms that differ from the chain', { ...voucherReq(x), terms: { ...t, amount: t.amount + 1n } }, {}, 'TERMS_MISMATCH'],
    ['a closed escrow', voucherReq(x), { escrow: chainView({ status: 'closed' }) }, 'ESCROW_NOT_OPEN'],
    ['a refunded escrow', { terms: t, settlement: refundSettlement(t) }, { escrow: chainView({ status: 'refunded' }), now: after }, 'ESCROW_NOT_OPEN'],
    ['a refund before expiry', { terms: t, settlement: refundSettlement(t) }, { now: before }, 'NOT_EXPIRED'],
    ['a cooperative close', { terms: t, settlement: closeSettlement(t, x, 'cooperative'), voucher: x }, {}, 'COOPERATIVE_NOT_ARBITRATED'],
    ['a voucher close without evidence', { terms: t, settlement: closeSettlement(t, x, 'voucher') }, {}, 'NO_VOUCHER'],
    ['evidence other than the settlement voucher', { ...voucherReq(x), voucher: v(400n, 4n) }, {}, 'SETTLEMENT_MISMATCH'],
    ['a stale voucher', voucherReq(v(200n, 2n)), { highest: x }, 'STALE_VOUCHER'],
    ['a forged voucher', voucherReq(VoucherSigner.generate().sign({ escrowId: t.escrowId, cumulative: 300n, sequence: 3n })), {}, 'BAD_SIGNATURE'],
    ['a voucher above the locked amount', voucherReq(v(t.amount + 1n, 3n)), {}, 'PAYOUTS_MISMATCH'],
    ['payouts that swap payer and payee', { ...voucherReq(x), settlement: { ...closeSettlement(t, x, 'voucher'), payouts: [{ to: t.payer, amount: 300n }, { to: t.payee, amount: t.amount - 300n }] } }, {}, 'SETTLEMENT_MISMATCH'],
    ['a refund paid to the payee', { terms: t, settlement: { ...refundSettlement(t), payouts: [{ to: t.payee, amount: t.amount }] } }, { now: after }, 'SETTLEMENT_MISMATCH'],
    ['payouts not summing to the amount', { terms: t, settlement: { ...refundSettlement(t), payouts: [{ to: t.payer, amount: 1n }] } }, { now: after }, 'PAYOUTS_MISMATCH'],
    ['a refund after expiry beside a close on a voucher it co-signed', refundReq(), { now: after, highest: x }, 'VOUCHER_CLOSE_PENDING'],
    ['a settlement of another escrow', { ...voucherReq(x), settlement: { ...closeSettlement(t, x, 'voucher'), escrowId: escrowId(5) } }, {}, 'WRONG_ESCROW']
  ])('refuses %s', (_n, req, view, reason) => {
    expect(decide(req, { escrow: chainView(), now: before, ...view })).toEqual({ approve: false, reason })
  })
})

describe('arbiter service on the embedded ledger', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => { for (const c of cleanups.splice(0)) await c() })
  async function setup (): Promise<{ ledger: EmbeddedLedger, clock: ManualClock, arbiter: Arbiter }> {
    const clock = new ManualClock(T0)
    const ledger = await EmbeddedLedger.open({ netuid: NETUID, clock, genesis: [{ address: p.payer.address, amount: 5_000_000_000n }] })
    cleanups.push(async () => { await ledger.close() })
    await ledger.open(t, p.payer)
    return { ledger, clock, arbiter: new Arbiter({ chain: ledger, key: p.arbiter, clock, vouchers: new MemoryVoucherStore() }) }
  }

  it('co-signs the payee\'s close with the latest voucher: it executes with the payee\'s approval', async () => {
    const { ledger, arbiter } = await setup()
    const x = v(400_000_000n, 7n)
    const res = await arbiter.request(voucherReq(x))
    expect(res).toEqual({ approved: true, executed: false })
    const done = await ledger.approve(closeSettlement(t, x, 'voucher'), p.payee)
    expect(done.executed).toBe(true)
    expect(await ledger.balance(p.payee.address)).toBe(400_000_000n)
    expect(await ledger.balance(p.payer.address)).toBe(5_000_000_000n - 400_000_000n)
  })

  it('remembers the highest voucher and refuses a lower one afterwards', async () => {
    const { arbiter } = await setup()
    expect((await arbiter.request(voucherReq(v(400n, 7n)))).approved).toBe(true)
    expect(await arbiter.request(voucherReq(v(300n, 6n)))).toEqual({ approved: false, reason: 'STALE_VOUCHER' })
  })

  it('refunds with the payer only after expiry', async () => {
    const { ledger, clock, arbiter } = await setup()
    const req = refundReq()
    expect(await arbiter.request(req)).toEqual({ approved: false, reason: 'NOT_EXPIRED' })
    clock.set(t.expiresAt)
    expect(await arbiter.request(req)).toEqual({ approved: true, executed: false })
    expect((await ledger.approve(req.settlement, p.payer)).executed).toBe(true)
    expect(await ledger.balance(p.payer.address)).toBe(5_000_000_000n)
    // the escrow is refunded: nothing more is co-signed
    expect(await arbiter.request(voucherReq(v(1n, 1n)))).toEqual({ approved: false, reason: 'ESCROW_NOT_OPEN' })
  })

  it('keeps the terms of the escrows it approves for (role arbiter), so its sweeps find them later', async () => {
    const { ledger, clock } = await setup()
    const kept = new Map<string, LocalEscrow>()
    const escrows = { get: async (id: string) => kept.get(id), put: async (e: LocalEscrow) => { kept.set(e.terms.escrowId, e) } }
    const arbiter = new Arbiter({ chain: ledger, key: p.arbiter, clock, vouchers: new MemoryVoucherStore(), escrows })
    // a refusal keeps nothing
    expect((await arbiter.request(refundReq())).approved).toBe(false)
    expect(kept.size).toBe(0)
    expect((await arbiter.request(voucherReq(v(400n, 7n)))).approved).toBe(true)
    const onChain = (await ledger.get(t.escrowId))!
    // with the block of its open record: a restarted arbiter reads back to it (EscrowService.scanStart)
    expect([...kept.values()]).toEqual([{ terms: onChain.terms, role: 'arbiter', createdAt: T0, openBlock: onChain.records.find((r) => r.kind === 'open')!.blockNumber }])
    // a second approval for the same escrow keeps the first record
    clock.advance(1_000)
    expect((await arbiter.request(voucherReq(v(500n, 8n)))).approved).toBe(true)
    expect(kept.get(t.escrowId)?.createdAt).toBe(T0)
  })

  it('co-signs a close on a voucher only for the payee: a payer with a voucher of its own making is refused, and the payee\'s close goes through', async () => {
    const { ledger, arbiter } = await setup()
    // the payer holds the voucher key: it can sign a voucher for one rao at any sequence
    const own = v(1n, 1000n)
    const settlement = closeSettlement(t, own, 'voucher')
    expect(await arbiter.request(signArbiterRequest({ terms: t, settlement, voucher: own }, p.payer))).toEqual({ approved: false, reason: 'UNSIGNED_REQUEST' })
    // nothing was approved: the payer's approval of that close executes nothing
    expect((await ledger.approve(settlement, p.payer)).executed).toBe(false)
    expect((await ledger.get(t.escrowId))?.status).toBe('open')
    // the payee closes on the voucher the job earned
    const earned = v(900_000_000n, 50n)
    expect(await arbiter.request(voucherReq(earned))).toEqual({ approved: true, executed: false })
    expect((await ledger.approve(closeSettlement(t, earned, 'voucher'), p.payee)).executed).toBe(true)
    expect(await ledger.balance(p.payee.address)).toBe(900_000_000n)
  })

  it.each<[string, () => ArbiterRequest]>([
    ['an unsigned close on a voucher', () => { const { signature: _s, ...rest } = voucherReq(v(400n, 7n)); return rest }],
    ['an unsigned refund', () => { const { signature: _s, ...rest } = refundReq(); return rest }],
    ['a refund asked for by the payee', () => signArbiterRequest({ terms: t, settlement: refundSettlement(t) }, p.payee)],
    ['a close signed by a stranger', () => signArbiterRequest({ terms: t, settlement: closeSettlement(t, v(400n, 7n), 'voucher'), voucher: v(400n, 7n) }, p.other)],
    ['a signature over another settlement', () => ({ ...voucherReq(v(400n, 7n)), signature: voucherReq(v(500n, 8n)).signature })],
    ['a signature that is not hex', () => ({ ...voucherReq(v(400n, 7n)), signature: 'zz' })]
  ])('refuses %s (UNSIGNED_REQUEST), after expiry too, before reading the chain', async (_n, req) => {
    const { ledger, clock, arbiter } = await setup()
    clock.set(t.expiresAt)
    let reads = 0
    const chain = Object.create(ledger) as EmbeddedLedger
    chain.get = async (...a) => { reads++; return await ledger.get(...a) }
    const counting = new Arbiter({ chain, key: p.arbiter, clock })
    expect(await counting.request(req())).toEqual({ approved: false, reason: 'UNSIGNED_REQUEST' })
    expect(reads).toBe(0)
    expect(await arbiter.request(req())).toEqual({ approved: false, reason: 'UNSIGNED_REQUEST' })
  })

  it('refuses escrows it is not the arbiter of', async () => {
    const { ledger } = await setup()
    const other = new Arbiter({ chain: ledger, key: p.other, clock: new ManualClock(T0) })
    expect(await other.request(voucherReq(v(1n, 1n)))).toEqual({ approved: false, reason: 'NOT_SIGNATORY' })
  })

  it('answers a repeated request with the ledger\'s typed refusal', async () => {
    const { arbiter } = await setup()
    const x = v(5n, 1n)
    await arbiter.request(voucherReq(x))
    expect(await arbiter.request(voucherReq(x))).toEqual({ approved: false, reason: 'ALREADY_APPROVED' })
  })
})

describe('escrows sharing an id at one arbiter', () => {
  // an escrow's id is public once it opens, and on subtensor anyone may open an escrow of their own
  // under it: the chain tells them apart by payer (as the subtensor adapter's `get` does here)
  const copyKey = VoucherSigner.fromSeed('0x' + '22'.repeat(32))
  const copy = { ...t, payer: p.other.address, payee: p.other.address, amount: 10n, voucherKey: copyKey.publicKeyHex }
  const onChain = (x: typeof t): EscrowOnChain => ({ terms: x, asset: { kind: 'alpha', netuid: NETUID }, account: 'acct', status: 'open', balance: x.amount, records: [] })
  function setup (vouchers = new MemoryVoucherStore()): { arbiter: Arbiter, clock: ManualClock } {
    const clock = new ManualClock(T0)
    const chain = {
      get: async (_id: string, o: { payer?: string } = {}) => [t, copy].map(onChain).find((e) => e.terms.payer === o.payer),
      approve: async () => ({ executed: false })
    } as unknown as EmbeddedLedger
    return { arbiter: new Arbiter({ chain, key: p.arbiter, clock, vouchers }), clock }
  }
  const copyClose = (): ArbiterRequest => {
    const huge = copyKey.sign({ escrowId: copy.escrowId, cumulative: 0n, sequence: 1n << 62n })
    return signArbiterRequest({ terms: copy, settlement: closeSettlement(copy, huge, 'voucher'), voucher: huge }, p.other)
  }

  it('a close co-signed on another payer\'s escrow of the same id neither stales this one\'s vouchers nor holds up its refund', async () => {
    const { arbiter, clock } = await setup()
    expect(await arbiter.request(copyClose())).toEqual({ approved: true, executed: false })
    // the real payee's close on its valid voucher
    expect(await arbiter.request(voucherReq(v(500n, 42n)))).toEqual({ approved: true, executed: false })
    // and, on an escrow of this payer with no close co-signed, the refund after expiry
    const { arbiter: fresh, clock: c2 } = await setup()
    expect(await fresh.request(copyClose())).toMatchObject({ approved: true })
    c2.advance(t.expiresAt - T0)
    expect(await fresh.request(refundReq())).toEqual({ approved: true, executed: false })
    // while the escrow whose close was co-signed still refuses the refund beside it
    clock.advance(t.expiresAt - T0)
    expect(await arbiter.request(refundReq())).toMatchObject({ approved: false, reason: 'VOUCHER_CLOSE_PENDING', voucher: { sequence: 42n } })
  })

  it('a voucher stored under the id alone, as before vouchers were kept per payer, counts only where it is this escrow\'s', async () => {
    const vouchers = new MemoryVoucherStore()
    // the copy's voucher, stored unscoped: not signed by this escrow's key, so it stales nothing here
    await vouchers.put(copyKey.sign({ escrowId: copy.escrowId, cumulative: 0n, sequence: 1n << 62n }))
    expect(await setup(vouchers).arbiter.request(voucherReq(v(500n, 42n)))).toMatchObject({ approved: true })
    // this escrow's own voucher, stored unscoped: a lower one is still stale
    const legacy = new MemoryVoucherStore()
    await legacy.put(v(600n, 50n))
    expect(await setup(legacy).arbiter.request(voucherReq(v(500n, 42n)))).toEqual({ approved: false, reason: 'STALE_VOUCHER' })
  })
})
