/**
 * Every escrow path on a real Bittensor runtime (chopsticks on a subtensor spec, or an endpoint).
 * Balances and records are checked with the test's own @polkadot/api queries (stake storage,
 * system.Remarked events and block extrinsics, balances.Transfer events), not the adapter's word.
 *
 *   npx vitest run test/chain     (both specs of ../shared/chain: runtime 218, TAO; runtime 293, alpha)
 *
 * Money to the rao: after every settlement the escrow account holds nothing (no stake, no TAO, no
 * pending multisig), what the escrow held = what each party received + the swap fees the chain's
 * own events state, and every other balance changed only by the transaction fees the chain states.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { Option, u16, u32 } from '@polkadot/types'
import type { Call, EventRecord } from '@polkadot/types/interfaces'
import type { Codec } from '@polkadot/types/types'
import { u8aToHex } from '@polkadot/util'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ChainConnectionEvent, EscrowTermsOnChain, Settlement } from '../../src/escrow/chain/port.js'
import { closeRecord, decodeRecord, encodeRecord } from '../../src/escrow/chain/records.js'
import { otherSignatories } from '../../src/escrow/chain/subtensor/keys.js'
import { connectChain } from '../../src/cli/chain.js'
import { loadConfig, type BazaarConfig } from '../../src/node/config/index.js'
import { silentLogger } from '../../src/node/logger.js'
import { openChain } from '../../src/node/services/chain.js'
import { recordingLogger } from '../helpers/nodes.js'
import { rpcServer } from '../helpers/rpc-ws.js'
import { pruningApi } from './pruning-node.js'
import { sendInBlock } from '../../src/escrow/chain/subtensor/provision.js'
import { arbiterPath, createSubtensorChain, escrowSignatories, SubtensorError, type SubtensorChain, type Inclusion } from '../../src/escrow/chain/subtensor/index.js'
import { alphaOf, CHAIN_TARGETS, connectApi, CuttableRelay, freeOf, freshKeys, fund, HAVE_CHAIN, remarksInBlock, sameAccount, signAndWait, skipNote, startTestChain, step, type ChainTarget, type TestChain } from './harness.js'

skipNote('subtensor escrow chain tests')
// every test waits for several blocks on a busy two-core machine
vi.setConfig({ testTimeout: 240_000 })

const TAO = 1_000_000_000n
const PORT = 19_944
const RELAY_PORT = 19_945
const SPARE_PORT = 20_100

describe.skipIf(!HAVE_CHAIN).each((HAVE_CHAIN ? CHAIN_TARGETS : [{ name: 'no chain' }]).map((t, i) => ({ ...t, i })))('subtensor escrow on $name', (target: ChainTarget & { i: number }) => {
  const PORT_HERE = PORT + 10 * target.i
  const RELAY_HERE = RELAY_PORT + 10 * target.i
  /** relays and ports nothing listens on, for the fallback endpoints' cases (20100..20119: no other test binds them; wallet.test.ts's chopsticks take 19971 and 19981) */
  const SPARE_HERE = SPARE_PORT + 10 * target.i
  let chain: TestChain
  let api: ApiPromise
  let port: SubtensorChain
  let keys: Record<string, KeyringPair>
  let alpha = false
  const netuid = 1
  let hotkey: string | undefined
  const inclusions: Inclusion[] = []

  /** The escrow asset balance of a coldkey, read from storage by the test. */
  const held = async (addr: string): Promise<bigint> => alpha ? await alphaOf(api, hotkey!, addr, netuid) : await freeOf(api, addr)

  /** TAO fees `who` paid in the blocks the adapter reported, from TransactionFeePaid events. */
  const feesSince = async (who: string, from: number): Promise<bigint> => {
    let sum = 0n
    for (const inc of inclusions.slice(from)) {
      const events = await (await api.at(inc.blockHash)).query.system.events() as unknown as EventRecord[]
      for (const e of events) {
        if (e.phase.isApplyExtrinsic && e.phase.asApplyExtrinsic.toNumber() === inc.index && e.event.section === 'transactionPayment' && e.event.method === 'TransactionFeePaid') {
          if (sameAccount(e.event.data[0]!.toString(), who)) sum += BigInt(e.event.data[1]!.toString())
        }
      }
    }
    return sum
  }

  const newTerms = (amount: bigint, expiresAt = Date.now() + 3_600_000): EscrowTermsOnChain => ({
    escrowId: u8aToHex(randomBytes(32)),
    agreementHash: u8aToHex(randomBytes(32)),
    payer: keys.payer!.address,
    payee: keys.payee!.address,
    arbiter: keys.arbiter!.address,
    amount,
    netuid,
    voucherKey: u8aToHex(randomBytes(32)),
    expiresAt
  })

  beforeAll(async () => {
    chain = await step('start chopsticks', 200_000, undefined, async (signal) => await startTestChain(target, PORT_HERE, signal))
    api = await step('connect @polkadot/api', 30_000, chain, async () => await connectApi(chain.url))
    keys = await freshKeys(['payer', 'payee', 'arbiter', 'validator', 'hotkey'])
    await step('fund the parties', 30_000, chain, async () => { await fund(api, [keys.payer!.address, keys.payee!.address, keys.arbiter!.address, keys.validator!.address], 100_000n * TAO) })
    alpha = api.tx.subtensorModule?.transferStake != null
    if (alpha) {
      // A validator hotkey on subnet 1 and the subnet's token enabled, set as chain state (the
      // spec's subnet 1 has no owner hotkey and its token is not started); then the payer buys
      // alpha through the subnet's pool with a real addStake.
      hotkey = keys.hotkey!.address
      // The pool gets mainnet-like depth (10^8 TAO against 10^8 alpha) so that 1,000 TAO buys
      // about 1,000 alpha instead of draining a 10-alpha pool.
      await step('set the subnet', 30_000, chain, async () => await api.rpc('dev_setStorage' as never, {
        SubtensorModule: {
          Owner: [[[hotkey], keys.validator!.address]],
          SubtokenEnabled: [[[netuid], true]],
          SubnetAlphaIn: [[[netuid], (100_000_000n * TAO).toString()]],
          SubnetTAO: [[[netuid], (100_000_000n * TAO).toString()]]
        }
      } as never))
      await step('addStake', 60_000, chain, async () => await signAndWait(api.tx.subtensorModule.addStake(hotkey, netuid, 1_000n * TAO), keys.payer!))
    }
    port = await step('connect the adapter', 30_000, chain, async () => await createSubtensorChain({ url: chain.url, netuid, hotkey, onInclusion: (_op, inc) => { inclusions.push(inc) } }))
  }, 300_000)

  afterAll(async () => {
    await port?.close()
    await api?.disconnect()
    await chain?.stop()
  })

  it('reads the asset from the runtime metadata', async () => {
    const info = await port.info()
    expect(info.specVersion).toBe(api.runtimeVersion.specVersion.toNumber())
    // the chain's identity (what a node keeps its subnet's registered hotkeys under): block 0's hash
    expect(info.genesis).toBe((await api.rpc.chain.getBlockHash(0)).toHex())
    expect(info.asset.kind).toBe(alpha ? 'alpha' : 'tao')
    if (info.asset.kind === 'tao') expect(info.asset.reason.length).toBeGreaterThan(0)
    console.log(`[chain] ${info.chain} runtime ${info.specVersion}: ${info.notes.join('; ')}`)
    // the wait for an escrow this node has not seen yet is two of the runtime's blocks, as its Aura
    // runtime API states the slot (the adapter reads the constants; this asks the runtime)
    const slotMs = Number((await api.call.auraApi.slotDuration()).toString())
    expect(slotMs).toBeGreaterThan(0)
    expect(port.seenLagMs).toBe(Math.min(60_000, Math.max(6_000, 2 * slotMs)))
    expect(info.notes.some((n) => n.startsWith(`blocks of ${slotMs / 1000} s`))).toBe(true)
  })

  /** Opens and checks the open on chain; returns the terms and the escrow account. */
  const openChecked = async (amount: bigint, expiresAt?: number): Promise<{ terms: EscrowTermsOnChain, account: string }> => {
    const terms = newTerms(amount, expiresAt)
    const before = await held(keys.payer!.address)
    const from = inclusions.length
    const esc = await port.open(terms, keys.payer!)
    const account = escrowSignatories(terms).account
    expect(esc.account).toBe(account)
    expect(esc.status).toBe('open')
    // the chain's own state: the escrow account holds the amount, the payer lost it (plus fees in TAO)
    const fees = alpha ? 0n : await feesSince(keys.payer!.address, from)
    const after = await held(keys.payer!.address)
    if (alpha) {
      // runtime 293 moves alpha through the subnet swap and the moved alpha pays its fee: the payer
      // loses what the open record says it moved, the escrow holds at least the amount and at most
      // what moved, and the allowance over the amount stays under 0.5%
      const rec = (await remarksInBlock(api, esc.records[0]!.blockHash)).map((r) => decodeRecord(r.remark) as { escrowId?: string, funded?: string } | undefined).find((d) => d?.escrowId === terms.escrowId)
      const funded = BigInt(rec!.funded!)
      expect(before - after).toBe(funded)
      // over the amount: two minimum stakes (so the payer's part of any settlement can move; it
      // comes back at close) and a swap-fee allowance under 0.5%
      const minA = await port.minStakeAlpha(netuid, esc.records[0]!.blockHash)
      expect((funded - amount - 2n * minA) * 1000n < (amount + 2n * minA) * 5n).toBe(true)
      const inEscrow = await held(account)
      expect(inEscrow >= amount).toBe(true)
      expect(inEscrow <= funded).toBe(true)
      expect(esc.balance).toBe(inEscrow)
    } else {
      expect(await held(account)).toBe(amount)
      expect(before - after).toBe(amount + fees)
    }
    // the open record as executed on chain: Remarked by the payer in the open block
    const remarks = await remarksInBlock(api, esc.records[0]!.blockHash)
    const open = remarks.map((r) => ({ r, doc: decodeRecord(r.remark) })).find((x) => x.doc?.escrowId === terms.escrowId)
    expect(open).toBeDefined()
    expect(sameAccount(open!.r.sender, terms.payer)).toBe(true)
    expect(open!.doc!.kind).toBe('open')
    if (open!.doc!.kind === 'open') {
      expect(open!.doc!.amount).toBe(amount.toString())
      expect(open!.doc!.asset).toBe(alpha ? 'alpha' : 'tao')
      if (!alpha) expect(typeof (open!.doc as { assetReason?: string }).assetReason).toBe('string')
    }
    return { terms, account }
  }

  /** Events of one block, read by the test. */
  const eventsIn = async (blockHash: string): Promise<EventRecord[]> => await (await api.at(blockHash)).query.system.events() as unknown as EventRecord[]

  /** The escrow account holds nothing: no TAO (free or reserved), no stake shares, no pending multisig. */
  const expectEmpty = async (account: string): Promise<void> => {
    const acc = (await api.query.system.account(account)).toJSON() as { data: { free: number | string, reserved: number | string } }
    expect(BigInt(acc.data.free)).toBe(0n)
    expect(BigInt(acc.data.reserved)).toBe(0n)
    if (alpha) {
      const shares = (await api.query.subtensorModule.alpha(hotkey!, account, netuid)).toJSON() as { bits?: string | number } | string | number
      const bits = typeof shares === 'object' && shares != null ? BigInt(shares.bits ?? 0) : BigInt(shares)
      expect(bits).toBe(0n)
      expect(await alphaOf(api, hotkey!, account, netuid)).toBe(0n)
    }
    expect((await api.query.multisig.multisigs.entries(account)).length).toBe(0)
  }

  /** Every extrinsic in blocks [from, to] succeeded (no ExtrinsicFailed event). */
  const expectNoFailedExtrinsic = async (from: number, to: number): Promise<void> => {
    for (let n = from; n <= to; n++) {
      const events = await eventsIn((await api.rpc.chain.getBlockHash(n)).toHex())
      expect(events.filter((e) => e.event.section === 'system' && e.event.method === 'ExtrinsicFailed').map((e) => n)).toEqual([])
    }
  }

  /**
   * Checks the executed close on chain, to the rao: the escrow account is empty; what left it is
   * exactly what it held after open; each recipient got what the close record says moved to it less
   * the swap fee the chain's StakeAdded event states (alpha), or exactly its payout less its own
   * transaction fees (TAO); the record was Remarked by the escrow account.
   */
  /**
   * `first` approves `s` and `second` executes it, with the money checked. `secondSees`: what the
   * second approves, from what the first left on chain (by default `s` itself).
   */
  const settleChecked = async (terms: EscrowTermsOnChain, account: string, s: Settlement, first: KeyringPair, second: KeyringPair, secondSees: () => Promise<Settlement> = async () => s): Promise<{ moved: Map<string, bigint>, carried: bigint }> => {
    const payerBefore = await held(terms.payer)
    const payeeBefore = await held(terms.payee)
    const escrowBefore = await held(account)
    const from = inclusions.length
    const r1 = await port.approve(s, first)
    expect(r1.executed).toBe(false)
    const r2 = await port.approve(await secondSees(), second)
    expect(r2.executed).toBe(true)
    const toPayee = s.payouts.filter((p) => p.to === terms.payee).reduce((a, p) => a + p.amount, 0n)
    const payerFees = alpha ? 0n : await feesSince(terms.payer, from)
    const payeeFees = alpha ? 0n : await feesSince(terms.payee, from)
    const remarks = await remarksInBlock(api, r2.record!.blockHash)
    const rec = remarks.map((r) => ({ r, doc: decodeRecord(r.remark) })).find((x) => x.doc?.escrowId === terms.escrowId)
    expect(rec).toBeDefined()
    expect(sameAccount(rec!.r.sender, account)).toBe(true)
    expect(rec!.doc!.kind).toBe(s.kind === 'refund' ? 'refund' : 'close')
    const doc = rec!.doc as { moved?: Array<{ to: string, amount: string }>, carried?: string }
    const moved = new Map<string, bigint>()
    for (const m of doc.moved ?? s.payouts.map((p) => ({ to: p.to, amount: p.amount.toString() }))) moved.set(m.to, (moved.get(m.to) ?? 0n) + BigInt(m.amount))
    const carried = BigInt(doc.carried ?? '0')
    // no party's share lost: the payee got its share, or it was carried into the refund
    expect((moved.get(terms.payee) ?? 0n) + carried).toBe(toPayee)
    // locked = paid + refunded, to the rao (alpha below: what the chain's events say left the escrow)
    const movedTotal = (moved.get(terms.payee) ?? 0n) + (moved.get(terms.payer) ?? 0n)
    if (!alpha) expect(movedTotal).toBe(escrowBefore)
    else {
      // the stake the escrow held at its open block, which the settlement moves; the value of its
      // shares read later may differ by rounding as other stake under the hotkey moves
      const drift = movedTotal > escrowBefore ? movedTotal - escrowBefore : escrowBefore - movedTotal
      expect(drift * 1_000_000n <= escrowBefore).toBe(true)
    }
    await expectEmpty(account)
    if (alpha) {
      // what the chain says it did in the close block: StakeRemoved from the escrow, StakeAdded to
      // each party with the swap fee stated beside it
      let removed = 0n
      const added = new Map<string, bigint>()
      for (const e of await eventsIn(r2.record!.blockHash)) {
        if (e.event.section !== 'subtensorModule') continue
        const d = e.event.data
        if (e.event.method === 'StakeRemoved' && sameAccount(d[0]!.toString(), account)) removed += BigInt(d[3]!.toString())
        if (e.event.method === 'StakeAdded') {
          const who = [terms.payer, terms.payee].find((a) => sameAccount(a, d[0]!.toString()))
          if (who != null) {
            // the move goes through the subnet's swap, whose fee (stated in TAO beside it) costs
            // the recipient under 0.35% of what moved
            const got = BigInt(d[3]!.toString())
            const sent = moved.get(who)!
            expect(got <= sent && (sent - got) * 10_000n <= sent * 35n).toBe(true)
            added.set(who, (added.get(who) ?? 0n) + got)
          }
        }
      }
      expect(removed).toBe(movedTotal)
      expect(await held(terms.payee) - payeeBefore).toBe(added.get(terms.payee) ?? 0n)
      expect(await held(terms.payer) - payerBefore).toBe(added.get(terms.payer) ?? 0n)
    } else {
      expect(await held(terms.payee) - payeeBefore).toBe((moved.get(terms.payee) ?? 0n) - payeeFees)
      expect(await held(terms.payer) - payerBefore).toBe((moved.get(terms.payer) ?? 0n) - payerFees)
    }
    const got = await port.get(terms.escrowId)
    expect(got?.status).toBe(s.kind === 'refund' ? 'refunded' : 'closed')
    expect(got?.records.map((x) => x.kind)).toEqual(['open', s.kind === 'refund' ? 'refund' : 'close'])
    // every fee this path paid is stated in the adapter's answers
    const stated = [...(r1.fees ?? []), ...(r2.fees ?? [])].reduce((a, f) => a + f.fee, 0n)
    expect(stated).toBe(inclusions.slice(from).reduce((a, i) => a + i.fee, 0n))
    return { moved, carried }
  }

  /** The arbiter's per-escrow key is reaped after `sweep`; the arbiter lost only the fees stated. */
  const expectArbiterSwept = async (terms: EscrowTermsOnChain, arbiterBefore: bigint, fromInclusion: number): Promise<void> => {
    const reported: string[] = []
    const swept = await port.sweep(keys.arbiter!, { onSwept: (id, payer) => { if (payer === terms.payer) reported.push(id) } })
    // the escrow is reported swept once its key is empty, and only once
    expect(reported.filter((id) => id === terms.escrowId)).toEqual([terms.escrowId])
    const child = keys.arbiter!.derive(arbiterPath(terms.escrowId))
    const acc = (await api.query.system.account(child.address)).toJSON() as { data: { free: number | string, reserved: number | string } }
    expect(BigInt(acc.data.free)).toBe(0n)
    expect(BigInt(acc.data.reserved)).toBe(0n)
    // every fee the arbiter's keys paid, from the chain's TransactionFeePaid events
    const fees = await feesSince(keys.arbiter!.address, fromInclusion) + await feesSince(child.address, fromInclusion)
    expect(fees > 0n).toBe(true)
    expect(await freeOf(api, keys.arbiter!.address)).toBe(arbiterBefore - fees)
    expect(swept.every((f) => f.fee >= 0n)).toBe(true)
  }

  it('opens, then closes cooperatively (payer approves, payee executes), nothing failing, nothing left', async () => {
    const { terms, account } = await openChecked(10n * TAO)
    const head0 = (await api.rpc.chain.getHeader()).number.toNumber()
    const voucher = { cumulative: 3n * TAO, sequence: 7n, signature: '0x' + '11'.repeat(64) }
    await settleChecked(terms, account, {
      escrowId: terms.escrowId, kind: 'cooperative', voucher,
      payouts: [{ to: terms.payee, amount: 3n * TAO }, { to: terms.payer, amount: 7n * TAO }]
    }, keys.payer!, keys.payee!)
    await expectNoFailedExtrinsic(head0, (await api.rpc.chain.getHeader()).number.toNumber())
  })

  it('settles when payer and payee approve the same close at the same moment, with no failed extrinsic', async () => {
    // the payee waits for the payer's approval instead of racing it with one of its own
    const { terms, account } = await openChecked(4n * TAO)
    const head0 = (await api.rpc.chain.getHeader()).number.toNumber()
    const s: Settlement = {
      escrowId: terms.escrowId, kind: 'cooperative', voucher: { cumulative: 1n * TAO, sequence: 3n, signature: '0x' + '33'.repeat(64) },
      payouts: [{ to: terms.payee, amount: 1n * TAO }, { to: terms.payer, amount: 3n * TAO }]
    }
    const results = await Promise.all([port.approve(s, keys.payee!), port.approve(s, keys.payer!)])
    expect(results.map((r) => r.executed)).toEqual([true, false])
    expect(results[0]!.fees!.map((f) => f.op)).toEqual(['execute'])
    expect(results[1]!.fees!.map((f) => f.op)).toEqual(['approve'])
    const got = await port.get(terms.escrowId)
    expect(got?.status).toBe('closed')
    expect(got?.records.map((x) => x.kind)).toEqual(['open', 'close'])
    await expectEmpty(account)
    await expectNoFailedExtrinsic(head0, (await api.rpc.chain.getHeader()).number.toNumber())
  })

  it('a payee approving only as the second sends nothing while no approval is pending, and executes the payer\'s once it is', async () => {
    // an adapter whose payee would wait an hour for the payer's approval: `ifApproved` must not wait
    const patient = await createSubtensorChain({ api, netuid, hotkey, cooperativeWaitMs: 3_600_000 })
    try {
      const { terms, account } = await openChecked(4n * TAO)
      const s: Settlement = {
        escrowId: terms.escrowId, kind: 'cooperative', voucher: { cumulative: 1n * TAO, sequence: 2n, signature: '0x' + '44'.repeat(64) },
        payouts: [{ to: terms.payee, amount: 1n * TAO }, { to: terms.payer, amount: 3n * TAO }]
      }
      const nonce = async (who: string): Promise<number> => ((await api.query.system.account(who)) as unknown as { nonce: { toNumber: () => number } }).nonce.toNumber()
      const payeeNonce = await nonce(terms.payee)
      const alone = await patient.approve(s, keys.payee!, { ifApproved: true })
      expect(alone.executed).toBe(false)
      expect(alone.fees ?? []).toEqual([])
      expect(await nonce(terms.payee)).toBe(payeeNonce)
      expect((await api.query.multisig.multisigs.entries(account)).length).toBe(0)
      expect((await patient.get(terms.escrowId))?.status).toBe('open')
      // the payer's approval, then the payee's as the second executes it
      expect((await patient.approve(s, keys.payer!)).executed).toBe(false)
      const second = await patient.approve(s, keys.payee!, { ifApproved: true })
      expect(second.executed).toBe(true)
      expect(second.fees!.map((f) => f.op)).toEqual(['execute'])
      expect((await patient.get(terms.escrowId))?.status).toBe('closed')
      await expectEmpty(account)
    } finally {
      await patient.close()
    }
  })

  it('a payer\'s cooperative approval carries its call: a payee that never received the voucher reads the close back and executes it', async () => {
    const { terms, account } = await openChecked(4n * TAO)
    const s: Settlement = {
      escrowId: terms.escrowId, kind: 'cooperative', voucher: { cumulative: 3n * TAO, sequence: 7n, signature: '0x' + '66'.repeat(64) },
      payouts: [{ to: terms.payee, amount: 3n * TAO }, { to: terms.payer, amount: 1n * TAO }]
    }
    await settleChecked(terms, account, s, keys.payer!, keys.payee!, async () => {
      // the test's own reads: the pending approval's timepoint names an asMulti carrying the call
      const entries = await api.query.multisig.multisigs.entries(account)
      expect(entries).toHaveLength(1)
      const [key, value] = entries[0]!
      const when = (value as unknown as Option<Codec & { when: { height: u32, index: u32 } }>).unwrap().when
      const block = await api.rpc.chain.getBlock(await api.rpc.chain.getBlockHash(when.height.toNumber()))
      const ex = block.block.extrinsics[when.index.toNumber()]!
      expect(`${ex.method.section}.${ex.method.method}`).toBe('multisig.asMulti')
      expect((ex.method.args[3] as unknown as Call).hash.toHex()).toBe((key.args[1] as unknown as Codec).toHex())
      // the adapter lists it as the settlement it closes, less the voucher's signature (not on chain)
      const listed = await port.pending(terms.escrowId, { payer: terms.payer })
      expect(listed).toHaveLength(1)
      expect(listed[0]!.settlement).toEqual({ ...s, voucher: { ...s.voucher!, signature: '' } })
      expect(listed[0]!.approvals).toHaveLength(1)
      expect(sameAccount(listed[0]!.approvals[0]!, terms.payer)).toBe(true)
      return listed[0]!.settlement
    })
  })

  it('a payee waiting for the payer\'s approval of its own close stops at once where the payer approved another: it sends nothing, then executes that one as read back', async () => {
    // an adapter whose payee would wait an hour for the payer's approval of its own close
    const patient = await createSubtensorChain({ api, netuid, hotkey, cooperativeWaitMs: 3_600_000 })
    try {
      const { terms, account } = await openChecked(4n * TAO)
      const close = (cumulative: bigint, sequence: bigint): Settlement => ({
        escrowId: terms.escrowId, kind: 'cooperative', voucher: { cumulative, sequence, signature: '0x' + '88'.repeat(64) },
        payouts: [{ to: terms.payee, amount: cumulative }, { to: terms.payer, amount: 4n * TAO - cumulative }]
      })
      // the payer approved the close on its voucher 9; the payee holds voucher 7
      expect((await patient.approve(close(3n * TAO, 9n), keys.payer!)).executed).toBe(false)
      const nonce = async (): Promise<number> => ((await api.query.system.account(terms.payee)) as unknown as { nonce: { toNumber: () => number } }).nonce.toNumber()
      const before = await nonce()
      const own = await patient.approve(close(2n * TAO, 7n), keys.payee!)
      expect(own).toMatchObject({ executed: false, fees: [] })
      expect(await nonce()).toBe(before)
      const listed = await patient.pending(terms.escrowId, { payer: terms.payer })
      expect(listed.map((p) => p.settlement.voucher?.sequence)).toEqual([9n])
      expect((await patient.approve(listed[0]!.settlement, keys.payee!, { ifApproved: true })).executed).toBe(true)
      await expectEmpty(account)
    } finally {
      await patient.close()
    }
  })

  it('a payer\'s approval of a call whose close record claims more for the payee than its payouts pay is not listed; its honest one is, and executes', async () => {
    const { terms, account } = await openChecked(4n * TAO)
    const sigs = escrowSignatories(terms)
    // around the adapter, the payer approves a batch that pays the payee 0.1 TAO under a record
    // that claims 3 TAO: a payee trusting the record would execute it
    const claimed: Settlement = { escrowId: terms.escrowId, kind: 'cooperative', voucher: { cumulative: 3n * TAO, sequence: 9n, signature: '' }, payouts: [{ to: terms.payee, amount: 3n * TAO }, { to: terms.payer, amount: 1n * TAO }] }
    const pay = (to: string, amount: bigint): ReturnType<typeof api.tx.balances.transferAllowDeath> => alpha
      ? api.tx.subtensorModule.transferStake(to, hotkey!, netuid, netuid, amount)
      : api.tx.balances.transferAllowDeath(to, amount)
    const forged = api.tx.utility.batchAll([pay(terms.payee, TAO / 10n), pay(terms.payer, 3n * TAO), api.tx.system.remarkWithEvent(encodeRecord(closeRecord(claimed)))])
    const weight = (await forged.paymentInfo(sigs.account)).weight
    await signAndWait(api.tx.multisig.asMulti(2, otherSignatories([sigs.payer, sigs.payee, sigs.arbiter], sigs.payer), null, forged.method, weight), keys.payer!)
    expect(await api.query.multisig.multisigs.entries(account)).toHaveLength(1)
    expect(await port.pending(terms.escrowId, { payer: terms.payer })).toEqual([])
    // the payer's approval through the adapter is listed alone, and the payee executes it
    const honest: Settlement = { ...claimed, voucher: { ...claimed.voucher!, signature: '0x' + '77'.repeat(64) } }
    expect((await port.approve(honest, keys.payer!)).executed).toBe(false)
    const listed = await port.pending(terms.escrowId, { payer: terms.payer })
    expect(listed.map((p) => p.settlement)).toEqual([claimed])
    expect((await port.approve(listed[0]!.settlement, keys.payee!, { ifApproved: true })).executed).toBe(true)
    // the forged approval is the payer's to cancel, which its sweep does once the escrow settled
    await port.sweep(keys.payer!)
    await expectEmpty(account)
  })

  it('closes with the latest voucher by payee + arbiter; the arbiter key is swept back', async () => {
    const { terms, account } = await openChecked(5n * TAO)
    const arbiterBefore = await freeOf(api, keys.arbiter!.address)
    const from = inclusions.length
    const voucher = { cumulative: 4n * TAO, sequence: 12n, signature: '0x' + '22'.repeat(64) }
    const s: Settlement = {
      escrowId: terms.escrowId, kind: 'voucher', voucher,
      payouts: [{ to: terms.payee, amount: 4n * TAO }, { to: terms.payer, amount: 1n * TAO }]
    }
    await settleChecked(terms, account, s, keys.arbiter!, keys.payee!, async () => {
      // the arbiter's approval went on chain by hash alone: nothing to read back
      expect((await api.query.multisig.multisigs.entries(account)).length).toBe(1)
      expect(await port.pending(terms.escrowId, { payer: terms.payer })).toEqual([])
      return s
    })
    await expectArbiterSwept(terms, arbiterBefore, from)
  })

  it('refunds the payer after expiry by payer + arbiter; the arbiter key is swept back', async () => {
    const { terms, account } = await openChecked(2n * TAO, Date.now() - 1_000)
    const arbiterBefore = await freeOf(api, keys.arbiter!.address)
    const from = inclusions.length
    await settleChecked(terms, account, {
      escrowId: terms.escrowId, kind: 'refund', payouts: [{ to: terms.payer, amount: 2n * TAO }]
    }, keys.arbiter!, keys.payer!)
    await expectArbiterSwept(terms, arbiterBefore, from)
  })

  it('the payer executes a close on a voucher the arbiter co-signed (the payee gone before its own approval); the arbiter key is swept back', async () => {
    // the arbiter refuses a refund beside such a close and names the voucher (escrow-paths test):
    // the payer's approval of the same close is the second and executes it
    const { terms, account } = await openChecked(3n * TAO, Date.now() - 1_000)
    const arbiterBefore = await freeOf(api, keys.arbiter!.address)
    const from = inclusions.length
    await settleChecked(terms, account, {
      escrowId: terms.escrowId, kind: 'voucher', voucher: { cumulative: 2n * TAO, sequence: 9n, signature: '0x' + '55'.repeat(64) },
      payouts: [{ to: terms.payee, amount: 2n * TAO }, { to: terms.payer, amount: 1n * TAO }]
    }, keys.arbiter!, keys.payer!)
    await expectArbiterSwept(terms, arbiterBefore, from)
  })

  it('the arbiter executing second sweeps its key at once', async () => {
    const { terms, account } = await openChecked(2n * TAO)
    const arbiterBefore = await freeOf(api, keys.arbiter!.address)
    const from = inclusions.length
    await settleChecked(terms, account, {
      escrowId: terms.escrowId, kind: 'voucher', voucher: { cumulative: 1n * TAO, sequence: 2n, signature: '0x' + '44'.repeat(64) },
      payouts: [{ to: terms.payee, amount: 1n * TAO }, { to: terms.payer, amount: 1n * TAO }]
    }, keys.payee!, keys.arbiter!)
    expect(inclusions.slice(from).length).toBe(4) // approve, top-up, execute, sweep
    await expectArbiterSwept(terms, arbiterBefore, from)
  })

  it('a payee share below the minimum stake is carried into the refund (alpha) or paid (TAO); nothing is lost', async () => {
    const { terms, account } = await openChecked(1n * TAO)
    const tiny = 1_000_000n
    const { moved, carried } = await settleChecked(terms, account, {
      escrowId: terms.escrowId, kind: 'cooperative', voucher: { cumulative: tiny, sequence: 1n, signature: '0x' + '55'.repeat(64) },
      payouts: [{ to: terms.payee, amount: tiny }, { to: terms.payer, amount: 1n * TAO - tiny }]
    }, keys.payer!, keys.payee!)
    if (alpha) {
      expect(carried).toBe(tiny)
      expect(moved.get(terms.payee) ?? 0n).toBe(0n)
    } else {
      expect(carried).toBe(0n)
      expect(moved.get(terms.payee)).toBe(tiny)
    }
  })

  it('a stale cooperative approval is cancelled by sweep once the escrow settled another way', async () => {
    const { terms, account } = await openChecked(2n * TAO, Date.now() - 1_000)
    // the payer approves a cooperative close nobody executes, then refunds after expiry
    const coop: Settlement = { escrowId: terms.escrowId, kind: 'cooperative', payouts: [{ to: terms.payer, amount: 2n * TAO }] }
    expect((await port.approve(coop, keys.payer!)).executed).toBe(false)
    expect((await api.query.multisig.multisigs.entries(account)).length).toBe(1)
    // asked again (a second `bazaar escrow close`), the payer's approval is found pending: nothing sent
    const again = await port.approve(coop, keys.payer!)
    expect(again).toMatchObject({ executed: false, alreadyApproved: true })
    expect(again.fees ?? []).toEqual([])
    expect((await api.query.multisig.multisigs.entries(account)).length).toBe(1)
    const refund: Settlement = { escrowId: terms.escrowId, kind: 'refund', payouts: [{ to: terms.payer, amount: 2n * TAO }] }
    expect((await port.approve(refund, keys.arbiter!)).executed).toBe(false)
    const r = await port.approve(refund, keys.payer!)
    expect(r.executed).toBe(true)
    // the executor cancelled its own earlier approval (the deposit is back): nothing pending, nothing reserved
    expect(r.fees!.map((f) => f.op)).toEqual(['execute', 'cancel'])
    await port.sweep(keys.arbiter!)
    await expectEmpty(account)
    const payer = (await api.query.system.account(terms.payer)).toJSON() as { data: { reserved: number | string } }
    expect(BigInt(payer.data.reserved)).toBe(0n)
  })

  it('sweeps an approval left on an escrow settled before the blocks it scanned, from the terms a node keeps', async () => {
    const { terms, account } = await openChecked(2n * TAO)
    // the payer approves a cooperative close nobody executes; payee and arbiter then close on a voucher
    const coop: Settlement = { escrowId: terms.escrowId, kind: 'cooperative', payouts: [{ to: terms.payer, amount: 2n * TAO }] }
    expect((await port.approve(coop, keys.payer!)).executed).toBe(false)
    const onVoucher: Settlement = {
      escrowId: terms.escrowId, kind: 'voucher', voucher: { cumulative: 1n * TAO, sequence: 1n, signature: '0x' + '66'.repeat(64) },
      payouts: [{ to: terms.payee, amount: 1n * TAO }, { to: terms.payer, amount: 1n * TAO }]
    }
    expect((await port.approve(onVoucher, keys.payee!)).executed).toBe(false)
    expect((await port.approve(onVoucher, keys.arbiter!)).executed).toBe(true)
    // and an escrow still open, with the payer's approval pending on it
    const open = await openChecked(1n * TAO)
    const openCoop: Settlement = { escrowId: open.terms.escrowId, kind: 'cooperative', payouts: [{ to: open.terms.payer, amount: 1n * TAO }] }
    expect((await port.approve(openCoop, keys.payer!)).executed).toBe(false)
    // a process started after all that (a restarted daemon) has not scanned those blocks
    const head = (await api.rpc.chain.getHeader()).number.toNumber()
    const later = await createSubtensorChain({ url: chain.url, netuid, hotkey, fromBlock: head + 1 })
    try {
      expect(await later.sweep(keys.payer!)).toEqual([])
      expect((await api.query.multisig.multisigs.entries(account)).length).toBe(1)
      // from the terms in the node's database: the settled escrow's approval goes, the open one's stays
      const reported: string[] = []
      const fees = await later.sweep(keys.payer!, { known: [terms, open.terms], onSwept: (id) => { reported.push(id) } })
      expect(fees.map((f) => f.op)).toEqual(['cancel'])
      // the settled one is reported as left with nothing behind, the open one is not
      expect(reported).toEqual([terms.escrowId])
      await expectEmpty(account)
      expect((await api.query.multisig.multisigs.entries(open.account)).length).toBe(1)
      expect(await held(open.account) >= 1n * TAO).toBe(true)
    } finally {
      await later.close()
    }
    // the payee's approval closes the open escrow, so nothing stays behind for the tests after
    expect((await port.approve(openCoop, keys.payee!)).executed).toBe(true)
    await expectEmpty(open.account)
  })

  it('a restarted daemon finds an escrow opened before the blocks it reads only from chain.scanFromBlock, and settles it from there', async () => {
    const { terms, account } = await openChecked(1n * TAO)
    const opened = (await port.get(terms.escrowId))!.records[0]!.blockNumber
    // what a restart with its window past the open block sees: no escrow
    const late = await createSubtensorChain({ url: chain.url, netuid, hotkey, fromBlock: opened + 1 })
    try {
      expect(await late.get(terms.escrowId)).toBeUndefined()
    } finally {
      await late.close()
    }
    // chain.scanFromBlock at the open block: found open and funded, and its close goes through
    const from = await createSubtensorChain({ url: chain.url, netuid, hotkey, fromBlock: opened })
    try {
      expect(await from.get(terms.escrowId)).toMatchObject({ status: 'open', account })
      const s: Settlement = { escrowId: terms.escrowId, kind: 'cooperative', payouts: [{ to: terms.payer, amount: 1n * TAO }] }
      expect((await from.approve(s, keys.payer!)).executed).toBe(false)
      expect((await port.approve(s, keys.payee!)).executed).toBe(true)
      expect((await from.get(terms.escrowId))?.status).toBe('closed')
    } finally {
      await from.close()
    }
    await expectEmpty(account)
  })

  it('an escrow someone else opened first under the same (public) id hides nothing: each is found by its payer and settles on its own', async () => {
    const copier = keys.validator!
    if (alpha) await signAndWait(api.tx.subtensorModule.addStake(hotkey, netuid, 50n * TAO), copier)
    const terms = newTerms(1n * TAO)
    // the id is public once the renter's open is submitted: a copy with another payer lands first
    const copy: EscrowTermsOnChain = { ...terms, payer: copier.address }
    await port.open(copy, copier)
    const opened = await port.open(terms, keys.payer!)
    const account = escrowSignatories(terms).account
    expect(opened.account).toBe(account)
    expect(await held(account) >= terms.amount).toBe(true)
    // a restarted daemon, scanning both opens, tells them apart by payer
    const head = (await api.rpc.chain.getHeader()).number.toNumber()
    const later = await createSubtensorChain({ url: chain.url, netuid, hotkey, fromBlock: head - 5 })
    try {
      expect((await later.get(terms.escrowId, { payer: terms.payer }))?.account).toBe(account)
      expect((await later.get(terms.escrowId, { payer: copy.payer }))?.account).toBe(escrowSignatories(copy).account)
    } finally {
      await later.close()
    }
    // the renter's escrow settles: the payee's approval, naming no payer, finds it by its payouts
    const s: Settlement = { escrowId: terms.escrowId, kind: 'cooperative', payouts: [{ to: terms.payer, amount: terms.amount }] }
    expect((await port.approve(s, keys.payer!, { payer: terms.payer })).executed).toBe(false)
    expect((await port.approve(s, keys.payee!)).executed).toBe(true)
    expect((await port.get(terms.escrowId, { payer: terms.payer }))?.status).toBe('closed')
    expect((await port.get(terms.escrowId, { payer: copy.payer }))?.status).toBe('open')
    await expectEmpty(account)
    // and the copy settles on its own, so nothing stays behind
    const back: Settlement = { escrowId: copy.escrowId, kind: 'cooperative', payouts: [{ to: copy.payer, amount: copy.amount }] }
    expect((await port.approve(back, copier, { payer: copy.payer })).executed).toBe(false)
    expect((await port.approve(back, keys.payee!, { payer: copy.payer })).executed).toBe(true)
    await expectEmpty(escrowSignatories(copy).account)
  })

  it('refuses a second close, in the adapter and on chain', async () => {
    const { terms, account } = await openChecked(3n * TAO)
    const s: Settlement = { escrowId: terms.escrowId, kind: 'cooperative', payouts: [{ to: terms.payee, amount: 1n * TAO }, { to: terms.payer, amount: 2n * TAO }] }
    await port.approve(s, keys.payer!)
    expect((await port.approve(s, keys.payee!)).executed).toBe(true)
    const again: Settlement = { escrowId: terms.escrowId, kind: 'voucher', payouts: [{ to: terms.payee, amount: 3n * TAO }] }
    await expect(port.approve(again, keys.payee!)).rejects.toMatchObject({ code: 'ESCROW_NOT_OPEN' })
    // Around the adapter: payee and payer approve a second payout batch directly; the chain runs it
    // and it fails inside (the account is empty): no transfer, no second record.
    const sigs = escrowSignatories(terms)
    const payout = alpha
      ? api.tx.subtensorModule.transferStake(terms.payee, hotkey!, netuid, netuid, 3n * TAO)
      : api.tx.balances.transferAllowDeath(terms.payee, 3n * TAO)
    const call = api.tx.utility.batchAll([payout, api.tx.system.remarkWithEvent('bazaar-escrow-v1:' + JSON.stringify({ v: 1, kind: 'close', escrowId: terms.escrowId, settlement: 'voucher', payouts: [] }))])
    const weight = (await call.paymentInfo(sigs.account)).weight
    const others = (me: string): string[] => [sigs.payer, sigs.payee, sigs.arbiter].filter((a) => a !== me)
      .sort((a, b) => Buffer.compare(Buffer.from(api.createType('AccountId32', a).toU8a()), Buffer.from(api.createType('AccountId32', b).toU8a())))
    await signAndWait(api.tx.multisig.approveAsMulti(2, others(sigs.payee), null, call.method.hash, weight), keys.payee!)
    const pending = (await api.query.multisig.multisigs(sigs.account, call.method.hash)) as any
    const events = await signAndWait(api.tx.multisig.asMulti(2, others(sigs.payer), pending.unwrap().when, call, weight), keys.payer!)
    const executed = events.find((e) => e.event.section === 'multisig' && e.event.method === 'MultisigExecuted')
    expect(executed).toBeDefined()
    expect((executed!.event.data as any).result.isErr).toBe(true)
    expect(events.some((e) => e.event.section === 'system' && e.event.method === 'Remarked')).toBe(false)
    await expectEmpty(account)
    expect((await port.get(terms.escrowId))?.records.length).toBe(2)
  })

  it('keeps concurrent escrows between the same parties in separate accounts', async () => {
    const a = await openChecked(1n * TAO)
    const b = await openChecked(2n * TAO)
    expect(a.account).not.toBe(b.account)
    await port.approve({ escrowId: a.terms.escrowId, kind: 'refund', payouts: [{ to: a.terms.payer, amount: 1n * TAO }] }, keys.payer!)
    await port.approve({ escrowId: a.terms.escrowId, kind: 'refund', payouts: [{ to: a.terms.payer, amount: 1n * TAO }] }, keys.arbiter!)
    await expectEmpty(a.account)
    expect(await held(b.account) >= 2n * TAO).toBe(true)
    expect((await port.get(b.terms.escrowId))?.status).toBe('open')
  })

  it('lands three escrows one payer opens at the same moment, each funded, with no failed extrinsic', async () => {
    // one signer, three transactions signed at once: each needs a nonce of its own
    const head0 = (await api.rpc.chain.getHeader()).number.toNumber()
    const amounts = [1n * TAO, 2n * TAO, 3n * TAO]
    const terms = amounts.map((a) => newTerms(a))
    const opened = await Promise.all(terms.map(async (t) => await port.open(t, keys.payer!)))
    for (const [i, esc] of opened.entries()) {
      expect(esc.status).toBe('open')
      expect(esc.account).toBe(escrowSignatories(terms[i]!).account)
      // the chain's own state: each escrow account holds its amount (alpha: at least it)
      if (alpha) expect(await held(esc.account) >= amounts[i]!).toBe(true)
      else expect(await held(esc.account)).toBe(amounts[i])
    }
    await expectNoFailedExtrinsic(head0, (await api.rpc.chain.getHeader()).number.toNumber())
  })

  it('lands two escrows opened at the same moment by two processes signing with one key', async () => {
    // a second adapter, as a second daemon on the same hotkey: both read the same next nonce, and
    // the one whose transaction loses it signs again with a fresh one (NONCE_USED, retried)
    const other = await createSubtensorChain({ url: chain.url, netuid, hotkey })
    try {
      const head0 = (await api.rpc.chain.getHeader()).number.toNumber()
      const terms = [newTerms(1n * TAO), newTerms(2n * TAO)]
      const opened = await Promise.all([port.open(terms[0]!, keys.payer!), other.open(terms[1]!, keys.payer!)])
      for (const [i, esc] of opened.entries()) {
        expect(esc.status).toBe('open')
        const amount = terms[i]!.amount
        if (alpha) expect(await held(esc.account) >= amount).toBe(true)
        else expect(await held(esc.account)).toBe(amount)
      }
      await expectNoFailedExtrinsic(head0, (await api.rpc.chain.getHeader()).number.toNumber())
    } finally {
      await other.close()
    }
  })

  it('refuses a settlement that pays a stranger or more than the escrow', async () => {
    const { terms } = await openChecked(1n * TAO)
    await expect(port.approve({ escrowId: terms.escrowId, kind: 'cooperative', payouts: [{ to: keys.validator!.address, amount: 1n }] }, keys.payer!)).rejects.toMatchObject({ code: 'SETTLEMENT_INVALID' })
    await expect(port.approve({ escrowId: terms.escrowId, kind: 'cooperative', payouts: [{ to: terms.payee, amount: 2n * TAO }] }, keys.payer!)).rejects.toMatchObject({ code: 'SETTLEMENT_INVALID' })
    await expect(port.approve({ escrowId: terms.escrowId, kind: 'cooperative', payouts: [] }, keys.validator!)).rejects.toMatchObject({ code: 'NOT_A_PARTY' })
    await expect(port.open(terms, keys.payer!)).rejects.toMatchObject({ code: 'ESCROW_EXISTS' })
    expect(SubtensorError).toBeDefined()
  })

  it('waits out an extrinsic over a link slower than the gap chopsticks leaves between InBlock and Finalized', async () => {
    // Chopsticks reports Finalized 100 ms after InBlock, and polkadot-js drops its InBlock report
    // when the next status arrives before it has read the block's events: over this link only
    // Finalized reaches the caller, as on a loaded machine. Both waits must still end. The events
    // take at least one 400 ms round trip, which leaves chopsticks' timer 300 ms to be late.
    const targetPort = Number(new URL(chain.url).port)
    const relay = new CuttableRelay(RELAY_HERE + 1, targetPort, 400)
    await relay.start()
    const slow = await connectApi(relay.url)
    try {
      const statuses: string[] = []
      await new Promise<void>((resolve, reject) => {
        slow.tx.system.remark('0x01').signAndSend(keys.validator!, ({ status }) => {
          statuses.push(status.type)
          if (status.isFinalized) resolve()
          else if (status.isInvalid || status.isDropped || status.isUsurped) reject(new Error(`extrinsic ${String(status.type)}`))
        }).catch(reject)
      })
      // the condition this test stands on: InBlock never came through
      expect(statuses).not.toContain('InBlock')
      const events = await signAndWait(slow.tx.system.remark('0x02'), keys.validator!)
      expect(events.some((e) => e.event.section === 'system' && e.event.method === 'ExtrinsicSuccess')).toBe(true)
      // the product's own wait (`bazaar wallet stake` and the chain provisioning)
      await sendInBlock(slow, slow.tx.system.remark('0x03'), keys.validator!)
    } finally {
      await slow.disconnect()
      await relay.stop()
    }
  })

  it('lists the hotkeys holding a UID on the subnet: one burnedRegister just registered, not a fresh key', async () => {
    const { registered, stranger } = await freshKeys(['registered', 'stranger'])
    // a real registration, paid by a funded coldkey: both specs' subnet 1 allows it as they are
    const events = await signAndWait(api.tx.subtensorModule.burnedRegister(netuid, registered!.address), keys.validator!)
    expect(events.some((e) => e.event.section === 'subtensorModule' && e.event.method === 'NeuronRegistered')).toBe(true)
    // the chain's own state: the hotkey holds a UID, and that UID's key is the hotkey
    const uid = await api.query.subtensorModule.uids(netuid, registered!.address) as Option<u16>
    expect(uid.isSome).toBe(true)
    expect(sameAccount((await api.query.subtensorModule.keys(netuid, uid.unwrap())).toString(), registered!.address)).toBe(true)
    const entries = await api.query.subtensorModule.keys.entries(netuid)
    const listed = await port.registeredHotkeys(netuid)
    expect(listed.has(u8aToHex(registered!.publicKey, undefined, false))).toBe(true)
    expect(listed.has(u8aToHex(stranger!.publicKey, undefined, false))).toBe(false)
    expect(listed.size).toBe(entries.length)
  })

  it('drops a websocket whose node stopped answering (its health watch) and carries a read in flight over to a fresh one', async () => {
    const targetPort = Number(new URL(chain.url).port)
    const relay = new CuttableRelay(RELAY_HERE + 2, targetPort)
    await relay.start()
    const viaRelay = await createSubtensorChain({ url: relay.url, netuid, hotkey })
    const events: ChainConnectionEvent[] = []
    viaRelay.onConnection((e) => { events.push(e) })
    try {
      const expected = await port.balance(keys.payer!.address)
      const accepted = relay.accepted
      relay.silence()
      // without the watch this read would fail with CHAIN_TIMEOUT (READ_TIMEOUT_MS, 30 s): the
      // watch drops the socket within 25 s, and the read is made again on the new one
      expect(await viaRelay.balance(keys.payer!.address)).toBe(expected)
      expect(events[0]).toEqual({ kind: 'lost', unresponsive: true })
      expect(relay.accepted).toBe(accepted + 1)
    } finally {
      await viaRelay.close()
      await relay.stop()
    }
  })

  it('goes round its fallback endpoints: past one refusing at connect, from a node that hung to the next, and from one that went away on to the one after', async () => {
    const targetPort = Number(new URL(chain.url).port)
    const dead = new CuttableRelay(SPARE_HERE + 0, targetPort)
    const a = new CuttableRelay(SPARE_HERE + 1, targetPort)
    const b = new CuttableRelay(SPARE_HERE + 2, targetPort)
    for (const r of [dead, a, b]) await r.start()
    await dead.cut()
    // none answering: one error naming each
    const none = `ws://127.0.0.1:${SPARE_HERE + 4}`
    await expect(createSubtensorChain({ url: dead.url, fallbacks: [none], netuid, hotkey }))
      .rejects.toMatchObject({ code: 'CHAIN_UNAVAILABLE', message: `cannot connect to any of ${dead.url} (no connection), ${none} (no connection)` })
    const viaRelays = await createSubtensorChain({ url: dead.url, fallbacks: [a.url, b.url], netuid, hotkey })
    const events: ChainConnectionEvent[] = []
    const restoredAt = (url: string): Promise<void> => new Promise((resolve) => { viaRelays.onConnection((e) => { if (e.kind === 'restored' && e.endpoint === url) resolve() }) })
    viaRelays.onConnection((e) => { events.push(e) })
    try {
      expect(dead.refusals).toBeGreaterThanOrEqual(1)
      expect(viaRelays.endpoint).toBe(a.url)
      const expected = await port.balance(keys.payer!.address)
      expect(await viaRelays.balance(keys.payer!.address)).toBe(expected)
      // a hangs: its socket carries nothing and new ones are refused. The health watch drops it
      // within 25 s, the read in flight is made again on a socket to b, and b serves the same chain
      const acceptedB = b.accepted
      const onB = restoredAt(b.url)
      a.hang()
      expect(await viaRelays.balance(keys.payer!.address)).toBe(expected)
      await onB
      expect(events.slice(0, 2)).toEqual([{ kind: 'lost', unresponsive: true, endpoint: a.url }, { kind: 'restored', endpoint: b.url }])
      expect(b.accepted).toBe(acceptedB + 1)
      expect(viaRelays.endpoint).toBe(b.url)
      expect(viaRelays.connected()).toBe(true)
      // b goes away (its socket closed, new ones refused) while a answers again: the provider's own
      // reconnects go on from b, to dead (refused), then to a
      await a.start()
      const onA = restoredAt(a.url)
      const refusedDead = dead.refusals
      await b.cut()
      await onA
      expect(dead.refusals).toBeGreaterThan(refusedDead)
      expect(events.slice(2)).toEqual([{ kind: 'lost', endpoint: b.url }, { kind: 'restored', endpoint: a.url }])
      expect(await viaRelays.balance(keys.payer!.address)).toBe(expected)
    } finally {
      await viaRelays.close()
      for (const r of [dead, a, b]) await r.stop()
    }
  })

  it('bazaar\'s chain commands go on to chain.fallbackEndpoints where chain.endpoint does not answer, and name every one they tried when none does', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'bazaar-fallback-'))
    const dead = new CuttableRelay(SPARE_HERE + 3, Number(new URL(chain.url).port))
    await dead.start()
    await dead.cut()
    try {
      const api = await connectChain({ home, env: { BAZAAR_CHAIN_ENDPOINT: dead.url, BAZAAR_CHAIN_FALLBACK: chain.url } })
      try {
        expect(api.genesisHash.toHex()).toBe(port.api.genesisHash.toHex())
      } finally {
        await api.disconnect()
      }
      expect(dead.refusals).toBeGreaterThanOrEqual(1)
      await expect(connectChain({ home, env: { BAZAAR_CHAIN_ENDPOINT: dead.url, BAZAAR_CHAIN_FALLBACK: `ws://127.0.0.1:${SPARE_HERE + 4}` } }))
        .rejects.toMatchObject({ code: 'NO_CHAIN', message: `cannot reach the chain at any of ${dead.url}, ws://127.0.0.1:${SPARE_HERE + 4}` })
    } finally {
      await dead.stop()
      await rm(home, { recursive: true, force: true })
    }
  })

  it('a daemon checks its fallback endpoints at start: one serving another chain is refused in one line, one not answering is a warning', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'bazaar-fallback-'))
    const relay = new CuttableRelay(SPARE_HERE + 5, Number(new URL(chain.url).port))
    await relay.start()
    const otherChain = await rpcServer((m) => m === 'chain_getBlockHash' ? '0x' + '77'.repeat(32) : undefined)
    const none = `ws://127.0.0.1:${SPARE_HERE + 6}`
    const configWith = async (fallbacks: string[]): Promise<BazaarConfig> => await loadConfig({ home, env: { BAZAAR_CHAIN_ENDPOINT: chain.url, BAZAAR_CHAIN_FALLBACK: fallbacks.join(','), BAZAAR_NETUID: String(netuid) } })
    try {
      const genesis = port.api.genesisHash.toHex()
      await expect(openChain(await configWith([relay.url, otherChain.url]), home, keys.payer!.address, silentLogger))
        .rejects.toMatchObject({ code: 'CHAIN_MISMATCH', message: `chain.fallbackEndpoints: ${otherChain.url} (genesis 0x${'77'.repeat(32)}) serves another chain than ${chain.url} (genesis ${genesis}); list nodes of one chain` })
      expect(otherChain.asked).toEqual(['chain_getBlockHash', 'chain_getBlockHash'])
      // a chain from the same spec: chopsticks serves it under the same block 0, and its block 1 differs
      const ours = (await api.rpc.chain.getBlockHash(1)).toHex()
      const sameSpec = await rpcServer((m, p) => m === 'chain_getBlockHash' ? (p[0] === 0 ? genesis : '0x' + '12'.repeat(32)) : undefined)
      try {
        await expect(openChain(await configWith([sameSpec.url]), home, keys.payer!.address, silentLogger))
          .rejects.toMatchObject({ code: 'CHAIN_MISMATCH', message: `chain.fallbackEndpoints: ${sameSpec.url} (block #1 0x${'12'.repeat(32)}) serves another chain than ${chain.url} (block #1 ${ours}); list nodes of one chain` })
      } finally {
        await sameSpec.close()
      }
      const { logger, records } = recordingLogger((r) => r.level === 'warn')
      const accepted = relay.accepted
      const opened = await openChain(await configWith([relay.url, none]), home, keys.payer!.address, logger)
      try {
        expect(opened.endpoint).toBe(chain.url)
        // the relay was asked once, on a socket of its own
        expect(relay.accepted).toBe(accepted + 1)
        expect(records.filter((r) => r.msg.startsWith('chain: an endpoint did not answer at start')).map((r) => r.fields.endpoint)).toEqual([none])
      } finally {
        await opened.close()
      }
    } finally {
      await otherChain.close()
      await relay.stop()
      await rm(home, { recursive: true, force: true })
    }
  })

  it('finds an escrow opened before its window once told to read from its open block (scanFrom), before its first scan (catchUp reads from there) or after it', async () => {
    const { terms, account } = await openChecked(1n * TAO)
    const openBlock = (await port.get(terms.escrowId))!.records[0]!.blockNumber
    // a restart whose window starts after the open block, told to read from it before its first scan
    // `before` is the escrow's arbiter's (its catch-up reports the escrow); `after` a node it does not name
    const before = await createSubtensorChain({ url: chain.url, netuid, hotkey, fromBlock: openBlock + 1, party: keys.arbiter!.address })
    const after = await createSubtensorChain({ url: chain.url, netuid, hotkey, fromBlock: openBlock + 1, party: keys.validator!.address })
    try {
      expect(await after.get(terms.escrowId)).toBeUndefined()
      before.scanFrom(openBlock)
      // the first read, as a daemon's chain follower makes it at start: from the open block to the head
      const head = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber()
      const caught = await before.catchUp()
      expect(caught.from).toBe(openBlock)
      expect(caught.head).toBeGreaterThanOrEqual(head)
      expect(caught.blocks).toBe(caught.head - openBlock + 1)
      // the escrow naming its party, with its open record, once
      expect(caught.opened?.map((o) => [o.terms.escrowId, o.terms.payer, o.records.map((r) => `${r.kind} ${r.blockNumber}`)])).toEqual([[terms.escrowId, terms.payer, [`open ${openBlock}`]]])
      // nothing new: nothing read
      const again = await before.catchUp()
      expect(again.blocks).toBe(again.head - caught.head)
      expect(again.opened).toBeUndefined()
      const found = await before.get(terms.escrowId)
      expect(found).toMatchObject({ status: 'open', account })
      expect(found?.records[0]?.blockNumber).toBe(openBlock)
      // after a first scan: the blocks from there are read again
      after.scanFrom(openBlock)
      expect((await after.get(terms.escrowId))?.status).toBe('open')
      // read, and not reported to a node it does not name
      expect((await after.catchUp()).opened).toBeUndefined()
      // and it settles from there
      const s: Settlement = { escrowId: terms.escrowId, kind: 'cooperative', payouts: [{ to: terms.payer, amount: 1n * TAO }] }
      expect((await before.approve(s, keys.payer!)).executed).toBe(false)
      expect((await port.approve(s, keys.payee!)).executed).toBe(true)
      expect((await after.get(terms.escrowId))?.status).toBe('closed')
    } finally {
      await before.close()
      await after.close()
    }
    await expectEmpty(account)
  })

  it('on a node that prunes state: an escrow read while its block was recent settles once that block is pruned, and a first read passes over the blocks pruned and says which', async () => {
    const e1 = await openChecked(1n * TAO)
    const o = (await port.get(e1.terms.escrowId))!.records[0]!.blockNumber
    const lite = await pruningApi(chain.url)
    const liteChain = await createSubtensorChain({ api: lite.api, netuid, hotkey })
    let fresh: Awaited<ReturnType<typeof pruningApi>> | undefined
    let freshChain: SubtensorChain | undefined
    try {
      // the daemon's chain follower reads the blocks as they come: the open's among them
      const caught = await liteChain.catchUp()
      expect(caught.skipped).toBeUndefined()
      expect(caught.head).toBeGreaterThanOrEqual(o)
      const e2 = await openChecked(1n * TAO)
      const e3 = await openChecked(1n * TAO)
      const o3 = (await port.get(e3.terms.escrowId))!.records[0]!.blockNumber
      expect(o3).toBeGreaterThanOrEqual(o + 2)
      // the node then prunes the state of every block up to the first open's (as a lite node does
      // 256 blocks on)
      const pruned: string[] = []
      for (let n = 1; n <= o; n++) pruned.push((await api.rpc.chain.getBlockHash(n)).toHex())
      for (const hash of pruned) lite.provider.pruned.add(hash)
      // the escrow still settles: its open state was read with its block
      const s: Settlement = { escrowId: e1.terms.escrowId, kind: 'cooperative', payouts: [{ to: e1.terms.payer, amount: 1n * TAO }] }
      expect((await liteChain.approve(s, keys.payer!)).executed).toBe(false)
      expect((await port.approve(s, keys.payee!)).executed).toBe(true)
      await expectEmpty(e1.account)
      // a daemon started on that node: the blocks it cannot read are passed over, and said. A
      // block's reads need its parent's state too (its runtime), so block o + 1 goes with them
      fresh = await pruningApi(chain.url, pruned)
      freshChain = await createSubtensorChain({ api: fresh.api, netuid, hotkey })
      // (here an escrow read makes the first read; the next catch-up tells what it passed over)
      expect(await freshChain.get(e1.terms.escrowId)).toBeUndefined()
      const first = await freshChain.catchUp()
      expect(first.skipped).toEqual([{ from: 1, to: o + 1 }])
      // told once: the next read has nothing to tell
      expect((await freshChain.catchUp()).skipped).toBeUndefined()
      expect(await freshChain.get(e2.terms.escrowId)).toBeUndefined()
      expect((await freshChain.get(e3.terms.escrowId))?.status).toBe('open')
      // the escrows left open are refunded
      for (const e of [e2, e3]) {
        const refund: Settlement = { escrowId: e.terms.escrowId, kind: 'cooperative', payouts: [{ to: e.terms.payer, amount: 1n * TAO }] }
        expect((await port.approve(refund, keys.payer!)).executed).toBe(false)
        expect((await port.approve(refund, keys.payee!)).executed).toBe(true)
        await expectEmpty(e.account)
      }
    } finally {
      await liteChain.close()
      await freshChain?.close()
      await lite.api.disconnect()
      await fresh?.api.disconnect()
    }
  })

  it('survives a dropped websocket: an open started while the socket is down lands once', async () => {
    const targetPort = Number(new URL(chain.url).port)
    const relay = new CuttableRelay(RELAY_HERE, targetPort)
    await relay.start()
    const viaRelay = await createSubtensorChain({ url: relay.url, netuid, hotkey })
    const events: string[] = []
    viaRelay.onConnection((e) => { events.push(e.kind) })
    const restored = new Promise<void>((resolve) => { viaRelay.onConnection((e) => { if (e.kind === 'restored') resolve() }) })
    try {
      expect(viaRelay.connected()).toBe(true)
      const terms = newTerms(1n * TAO)
      await relay.cut()
      const opening = viaRelay.open(terms, keys.payer!)
      // the open is pending while the adapter's reconnect is refused at least once
      await relay.refused(relay.refusals + 1)
      expect(viaRelay.connected()).toBe(false)
      await relay.start()
      // the same chain answers at the endpoint again (its block 0 read after the reconnect)
      await restored
      expect(events).toEqual(['lost', 'restored'])
      expect(viaRelay.connected()).toBe(true)
      const esc = await opening
      expect(esc.status).toBe('open')
      expect(await held(esc.account) >= 1n * TAO).toBe(true)
      // exactly one open record for this id in the blocks since
      const head = (await api.rpc.chain.getHeader()).number.toNumber()
      let opens = 0
      for (let n = Math.max(1, esc.records[0]!.blockNumber - 3); n <= head; n++) {
        const rs = await remarksInBlock(api, (await api.rpc.chain.getBlockHash(n)).toHex())
        opens += rs.filter((r) => decodeRecord(r.remark)?.escrowId === terms.escrowId).length
      }
      expect(opens).toBe(1)
      // and reads go on working after a second drop
      await relay.cut()
      await relay.start()
      expect((await viaRelay.get(terms.escrowId))?.status).toBe('open')
    } finally {
      await viaRelay.close()
      await relay.stop()
    }
  })
})
