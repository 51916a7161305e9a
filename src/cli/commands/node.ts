import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Command, CommandContext, ParsedArgs } from '../command.js'
import { str } from '../command.js'
import { UsageError, UserError } from '../../util/errors.js'
import { checkHomeIsDirectory, resolveHome } from '../../node/home.js'
import { loadEnclaveKey, loadOrCreateEnclaveKey, openKeystore, readOrCreateApiToken, readOrCreateMetricsToken, resolvePassphrase, VoucherKeyVault } from '../../node/keystore/index.js'
import { CONFIG_FLAG_OPTIONS, CONFIG_FLAGS_USAGE, configFlagsFromArgs, loadConfig } from '../../node/config/index.js'
import { BazaarNode, nodeLogger } from '../../node/bazaar-node.js'
import { checkGpuProvider, checkSupplierGpus, checkTeeProvider } from '../../node/daemon.js'
import type { Role } from '../../node/config/types.js'
import { API_ADDRESS_FILE } from '../client.js'
import { apiUrl } from '../../node/api/url.js'
import { installNetworkErrorGuard } from '../../node/process-guard.js'
import { routeConsole } from '../../node/console-route.js'
import { MemoryReducer } from '../../node/memory-reducer.js'
import { ProcessMetrics } from '../../node/process-metrics.js'
import { lengthPrefixGuardStatus } from '../../node/lp-guard.js'
import { systemClock } from '../../util/clock.js'

/** The options of every command that runs a daemon (`node start`, `supply`, `arbiter`). */
export const DAEMON_OPTIONS = { home: { type: 'string' }, passphrase: { type: 'string' }, 'passphrase-file': { type: 'string' }, ...CONFIG_FLAG_OPTIONS } as const

/** Their help lines. */
export const DAEMON_OPTIONS_USAGE = `options:
  --home <dir>           node home (default: $BAZAAR_HOME or ~/.bazaar)
  --passphrase <pw>      keystore passphrase (default: $BAZAAR_PASSPHRASE, else a prompt)
  --passphrase-file <f>  read the passphrase from a file (default: $BAZAAR_PASSPHRASE_FILE;
                         a systemd credential, see contrib/systemd)
${CONFIG_FLAGS_USAGE}
  -h, --help             this help`

const usage = `usage: bazaar node start [options]

Runs a headless marketplace node until SIGINT or SIGTERM: listens on TCP, joins through bootstrap
addresses and mDNS, runs identify, ping, kad-dht and gossipsub, subscribes to /bazaar/offers/1 and
/bazaar/bids/1, serves the control API on 127.0.0.1 and keeps its state under the node home.
Logs are JSON lines on stderr (--log-format pretty for people).

Roles (--role or config role): supplier offers the GPUs nvidia-smi finds (else config gpus) with
the attestation of tee.provider; renter serves bazaar rent; both; arbiter co-signs escrow closes.
Chain (--chain or config chain): embedded keeps a ledger under <home>/ledger that lives in this
process only, so a daemon on it cannot trade with any other process (bazaar devnet runs a whole
network in one process); a ws:// endpoint uses the subtensor adapter. chain.arbiter names the
arbiter (ss58) and chain.arbiterPeer (a multiaddr with /p2p/) where its node listens.

${DAEMON_OPTIONS_USAGE}`

/** `bazaar node start`: the daemon. */
export const nodeCommand: Command = {
  name: 'node',
  usage,
  allowPositionals: true,
  options: DAEMON_OPTIONS,
  async run (args, ctx) {
    const [sub, ...extra] = args.positionals
    if (sub !== 'start' || extra.length > 0) throw new UsageError('expected `bazaar node start` (see bazaar node --help)')
    return await runDaemon(args, ctx)
  }
}

/**
 * Runs a daemon until SIGINT or SIGTERM: a BazaarNode with the roles of its config, their stores
 * and every control-API route. `role` overrides the config's role (`bazaar supply`, `bazaar arbiter`).
 */
