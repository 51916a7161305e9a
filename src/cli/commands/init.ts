import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { UsageError } from '../../util/errors.js'
import { resolveHome } from '../../node/home.js'
import { CONFIG_TEMPLATES, ConfigError, ConfigErrorCode, PACKAGE_CONFIG_DIR, ROLES, mergeLayers, readConfigFile, readConfigTemplate, validateConfig } from '../../node/config/index.js'
import { KeystoreError, KeystoreErrorCode, initHome, isInitialized, normalizeMnemonic, resolvePassphrase, toStoredKey } from '../../node/keystore/index.js'
import { btcliWalletPaths, type BtcliWallet } from '../../node/wallet/index.js'
import { btcliLocation, readBtcliWalletForCli } from './wallet.js'

const usage = `usage: bazaar init [options]

Creates a node home: a libp2p peer key (ed25519), an sr25519 coldkey and hotkey (ss58 prefix 42)
from a new BIP-39 mnemonic, both sealed in keystore.json with a passphrase (scrypt + AES-256-GCM),
a control-API token (api-token) and config.json. The mnemonic is printed once: write it down, it
is the only way to restore the accounts. The coldkey is the mnemonic's own account; the hotkey is
its hard-derived child <mnemonic>//hot, so one phrase restores both.

Existing keys are never replaced without --force (config.json is always kept).

options:
  --home <dir>           node home (default: $BAZAAR_HOME or ~/.bazaar)
  --passphrase <pw>      keystore passphrase (default: $BAZAAR_PASSPHRASE, else a prompt on a
                         terminal); a flag is visible to other local users, prefer the others
  --passphrase-file <f>  read the passphrase from a file (default: $BAZAAR_PASSPHRASE_FILE;
                         a systemd credential, see contrib/systemd)
  --mnemonic <phrase>    restore the accounts from this mnemonic (default: $BAZAAR_MNEMONIC;
                         prefer the variable, a flag shows in the process list)
  --dev <name>           use the well-known dev seed //<Name> (alice, bob, ...) and a well-known
                         peer key instead of a mnemonic. INSECURE: anyone can derive these keys;
                         devnets only, never real funds
  --from-btcli           use the coldkey and hotkey of a btcli wallet instead of a mnemonic (the
                         hotkey is the wallet's own, not derived); with --path <dir> (default
                         ~/.bittensor/wallets), --wallet <name> and --hotkey <name> (default:
                         default). The coldkey password comes from btcli's BT_PW_<coldkey path>
                         or a prompt; the btcli files are only read (see bazaar wallet --help)
  --supplier             also create the simulated enclave's key (enclave-key)
  --template <name>      write config.json from a packaged example: supplier, renter, daemon,
                         devnet, or a network on one machine on the local chain
                         ws://127.0.0.1:9944 (bazaar chain start): local-supplier (--dev alice),
                         local-renter (--dev bob), arbiter (--dev ferdie; the two others name
                         //Ferdie's hotkey and peer id as their arbiter)
  --role <role>          role in a newly written config.json: ${ROLES.join(', ')}
  --force                replace existing keys (and the API token)
  --json                 print {home, peerId, coldkey, hotkey, mnemonic (only when generated now)}
  -h, --help             this help`

