/**
 * Chain figures of the subtensor escrow: blocks and seconds from agreement to an open escrow and
 * from job end to settled, and the fees paid per escrow, on a real Bittensor runtime.
 *
 * `endpoint` is a ws URL or a chain spec path (then chopsticks is started on it, see devchain.ts).
 * On chopsticks, blocks are built on demand, so the seconds measure the runtime's execution and
 * this adapter's round trips, not block time; the block counts carry over to a live chain, where
 * each block is 12 s and finality (GRANDPA) adds a few more.
 *
 * Accounts are fresh and funded with chopsticks' `dev_setStorage`; on an alpha runtime a validator
 * hotkey is registered on subnet 1 and the pool is given depth the same way, then the payer buys
 * alpha with a real `addStake`. Against an endpoint that is not chopsticks, the accounts must be
 * funded by other means (this bench then stops with CHAIN_UNAVAILABLE).
 */
import { randomBytes } from 'node:crypto'
import { ApiPromise } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import type { AccountPair } from '../../../util/sr25519.js'
import { u8aToHex } from '@polkadot/util'
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto'
import type { EscrowTermsOnChain, Settlement } from '../port.js'
import { createSubtensorChain, type SubtensorOperation } from './adapter.js'
import { startDevchain, type Devchain } from './devchain.js'
import { stakeAlpha } from './provision.js'
import { SubtensorError } from './errors.js'
import type { Inclusion } from './submit.js'

const TAO = 1_000_000_000n

export interface BenchChainOptions {
  /** escrows per path (default 5) */
  escrows?: number
  /** port for chopsticks when `endpoint` is a spec path (default 19_950) */
  port?: number
  netuid?: number
}

interface Sample { blocks: number, seconds: number }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : (s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2)
}

