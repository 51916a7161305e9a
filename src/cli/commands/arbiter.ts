import type { Command } from '../command.js'
import { DAEMON_OPTIONS, DAEMON_OPTIONS_USAGE, runDaemon } from './node.js'

const usage = `usage: bazaar arbiter [options]

Runs an arbiter daemon (bazaar node start --role arbiter) until SIGINT or SIGTERM. It answers
/bazaar/arbiter/2.0.0 and co-signs, with its hotkey, only a close that pays the highest valid
voucher of an escrow that names it, or a refund after the escrow's expiry. Parties reach it
through their chain.arbiterPeer (this node's listen address with /p2p/<peer id>) and name its
hotkey in chain.arbiter. It must use the same chain as the parties (--chain ws://...); on the
embedded chain it only sees escrows of its own process.

${DAEMON_OPTIONS_USAGE}`

/** `bazaar arbiter`: the daemon with the arbiter role. */
export const arbiterCommand: Command = {
  name: 'arbiter',
  usage,
  options: DAEMON_OPTIONS,
  async run (args, ctx) {
    return await runDaemon(args, ctx, { role: 'arbiter' })
  }
}
