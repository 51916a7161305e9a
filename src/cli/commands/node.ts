import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Command } from '../command.js'
import { str } from '../command.js'
import { UsageError } from '../../util/errors.js'
import { homePaths, resolveHome } from '../../node/home.js'
import { loadEnclaveKey, openKeystore, readApiToken, resolvePassphrase } from '../../node/keystore/index.js'
import { CONFIG_FLAG_OPTIONS, CONFIG_FLAGS_USAGE, configFlagsFromArgs, loadConfig } from '../../node/config/index.js'
import { BazaarNode } from '../../node/bazaar-node.js'
import { API_ADDRESS_FILE } from '../client.js'

const usage = `usage: bazaar node start [options]

Runs a headless marketplace node until SIGINT or SIGTERM: listens on TCP, joins through bootstrap
addresses and mDNS, runs identify, ping, kad-dht and gossipsub, subscribes to /bazaar/offers/1 and
/bazaar/bids/1, serves the control API on 127.0.0.1 and keeps its state under the node home.
Logs are JSON lines on stderr (--log-format pretty for people).

options:
  --home <dir>           node home (default: $BAZAAR_HOME or ~/.bazaar)
  --passphrase <pw>      keystore passphrase (default: $BAZAAR_PASSPHRASE, else a prompt)
${CONFIG_FLAGS_USAGE}
  -h, --help             this help`

/** `bazaar node start`: the daemon. */
export const nodeCommand: Command = {
  name: 'node',
  summary: 'run a headless node (bazaar node start)',
  usage,
  allowPositionals: true,
  options: { home: { type: 'string' }, passphrase: { type: 'string' }, ...CONFIG_FLAG_OPTIONS },
  async run (args, ctx) {
    const [sub, ...extra] = args.positionals
    if (sub !== 'start' || extra.length > 0) throw new UsageError('expected `bazaar node start` (see bazaar node --help)')
    const home = resolveHome({ flag: str(args, 'home'), env: ctx.env })
    const config = await loadConfig({ home, env: ctx.env, flags: configFlagsFromArgs(args.values), configFile: str(args, 'config') })
    const passphrase = await resolvePassphrase({ flag: str(args, 'passphrase'), env: ctx.env, tty: true, signal: ctx.signal })
    const identity = await openKeystore(home, passphrase, { signal: ctx.signal })
    const enclave = await loadEnclaveKey(home, passphrase)
    const node = await BazaarNode.init({
      config,
      identity,
      dbPath: homePaths(home).db,
      apiToken: await readApiToken(home),
      enclavePeer: enclave?.peerId
    })
    const addrFile = path.join(home, API_ADDRESS_FILE)
    const api = node.apiAddress
    if (api != null) await writeFile(addrFile, JSON.stringify({ url: `http://${api.host}:${api.port}`, pid: process.pid }) + '\n', { mode: 0o600 })
    ctx.out(`peer id ${node.peerId.toString()}`)
    for (const a of node.host.getMultiaddrs()) ctx.out(`listening ${a.toString()}`)
    if (api != null) ctx.out(`control API http://${api.host}:${api.port}`)

    await new Promise<void>((resolve) => {
      const stop = (): void => { resolve() }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      ctx.signal.addEventListener('abort', stop, { once: true })
    })
    ctx.out('stopping')
    await node.close()
    await rm(addrFile, { force: true })
    return 0
  }
}
