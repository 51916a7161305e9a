import path from 'node:path'
import type { Command } from '../command.js'
import { installNetworkErrorGuard } from '../../node/process-guard.js'
import { flag, str } from '../command.js'
import { UsageError, UserError } from '../../util/errors.js'
import { DEVNET_ACCOUNTS, devKeys, runDevnet, type DevnetResult } from '../../node/devnet.js'
import { createLogger } from '../../node/logger.js'
import { jobEnd, rentEventLine, type RentStoryEvent } from '../rent-story.js'
import { alpha } from '../format.js'
import type { ChainPort } from '../../escrow/index.js'

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
  --job-seconds <n>    how long the job computes (default 5, or 20 with --chain, at most 600)
  --chain <ws://...>   use a subtensor endpoint instead of the embedded ledger; the devnet's
                       accounts (hotkeys //Alice//hot, //Bob//hot, //Charlie//hot, //Dave//hot,
                       //Ferdie//hot) must be funded there first: each 1 TAO for fees and
                       deposits, the renter //Dave//hot also 1 alpha of netuid 1 (staked under
                       the subnet owner hotkey); checked before the run. On a runtime that
                       funds in alpha, transferStake refuses amounts below the runtime's minimum
                       stake (AmountTooLow): a job of a few seconds earns less than that, so the
                       default job runs 20 s there
  -h, --help           this help`

/** The object `bazaar devnet --json` prints. */
export interface DevnetJson {
  dir: string
  outputsDir: string
  agreementId: string
  supplier: string
  attestation: DevnetResult['attestation']
  job: { exitCode: number, signal?: string, reason: string, durationMs: number, outputs: Array<{ name: string, sha256: string, bytes: number, path?: string }> }
  vouchers: number
  escrow: DevnetResult['escrow']
  suppliers: DevnetResult['suppliers']
}

/** `bazaar devnet`: a whole network and one job in one command. */
export const devnetCommand: Command = {
  name: 'devnet',
  usage,
  options: {
    json: { type: 'boolean' },
    dir: { type: 'string' },
    'job-seconds': { type: 'string' },
    chain: { type: 'string' }
  },
  async run (args, ctx) {
    const endpoint = str(args, 'chain')
    if (endpoint != null && !/^wss?:\/\/[^\s]{1,2000}$/i.test(endpoint)) throw new UsageError('--chain expects a ws:// or wss:// endpoint')
    const secondsFlag = str(args, 'job-seconds')
    // on chain, a payout must clear the runtime's minimum stake: 20 s at the devnet's price does
    let jobSeconds = endpoint != null ? 20 : 5
    if (secondsFlag != null) {
      if (!/^[0-9]{1,3}$/.test(secondsFlag) || Number(secondsFlag) < 1 || Number(secondsFlag) > 600) throw new UsageError('--job-seconds expects a whole number of seconds from 1 to 600')
      jobSeconds = Number(secondsFlag)
    }
    const dirFlag = str(args, 'dir')
    // `--dir ""` (an unset variable) would resolve to the working directory and fill it with node homes
    if (dirFlag != null && dirFlag.trim() === '') throw new UsageError('--dir is empty: name the devnet directory (or leave the flag out for a temporary one)')
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
    const chain = endpoint != null ? await connectFundedChain(endpoint, controller.signal) : undefined
    if (chain != null && !json) ctx.out(`· chain ${endpoint}: every devnet account holds what the run needs`)
    const logger = createLogger({ level: 'error', format: 'pretty', write: (l) => { ctx.err(l) } })
    const removeGuard = installNetworkErrorGuard(logger)
    try {
      result = await runDevnet({
        chain,
        dir: dirFlag != null ? path.resolve(dirFlag) : undefined,
        jobSeconds,
        signal: controller.signal,
        logger,
        onEvent: json ? undefined : (e: RentStoryEvent) => { for (const l of rentEventLine(e)) ctx.out(l) }
      })
    } catch (err) {
      const code = (err as { code?: string }).code
      throw new UserError(`the devnet run failed: ${(err as Error).message}`, { code: code ?? 'DEVNET_FAILED', cause: err })
    } finally {
      removeGuard()
      await chain?.close().catch(() => {})
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
        job: { exitCode: result.job.exitCode, ...(result.job.signal != null ? { signal: result.job.signal } : {}), reason: result.job.reason, durationMs: result.job.durationMs, outputs: result.job.outputs.map((o) => ({ name: o.name, sha256: o.sha256, bytes: o.bytes, ...(o.path != null ? { path: o.path } : {}) })) },
        vouchers: result.vouchers,
        escrow: result.escrow,
        suppliers: result.suppliers
      }
      ctx.out(JSON.stringify(out))
    } else {
      ctx.out('')
      ctx.out(`done in ${((Date.now() - started) / 1000).toFixed(1)}s: ${result.vouchers} vouchers acknowledged, paid ${alpha(result.escrow.paid)} α, refunded ${alpha(result.escrow.refunded)} α of ${alpha(result.escrow.locked)} α locked (${result.escrow.status})`)
      for (const r of result.escrow.records) ctx.out(`  chain record ${r.kind.padEnd(6)} block #${r.blockNumber} ${r.blockHash}`)
      ctx.out(`  outputs in ${result.outputsDir}; state in ${result.dir}`)
    }
    if (controller.signal.aborted) return 130
    if (result.escrow.status === 'open') throw new UserError(`the escrow ${result.escrow.id} was not settled (still open on chain)`, { code: 'NOT_SETTLED' })
    if (result.job.exitCode !== 0 || result.job.reason !== 'exited') throw new UserError(`the job ended: ${jobEnd(result.job)}`, { code: 'JOB_FAILED' })
    return 0
  }
}

