import { isSs58 } from '../../util/ss58.js'
import type { Command, CommandContext, ParsedArgs } from '../command.js'
import { flag, str, subcommand } from '../command.js'
import { UsageError } from '../../util/errors.js'
import { resolveHome } from '../../node/home.js'
import {
  KeystoreError, KeystoreErrorCode, isInitialized, openKeystore, readKeystorePublic, replaceAccounts, resolvePassphrase, toStoredKey
} from '../../node/keystore/index.js'
import {
  WalletError, WalletErrorCode, btcliPasswordVariable, btcliWalletPaths, checkExportTarget, readBtcliWallet, writeBtcliWallet, type BtcliWallet, type PasswordSource
} from '../../node/wallet/index.js'
import { connectChain } from '../chain.js'
import { btcliPasswordSource, newBtcliPassword } from '../btcli.js'
import { formatAmount, formatPrice, parseAmountArg } from '../amount.js'
import { confirm } from '../confirm.js'
import { table } from '../format.js'
import { AMOUNT_UNIT } from '../../util/units.js'

const usage = `usage: bazaar wallet <import|export> --btcli [options]
       bazaar wallet balance [--netuid N] [options]
       bazaar wallet stake --netuid N --amount X [--yes] [options]
       bazaar wallet fund --amount X [--fees Y] [--netuid N] [--yes] [options]
       bazaar wallet fund --fees Y [--yes] [options]
       bazaar wallet withdraw [--amount X] [--netuid N] [--yes] [options]

Bittensor (btcli) wallets: <path>/<wallet>/coldkey, coldkeypub.txt and hotkeys/<hotkey>.

  import --btcli   use the coldkey and hotkey of a btcli wallet as this node's accounts. Reads the
                   formats bittensor-wallet writes (NaCl-encrypted, ansible-vault or plain JSON
                   coldkeys; plain JSON hotkeys), checks the coldkey against coldkeypub.txt and each
                   key against the address in its file, and stores both in the node's encrypted
                   keystore (peer key, API token and config are kept). The btcli files are only
                   read, never changed. The coldkey password comes from btcli's own variable
                   BT_PW_<coldkey path> or a prompt. Replacing other accounts needs --force; a
                   wallet with the home's own accounts changes nothing.
  export --btcli   write this node's coldkey and hotkey as a btcli wallet (NaCl-encrypted coldkey,
                   coldkeypub.txt, plain hotkey JSON; files 0600), so btcli can use them. The new
                   coldkey's password comes from BT_PW_<coldkey path> or a prompt. Existing files
                   are never overwritten; an export that fails part way removes what it wrote.

  balance          free TAO of the coldkey and the hotkey, and the alpha stake each owns per subnet
                   (and hotkey staked to) with its TAO value at the pool's current price, read from
                   the chain the node is configured for (chain.adapter subtensor, chain.endpoint).
                   The hotkey account's own stake is what a renter's escrows spend.
  stake            buy alpha of subnet N with X TAO (subtensorModule.addStake from the coldkey to
                   the node's hotkey, or --validator): shows the pool price, the swap fee, the
                   alpha expected and the transaction fee, and asks before it signs. That alpha
                   is the coldkey's: escrows do not spend it (see fund).
  fund             fund the account a renter's escrows are paid from: the node's hotkey account.
                   On a runtime with alpha escrows the coldkey sends the hotkey account what it
                   lacks of X plus the fee reserve, and the hotkey account stakes X TAO on the
                   subnet under the subnet owner's hotkey, where escrows hold alpha; on a runtime
                   with TAO escrows the coldkey sends X (and tops up the reserve). Shows the plan
                   and asks before it signs; after a failed stake the same command stakes what
                   the account already holds, sending nothing more. --fees alone tops the account
                   up to Y TAO free and stakes nothing: what a supplier or arbiter needs, which
                   pays the fees and deposits of closing escrows and funds none. With X in α
                   (2α): alpha the coldkey already holds on the subnet is moved to the hotkey
                   account (transferStake) instead of bought; held under another hotkey than the
                   subnet owner's (a validator), it is first moved under the owner's (moveStake),
                   and the pool's fee comes off each move.
  withdraw         take escrow funds back to the coldkey: on a runtime with alpha escrows the
                   hotkey account unstakes X alpha (default: all of it) and sends the coldkey the
                   TAO that brings; on a runtime with TAO escrows it sends X TAO (default: all
                   above fund's fee reserve). The TAO kept for fees stays. Escrows already open
                   are not touched: their funds are in their own accounts. A supplier's earnings
                   are paid to the same account, so this is how a supplier collects them too.

options:
  --btcli                the btcli wallet layout (required; the only one)
  --path <dir>           the wallets folder (default ~/.bittensor/wallets)
  --wallet <name>        the wallet's name (default: default)
  --hotkey <name>        the hotkey's name (default: default)
  --home <dir>           node home (default: $BAZAAR_HOME or ~/.bazaar)
  --passphrase <pw>      node keystore passphrase (default: $BAZAAR_PASSPHRASE, else a prompt)
  --passphrase-file <f>  read it from a file (default: $BAZAAR_PASSPHRASE_FILE)
  --force                import: replace accounts the home already has
  --netuid <n>           balance: only this subnet; stake: the subnet (required); fund: the
                         subnet (default: config chain.netuid)
  --amount <x>           stake, fund: TAO to spend, e.g. 10 or 10τ (a bare number is TAO);
                         fund: or alpha the coldkey holds on the subnet (under one
                         hotkey), moved to the hotkey account, e.g. 2α;
                         withdraw: escrow funds to take back, in the escrow's asset (α or τ)
  --fees <x>             fund: TAO the hotkey account keeps free for fees and deposits (default:
                         one approval's deposit, the existential deposit and 0.01 TAO, which a
                         rental checks for, plus the fees of 10 rentals);
                         alone, without --amount: only that TAO, nothing staked (a supplier's fees)
  --validator <ss58>     stake: the hotkey to stake to (default: the node's hotkey);
                         fund with X in α: the hotkey to move the coldkey's alpha from
                         (default: the subnet owner's where it holds X there, else the
                         hotkey where it holds the most)
  --yes                  stake, fund, withdraw: sign without asking (scripts)
  --endpoint <ws-url>    the chain (default: config chain.endpoint, then chain.fallbackEndpoints)
  --raw                  amounts in base units (rao) instead of τ/α
  --json                 print the result as JSON
  -h, --help             this help

To start a new node home from a btcli wallet: bazaar init --from-btcli --wallet <name> --hotkey <name>.`

