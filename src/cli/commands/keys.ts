import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { UsageError } from '../../util/errors.js'
import { resolveHome } from '../../node/home.js'
import { loadEnclaveKey, openKeystore, resolvePassphrase } from '../../node/keystore/index.js'

const usage = `usage: bazaar keys show [options]

Opens the keystore of a node home with its passphrase and prints the peer id and the coldkey and
hotkey addresses (ss58 prefix 42), and the simulated enclave's peer id when the home has one.
A wrong passphrase fails with one line and exit code 1.

options:
  --home <dir>           node home (default: $BAZAAR_HOME or ~/.bazaar)
  --passphrase <pw>      keystore passphrase (default: $BAZAAR_PASSPHRASE, else a prompt on a terminal)
  --passphrase-file <f>  read the passphrase from a file (default: $BAZAAR_PASSPHRASE_FILE;
                         a systemd credential, see contrib/systemd)
  --mnemonic             also print the mnemonic (a secret: anyone who sees it owns the accounts)
  --json                 print {home, peerId, coldkey, hotkey, source, enclavePeerId?, mnemonic?}
  -h, --help             this help`

/** `bazaar keys show`: unlock the keystore and print the identities. */
export const keysCommand: Command = {
  name: 'keys',
  usage,
  allowPositionals: true,
  options: {
    home: { type: 'string' },
    passphrase: { type: 'string' }, 'passphrase-file': { type: 'string' },
    mnemonic: { type: 'boolean' },
    json: { type: 'boolean' }
  },
  async run (args, ctx) {
    const [sub, ...extra] = args.positionals
    if (sub !== 'show' || extra.length > 0) throw new UsageError('expected `bazaar keys show` (see bazaar keys --help)')
    const home = resolveHome({ flag: str(args, 'home'), env: ctx.env })
    const passphrase = await resolvePassphrase({ flag: str(args, 'passphrase'), file: str(args, 'passphrase-file'), env: ctx.env, tty: true, signal: ctx.signal })
    const reveal = flag(args, 'mnemonic')
    const id = await openKeystore(home, passphrase, { revealMnemonic: reveal, signal: ctx.signal })
    const enclave = await loadEnclaveKey(home, passphrase)
    const out = {
      home,
      peerId: id.peerId.toString(),
      coldkey: id.coldkey.address,
      hotkey: id.hotkey.address,
      source: id.source,
      ...(enclave != null ? { enclavePeerId: enclave.peerId.toString() } : {}),
      ...(id.mnemonic != null ? { mnemonic: id.mnemonic } : {})
    }
    if (flag(args, 'json')) {
      ctx.out(JSON.stringify(out))
      return 0
    }
    ctx.out(`home      ${out.home}`)
    ctx.out(`peer id   ${out.peerId}`)
    ctx.out(`coldkey   ${out.coldkey}${id.source === 'dev' ? ` (dev //${id.devName ?? ''}, insecure)` : ''}`)
    ctx.out(`hotkey    ${out.hotkey}`)
    if (out.enclavePeerId != null) ctx.out(`enclave   ${out.enclavePeerId}`)
    if (reveal && id.source === 'dev') ctx.out('mnemonic  (none: dev identity)')
    if (out.mnemonic != null) ctx.out(`mnemonic  ${out.mnemonic}`)
    return 0
  }
}