/** Runs the paths and returns figures keyed by name (numbers in blocks, seconds, rao). */
export async function benchChain (endpoint: string, opts: BenchChainOptions = {}): Promise<Record<string, string | number>> {
  const n = opts.escrows ?? 5
  const netuid = opts.netuid ?? 1
  let devchain: Devchain | undefined
  let url = endpoint
  if (!/^wss?:\/\//.test(endpoint)) {
    devchain = await startDevchain({ spec: endpoint, port: opts.port ?? 19_950 })
    url = devchain.url
  }
  const ops: Array<{ op: SubtensorOperation, inc: Inclusion, signer: string }> = []
  let currentSigner = ''
  const port = await createSubtensorChain({ url, netuid, onInclusion: (op, inc) => { ops.push({ op, inc, signer: currentSigner }) } })
  const api: ApiPromise = port.api
  try {
    await cryptoWaitReady()
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 })
    const k = (name: string): AccountPair => keyring.addFromUri(mnemonicGenerate(12), { name })
    const payer = k('payer'); const payee = k('payee'); const arbiter = k('arbiter'); const validator = k('validator'); const hotkey = k('hotkey')
    const info = await port.info()
    try {
      await api.rpc('dev_setStorage' as never, { System: { Account: [payer, payee, arbiter, validator].map((p) => [[p.address], { providers: 1, data: { free: (100_000n * TAO).toString() } }]) } } as never)
    } catch (err) {
      throw new SubtensorError('CHAIN_UNAVAILABLE', 'the bench funds its accounts with dev_setStorage: run it on chopsticks (a spec path)', { cause: err })
    }
    let hk: string | undefined
    if (info.asset.kind === 'alpha') {
      hk = hotkey.address
      await api.rpc('dev_setStorage' as never, {
        SubtensorModule: {
          Owner: [[[hk], validator.address]],
          SubtokenEnabled: [[[netuid], true]],
          SubnetAlphaIn: [[[netuid], (100_000_000n * TAO).toString()]],
          SubnetTAO: [[[netuid], (100_000_000n * TAO).toString()]]
        }
      } as never)
      await stakeAlpha(api, payer, hk, netuid, 10_000n * TAO)
    }
    const chain = hk != null ? await createSubtensorChain({ api, netuid, hotkey: hk, onInclusion: (op, inc) => { ops.push({ op, inc, signer: currentSigner }) } }) : port

    const head = async (): Promise<number> => (await api.rpc.chain.getHeader()).number.toNumber()
    const open: Sample[] = []
    const openFees: bigint[] = []
    const settle: Record<string, Sample[]> = { cooperative: [], voucher: [], refund: [] }
    const fees: Record<string, bigint[]> = { cooperative: [], voucher: [], refund: [] }
    const alphaLost: bigint[] = []
    // a 1-alpha (1-TAO) escrow, the payee earning 0.4 of it
    const amount = 1n * TAO
    for (const path of ['cooperative', 'voucher', 'refund'] as const) {
      for (let i = 0; i < n; i++) {
        const terms: EscrowTermsOnChain = {
          escrowId: u8aToHex(randomBytes(32)), agreementHash: u8aToHex(randomBytes(32)),
          payer: payer.address, payee: payee.address, arbiter: arbiter.address, amount, netuid,
          voucherKey: u8aToHex(randomBytes(32)), expiresAt: Date.now() + (path === 'refund' ? -1 : 3_600_000)
        }
        const alphaOfParties = async (): Promise<bigint> => hk == null ? 0n : (await chain.alphaBalance(payer.address, hk, netuid)) + (await chain.alphaBalance(payee.address, hk, netuid))
        const partiesBefore = await alphaOfParties()
        // agreement signed -> escrow open (included and final)
        const h0 = await head(); const t0 = performance.now()
        currentSigner = 'payer'
        const fromOpen = ops.length
        const esc = await chain.open(terms, payer)
        open.push({ blocks: esc.records[0]!.blockNumber - h0, seconds: (performance.now() - t0) / 1000 })
        openFees.push(ops.slice(fromOpen).reduce((a, o) => a + o.inc.fee, 0n))
        const toPayee = path === 'refund' ? 0n : amount * 4n / 10n
        const s: Settlement = {
          escrowId: terms.escrowId,
          kind: path,
          payouts: path === 'refund' ? [{ to: payer.address, amount }] : [{ to: payee.address, amount: toPayee }, { to: payer.address, amount: amount - toPayee }]
        }
        if (path !== 'refund') s.voucher = { cumulative: toPayee, sequence: 1n, signature: '0x' + '00'.repeat(64) }
        // as the parties run them: the payer approves a cooperative close and the payee executes it;
        // on the arbiter paths the arbiter approves first (EscrowService.withArbiter), the party
        // executes, and the arbiter's next sweep returns its per-escrow key's TAO
        const [first, second]: Array<[string, AccountPair]> = path === 'cooperative' ? [['payer', payer], ['payee', payee]] : path === 'voucher' ? [['arbiter', arbiter], ['payee', payee]] : [['arbiter', arbiter], ['payer', payer]]
        // job ended -> settled (second approval executed, included and final) and swept
        const from = ops.length
        const h1 = await head(); const t1 = performance.now()
        currentSigner = first![0]; await chain.approve(s, first![1])
        currentSigner = second![0]; await chain.approve(s, second![1])
        if (path !== 'cooperative') { currentSigner = 'arbiter'; await chain.sweep(arbiter) }
        settle[path]!.push({ blocks: await head() - h1, seconds: (performance.now() - t1) / 1000 })
        fees[path]!.push(ops.slice(from).reduce((a, o) => a + o.inc.fee, 0n))
        // alpha that left payer and payee for good: the swap fees of the three transfers (the
        // escrow account keeps nothing)
        if (hk != null) alphaLost.push(partiesBefore - await alphaOfParties())
      }
    }
    const pct = (rao: number): string => `${(rao / Number(amount) * 100).toFixed(4)}%`
    const out: Record<string, string | number> = {
      chain: `${info.chain ?? ''} runtime ${info.specVersion ?? '?'}${devchain != null ? ' on chopsticks' : ''}`,
      asset: info.asset.kind === 'tao' ? `TAO (${info.asset.reason})` : `alpha of netuid ${netuid}`,
      escrow_amount_rao: Number(amount),
      escrows_per_path: n,
      open_blocks_median: median(open.map((x) => x.blocks)),
      open_seconds_median: Number(median(open.map((x) => x.seconds)).toFixed(3)),
      open_fee_rao_median: median(openFees.map(Number)),
      open_fee_pct_of_escrow: pct(median(openFees.map(Number)))
    }
    for (const p of ['cooperative', 'voucher', 'refund'] as const) {
      out[`settle_${p}_blocks_median`] = median(settle[p]!.map((x) => x.blocks))
      out[`settle_${p}_seconds_median`] = Number(median(settle[p]!.map((x) => x.seconds)).toFixed(3))
      out[`settle_${p}_fees_rao_median`] = median(fees[p]!.map(Number))
      const whole = median(fees[p]!.map((f, i) => Number(f + openFees[(p === 'cooperative' ? 0 : p === 'voucher' ? n : 2 * n) + i]!)))
      out[`path_${p}_fees_rao_median`] = whole
      out[`path_${p}_fee_pct_of_escrow`] = pct(whole)
    }
    const byOp: Record<string, number[]> = {}
    for (const o of ops) (byOp[`${o.op}`] ??= []).push(Number(o.inc.fee))
    for (const [op, xs] of Object.entries(byOp)) out[`fee_${op}_rao_median`] = median(xs)
    if (hk != null) out.alpha_fee_allowance_rao = Number(await chain.feeAllowance(amount, netuid))
    if (alphaLost.length > 0) {
      out.alpha_swap_fees_per_escrow_rao_median = median(alphaLost.map(Number))
      out.alpha_swap_fees_pct_of_escrow = pct(median(alphaLost.map(Number)))
      out.note_alpha = 'transferStake on this runtime swaps through the subnet pool: each move pays the pool fee in alpha; fees are TAO, the percentages compare them with a 1-alpha escrow at a price of 1'
    }
    if (chain !== port) await chain.close()
    return out
  } finally {
    await port.close()
    await devchain?.stop()
  }
}
