import path from 'node:path'
import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { UsageError, UserError } from '../../util/errors.js'
import { runDevnet, type DevnetResult } from '../../node/devnet.js'
import { createLogger } from '../../node/logger.js'
import { rentEventLine, type RentStoryEvent } from '../rent-story.js'
import { alpha } from '../format.js'

const usage = `usage: bazaar devnet [--json] [--dir <dir>] [--job-seconds <n>]

Runs a whole local marketplace in this process and one job end to end: an embedded ledger, an
arbiter node, three supplier nodes (simulated enclaves, configured GPUs) and a renter node on
127.0.0.1. The renter bids for an H100, matches the cheapest offer, signs an agreement, opens the
escrow, attests the enclave, runs a job that counts primes with live output and metered vouchers,
fetches result.txt and settles cooperatively. Prints the story of the run, or one JSON object.

Simulated enclaves are accepted here only because this is a devnet; real networks refuse them.
Ctrl-C cancels the job; the escrow still settles (the supplier is paid its last voucher).

options:
  --json               print one JSON object (amounts are decimal strings of base units, rao)
  --dir <dir>          state directory (default: a fresh temp dir, kept after the run)
  --job-seconds <n>    how long the job computes (default 5, at most 600)
  --chain <ws://...>   not supported yet: the devnet funds its renter on the embedded ledger only
  -h, --help           this help`

/** The object `bazaar devnet --json` prints. */
export interface DevnetJson {
  dir: string
  outputsDir: string
  agreementId: string
  supplier: string
  attestation: DevnetResult['attestation']
  job: { exitCode: number, reason: string, durationMs: number, outputs: Array<{ name: string, sha256: string, bytes: number, path?: string }> }
  vouchers: number
  escrow: DevnetResult['escrow']
  suppliers: DevnetResult['suppliers']
}

/** `bazaar devnet`: a whole network and one job in one command. */
export const devnetCommand: Command = {
  name: 'devnet',
  summary: 'run a local network and one job end to end in this process',
  usage,
  options: {
    json: { type: 'boolean' },
    dir: { type: 'string' },
    'job-seconds': { type: 'string' },
    chain: { type: 'string' }
  },
  async run (args, ctx) {
    const chain = str(args, 'chain')
    if (chain != null) {
      // the subtensor adapter exists, but the devnet's renter is funded only by the embedded
      // ledger's genesis; on a real chain its account would have to be funded first
      throw new UserError('--chain is not supported by the devnet yet: it funds its renter on the embedded ledger only (use bazaar node start --chain for a subtensor endpoint)', { code: 'NOT_SUPPORTED' })
    }
    const secondsFlag = str(args, 'job-seconds')
    let jobSeconds = 5
    if (secondsFlag != null) {
      if (!/^[0-9]{1,3}$/.test(secondsFlag) || Number(secondsFlag) < 1 || Number(secondsFlag) > 600) throw new UsageError('--job-seconds expects a whole number of seconds from 1 to 600')
      jobSeconds = Number(secondsFlag)
    }
    const dirFlag = str(args, 'dir')
    const json = flag(args, 'json')
    const controller = new AbortController()
    let interrupts = 0
    const onSigint = (): void => {
      interrupts++
      if (interrupts > 1) process.exit(130)
      ctx.err('interrupted: cancelling the job and settling (Ctrl-C again to quit at once)')
      controller.abort()
    }
    const onAbort = (): void => { controller.abort() }
    process.on('SIGINT', onSigint)
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    const started = Date.now()
    let result: DevnetResult
    try {
      result = await runDevnet({
        dir: dirFlag != null ? path.resolve(dirFlag) : undefined,
        jobSeconds,
        signal: controller.signal,
        logger: createLogger({ level: 'error', format: 'pretty', write: (l) => { ctx.err(l) } }),
        onEvent: json ? undefined : (e: RentStoryEvent) => { for (const l of rentEventLine(e)) ctx.out(l) }
      })
    } catch (err) {
      const code = (err as { code?: string }).code
      throw new UserError(`the devnet run failed: ${(err as Error).message}`, { code: code ?? 'DEVNET_FAILED', cause: err })
    } finally {
      process.off('SIGINT', onSigint)
      ctx.signal.removeEventListener('abort', onAbort)
    }
    if (json) {
      const out: DevnetJson = {
        dir: result.dir,
        outputsDir: result.outputsDir,
        agreementId: result.agreementId,
        supplier: result.supplier,
        attestation: result.attestation,
        job: { exitCode: result.job.exitCode, reason: result.job.reason, durationMs: result.job.durationMs, outputs: result.job.outputs.map((o) => ({ name: o.name, sha256: o.sha256, bytes: o.bytes, ...(o.path != null ? { path: o.path } : {}) })) },
        vouchers: result.vouchers,
        escrow: result.escrow,
        suppliers: result.suppliers
      }
      ctx.out(JSON.stringify(out))
    } else {
      ctx.out('')
      ctx.out(`done in ${((Date.now() - started) / 1000).toFixed(1)}s: ${result.vouchers} vouchers, paid ${alpha(result.escrow.paid)} α, refunded ${alpha(result.escrow.refunded)} α of ${alpha(result.escrow.locked)} α locked (${result.escrow.status})`)
      for (const r of result.escrow.records) ctx.out(`  chain record ${r.kind.padEnd(6)} block #${r.blockNumber} ${r.blockHash}`)
      ctx.out(`  outputs in ${result.outputsDir}; state in ${result.dir}`)
    }
    if (controller.signal.aborted) return 130
    return result.job.exitCode === 0 && result.job.reason === 'exited' ? 0 : 1
  }
}
