import type { Command, CommandContext, ParsedArgs } from '../command.js'
import { flag, str } from '../command.js'
import { UsageError } from '../../util/errors.js'
import { resolveHome } from '../../node/home.js'
import {
  KeystoreError, KeystoreErrorCode, isInitialized, openKeystore, readKeystorePublic, replaceAccounts, resolvePassphrase, toStoredKey
} from '../../node/keystore/index.js'
import { btcliPasswordVariable, btcliWalletPaths, readBtcliWallet, writeBtcliWallet, type BtcliWallet } from '../../node/wallet/index.js'
import { btcliPasswordSource, newBtcliPassword } from '../btcli.js'

const usage = `usage: bazaar wallet <import|export> --btcli [options]

Bittensor (btcli) wallets: <path>/<wallet>/coldkey, coldkeypub.txt and hotkeys/<hotkey>.

  import --btcli   use the coldkey and hotkey of a btcli wallet as this node's accounts. Reads the
                   formats bittensor-wallet writes (NaCl-encrypted, ansible-vault or plain JSON
                   coldkeys; plain JSON hotkeys), checks the coldkey against coldkeypub.txt and each
                   key against the address in its file, and stores both in the node's encrypted
                   keystore (peer key, API token and config are kept). The btcli files are only
                   read, never changed. The coldkey password comes from btcli's own variable
                   BT_PW_<coldkey path> or a prompt. Replacing other accounts needs --force.
  export --btcli   write this node's coldkey and hotkey as a btcli wallet (NaCl-encrypted coldkey,
                   coldkeypub.txt, plain hotkey JSON; files 0600), so btcli can use them. The new
                   coldkey's password comes from BT_PW_<coldkey path> or a prompt. Existing files
                   are never overwritten.

options:
  --btcli                the btcli wallet layout (required; the only one)
  --path <dir>           the wallets folder (default ~/.bittensor/wallets)
  --wallet <name>        the wallet's name (default: default)
  --hotkey <name>        the hotkey's name (default: default)
  --home <dir>           node home (default: $BAZAAR_HOME or ~/.bazaar)
  --passphrase <pw>      node keystore passphrase (default: $BAZAAR_PASSPHRASE, else a prompt)
  --force                import: replace accounts the home already has
  --json                 print the result as JSON
  -h, --help             this help

To start a new node home from a btcli wallet: bazaar init --from-btcli --wallet <name> --hotkey <name>.`

/** The btcli wallet named by --path, --wallet and --hotkey. */
export function btcliLocation (args: ParsedArgs): { path?: string, wallet: string, hotkey: string } {
  const p = str(args, 'path')
  return { ...(p != null ? { path: p } : {}), wallet: str(args, 'wallet') ?? 'default', hotkey: str(args, 'hotkey') ?? 'default' }
}

/** Reads a btcli wallet with btcli's password variable or a prompt; notes what it reads on stderr. */
export async function readBtcliWalletForCli (args: ParsedArgs, ctx: CommandContext): Promise<BtcliWallet> {
  const loc = btcliLocation(args)
  const paths = btcliWalletPaths(loc)
  ctx.err(`reading btcli wallet ${paths.dir} (hotkey ${loc.hotkey}); an encrypted coldkey takes a few seconds to open (argon2i, 512 MiB)`)
  return await readBtcliWallet(loc, { password: btcliPasswordSource(ctx.env, { signal: ctx.signal }), signal: ctx.signal })
}

/** `bazaar wallet`: import and export btcli wallets. */
export const walletCommand: Command = {
  name: 'wallet',
  summary: 'import a btcli wallet as the node\'s accounts, or export them as one',
  usage,
  allowPositionals: true,
  options: {
    btcli: { type: 'boolean' },
    path: { type: 'string' },
    wallet: { type: 'string' },
    hotkey: { type: 'string' },
    home: { type: 'string' },
    passphrase: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' }
  },
  async run (args, ctx) {
    const [sub, ...extra] = args.positionals
    if (extra.length > 0 || (sub !== 'import' && sub !== 'export')) {
      throw new UsageError('expected bazaar wallet import|export --btcli (see bazaar wallet --help)')
    }
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
  const passphrase = await resolvePassphrase({ flag: str(args, 'passphrase'), env: ctx.env, tty: true, prompt: 'Node keystore passphrase: ', signal: ctx.signal })
  const current = await openKeystore(home, passphrase, { signal: ctx.signal })
  const w = await readBtcliWalletForCli(args, ctx)
  const same = current.coldkey.address === w.coldkey.ss58Address && current.hotkey.address === w.hotkey.ss58Address
  if (!same && !flag(args, 'force')) {
    throw new KeystoreError(KeystoreErrorCode.ALREADY_INITIALIZED,
      `${home} has other accounts (coldkey ${current.coldkey.address}); --force replaces them (keep their mnemonic: they are not kept)`)
  }
  if (!same || current.source !== 'keys') {
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
  const paths = btcliWalletPaths(loc)
  const passphrase = await resolvePassphrase({ flag: str(args, 'passphrase'), env: ctx.env, tty: true, prompt: 'Node keystore passphrase: ', signal: ctx.signal })
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
