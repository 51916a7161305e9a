/**
 * `bazaar wallet balance` and `bazaar wallet stake` against a real Bittensor runtime under
 * chopsticks (see harness.ts and DEVELOPERS.md). The figures the commands print are checked against
 * the test's own storage queries (System.Account; Alpha, TotalHotkeyAlpha and TotalHotkeyShares;
 * SubnetTAO and SubnetAlphaIn).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import { u8aToHex } from '@polkadot/util'
import { mnemonicGenerate } from '@polkadot/util-crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { initHome } from '../../src/node/keystore/index.js'
import { deriveAccounts, type Accounts } from '../../src/node/keystore/accounts.js'
import { planWithdraw, withdraw } from '../../src/node/wallet/fund.js'
import { submitAndWait } from '../../src/escrow/chain/subtensor/index.js'
import { CHAIN_TARGETS, HAVE_CHAIN, alphaOf, connectApi, freeOf, fund, skipNote, startTestChain, step, type ChainTarget, type TestChain } from './harness.js'

const PORT = 19_971
const TAO = 1_000_000_000n
const netuid = 1

skipNote('wallet balance, stake and fund on chain')

/** Fresh accounts from a new mnemonic. */
async function initAccounts (): Promise<Accounts> {
  return await deriveAccounts({ kind: 'mnemonic', mnemonic: mnemonicGenerate(12) })
}

async function run (argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number, out: string[], err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env })
  return { code, out, err }
}