/** The btcli wallet named by --path, --wallet and --hotkey. */
export function btcliLocation (args: ParsedArgs): { path?: string, wallet: string, hotkey: string } {
  const p = str(args, 'path')
  // `--path ""` (an unset variable) is not the working directory
  if (p != null && p.trim() === '') throw new UsageError('--path is empty: name the wallets folder (or leave the flag out for ~/.bittensor/wallets)')
  return { ...(p != null ? { path: p } : {}), wallet: str(args, 'wallet') ?? 'default', hotkey: str(args, 'hotkey') ?? 'default' }
}

/**
 * Reads a btcli wallet with btcli's password variable or a prompt. The slow step, opening an
 * encrypted keyfile, is noted on stderr once its password is in hand: a wallet that is missing or
 * damaged, or a password that cannot be had, is its one line alone.
 */
export async function readBtcliWalletForCli (args: ParsedArgs, ctx: CommandContext): Promise<BtcliWallet> {
  const loc = btcliLocation(args)
  const source = btcliPasswordSource(ctx.env, { signal: ctx.signal })
  const password: PasswordSource = async (req) => {
    const pw = await source(req)
    ctx.err(`opening ${req.file}: an encrypted keyfile takes a few seconds (argon2i, 512 MiB)`)
    return pw
  }
  return await readBtcliWallet(loc, { password, signal: ctx.signal })
}