/** `bazaar init`: create a node home with keys, API token and config. */
export const initCommand: Command = {
  name: 'init',
  usage,
  options: {
    home: { type: 'string' },
    passphrase: { type: 'string' }, 'passphrase-file': { type: 'string' },
    mnemonic: { type: 'string' },
    dev: { type: 'string' },
    'from-btcli': { type: 'boolean' },
    path: { type: 'string' },
    wallet: { type: 'string' },
    hotkey: { type: 'string' },
    supplier: { type: 'boolean' },
    template: { type: 'string' },
    role: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' }
  },
  async run (args, ctx) {
    const home = resolveHome({ flag: str(args, 'home'), env: ctx.env })
    const force = flag(args, 'force')
    const dev = str(args, 'dev')
    const mnemonic = str(args, 'mnemonic') ?? nonEmpty(ctx.env.BAZAAR_MNEMONIC)
    const fromBtcli = flag(args, 'from-btcli')
    if ([dev != null, str(args, 'mnemonic') != null, fromBtcli].filter(Boolean).length > 1 || (dev != null && mnemonic != null)) {
      throw new UsageError('--dev, a mnemonic (--mnemonic or BAZAAR_MNEMONIC) and --from-btcli exclude each other')
    }
    // the flags' own mistakes before the home's state, and before any passphrase is asked for
    const template = str(args, 'template')
    if (template != null && !Object.hasOwn(CONFIG_TEMPLATES, template)) {
      throw new UsageError(`--template: unknown config template ${JSON.stringify(template.slice(0, 40))} (one of ${Object.keys(CONFIG_TEMPLATES).join(', ')})`)
    }
    if (mnemonic != null && !fromBtcli) {
      try {
        await normalizeMnemonic(mnemonic)
      } catch (err) {
        // a flag's value is a usage error; the environment's exits 1, as a bad config value does
        if (str(args, 'mnemonic') != null && err instanceof KeystoreError) throw new UsageError(`--mnemonic: ${err.message}`)
        throw err
      }
    }
    if (!fromBtcli && ['path', 'wallet', 'hotkey'].some((k) => str(args, k) != null)) {
      throw new UsageError('--path, --wallet and --hotkey go with --from-btcli')
    }
    if (fromBtcli) btcliWalletPaths(btcliLocation(args))
    // fail before asking for a passphrase
    if (!force && await isInitialized(home)) {
      throw new KeystoreError(KeystoreErrorCode.ALREADY_INITIALIZED, `${home} already holds keys (use --force to replace them)`)
    }
    const config = await newConfig(template, str(args, 'role'))
    // the btcli wallet is read and checked before anything is asked for the new keystore
    const btcli: BtcliWallet | undefined = fromBtcli ? await readBtcliWalletForCli(args, ctx) : undefined
    const passphrase = await resolvePassphrase({
      flag: str(args, 'passphrase'),
      file: str(args, 'passphrase-file'),
      env: ctx.env,
      tty: true,
      confirm: true,
      prompt: 'New keystore passphrase: ',
      signal: ctx.signal
    })

    const keys = btcli != null ? { coldkey: toStoredKey(btcli.coldkey.secret), hotkey: toStoredKey(btcli.hotkey.secret) } : undefined
    const r = await initHome({ home, passphrase, force, mnemonic: fromBtcli ? undefined : mnemonic, dev, keys, supplier: flag(args, 'supplier') || template === 'local-supplier', config, signal: ctx.signal })
    // once the home is made: a home that cannot be made is its one line alone
    if (dev != null) ctx.err('warning: dev keys are well known and insecure; use them on devnets only')
    // the local templates name a fixed arbiter: an arbiter home with other keys needs them told
    if (template === 'arbiter' && r.hotkey !== LOCAL_ARBITER_HOTKEY) {
      ctx.err(`note: the local-supplier and local-renter templates name the arbiter ${LOCAL_ARBITER_HOTKEY} (bazaar init --dev ferdie); for this one set chain.arbiter to ${r.hotkey} and chain.arbiterPeer to /ip4/127.0.0.1/tcp/4103/p2p/${r.peerId} in their config.json`)
    }

    if (flag(args, 'json')) {
      ctx.out(JSON.stringify({
        home: r.home,
        peerId: r.peerId,
        coldkey: r.coldkey,
        hotkey: r.hotkey,
        ...(r.mnemonic != null ? { mnemonic: r.mnemonic } : {}),
        source: r.source,
        ...(r.enclavePeerId != null ? { enclavePeerId: r.enclavePeerId } : {})
      }))
      return 0
    }
    ctx.out(`initialized ${r.home}`)
    ctx.out(`  peer id   ${r.peerId}`)
    ctx.out(`  coldkey   ${r.coldkey}${r.devName != null ? ` (dev //${r.devName}, insecure)` : ''}`)
    ctx.out(`  hotkey    ${r.hotkey}`)
    if (btcli != null) ctx.out(`  from      btcli wallet ${btcli.paths.dir} (coldkey ${btcli.coldkeyFormat}, hotkey ${btcli.hotkeyFormat})`)
    if (r.enclavePeerId != null) ctx.out(`  enclave   ${r.enclavePeerId}`)
    ctx.out(`  config    ${r.configWritten ? 'config.json written' : 'existing config.json kept'}`)
    if (r.mnemonic != null) {
      ctx.out('')
      ctx.out('Mnemonic (shown once; write it down, it restores the coldkey and hotkey):')
      ctx.out(`  ${r.mnemonic}`)
    }
    return 0
  }
}

/** The arbiter hotkey the local-supplier and local-renter templates name (`bazaar init --dev ferdie`). */
const LOCAL_ARBITER_HOTKEY = '5GisLmU7QUqeiNCxoQnREyMkpFeE2t8fRimWYYdGAug9GUTT'

/** The content of a new config.json: a packaged template and/or a role, validated over the defaults. */
async function newConfig (template: string | undefined, role: string | undefined): Promise<Record<string, unknown>> {
  const cfg: Record<string, unknown> = template != null ? await readConfigTemplate(template) : {}
  if (role != null) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(ConfigErrorCode.INVALID_FIELD, 'role', `--role must be one of ${ROLES.join(', ')}`, { source: 'flags' })
    }
    cfg.role = role
  }
  // over the defaults file as written: the validated defaults drop what only resolves others
  // (chain.networks, which a template's chain.network names)
  validateConfig(mergeLayers(await readConfigFile(PACKAGE_CONFIG_DIR + 'default.json', true) ?? {}, cfg))
  return cfg
}

function nonEmpty (s: string | undefined): string | undefined {
  return s == null || s.trim() === '' ? undefined : s
}