describe.skipIf(!HAVE_CHAIN).each((HAVE_CHAIN ? CHAIN_TARGETS : [{ name: 'no chain' }]).map((t, i) => ({ ...t, i })))('bazaar wallet balance and stake on $name', (target: ChainTarget & { i: number }) => {
  let chain: TestChain
  let api: ApiPromise
  let tmp: string
  let home: string
  let coldkey: string
  let hotkey: string
  /** the home's mnemonic: the test signs with its hotkey as a daemon of the home would */
  let mnemonic = ''
  let alphaRuntime = false
  /** the subnet owner's hotkey the fund tests give subnet 1: escrows' alpha is staked under it */
  let escrowHotkey = ''
  /** escrows hold alpha (the runtime has transferStake), not TAO */
  const alphaTransfers = (): boolean => api.tx.subtensorModule?.transferStake != null
  /** the keys as the chain holds them: free TAO of both, and the hotkey account's escrow alpha */
  const holdings = async (): Promise<{ cold: bigint, hot: bigint, held: bigint }> => ({
    cold: await freeOf(api, coldkey), hot: await freeOf(api, hotkey), held: alphaTransfers() ? await alphaOf(api, escrowHotkey, hotkey, netuid) : 0n
  })
  /** a wallet command signed without the question, which must succeed; its JSON */
  const signed = async (argv: string[]): Promise<Record<string, string>> => {
    const r = await run(['wallet', ...argv, '--home', home, '--yes', '--json'], env)
    expect(r.err.filter((l) => l.startsWith('bazaar'))).toEqual([])
    expect(r.code).toBe(0)
    return JSON.parse(r.out[0])
  }
  const env = { BAZAAR_PASSPHRASE: 'chain test' }

  beforeAll(async () => {
    chain = await step('start chopsticks', 200_000, undefined, async (signal) => await startTestChain(target, PORT + 10 * target.i, signal))
    api = await step('connect @polkadot/api', 30_000, chain, async () => await connectApi(chain.url))
    tmp = await mkdtemp(path.join(os.tmpdir(), 'bazaar-wallet-chain-'))
    home = path.join(tmp, 'home')
    // fresh keys per run; the node is configured for the chain through its config file
    const r = await initHome({
      home, passphrase: env.BAZAAR_PASSPHRASE, mnemonic: (mnemonic = mnemonicGenerate(12)), scrypt: { N: 1024, r: 8, p: 1 },
      config: { chain: { adapter: 'subtensor', endpoint: chain.url, netuid } }
    })
    coldkey = r.coldkey
    hotkey = r.hotkey
    escrowHotkey = (await initAccounts()).hotkey.address
    await step('fund the keys', 30_000, chain, async () => {
      await fund(api, [coldkey], 5_000n * TAO)
      await fund(api, [hotkey], 3n * TAO)
    })
    alphaRuntime = api.query.subtensorModule?.alpha != null && api.tx.subtensorModule?.addStake != null
    if (alphaRuntime) {
      // the node's hotkey known to the chain and subnet 1's token enabled with a deep pool, set as
      // chain state (the spec's subnet 1 has no hotkeys and its token is not started)
      await step('set the subnet', 30_000, chain, async () => await api.rpc('dev_setStorage' as never, {
        SubtensorModule: {
          Owner: [[[hotkey], coldkey]],
          ...(api.query.subtensorModule.subtokenEnabled != null ? { SubtokenEnabled: [[[netuid], true]] } : {}),
          SubnetAlphaIn: [[[netuid], (100_000_000n * TAO).toString()]],
          SubnetTAO: [[[netuid], (100_000_000n * TAO).toString()]]
        }
      } as never))
    }
  }, 300_000)

  afterAll(async () => {
    await api?.disconnect()
    await chain?.stop()
    if (tmp != null) await rm(tmp, { recursive: true, force: true })
  })

  it('shows free TAO of both keys as the chain stores them', async () => {
    const r = await run(['wallet', 'balance', '--home', home, '--json'], env)
    expect(r.err).toEqual([])
    expect(r.code).toBe(0)
    const b = JSON.parse(r.out[0])
    expect(b.coldkey).toEqual({ address: coldkey, free: (await freeOf(api, coldkey)).toString() })
    expect(b.hotkey).toEqual({ address: hotkey, free: (await freeOf(api, hotkey)).toString() })
    expect(b.stakes).toEqual([])

    const text = await run(['wallet', 'balance', '--home', home], env)
    expect(text.out[0]).toBe(`coldkey  ${coldkey}  free 5000 τ`)
    expect(text.out[1]).toBe(`hotkey   ${hotkey}  free 3 τ`)
    const raw = await run(['wallet', 'balance', '--home', home, '--raw'], env)
    expect(raw.out[0]).toBe(`coldkey  ${coldkey}  free ${5_000n * TAO} rao τ`)
  })

  it('buys alpha: quoted first, refused without a terminal or --yes, then alpha appears at the hotkey', async (ctx) => {
    if (!alphaRuntime) {
      const r = await run(['wallet', 'stake', '--home', home, '--netuid', String(netuid), '--amount', '1', '--yes'], env)
      expect(r.code).toBe(1)
      console.log(`[chain] runtime ${api.runtimeVersion.specVersion.toNumber()}: ${r.err.at(-1) ?? ''}`)
      ctx.skip()
      return
    }
    // without --yes and without a terminal nothing is signed
    const freeBefore = await freeOf(api, coldkey)
    const declined = await run(['wallet', 'stake', '--home', home, '--netuid', String(netuid), '--amount', '100τ'], env)
    expect(declined.code).toBe(1)
    expect(declined.err.some((l) => l.includes('pool price'))).toBe(true)
    expect(declined.err.at(-1)).toMatch(/nothing was signed/)
    expect(await freeOf(api, coldkey)).toBe(freeBefore)
    expect(await alphaOf(api, hotkey, coldkey, netuid)).toBe(0n)

    const r = await run(['wallet', 'stake', '--home', home, '--netuid', String(netuid), '--amount', '100τ', '--yes', '--json'], env)
    expect(r.code).toBe(0)
    const s = JSON.parse(r.out[0])
    const onChain = await alphaOf(api, hotkey, coldkey, netuid)
    expect(onChain).toBeGreaterThan(0n)
    expect(s.alphaTotal).toBe(onChain.toString())
    expect(s.alpha).toBe(onChain.toString())
    // the quote: price as the pool's reserves gave it before the swap, and an estimate within the fee
    expect(s.price).toBe(TAO.toString())
    // The estimate is comparable only if the pool that swapped is the pool the quote read: the
    // TAO reserve is then the test's 10^8 TAO plus the stake. On runtime 218 under chopsticks the
    // block's hooks rewrite the hand-set reserves before the swap (seen: SubnetTAO 10^17 rao down
    // to about 5 * 10^11), so there the quote cannot be checked against the outcome.
    const poolAfter = BigInt((await api.query.subtensorModule.subnetTAO(netuid)).toString())
    const samePool = poolAfter >= 100_000_000n * TAO && poolAfter <= 100_000_000n * TAO + 100n * TAO
    const expected = BigInt(s.expectedAlpha)
    const diff = expected > onChain ? expected - onChain : onChain - expected
    if (samePool) expect(diff * 1000n).toBeLessThan(onChain)
    else console.log(`[chain] runtime ${api.runtimeVersion.specVersion.toNumber()}: pool reserve moved by the runtime before the swap (SubnetTAO now ${poolAfter}); quoted ${expected} alpha rao, got ${onChain}`)
    // the coldkey paid the amount and the transaction fee
    expect(await freeOf(api, coldkey)).toBe(freeBefore - 100n * TAO - BigInt(s.txFee))

    // balance shows the same alpha, valued at the pool's price now
    const b = JSON.parse((await run(['wallet', 'balance', '--home', home, '--netuid', String(netuid), '--json'], env)).out[0])
    expect(b.stakes).toHaveLength(1)
    const st = b.stakes[0]
    expect(st).toMatchObject({ netuid, hotkey, alpha: onChain.toString() })
    const [taoIn, alphaIn] = await Promise.all([api.query.subtensorModule.subnetTAO(netuid), api.query.subtensorModule.subnetAlphaIn(netuid)])
    const poolPrice = BigInt(taoIn.toString()) * TAO / BigInt(alphaIn.toString())
    // the runtime's current_alpha_price and the reserves agree to a rao or so on a fresh pool
    expect(BigInt(st.price) - poolPrice).toBeGreaterThanOrEqual(-2n)
    expect(BigInt(st.price) - poolPrice).toBeLessThanOrEqual(2n)
    expect(st.taoValue).toBe((onChain * BigInt(st.price) / TAO).toString())
    const text = await run(['wallet', 'balance', '--home', home, '--netuid', String(netuid)], env)
    expect(text.out.join('\n')).toContain(' α')
  })

  it('rent --dry-run: the budget in α, its TAO value at the pool price, and the open and close fees', async () => {
    const before = await freeOf(api, coldkey)
    const r = await run(['rent', '--home', home, '--gpu', 'h100', '--max-price', '2α', '--duration', '30m', '--dry-run', '--json'], env)
    expect(r.err).toEqual([])
    expect(r.code).toBe(0)
    const q = JSON.parse(r.out[0])
    // the account the daemon opens escrows from: the node's hotkey, not the coldkey
    expect(q).toMatchObject({ dryRun: true, chain: 'subtensor', netuid, budget: TAO.toString(), payer: hotkey })
    expect(q.specVersion).toBe(api.runtimeVersion.specVersion.toNumber())
    // the price the test reads itself: the runtime's current price or the pool reserves
    const [taoIn, alphaIn] = await Promise.all([api.query.subtensorModule.subnetTAO(netuid), api.query.subtensorModule.subnetAlphaIn(netuid)])
    const poolPrice = BigInt(taoIn.toString()) * TAO / BigInt(alphaIn.toString())
    if (q.asset === 'alpha') {
      expect(BigInt(q.price) - poolPrice <= 2n && poolPrice - BigInt(q.price) <= 2n).toBe(true)
      expect(q.taoValue).toBe((TAO * BigInt(q.price) / TAO).toString())
      expect(BigInt(q.swapAllowance)).toBeGreaterThan(0n)
    } else {
      expect(q.taoValue).toBe(TAO.toString())
    }
    for (const f of ['openFee', 'closeApproveFee', 'closeExecuteFee']) expect(BigInt(q[f])).toBeGreaterThan(0n)
    // what the payer holds: its 3 τ free for fees; as escrow funds, the same TAO on a TAO runtime,
    // and no alpha on an alpha one (subnet 1 has no owner hotkey yet, so no escrow alpha at all)
    const hotFree = await freeOf(api, hotkey)
    expect(q.feeFree).toBe(hotFree.toString())
    expect(BigInt(q.feeNeeded)).toBeGreaterThan(0n)
    expect(q.funds).toBe(alphaTransfers() ? '0' : hotFree.toString())
    // nothing was signed
    expect(await freeOf(api, coldkey)).toBe(before)
    const text = await run(['rent', '--home', home, '--gpu', 'h100', '--max-price', '2', '--duration', '30m', '--dry-run'], env)
    expect(text.out.join('\n')).toMatch(/budget {7}at most 1 [ατ]/)
    const fundsLine = text.out.find((l) => l.startsWith('  funds'))!
    expect(fundsLine).toContain('3 τ free for fees')
    // short of the budget only where escrows hold alpha here; never of the fees, with 3 τ
    expect(fundsLine.includes('short of the budget: bazaar wallet fund --amount')).toBe(alphaTransfers())
    // where escrows hold alpha, alpha the coldkey holds is a way too
    expect(fundsLine.includes('or --amount <α> from alpha the coldkey holds on the subnet')).toBe(alphaTransfers())
    expect(fundsLine).not.toContain('--fees')
    console.log(`[chain] runtime ${q.specVersion} rent --dry-run:\n${text.out.join('\n')}`)
  })

  it('refuses an amount above the free TAO before signing, and a bad amount as usage', async () => {
    const r = await run(['wallet', 'stake', '--home', home, '--netuid', String(netuid), '--amount', '100000τ', '--yes'], env)
    expect(r.code).toBe(1)
    const bad = await run(['wallet', 'stake', '--home', home, '--netuid', String(netuid), '--amount', '1α', '--yes'], env)
    expect(bad.code).toBe(2)
  })

  it('fund: the plan first, nothing signed without --yes; refused in one line where the subnet has no owner hotkey', async () => {
    const [coldBefore, hotBefore] = await Promise.all([freeOf(api, coldkey), freeOf(api, hotkey)])
    const r = await run(['wallet', 'fund', '--home', home, '--amount', '1'], env)
    expect(r.code).toBe(1)
    if (alphaTransfers()) {
      // the spec's subnet 1 has no owner hotkey: escrows have nowhere to hold its alpha
      expect(r.err).toHaveLength(1)
      expect(r.err[0]).toMatch(/subnet 1 has no owner hotkey/)
      await step('give subnet 1 an owner hotkey', 30_000, chain, async () => await api.rpc('dev_setStorage' as never, {
        SubtensorModule: { SubnetOwnerHotkey: [[[netuid], escrowHotkey]], Owner: [[[escrowHotkey], coldkey]] }
      } as never))
      const again = await run(['wallet', 'fund', '--home', home, '--amount', '1'], env)
      expect(again.code).toBe(1)
      expect(again.err.some((l) => l.includes(`under ${escrowHotkey}`))).toBe(true)
      expect(again.err.at(-1)).toMatch(/nothing was signed/)
    } else {
      expect(r.err.some((l) => l.includes('escrows on this runtime hold TAO'))).toBe(true)
      expect(r.err.at(-1)).toMatch(/nothing was signed/)
    }
    expect(await freeOf(api, coldkey)).toBe(coldBefore)
    expect(await freeOf(api, hotkey)).toBe(hotBefore)
  })

  it('fund: spends the hotkey account\'s own TAO first, then the coldkey sends what it lacks; an escrow opens from it', async () => {
    const { hot: hotBefore, cold: coldBefore } = await holdings()
    // the account holds 3 τ: 1 τ and a reserve of 0.5 τ need nothing from the coldkey on an alpha
    // runtime; on a TAO runtime the amount is always sent
    const f = await signed(['fund', '--amount', '1', '--fees', '0.5'])
    if (alphaTransfers()) {
      expect(f).toMatchObject({ asset: 'alpha', sent: '0', escrowHotkey, staked: TAO.toString(), escrowFundsBefore: '0' })
      expect(f.sendFee).toBeUndefined()
      const held = await alphaOf(api, escrowHotkey, hotkey, netuid)
      expect(held).toBeGreaterThan(0n)
      expect(f.escrowFunds).toBe(held.toString())
      expect(await freeOf(api, coldkey)).toBe(coldBefore)
      expect(await freeOf(api, hotkey)).toBe(hotBefore - TAO - BigInt(f.stakeFee))
    } else {
      expect(f).toMatchObject({ asset: 'tao', sent: TAO.toString() })
      expect(await freeOf(api, coldkey)).toBe(coldBefore - TAO - BigInt(f.sendFee))
      expect(await freeOf(api, hotkey)).toBe(hotBefore + TAO)
      expect(f.escrowFunds).toBe((hotBefore + TAO).toString())
    }

    // 5 τ with the default reserve: the coldkey sends the rest
    const { hot: hot1, cold: cold1, held: heldBefore } = await holdings()
    const g = await signed(['fund', '--amount', '5'])
    const reserve = BigInt(g.feeReserve)
    const c = api.consts as unknown as { balances: { existentialDeposit: { toBigInt: () => bigint } } }
    expect(reserve).toBeGreaterThan(c.balances.existentialDeposit.toBigInt())
    const sent = BigInt(g.sent)
    expect(await freeOf(api, coldkey)).toBe(cold1 - sent - BigInt(g.sendFee ?? '0'))
    if (alphaTransfers()) {
      expect(sent).toBe(5n * TAO + reserve - hot1)
      // the account keeps the reserve less the stake's own fee
      expect(await freeOf(api, hotkey)).toBe(reserve - BigInt(g.stakeFee))
      const held = await alphaOf(api, escrowHotkey, hotkey, netuid)
      expect(held - heldBefore).toBeGreaterThan(4n * TAO)
      expect(g.escrowFunds).toBe(held.toString())
      // balance lists it as the hotkey account's own stake
      const b = JSON.parse((await run(['wallet', 'balance', '--home', home, '--netuid', String(netuid), '--json'], env)).out[0])
      expect(b.stakes).toContainEqual(expect.objectContaining({ owner: 'hotkey', hotkey: escrowHotkey, alpha: held.toString() }))
    } else {
      expect(sent).toBe(5n * TAO + (reserve > hot1 ? reserve - hot1 : 0n))
      expect(await freeOf(api, hotkey)).toBe(hot1 + sent)
    }

    // the daemon's adapter opens an escrow from that account, as a rental does
    const { createSubtensorChain, escrowSignatories } = await import('../../src/escrow/chain/subtensor/index.js')
    const { openKeystore } = await import('../../src/node/keystore/index.js')
    const id = await openKeystore(home, env.BAZAAR_PASSPHRASE)
    const others = await Promise.all([0, 1].map(async () => (await initAccounts()).hotkey.address))
    const port = await createSubtensorChain({ api, netuid })
    try {
      // the default reserve passes the check a rental and a supplier's start make, with ten
      // rentals' fees to spare
      expect(reserve).toBeGreaterThan((await port.feeFunds(hotkey)).needed)
      const terms = {
        escrowId: u8aToHex(randomBytes(32)), agreementHash: u8aToHex(randomBytes(32)), payer: hotkey, payee: others[0]!, arbiter: others[1]!,
        amount: 2n * TAO, netuid, voucherKey: u8aToHex(randomBytes(32)), expiresAt: Date.now() + 3_600_000
      }
      await port.open(terms, id.hotkey)
      const account = escrowSignatories(terms).account
      if (alphaTransfers()) expect(await alphaOf(api, escrowHotkey, account, netuid)).toBeGreaterThanOrEqual(2n * TAO)
      else expect(await freeOf(api, account)).toBe(2n * TAO)
    } finally {
      await port.close()
    }
  })

  it('fund: a stake that fails after its transfer landed is one line, and the same command then stakes without sending again', async (ctx) => {
    if (!alphaTransfers() || api.query.subtensorModule.subtokenEnabled == null) { ctx.skip(); return }
    const { planFund, fund: fundAccount } = await import('../../src/node/wallet/fund.js')
    const { openKeystore } = await import('../../src/node/keystore/index.js')
    const id = await openKeystore(home, env.BAZAAR_PASSPHRASE)
    const hot0 = await freeOf(api, hotkey)
    const reserve = TAO / 2n
    // an amount the account's free TAO does not cover, so the plan has a transfer
    const amount = hot0 + TAO
    const plan = await planFund(api, { coldkey, account: hotkey, netuid, amount, feeReserve: reserve })
    expect(plan.transfer).toBe(amount + reserve - hot0)
    const held0 = await alphaOf(api, escrowHotkey, hotkey, netuid)
    // the subnet's token turned off between the plan and the stake: the chain refuses the stake
    const token = async (on: boolean): Promise<void> => { await api.rpc('dev_setStorage' as never, { SubtensorModule: { SubtokenEnabled: [[[netuid], on]] } } as never) }
    await token(false)
    let failed: Error | undefined
    try {
      await fundAccount(api, { coldkey: id.coldkey, account: id.hotkey }, plan)
    } catch (err) {
      failed = err as Error
    } finally {
      await token(true)
    }
    expect(failed).toMatchObject({ code: 'SUBMIT_FAILED' })
    expect(failed!.message).toMatch(/the hotkey account's stake failed: .*; the transfer of \d+ rao landed and stays in the hotkey account; the same command stakes it/)
    expect(await alphaOf(api, escrowHotkey, hotkey, netuid)).toBe(held0)
    const hot1 = await freeOf(api, hotkey)
    expect(hot1).toBeGreaterThanOrEqual(amount + reserve - TAO / 100n)

    // the same command: nothing more is sent, the stake is made from what the account holds
    const cold1 = await freeOf(api, coldkey)
    const j = await signed(['fund', '--amount', `${amount}`, '--fees', `${reserve}`, '--raw'])
    // the failed extrinsic paid its fee from the account, so it may lack those few rao now
    expect(BigInt(j.sent)).toBe(amount + reserve > hot1 ? amount + reserve - hot1 : 0n)
    expect(await freeOf(api, coldkey)).toBe(cold1 - BigInt(j.sent) - BigInt(j.sendFee ?? '0'))
    expect(await alphaOf(api, escrowHotkey, hotkey, netuid)).toBeGreaterThan(held0 + amount * 99n / 100n)
  })

  it('fund: a coldkey short of the transfer is refused before signing, and bad amounts as usage', async () => {
    const before = await freeOf(api, coldkey)
    const r = await run(['wallet', 'fund', '--home', home, '--amount', '100000', '--yes'], env)
    expect(r.code).toBe(1)
    expect(r.err.at(-1)).toMatch(/the coldkey .* has .* rao of TAO free; sending/)
    expect(await freeOf(api, coldkey)).toBe(before)
    for (const argv of [['--amount', '0'], ['--amount', '0α'], ['--amount', '1', '--fees', 'x'], []]) {
      const bad = await run(['wallet', 'fund', '--home', home, ...argv, '--yes'], env)
      expect(bad.code).toBe(2)
      expect(bad.err).toHaveLength(1)
    }
  })

  it('fund --amount in α: alpha the coldkey holds is moved to the hotkey account, from under another hotkey through the owner\'s; more than one hotkey holds is refused before signing', async () => {
    if (!alphaTransfers()) {
      // escrows hold TAO here: an amount in alpha is a usage error
      const r = await run(['wallet', 'fund', '--home', home, '--amount', '1α', '--yes'], env)
      expect(r.code).toBe(2)
      expect(r.err).toEqual([expect.stringMatching(/escrows on this runtime hold TAO/)])
      return
    }
    const coldAlpha = async (under = escrowHotkey): Promise<bigint> => await alphaOf(api, under, coldkey, netuid)
    expect(await coldAlpha()).toBe(0n)
    // the alpha the first test bought is the coldkey's under the node's own hotkey, not the owner's
    const underNode = await coldAlpha(hotkey)
    expect(underNode).toBeGreaterThan(2n * TAO)
    const before = await holdings()
    // more than any one hotkey holds: refused in one line naming what each holds, nothing signed
    const tooMuch = await run(['wallet', 'fund', '--home', home, '--amount', `${underNode + 1n}α`, '--raw', '--yes'], env)
    expect(tooMuch.code).toBe(1)
    expect(tooMuch.err.at(-1)).toMatch(new RegExp(`holds 0 rao of subnet ${netuid}'s alpha under ${escrowHotkey} .*and at most ${underNode} under another hotkey \\(${hotkey}\\)`))
    expect(await holdings()).toEqual(before)
    expect(await coldAlpha(hotkey)).toBe(underNode)

    // from under the node's hotkey: moveStake to the owner's hotkey, then transferStake of what
    // arrived there
    const m = await signed(['fund', '--amount', '2α', '--fees', '0.1'])
    expect(m).toMatchObject({ asset: 'alpha', escrowHotkey, movedFrom: hotkey, movedFromAlpha: (2n * TAO).toString(), sent: '0' })
    // the test's own reads: exactly 2 α left the coldkey's stake under the node's hotkey, and what
    // the first move brought under the owner's went on (shares round down by a rao at most)
    expect(await coldAlpha(hotkey)).toBe(underNode - 2n * TAO)
    expect(await coldAlpha()).toBeLessThanOrEqual(1n)
    const moved = BigInt(m.moved)
    // each move paid the pool's fee in alpha (under 0.35% each)
    expect(moved).toBeLessThan(2n * TAO)
    expect((2n * TAO - moved) * 10_000n).toBeLessThanOrEqual(2n * TAO * 35n)
    const heldAfterMove = await alphaOf(api, escrowHotkey, hotkey, netuid)
    const arrived = heldAfterMove - before.held
    expect(arrived).toBeLessThanOrEqual(moved)
    expect((moved - arrived) * 10_000n).toBeLessThanOrEqual(moved * 35n)
    expect(m.escrowFunds).toBe(heldAfterMove.toString())
    console.log(`[chain] runtime ${api.runtimeVersion.specVersion.toNumber()}: 2 α from under another hotkey reached the hotkey account as ${arrived} rao (${moved} after the first move); fees ${m.moveFromFee} + ${m.moveFee} rao of TAO`)
    // the coldkey paid both moves' fees in TAO, the account nothing
    expect(await freeOf(api, coldkey)).toBe(before.cold - BigInt(m.moveFromFee) - BigInt(m.moveFee))
    expect(await freeOf(api, hotkey)).toBe(before.hot)

    // as a btcli user stakes to a hotkey: the coldkey buys alpha under the subnet owner's hotkey,
    // which then moves in one step
    await signed(['stake', '--netuid', String(netuid), '--amount', '20τ', '--validator', escrowHotkey])
    const ownedFirst = await coldAlpha()
    expect(ownedFirst).toBeGreaterThan(2n * TAO)
    // --validator names the hotkey to move from, though the owner's holds enough
    const v = await signed(['fund', '--amount', '1α', '--validator', hotkey])
    expect(v).toMatchObject({ escrowHotkey, movedFrom: hotkey, movedFromAlpha: TAO.toString() })
    expect(await coldAlpha(hotkey)).toBe(underNode - 3n * TAO)
    const owned = await coldAlpha()
    expect(owned - ownedFirst).toBeGreaterThanOrEqual(0n)
    expect(owned - ownedFirst).toBeLessThanOrEqual(1n)
    // a hotkey holding none of it there, and --validator with a TAO amount: one line each, nothing signed
    const empty = await run(['wallet', 'fund', '--home', home, '--amount', '1α', '--validator', coldkey, '--yes'], env)
    expect(empty.code).toBe(1)
    expect(empty.err.at(-1)).toMatch(new RegExp(`holds 0 rao of subnet ${netuid}'s alpha under ${coldkey}; moving`))
    const tao = await run(['wallet', 'fund', '--home', home, '--amount', '1τ', '--validator', hotkey, '--yes'], env)
    expect(tao.code).toBe(2)
    expect(tao.err.at(-1)).toMatch(/--validator: fund moves alpha from a hotkey only with an amount in α/)
    expect(await coldAlpha(hotkey)).toBe(underNode - 3n * TAO)
    const { hot: hotBefore, cold: coldBefore, held: heldBefore } = await holdings()
    const f = await signed(['fund', '--amount', '2α', '--fees', '0.1'])
    expect(f).toMatchObject({ asset: 'alpha', escrowHotkey, moved: (2n * TAO).toString(), sent: '0' })
    expect(f.movedFrom).toBeUndefined()
    // the test's own reads: exactly 2 α left the coldkey's stake; the account's grew by that less
    // the pool's fee on the move, which the chain's StakeAdded event states
    expect(await coldAlpha()).toBe(owned - 2n * TAO)
    expect(await coldAlpha(hotkey)).toBe(underNode - 3n * TAO)
    const held = await alphaOf(api, escrowHotkey, hotkey, netuid)
    const gained = held - heldBefore
    expect(gained).toBeLessThanOrEqual(2n * TAO)
    expect((2n * TAO - gained) * 10_000n).toBeLessThanOrEqual(2n * TAO * 35n)
    expect(f.escrowFunds).toBe(held.toString())
    // the coldkey paid the move's fee in TAO, the account nothing
    expect(await freeOf(api, coldkey)).toBe(coldBefore - BigInt(f.moveFee))
    expect(await freeOf(api, hotkey)).toBe(hotBefore)
  })

  it('withdraw signs again with a fresh nonce where a daemon signing with the same hotkey took its nonce meanwhile', async () => {
    const pair = (await deriveAccounts({ kind: 'mnemonic', mnemonic })).hotkey
    expect(pair.address).toBe(hotkey)
    const plan = await planWithdraw(api, { coldkey, account: hotkey, netuid, amount: TAO / 10n })
    const nonceOnChain = async (): Promise<number> => ((await api.query.system.account(hotkey)) as unknown as { nonce: { toNumber: () => number } }).nonce.toNumber()
    const nonce0 = await nonceOnChain()
    const { cold: cold0, held: held0 } = await holdings()
    // between the command's read of the next nonce and its signing, a transaction of the same
    // hotkey (a renter daemon's escrow open) lands with that nonce
    // (the API's RPC sections are read-only: the command gets a view of it with that one call wrapped)
    const real = api.rpc.system.accountNextIndex
    const reads: number[] = []
    const system = Object.create(api.rpc.system) as object
    Object.defineProperty(system, 'accountNextIndex', {
      value: async (who: string) => {
        const next = await real(who)
        reads.push(next.toNumber())
        if (reads.length === 1) await submitAndWait(api, await api.tx.system.remark('0x01').signAsync(pair, { nonce: next.toNumber() }), { finality: false })
        return next
      }
    })
    const rpc = Object.create(api.rpc) as object
    Object.defineProperty(rpc, 'system', { value: system })
    // the API's methods run on the API itself (they read its private fields); `tx` is a callable
    // section whose properties are the pallets
    const racing = new Proxy(api, {
      get: (t, p) => {
        if (p === 'rpc') return rpc
        const v: unknown = Reflect.get(t, p)
        return typeof v === 'function' && p !== 'tx' ? v.bind(t) : v
      }
    })
    const r = await withdraw(racing, { account: pair }, plan, { finality: false })
    // the first nonce went to the other transaction; the command signed again with the next one
    expect(reads.slice(0, 2)).toEqual([nonce0, nonce0 + 1])
    const sent = (r.unstake != null ? 1 : 0) + (r.transfer != null ? 1 : 0)
    expect(sent).toBeGreaterThan(0)
    expect(await nonceOnChain()).toBe(nonce0 + 1 + sent)
    // and it did what it planned, read from storage by the test
    expect(await freeOf(api, coldkey)).toBe(cold0 + r.sent)
    if (alphaTransfers()) expect(await alphaOf(api, escrowHotkey, hotkey, netuid)).toBe(held0 - TAO / 10n)
    else expect(r.sent).toBe(TAO / 10n)
  })

  it('withdraw: escrow funds go back to the coldkey as TAO, the fee reserve stays; all of them with no --amount', async () => {
    // the amount is in the escrow's asset: the other one is a usage error
    const wrong = await run(['wallet', 'withdraw', '--home', home, '--amount', alphaTransfers() ? '1τ' : '1α', '--yes'], env)
    expect(wrong.code).toBe(2)
    expect(wrong.err.at(-1)).toMatch(/escrows on this runtime hold/)
    const tooMuch = await run(['wallet', 'withdraw', '--home', home, '--amount', '100000', '--yes'], env)
    expect(tooMuch.code).toBe(1)
    expect(tooMuch.err.at(-1)).toMatch(/can give back at most/)

    const { cold: cold0, hot: hot0, held: held0 } = await holdings()
    const w = await signed(['withdraw', '--amount', '1'])
    const fees = BigInt(w.unstakeFee ?? '0') + BigInt(w.sendFee ?? '0')
    expect(await freeOf(api, coldkey)).toBe(cold0 + BigInt(w.sent))
    if (alphaTransfers()) {
      // 1 α sold into the pool: about 1 τ at a price near 1, all of it sent on
      expect(BigInt(w.sent)).toBeGreaterThan(TAO * 99n / 100n)
      expect(BigInt(w.sent)).toBeLessThan(TAO + TAO / 100n)
      expect(await alphaOf(api, escrowHotkey, hotkey, netuid)).toBe(held0 - TAO)
      // what the account held free stays, less the two fees
      expect(await freeOf(api, hotkey)).toBe(hot0 - fees)
    } else {
      expect(w.sent).toBe(TAO.toString())
      expect(await freeOf(api, hotkey)).toBe(hot0 - TAO - fees)
    }

    const a = await signed(['withdraw'])
    if (alphaTransfers()) {
      expect(await alphaOf(api, escrowHotkey, hotkey, netuid)).toBe(0n)
      expect(a.escrowFunds).toBe('0')
    } else {
      // everything above the fee reserve fund keeps
      const plan = BigInt(a.amount)
      expect(await freeOf(api, hotkey)).toBe(BigInt(w.accountFree) - plan - BigInt(a.sendFee))
      expect(BigInt(a.accountFree)).toBeGreaterThan(0n)
    }
    // nothing left above the reserve: one line, nothing signed
    const none = await run(['wallet', 'withdraw', '--home', home, '--yes'], env)
    expect(none.code).toBe(1)
    expect(none.err.at(-1)).toMatch(/holds no escrow funds/)
  })

  it('fund --fees alone tops the hotkey account up to the TAO for fees, staking nothing; the adapter reads what settling needs', async () => {
    const before = await holdings()
    // a reserve 1 τ above what the account holds
    const want = before.hot + TAO
    const f = await signed(['fund', '--fees', `${want}`, '--raw'])
    expect(BigInt(f.sent)).toBe(TAO)
    expect(f.staked).toBeUndefined()
    const after = await holdings()
    expect(after.hot).toBe(before.hot + TAO)
    expect(after.cold).toBe(before.cold - TAO - BigInt(f.sendFee))
    expect(after.held).toBe(before.held)
    // what escrows can spend, in their asset: unchanged alpha, or the free TAO itself
    expect(f.escrowFunds).toBe((alphaTransfers() ? after.held : after.hot).toString())
    const again = await run(['wallet', 'fund', '--home', home, '--fees', `${want}`, '--raw', '--yes'], env)
    expect(again.code).toBe(0)
    expect(again.out.at(-1)).toMatch(/^nothing to send: the hotkey account .* holds /)
    expect(await freeOf(api, hotkey)).toBe(after.hot)
    // what a settling party needs: above one approval's deposit, as the runtime's constants give it
    const { createSubtensorChain } = await import('../../src/escrow/chain/subtensor/index.js')
    const port = await createSubtensorChain({ api, netuid })
    try {
      const ff = await port.feeFunds(hotkey)
      expect(ff.free).toBe(after.hot)
      const c = api.consts as unknown as { multisig: { depositBase: { toBigInt: () => bigint }, depositFactor: { toBigInt: () => bigint } } }
      expect(ff.needed).toBeGreaterThan(c.multisig.depositBase.toBigInt() + 2n * c.multisig.depositFactor.toBigInt())
    } finally {
      await port.close()
    }
  })
})

describe('wallet commands without a subtensor chain', () => {
  it('say in one line that the node has no chain to read or sign on; a bad amount is usage before that', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'bazaar-wallet-nochain-'))
    try {
      const home = path.join(tmp, 'home')
      await initHome({ home, passphrase: 'x', scrypt: { N: 1024, r: 8, p: 1 } })
      await writeFile(path.join(home, 'config.json'), '{}')
      for (const argv of [['balance'], ['fund', '--amount', '1', '--yes'], ['fund', '--fees', '0.2', '--yes'], ['withdraw', '--yes']]) {
        const r = await run(['wallet', ...argv, '--home', home], { BAZAAR_PASSPHRASE: 'x' })
        expect(r.code).toBe(1)
        expect(r.err).toHaveLength(1)
        expect(r.err[0]).toMatch(/chain\.endpoint/)
      }
      for (const argv of [['fund', '--fees', '0'], ['fund', '--amount', 'x'], ['withdraw', '--amount', '0'], ['withdraw', '--amount', '-1α']]) {
        const r = await run(['wallet', ...argv, '--home', home, '--yes'], { BAZAAR_PASSPHRASE: 'x' })
        expect(r.code).toBe(2)
        expect(r.err).toHaveLength(1)
        expect(r.err[0]).toMatch(/^bazaar wallet: --(fees|amount)/)
      }
    } finally {
      await rm(tmp, { recursive: true, force: true })
    }
  })
})