/** `bazaar wallet`: import and export btcli wallets. */
export const walletCommand: Command = {
  name: 'wallet',
  usage,
  allowPositionals: true,
  options: {
    btcli: { type: 'boolean' },
    path: { type: 'string' },
    wallet: { type: 'string' },
    hotkey: { type: 'string' },
    home: { type: 'string' },
    passphrase: { type: 'string' },
    'passphrase-file': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
    netuid: { type: 'string' },
    amount: { type: 'string' },
    fees: { type: 'string' },
    validator: { type: 'string' },
    yes: { type: 'boolean' },
    endpoint: { type: 'string' },
    raw: { type: 'boolean' },
    config: { type: 'string' }
  },
  async run (args, ctx) {
    const { sub } = subcommand('wallet', args, ['import', 'export', 'balance', 'stake', 'fund', 'withdraw'] as const, 'bazaar wallet import|export --btcli, wallet balance, stake, fund or withdraw')
    if (sub === 'balance') return await walletBalance(args, ctx)
    if (sub === 'stake') return await walletStake(args, ctx)
    if (sub === 'fund') return await walletFund(args, ctx)
    if (sub === 'withdraw') return await walletWithdraw(args, ctx)
    if (!flag(args, 'btcli')) throw new UsageError(`wallet ${sub} needs --btcli (the only wallet layout supported)`)
    const home = resolveHome({ flag: str(args, 'home'), env: ctx.env })
    return sub === 'import' ? await walletImport(args, ctx, home) : await walletExport(args, ctx, home)
  }
}

async function walletImport (args: ParsedArgs, ctx: CommandContext, home: string): Promise<number> {
  // everything that can fail cheaply fails before the slow coldkey derivation
  btcliWalletPaths(btcliLocation(args))
  if (!await isInitialized(home)) {
    throw new KeystoreError(KeystoreErrorCode.NOT_INITIALIZED, `no keystore in ${home}: create one from the wallet with bazaar init --from-btcli`)
  }
  const passphrase = await resolvePassphrase({ flag: str(args, 'passphrase'), file: str(args, 'passphrase-file'), env: ctx.env, tty: true, prompt: 'Node keystore passphrase: ', signal: ctx.signal })
  const current = await openKeystore(home, passphrase, { signal: ctx.signal })
  const w = await readBtcliWalletForCli(args, ctx)
  const same = current.coldkey.address === w.coldkey.ss58Address && current.hotkey.address === w.hotkey.ss58Address
  if (!same && !flag(args, 'force')) {
    throw new KeystoreError(KeystoreErrorCode.ALREADY_INITIALIZED,
      `${home} has other accounts (coldkey ${current.coldkey.address}); --force replaces them (keep their mnemonic: they are not kept)`)
  }
  // the same accounts leave the keystore as it is: rewriting it as two bare keys would drop a
  // mnemonic or dev name it holds
  if (!same) {
    await replaceAccounts(home, passphrase, { coldkey: toStoredKey(w.coldkey.secret), hotkey: toStoredKey(w.hotkey.secret) }, { signal: ctx.signal })
  }
  const pub = await readKeystorePublic(home)
  if (flag(args, 'json')) {
    ctx.out(JSON.stringify({ home, coldkey: pub.coldkey, hotkey: pub.hotkey, wallet: w.paths.dir, coldkeyFormat: w.coldkeyFormat, hotkeyFormat: w.hotkeyFormat, changed: !same }))
    return 0
  }
  ctx.out(`imported btcli wallet ${w.paths.dir} into ${home}`)
  ctx.out(`  coldkey   ${pub.coldkey} (${w.coldkeyFormat}, matches coldkeypub.txt)`)
  ctx.out(`  hotkey    ${pub.hotkey} (${w.hotkeyFormat})`)
  if (same) ctx.out('  (the home already had these accounts)')
  return 0
}

async function walletExport (args: ParsedArgs, ctx: CommandContext, home: string): Promise<number> {
  const loc = btcliLocation(args)
  // refuse an existing wallet, or a folder that cannot be written in, before any password is asked
  const paths = await checkExportTarget(loc)
  const passphrase = await resolvePassphrase({ flag: str(args, 'passphrase'), file: str(args, 'passphrase-file'), env: ctx.env, tty: true, prompt: 'Node keystore passphrase: ', signal: ctx.signal })
  const id = await openKeystore(home, passphrase, { revealSecrets: true, signal: ctx.signal })
  const password = await newBtcliPassword(ctx.env, paths.coldkey, btcliPasswordVariable(paths.coldkey), { signal: ctx.signal })
  ctx.err(`writing btcli wallet ${paths.dir}; encrypting the coldkey takes a few seconds (argon2i, 512 MiB)`)
  await writeBtcliWallet(loc, id.secrets!, { password, signal: ctx.signal })
  if (flag(args, 'json')) {
    ctx.out(JSON.stringify({ home, wallet: paths.dir, coldkey: id.coldkey.address, hotkey: id.hotkey.address, files: [paths.coldkey, paths.coldkeypub, paths.hotkey] }))
    return 0
  }
  ctx.out(`exported ${home} to btcli wallet ${paths.dir}`)
  ctx.out(`  coldkey   ${id.coldkey.address}  ${paths.coldkey} (NaCl-encrypted), ${paths.coldkeypub}`)
  ctx.out(`  hotkey    ${id.hotkey.address}  ${paths.hotkey}`)
  ctx.out(`use it with btcli: --wallet.path ${loc.path ?? '~/.bittensor/wallets'} --wallet.name ${loc.wallet} --wallet.hotkey ${loc.hotkey}`)
  return 0
}