const DEVNET_NETUID = 1
/** the renter's worst case: 3 alpha/GPU-hour x 1 GPU x 600 s = 0.5 alpha, plus the adapter's fee allowance */
const RENTER_NEEDS = 1_000_000_000n
/** TAO every account needs for transaction fees and multisig deposits */
const FEES_NEED = 1_000_000_000n

/**
 * Connects the subtensor adapter and checks, before anything is signed, that every devnet account
 * holds what the run needs; a missing balance is a one-line UserError naming the accounts.
 */
async function connectFundedChain (endpoint: string, signal: AbortSignal): Promise<ChainPort> {
  const { createSubtensorChain } = await import('../../escrow/chain/subtensor/index.js')
  let chain
  try {
    chain = await createSubtensorChain({ url: endpoint, netuid: DEVNET_NETUID }, { signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]) })
  } catch (err) {
    throw new UserError(`cannot use the chain at ${endpoint}: ${(err as Error).message}`, { code: (err as { code?: string }).code ?? 'CHAIN_UNAVAILABLE', cause: err })
  }
  try {
    const info = await chain.info()
    const missing: string[] = []
    const { suppliers, renter, arbiter } = DEVNET_ACCOUNTS
    for (const name of [...suppliers, renter, arbiter]) {
      const address = (await devKeys(name)).hotkey.address
      const tao = await chain.taoBalance(address)
      if (tao < FEES_NEED) missing.push(`//${name}//hot ${address} needs ${alpha(FEES_NEED)} TAO (holds ${alpha(tao)})`)
      if (name === renter) {
        const held = await chain.balance(address, { signal })
        if (held < RENTER_NEEDS) missing.push(`//${name}//hot ${address} needs ${alpha(RENTER_NEEDS)} ${info.asset.kind === 'alpha' ? `alpha of netuid ${DEVNET_NETUID}` : 'TAO for the escrow'} (holds ${alpha(held)})`)
      }
    }
    if (missing.length > 0) throw new UserError(`fund the devnet accounts on ${endpoint} first: ${missing.join('; ')}`, { code: 'INSUFFICIENT_FUNDS' })
    return chain
  } catch (err) {
    await chain.close().catch(() => {})
    if (err instanceof UserError) throw err
    throw new UserError(`cannot read balances on ${endpoint}: ${(err as Error).message}`, { code: (err as { code?: string }).code ?? 'CHAIN_UNAVAILABLE', cause: err })
  }
}
