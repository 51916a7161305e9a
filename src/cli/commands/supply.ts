import type { Command } from '../command.js'
import { DAEMON_OPTIONS, DAEMON_OPTIONS_USAGE, runDaemon } from './node.js'

const usage = `usage: bazaar supply [options]

Runs a supplier daemon (bazaar node start --role supplier) until SIGINT or SIGTERM: offers the GPUs
nvidia-smi finds (else the config's gpus) at market.pricePerGpuHour (or each gpus entry's price),
with the attestation of tee.provider (sev-snp or tdx through configfs-tsm; simulated only sells to
devnets), runs attested jobs with metered vouchers and settles each escrow when its job ends.
With the embedded chain (the default) the ledger lives in this process only, so no renter of
another process can pay it: use a subtensor endpoint (--chain ws://...) to trade.

${DAEMON_OPTIONS_USAGE}`

/** `bazaar supply`: the daemon with the supplier role. */
export const supplyCommand: Command = {
  name: 'supply',
  usage,
  options: DAEMON_OPTIONS,
  async run (args, ctx) {
    return await runDaemon(args, ctx, { role: 'supplier' })
  }
}