function netuidArg (args: ParsedArgs, required: boolean): number | undefined {
  const v = str(args, 'netuid')
  if (v == null) {
    if (required) throw new UsageError('--netuid is required')
    return undefined
  }
  if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError('--netuid expects a subnet number (0 to 65535)')
  return Number(v)
}

async function walletBalance (args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const netuid = netuidArg(args, false)
  const raw = flag(args, 'raw')
  const home = resolveHome({ flag: str(args, 'home'), env: ctx.env })
  // addresses only: the public summary needs no passphrase
  const pub = await readKeystorePublic(home)
  const { readBalances } = await import('../../node/wallet/chain.js')
  const api = await connectChain({ endpoint: str(args, 'endpoint'), configFile: str(args, 'config'), home, env: ctx.env, signal: ctx.signal })
  try {
    const b = await readBalances(api, { coldkey: pub.coldkey, hotkey: pub.hotkey }, { netuid })
    if (flag(args, 'json')) {
      ctx.out(JSON.stringify({
        unit: AMOUNT_UNIT,
        coldkey: { address: b.coldkey.address, free: b.coldkey.free.toString() },
        hotkey: { address: b.hotkey.address, free: b.hotkey.free.toString() },
        stakes: b.stakes.map((s) => ({ owner: s.owner, netuid: s.netuid, hotkey: s.hotkey, alpha: s.alpha.toString(), price: s.price.toString(), taoValue: s.taoValue.toString() })),
        notes: b.notes
      }))
      return 0
    }
    ctx.out(`coldkey  ${b.coldkey.address}  free ${formatAmount(b.coldkey.free, 'tao', { raw })}`)
    ctx.out(`hotkey   ${b.hotkey.address}  free ${formatAmount(b.hotkey.free, 'tao', { raw })}`)
    if (b.stakes.length === 0) {
      ctx.out(netuid != null ? `no alpha stake on subnet ${netuid}` : 'no alpha stake')
    } else {
      ctx.out(table(['owner', 'netuid', 'hotkey', 'stake', 'price', 'value'], b.stakes.map((s) => [
        s.owner === 'coldkey' ? 'coldkey' : 'hotkey (escrows)', String(s.netuid), s.hotkey, formatAmount(s.alpha, 'alpha', { raw }), formatPrice(s.price, { raw }), formatAmount(s.taoValue, 'tao', { raw })
      ])))
    }
    for (const n of b.notes) ctx.out(`note: ${n}`)
    return 0
  } finally {
    await api.disconnect()
  }
}