export async function runDaemon (args: ParsedArgs, ctx: CommandContext, opts: { role?: Role } = {}): Promise<number> {
  // SIGINT/SIGTERM are taken from the first line on: a stop asked for while the node starts aborts
  // the start, and one that arrives right after the last line is printed is never lost (the default
  // action would kill the process with no clean close)
  const stopAsked = new AbortController()
  // a second signal while the node closes (the renter waits up to 45 s for rentals to settle) is the
  // operator insisting: exit now. Money state is written durably as it changes, so nothing
  // acknowledged is lost; what was in flight is taken up again at the next start.
  const onSignal = (): void => {
    if (!stopAsked.signal.aborted) { stopAsked.abort(); return }
    ctx.err('bazaar: second stop signal: exiting without waiting for the close (in-flight work resumes at the next start)')
    process.exit(130)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let started = false
  try {
    return await runDaemonUntilStopped(args, { ...ctx, signal: AbortSignal.any([ctx.signal, stopAsked.signal]) }, opts, () => { started = true })
  } catch (err) {
    // a stop asked for while starting is what the operator wanted, not a failure of the start
    if (!started && stopAsked.signal.aborted) { ctx.err('bazaar: stopped before the node had started'); return 130 }
    throw err
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

async function runDaemonUntilStopped (args: ParsedArgs, ctx: CommandContext, opts: { role?: Role }, onStarted: () => void): Promise<number> {
  const home = resolveHome({ flag: str(args, 'home'), env: ctx.env })
  // before its config.json is read: ENOTDIR there would blame the config file
  await checkHomeIsDirectory(home)
  const flags = configFlagsFromArgs(args.values)
  if (opts.role != null) flags.role = opts.role
  const config = await loadConfig({ home, env: ctx.env, flags, configFile: str(args, 'config') })
  // a supplier without GPUs, or that cannot attest, refuses before the node opens anything
  await checkSupplierGpus(config, { signal: ctx.signal })
  await checkTeeProvider(config, { signal: ctx.signal })
  await checkGpuProvider(config, { signal: ctx.signal })
  const passphrase = await resolvePassphrase({ flag: str(args, 'passphrase'), file: str(args, 'passphrase-file'), env: ctx.env, tty: true, signal: ctx.signal })
  const identity = await openKeystore(home, passphrase, { signal: ctx.signal })
  const supplies = config.role === 'supplier' || config.role === 'both'
  const enclave = supplies ? await loadOrCreateEnclaveKey(home, passphrase, { signal: ctx.signal }) : await loadEnclaveKey(home, passphrase)
  const logger = nodeLogger(config)
  // bin/bazaar.js bounds libp2p's own length prefixes; a process started otherwise, or a library
  // upgrade that changed the text the bound replaces, runs without it (lp-guard.ts)
  const lpGuard = lengthPrefixGuardStatus()
  if (lpGuard !== 'patched') logger.warn('libp2p\'s own length-prefixed readers are not bounded in this process: a peer can keep one reading a length prefix until the connection\'s timeout', { guard: lpGuard })
  const removeGuard = installNetworkErrorGuard(logger)
  const restoreConsole = routeConsole(logger)
  let node: BazaarNode
  try {
    // the whole node (roles, stores, chain, control API with its routes) in one place
    node = await BazaarNode.init({
      config,
      identity,
      home,
      apiToken: await readOrCreateApiToken(home),
      metricsToken: await readOrCreateMetricsToken(home),
      enclaveKey: enclave,
      voucherKeys: config.role === 'renter' || config.role === 'both' ? new VoucherKeyVault(home, passphrase) : undefined,
      logger,
      signal: ctx.signal
    })
  } catch (err) {
    restoreConsole()
    removeGuard()
    throw err
  }
  onStarted()
  // after a burst of gossip, give back what V8 keeps (see memory-reducer.ts); one per process
  const reducer = new MemoryReducer({ clock: systemClock, logger, metrics: node.metrics }).start()
  const processMetrics = new ProcessMetrics(node.metrics).start()
  const addrFile = path.join(home, API_ADDRESS_FILE)
  const api = node.apiAddress
  if (api != null) {
    try {
      await writeFile(addrFile, JSON.stringify({ url: apiUrl(api.host, api.port), pid: process.pid }) + '\n', { mode: 0o600 })
    } catch (err) {
      // [refuse] a node no command can find (api.json a directory, a full disk) is not left running:
      // it closes, and the start fails with one line
      reducer.stop()
      processMetrics.stop()
      await node.close()
      restoreConsole()
      removeGuard()
      throw new UserError(`cannot write ${addrFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'} (the client commands find the node through it; the node stopped)`, { code: 'HOME_UNUSABLE', cause: err })
    }
  }
  ctx.out(`peer id ${node.peerId.toString()}`)
  for (const a of node.host.getMultiaddrs()) ctx.out(`listening ${a.toString()}`)
  ctx.out(`role ${config.role}, hotkey ${identity.hotkey.address}, chain ${config.chain.adapter}${config.chain.adapter === 'embedded' ? ' (in this process only: no trade with other processes)' : ` at ${config.chain.endpoint ?? ''}${config.chain.fallbackEndpoints != null ? ` (then ${config.chain.fallbackEndpoints.join(', ')})` : ''}`}`)
  const supplier = node.supplier
  if (supplier != null) {
    const inv = supplier.inventory
    ctx.out(`supplying from enclave ${supplier.enclave.peerId.toString()} (${config.tee.provider}${config.tee.provider === 'simulated' ? ': attests nothing, devnets only' : ''}): ${inv.classes.map((c) => `${c.count}x ${c.model}`).join(', ')} from ${inv.source === 'config' ? 'config gpus' : 'nvidia-smi'}`)
  }
  if (api != null) ctx.out(`control API ${apiUrl(api.host, api.port)}`)

  // until a stop signal, or until the chain endpoint serves another chain: nothing signed for the
  // old one fits there, and a start opens the new one (exit 75, EX_TEMPFAIL: the systemd units'
  // Restart=on-failure starts the daemon again, within their start limit)
  let changed: string | undefined
  if (!ctx.signal.aborted) {
    changed = await Promise.race([
      new Promise<undefined>((resolve) => { ctx.signal.addEventListener('abort', () => { resolve(undefined) }, { once: true }) }),
      node.chainChanged
    ])
  }
  if (changed != null) ctx.err(`bazaar: ${changed}: stopping, so that a start opens it (exit 75; the systemd units start the daemon again)`)
  ctx.out('stopping')
  reducer.stop()
  processMetrics.stop()
  await node.close()
  await rm(addrFile, { force: true })
  restoreConsole()
  removeGuard()
  return changed != null ? EXIT_CHAIN_CHANGED : 0
}

/** a daemon's exit code when its chain endpoint came to serve another chain: EX_TEMPFAIL, start it again */
export const EXIT_CHAIN_CHANGED = 75