async function walletStake (args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const netuid = netuidArg(args, true)!
  const raw = flag(args, 'raw')
  const amountArg = str(args, 'amount')
  if (amountArg == null) throw new UsageError('--amount is required (TAO to spend, e.g. 10τ)')
  const { rao: tao } = parseAmountArg(amountArg, { flag: 'amount', dflt: 'tao', raw, allow: ['tao'] })
  if (tao <= 0n) throw new UsageError('--amount must be above 0')
  const validator = str(args, 'validator')
  if (validator != null && !isSs58(validator)) throw new UsageError('--validator expects an ss58 address')
  const home = resolveHome({ flag: str(args, 'home'), env: ctx.env })
  const passphrase = await resolvePassphrase({ flag: str(args, 'passphrase'), file: str(args, 'passphrase-file'), env: ctx.env, tty: true, signal: ctx.signal })
  const id = await openKeystore(home, passphrase, { signal: ctx.signal })
  const { addStake, quoteStake } = await import('../../node/wallet/chain.js')
  const api = await connectChain({ endpoint: str(args, 'endpoint'), configFile: str(args, 'config'), home, env: ctx.env, signal: ctx.signal })
  try {
    const hotkey = validator ?? id.hotkey.address
    const q = await quoteStake(api, { coldkey: id.coldkey.address, hotkey, netuid, tao })
    const lines = [
      `buy alpha of subnet ${netuid} for ${formatAmount(q.tao, 'tao', { raw })} from ${id.coldkey.address}, staked to ${hotkey}`,
      `  pool price       ${formatPrice(q.price, { raw })}`,
      `  swap fee         ${formatAmount(q.swapFee, 'tao', { raw })}`,
      `  you get about    ${formatAmount(q.alpha, 'alpha', { raw })}${q.source === 'pool-reserves' ? ' (from the pool reserves; the runtime has no swap simulation)' : ''}`,
      `  transaction fee  ${formatAmount(q.txFee, 'tao', { raw })}`
    ]
    for (const l of lines) ctx.err(l)
    if (!flag(args, 'yes') && !await confirm('sign and submit?', { signal: ctx.signal })) {
      throw new WalletError(WalletErrorCode.DECLINED, 'nothing was signed')
    }
    const r = await addStake(api, id.coldkey, q, { signal: ctx.signal })
    const got = r.alphaAfter - r.alphaBefore
    if (flag(args, 'json')) {
      ctx.out(JSON.stringify({
        netuid, hotkey, coldkey: id.coldkey.address, unit: AMOUNT_UNIT, tao: q.tao.toString(), price: q.price.toString(), swapFee: q.swapFee.toString(),
        expectedAlpha: q.alpha.toString(), alpha: got.toString(), alphaTotal: r.alphaAfter.toString(), txFee: r.inclusion.fee.toString(),
        blockHash: r.inclusion.blockHash, blockNumber: r.inclusion.blockNumber, txHash: r.inclusion.txHash
      }))
      return 0
    }
    ctx.out(`staked ${formatAmount(q.tao, 'tao', { raw })} on subnet ${netuid}: +${formatAmount(got, 'alpha', { raw })} at ${hotkey} (now ${formatAmount(r.alphaAfter, 'alpha', { raw })}), fee ${formatAmount(r.inclusion.fee, 'tao', { raw })}, block #${r.inclusion.blockNumber} ${r.inclusion.blockHash}`)
    return 0
  } finally {
    await api.disconnect()
  }
}


/** The TAO amount of `--<name>` (a bare number is TAO), above 0. */
function taoArg (args: ParsedArgs, name: string, raw: boolean, what: string): bigint | undefined {
  const v = str(args, name)
  if (v == null) return undefined
  const { rao } = parseAmountArg(v, { flag: name, dflt: 'tao', raw, allow: ['tao'] })
  if (rao <= 0n) throw new UsageError(`--${name} must be above 0 (${what})`)
  return rao
}

async function walletFund (args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const raw = flag(args, 'raw')
  const feeReserve = taoArg(args, 'fees', raw, 'TAO the hotkey account keeps free')
  // TAO to spend, or alpha the coldkey owns to move (α); --fees alone tops up the TAO for fees
  // (what a supplier needs), staking nothing
  const amountArg = str(args, 'amount')
  const given = amountArg != null ? parseAmountArg(amountArg, { flag: 'amount', dflt: 'tao', raw }) : undefined
  if (given != null && given.rao <= 0n) throw new UsageError('--amount must be above 0 (TAO to spend, or alpha the coldkey holds to move)')
  const moveAlpha = given?.asset === 'alpha' ? given.rao : 0n
  const amount = given != null ? (given.asset === 'tao' ? given.rao : 0n) : (feeReserve != null ? 0n : undefined)
  if (amount == null) throw new UsageError('--amount is required (TAO to spend on the escrow account, e.g. 10τ, or alpha the coldkey holds to move, e.g. 2α), or --fees alone for the TAO for fees')
  const moveFrom = str(args, 'validator')
  if (moveFrom != null && !isSs58(moveFrom)) throw new UsageError('--validator expects an ss58 address')
  if (moveFrom != null && moveAlpha === 0n) throw new UsageError('--validator: fund moves alpha from a hotkey only with an amount in α (e.g. --amount 2α)')
  const { netuid, id, api } = await escrowAccountChain(args, ctx)
  const { planFund, fund } = await import('../../node/wallet/fund.js')
  try {
    if (moveAlpha > 0n) {
      const { SubtensorChain } = await import('../../escrow/chain/subtensor/index.js')
      if ((await new SubtensorChain(api, { api, netuid }, false).assetFor(netuid)).kind !== 'alpha') throw new UsageError('--amount: escrows on this runtime hold TAO (τ), so they are funded in it')
    }
    const plan = await planFund(api, { coldkey: id.coldkey.address, account: id.hotkey.address, netuid, amount, ...(moveAlpha > 0n ? { moveAlpha } : {}), ...(moveFrom != null ? { moveFrom } : {}), ...(feeReserve != null ? { feeReserve } : {}) })
    const tao = (x: bigint): string => formatAmount(x, 'tao', { raw })
    if (plan.transfer === 0n && plan.stake == null && plan.move == null) {
      ctx.out(`nothing to send: the hotkey account ${plan.account} holds ${tao(plan.accountFree)} free, at least ${tao(plan.feeReserve)}`)
      return 0
    }
    const lines = [`fund the escrow account of this renter (the node's hotkey account ${plan.account}) on subnet ${netuid}`]
    lines.push(plan.transfer > 0n
      ? `  send             ${tao(plan.transfer)} from the coldkey ${plan.coldkey}, fee ${tao(plan.transferFee)}`
      : `  send             nothing: the hotkey account's ${tao(plan.accountFree)} free covers it`)
    if (plan.move != null) {
      const alpha = (x: bigint): string => formatAmount(x, 'alpha', { raw })
      const rate = `${(Number(plan.move.feeRate) * 100 / 65_535).toFixed(2)}%`
      if (plan.move.from != null) {
        lines.push(
          `  move             ${alpha(plan.move.alpha)} of the coldkey's ${alpha(plan.move.from.held)} under ${plan.move.from.hotkey} to ${plan.escrowHotkey!} (the subnet owner's hotkey: escrows hold alpha staked under it)`,
          `    fee            ${tao(plan.move.from.txFee)}, from the coldkey`,
          `  then             what arrives there to the hotkey account`,
          `    the pool's fee (${rate}) comes off each of the two moves`,
          `    fee            ${tao(plan.move.txFee)}, from the coldkey`
        )
      } else {
        lines.push(
          `  move             ${alpha(plan.move.alpha)} of the coldkey's ${alpha(plan.move.coldkeyAlpha)} under ${plan.escrowHotkey!} (the subnet owner's hotkey: escrows hold alpha staked under it) to the hotkey account`,
          `    the pool's fee (${rate}) on the move comes off it`,
          `    fee            ${tao(plan.move.txFee)}, from the coldkey`
        )
      }
    } else if (amount === 0n) {
      lines.push('  stake            nothing (--fees alone: the TAO for fees)')
    } else if (plan.stake != null) {
      lines.push(
        `  stake            ${tao(plan.amount)} from the hotkey account under ${plan.stake.hotkey} (the subnet owner's hotkey: escrows hold alpha staked under it)`,
        `    pool price     ${formatPrice(plan.stake.price, { raw })}`,
        `    swap fee       ${tao(plan.stake.swapFee)}`,
        `    you get about  ${formatAmount(plan.stake.alpha, 'alpha', { raw })}${plan.stake.source === 'pool-reserves' ? ' (from the pool reserves; the runtime has no swap simulation)' : ''}`,
        `    fee            ${tao(plan.stake.txFee)}`
      )
    } else {
      lines.push(`  escrows on this runtime hold TAO: the hotkey account's free TAO pays them`)
    }
    lines.push(`  kept for fees    ${tao(plan.feeReserve)} free in the hotkey account${plan.feeReserveFrom === 'default' ? ' (what a rental checks for and 10 rentals\' fees; --fees sets it)' : ''}`)
    for (const l of lines) ctx.err(l)
    if (!flag(args, 'yes') && !await confirm('sign and submit?', { signal: ctx.signal })) {
      throw new WalletError(WalletErrorCode.DECLINED, 'nothing was signed')
    }
    const r = await fund(api, { coldkey: id.coldkey, account: id.hotkey }, plan, { signal: ctx.signal })
    const asset = plan.asset === 'alpha' ? 'alpha' : 'tao'
    if (flag(args, 'json')) {
      ctx.out(JSON.stringify({
        netuid, asset: plan.asset, coldkey: plan.coldkey, account: plan.account, unit: AMOUNT_UNIT, amount: plan.amount.toString(), feeReserve: plan.feeReserve.toString(),
        sent: plan.transfer.toString(), ...(r.transfer != null ? { sendFee: r.transfer.fee.toString(), sendBlock: r.transfer.blockNumber } : {}),
        ...(plan.stake != null && r.stake != null ? { escrowHotkey: plan.stake.hotkey, staked: plan.amount.toString(), stakeFee: r.stake.fee.toString(), stakeBlock: r.stake.blockNumber, expectedAlpha: plan.stake.alpha.toString() } : {}),
        ...(plan.move != null && r.move != null ? { escrowHotkey: plan.escrowHotkey, moved: r.moved!.toString(), moveFee: r.move.fee.toString(), moveBlock: r.move.blockNumber } : {}),
        ...(plan.move?.from != null && r.moveToEscrowHotkey != null ? { movedFrom: plan.move.from.hotkey, movedFromAlpha: plan.move.alpha.toString(), moveFromFee: r.moveToEscrowHotkey.fee.toString(), moveFromBlock: r.moveToEscrowHotkey.blockNumber } : {}),
        escrowFundsBefore: plan.escrowFunds.toString(), escrowFunds: r.escrowFunds.toString(), accountFree: r.accountFree.toString()
      }))
      return 0
    }
    const gained = r.escrowFunds - plan.escrowFunds
    ctx.out(`funded ${plan.account}: escrows on subnet ${netuid} can spend ${formatAmount(r.escrowFunds, asset, { raw })} (${gained >= 0n ? '+' : ''}${formatAmount(gained, asset, { raw })}), ${tao(r.accountFree)} free for fees`)
    if (r.transfer != null) ctx.out(`  sent    ${tao(plan.transfer)}, fee ${tao(r.transfer.fee)}, block #${r.transfer.blockNumber} ${r.transfer.blockHash}`)
    if (r.stake != null) ctx.out(`  staked  ${tao(plan.amount)}, fee ${tao(r.stake.fee)}, block #${r.stake.blockNumber} ${r.stake.blockHash}`)
    if (r.moveToEscrowHotkey != null) ctx.out(`  moved   ${formatAmount(plan.move!.alpha, 'alpha', { raw })} from under ${plan.move!.from!.hotkey} to the subnet owner's hotkey, fee ${tao(r.moveToEscrowHotkey.fee)}, block #${r.moveToEscrowHotkey.blockNumber} ${r.moveToEscrowHotkey.blockHash}`)
    if (r.move != null) ctx.out(`  moved   ${formatAmount(r.moved!, 'alpha', { raw })} from the coldkey to the hotkey account, fee ${tao(r.move.fee)}, block #${r.move.blockNumber} ${r.move.blockHash}`)
    return 0
  } finally {
    await api.disconnect()
  }
}

/**
 * What `fund` and `withdraw` share: the subnet (--netuid, else config chain.netuid), the node's
 * keys (the hotkey signs for the escrow account), and the chain, connected.
 */
async function escrowAccountChain (args: ParsedArgs, ctx: CommandContext): Promise<{ netuid: number, id: Awaited<ReturnType<typeof openKeystore>>, api: Awaited<ReturnType<typeof connectChain>> }> {
  let netuid = netuidArg(args, false)
  const home = resolveHome({ flag: str(args, 'home'), env: ctx.env })
  if (netuid == null) {
    const { loadConfig } = await import('../../node/config/index.js')
    netuid = (await loadConfig({ home, env: ctx.env, configFile: str(args, 'config'), signal: ctx.signal })).chain.netuid
  }
  const passphrase = await resolvePassphrase({ flag: str(args, 'passphrase'), file: str(args, 'passphrase-file'), env: ctx.env, tty: true, signal: ctx.signal })
  const id = await openKeystore(home, passphrase, { signal: ctx.signal })
  const api = await connectChain({ endpoint: str(args, 'endpoint'), configFile: str(args, 'config'), home, env: ctx.env, signal: ctx.signal })
  return { netuid, id, api }
}

async function walletWithdraw (args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const raw = flag(args, 'raw')
  const amountArg = str(args, 'amount')
  // the form is checked before anything is opened; the asset a bare number is in, once the chain says
  if (amountArg != null && parseAmountArg(amountArg, { flag: 'amount', dflt: 'alpha', raw }).rao <= 0n) throw new UsageError('--amount must be above 0')
  const { netuid, id, api } = await escrowAccountChain(args, ctx)
  const { planWithdraw, withdraw } = await import('../../node/wallet/fund.js')
  try {
    const { SubtensorChain } = await import('../../escrow/chain/subtensor/index.js')
    const asset = (await new SubtensorChain(api, { api, netuid }, false).assetFor(netuid)).kind
    let amount: bigint | undefined
    if (amountArg != null) {
      const parsed = parseAmountArg(amountArg, { flag: 'amount', dflt: asset, raw })
      if (parsed.asset !== asset) throw new UsageError(`--amount: escrows on this runtime hold ${asset === 'alpha' ? 'alpha (α)' : 'TAO (τ)'}, so the amount taken back is in it`)
      amount = parsed.rao
    }
    const plan = await planWithdraw(api, { coldkey: id.coldkey.address, account: id.hotkey.address, netuid, ...(amount != null ? { amount } : {}) })
    const tao = (x: bigint): string => formatAmount(x, 'tao', { raw })
    const lines = [`take escrow funds back from the node's hotkey account ${plan.account} on subnet ${netuid} to the coldkey ${plan.coldkey}`]
    if (plan.escrowHotkey != null) {
      lines.push(
        `  unstake          ${formatAmount(plan.amount, 'alpha', { raw })} of ${formatAmount(plan.escrowFunds, 'alpha', { raw })} from under ${plan.escrowHotkey}`,
        `  you get about    ${tao(plan.expectedTao ?? 0n)} (from the pool reserves, after its fee), sent on to the coldkey`
      )
    } else {
      lines.push(`  send             ${tao(plan.amount)} of ${tao(plan.escrowFunds)} free`)
    }
    lines.push(`  kept for fees    ${tao(plan.feeReserve ?? plan.accountFree)} free in the hotkey account`)
    for (const l of lines) ctx.err(l)
    if (!flag(args, 'yes') && !await confirm('sign and submit?', { signal: ctx.signal })) {
      throw new WalletError(WalletErrorCode.DECLINED, 'nothing was signed')
    }
    const r = await withdraw(api, { account: id.hotkey }, plan, { signal: ctx.signal })
    if (flag(args, 'json')) {
      ctx.out(JSON.stringify({
        netuid, asset: plan.asset, coldkey: plan.coldkey, account: plan.account, unit: AMOUNT_UNIT, amount: plan.amount.toString(), sent: r.sent.toString(),
        ...(r.unstake != null ? { escrowHotkey: plan.escrowHotkey, unstakeFee: r.unstake.fee.toString(), unstakeBlock: r.unstake.blockNumber } : {}),
        ...(r.transfer != null ? { sendFee: r.transfer.fee.toString(), sendBlock: r.transfer.blockNumber } : {}),
        escrowFundsBefore: plan.escrowFunds.toString(), escrowFunds: r.escrowFunds.toString(), accountFree: r.accountFree.toString()
      }))
      return 0
    }
    ctx.out(`sent ${tao(r.sent)} to the coldkey ${plan.coldkey}; escrows on subnet ${netuid} can spend ${formatAmount(r.escrowFunds, plan.asset, { raw })}, ${tao(r.accountFree)} free for fees`)
    if (r.unstake != null) ctx.out(`  unstaked  ${formatAmount(plan.amount, 'alpha', { raw })}, fee ${tao(r.unstake.fee)}, block #${r.unstake.blockNumber} ${r.unstake.blockHash}`)
    if (r.transfer != null) ctx.out(`  sent      ${tao(r.sent)}, fee ${tao(r.transfer.fee)}, block #${r.transfer.blockNumber} ${r.transfer.blockHash}`)
    return 0
  } finally {
    await api.disconnect()
  }
}
