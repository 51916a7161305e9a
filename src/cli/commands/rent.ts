import path from 'node:path'
import type { Command, CommandContext, ParsedArgs } from '../command.js'
import { flag, str, strs } from '../command.js'
import { UsageError, UserError } from '../../util/errors.js'
import { ApiClient, CLIENT_OPTIONS } from '../client.js'
import { alpha, parseDuration } from '../format.js'
import { formatAmount, formatPrice, parseAmountArg } from '../amount.js'
import { resolveHome } from '../../node/home.js'
import { loadConfig } from '../../node/config/index.js'
import { agreementBudget } from '../../market/agreement/terms.js'
import { jobEnd, outputLines, rentEventLine, type RentStoryEvent } from '../rent-story.js'
import type { RentSummary } from '../../node/roles/renter.js'
import type { EscrowDetail } from '../../escrow/index.js'
import type { ChainView, EscrowJson } from '../../node/daemon-routes.js'
import { systemClock, type Clock } from '../../util/clock.js'
import { AMOUNT_UNIT } from '../../util/units.js'
import { RENT_LIMITS } from '../../node/rent-input.js'

const usage = `usage: bazaar rent --gpu <model|class> --max-price <alpha/h> --duration <d> [options] -- <command...>

Rents GPUs through the running node (role renter or both) and runs <command> on them: publishes a
bid, matches the cheapest compatible offer, signs the agreement, opens the escrow for its budget,
verifies the supplier enclave's attestation, runs the job with live output and metered vouchers,
fetches its outputs (checked against their sha256) and settles the escrow. Ctrl-C closes the
request: the node cancels the job and settles (the supplier is paid its last voucher).

options:
  --gpu <model|class>    GPU model (h100-80gb) or class (h100) (required)
  --count <n>            GPUs (default 1)
  --min-memory <MiB>     minimum GPU memory
  --max-price <alpha/h>  highest price per GPU-hour, in alpha (required)
  --duration <d>         longest run, e.g. 90s, 30m, 2h (required); the budget is price x GPUs x duration
  --tee <kind>           tdx, sev-snp, simulated or any (repeatable; default any = config market.teeKinds)
  --region <r>           accepted region, lowercase a-z 0-9 - (repeatable; default any)
  --image <ref>          run <command> in this container image (a supplier with jobs.runtime
                         container); without it the command runs as a process at the supplier
  --output <path>        a file the job writes, to fetch when it ends (repeatable)
  --output-dir <dir>     where outputs land (default <home>/outputs/<time>)
  --match-timeout <d>    how long to wait for a compatible offer (default 30s)
  --home <dir>  --api <host:port>
  --dry-run              print what the rental would lock and cost, then exit (no daemon needed):
                         the budget in α, its TAO value at the subnet pool's current price, and
                         the fees of the escrow's open and close, from the configured chain
  --raw                  with --dry-run: amounts in base units (rao)
  --json                 print one JSON object (the rental summary) instead of the story
  -h, --help             this help

Amounts: --max-price is alpha per GPU-hour, as 0.5 or 0.5α (with --raw: rao).

exit status: 0 the job exited 0; the job's own exit code where it exited non-zero; 1 a rental or
job that failed any other way; 2 usage error; 130 cancelled with Ctrl-C`

const TEE = new Set(['tdx', 'sev-snp', 'simulated'])

function count (v: string | undefined, name: string, dflt: number): number {
  if (v == null) return dflt
  if (!/^[0-9]{1,9}$/.test(v) || Number(v) < 1) throw new UsageError(`--${name} expects a positive whole number`)
  return Number(v)
}

function duration (v: string | undefined, name: string): number | undefined {
  if (v == null) return undefined
  try {
    const s = parseDuration(v)
    if (s < 1) throw new RangeError('zero')
    return s
  } catch {
    throw new UsageError(`--${name} expects a duration like 90s, 15m, 2h`)
  }
}

/** `bazaar rent`: one rental through the running node, streamed as it happens. */
export const rentCommand: Command = {
  name: 'rent',
  usage,
  options: {
    ...CLIENT_OPTIONS,
    gpu: { type: 'string' },
    count: { type: 'string' },
    'min-memory': { type: 'string' },
    'max-price': { type: 'string' },
    duration: { type: 'string' },
    tee: { type: 'string', multiple: true },
    region: { type: 'string', multiple: true },
    output: { type: 'string', multiple: true },
    image: { type: 'string' },
    'output-dir': { type: 'string' },
    'match-timeout': { type: 'string' },
    'dry-run': { type: 'boolean' },
    raw: { type: 'boolean' },
    config: { type: 'string' }
  },
  async run (args, ctx) {
    const gpu = str(args, 'gpu')
    if (gpu == null) throw new UsageError('--gpu is required')
    const maxPrice = str(args, 'max-price')
    if (maxPrice == null) throw new UsageError('--max-price is required')
    const raw = flag(args, 'raw')
    const maxRao = parseAmountArg(maxPrice, { flag: 'max-price', dflt: 'alpha', raw, allow: ['alpha'] }).rao
    if (maxRao <= 0n) throw new UsageError('--max-price must be above 0')
    const durationS = duration(str(args, 'duration'), 'duration')
    if (durationS == null) throw new UsageError('--duration is required')
    const matchTimeoutS = duration(str(args, 'match-timeout'), 'match-timeout')
    const tee = strs(args, 'tee')
    for (const t of tee) if (t !== 'any' && !TEE.has(t)) throw new UsageError(`--tee expects tdx, sev-snp, simulated or any, got ${t}`)
    const gpus = count(str(args, 'count'), 'count', 1)
    // the daemon's bounds (rent-input.ts), checked here too, so a dry run never quotes a rental it refuses
    if (gpus > RENT_LIMITS.maxCount) throw new UsageError(`--count expects at most ${RENT_LIMITS.maxCount} GPUs, got ${gpus}`)
    if (durationS < 1 || durationS > RENT_LIMITS.maxDurationS) throw new UsageError(`--duration expects 1s to ${RENT_LIMITS.maxDurationS / 3600}h, got ${str(args, 'duration') ?? ''}`)
    if (flag(args, 'dry-run')) return await dryRun(args, ctx, { maxRao, gpus, durationS, raw })
    if (args.rest.length === 0) throw new UsageError('the command to run goes after --, e.g. bazaar rent ... -- python train.py')
    const [command, ...cmdArgs] = args.rest
    const json = flag(args, 'json')
    const outputDir = str(args, 'output-dir')
    const body = {
      gpu,
      count: gpus,
      ...(str(args, 'min-memory') != null ? { minMemoryMib: count(str(args, 'min-memory'), 'min-memory', 0) } : {}),
      maxPricePerGpuHour: maxRao.toString(),
      durationS,
      teeKinds: tee.includes('any') ? [] : tee,
      regions: strs(args, 'region'),
      command,
      args: cmdArgs,
      ...(str(args, 'image') != null ? { image: str(args, 'image') } : {}),
      outputs: strs(args, 'output'),
      ...(outputDir != null ? { outputDir: path.resolve(outputDir) } : {}),
      ...(matchTimeoutS != null ? { matchTimeoutS } : {})
    }
    const api = await ApiClient.fromHome({ home: str(args, 'home'), env: ctx.env, api: str(args, 'api') })
    if (!json) await showQuote(api, args, ctx, { maxRao, gpus, durationS, raw })

    const controller = new AbortController()
    const onSigint = (): void => {
      if (controller.signal.aborted) {
        // the node goes on settling whatever this rental locked: say which escrow to look at
        ctx.err(agreementId != null ? `stopped waiting; the node goes on settling escrow 0x${agreementId} (bazaar escrow show 0x${agreementId})` : 'stopped waiting; nothing was locked yet')
        process.exit(130)
      }
      ctx.err('cancelling: the node cancels the job and settles the escrow (Ctrl-C again to stop waiting)')
      controller.abort()
    }
    const onAbort = (): void => { controller.abort() }
    process.on('SIGINT', onSigint)
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    const clock = ctx.clock ?? systemClock
    const started = clock.now()
    let summary: RentSummary | undefined
    let agreementId: string | undefined
    let failure: { code: string, message: string } | undefined
    try {
      await api.stream('POST', '/v1/rent', body, (line) => {
        const type = line.type
        if (type === 'summary') { summary = line as unknown as RentSummary; return }
        if (type === 'error') { failure = (line as { error: { code: string, message: string } }).error; return }
        if (type === 'agreement') agreementId = String(line.id)
        if (!json) for (const l of rentEventLine(line as unknown as RentStoryEvent)) ctx.out(l)
      }, { signal: controller.signal, flags: RENT_FLAGS })
    } catch (err) {
      if (!(controller.signal.aborted && err instanceof UserError && err.code === 'ABORTED')) throw err
    } finally {
      process.off('SIGINT', onSigint)
      ctx.signal.removeEventListener('abort', onAbort)
    }
    if (failure != null) throw new UserError(`the rental failed: ${failure.message}`, { code: failure.code })
    if (summary == null) {
      if (!controller.signal.aborted) throw new UserError('the node ended the rental without a summary', { code: 'NO_SUMMARY' })
      await afterCancel(api, agreementId, json, ctx.out, clock)
      return 130
    }
    if (json) {
      ctx.out(JSON.stringify(summary))
    } else {
      ctx.out('')
      for (const l of outputLines(summary.job, strs(args, 'output'))) ctx.out(l)
      // acknowledged by the supplier: what the escrow paid may be for a later voucher it never got
      ctx.out(`done in ${((clock.now() - started) / 1000).toFixed(1)}s: ${summary.vouchers} voucher${summary.vouchers === 1 ? '' : 's'} acknowledged, ${escrowEnd(summary.escrow)}`)
      for (const r of summary.escrow.records) ctx.out(`  chain record ${r.kind.padEnd(6)} block #${r.blockNumber} ${r.blockHash}`)
    }
    if (summary.job.reason !== 'exited' || summary.job.exitCode !== 0) {
      // a job that ran and exited non-zero: its own exit code, as `docker run` and `ssh` give it, so a
      // script can tell its job's failures apart; anything else that ended it is a failure (1)
      const code = summary.job.exitCode
      const own = summary.job.reason === 'exited' && code != null && Number.isInteger(code) && code > 0 && code < 256 ? code : 1
      throw new UserError(`the job ended: ${jobEnd(summary.job)}`, { code: 'JOB_FAILED', exitCode: own })
    }
    return 0
  }
}

/**
 * Before a rent on a subtensor chain locks anything: what the budget is worth at the pool's price
 * now and what opening and closing the escrow cost, from the chain the daemon settles on. A quote
 * that cannot be had is said in one line; the rent goes on (the daemon checks funds itself).
 */
async function showQuote (api: ApiClient, args: ParsedArgs, ctx: CommandContext, r: { maxRao: bigint, gpus: number, durationS: number, raw: boolean }): Promise<void> {
  // no quote for a node that cannot rent: the rental's own refusal says why, in one line
  const role = await api.call<{ role?: string }>('GET', '/v1/status').then((s) => s.role, () => undefined)
  if (role != null && role !== 'renter' && role !== 'both') return
  let chain: ChainView
  try { chain = await api.call<ChainView>('GET', '/v1/chain') } catch { return }
  if (chain.adapter !== 'subtensor' || chain.endpoint == null) return
  const budget = agreementBudget(r.maxRao, r.gpus, r.durationS)
  const basis = `${formatAmount(r.maxRao, 'alpha', { raw: r.raw })}/GPU-hour × ${r.gpus} GPU${r.gpus > 1 ? 's' : ''} × ${r.durationS} s`
  try {
    const home = resolveHome({ flag: str(args, 'home'), env: ctx.env })
    const q = await quoteRent(home, args, ctx, budget, { endpoint: chain.endpoint, netuid: chain.netuid })
    ctx.out('before anything is locked:')
    for (const l of quoteLines(q, { budget, basis, netuid: chain.netuid, raw: r.raw, endpoint: chain.endpoint })) ctx.out(l)
  } catch (err) {
    ctx.out(`no price quote from ${chain.endpoint} (${(err as Error).message}); renting without one`)
  }
}

/**
 * After Ctrl-C the stream is gone; the node still cancels and settles. Follow the escrow for a
 * while so the user sees how it ended.
 */
async function afterCancel (api: ApiClient, agreementId: string | undefined, json: boolean, out: (l: string) => void, clock: Clock): Promise<void> {
  if (agreementId == null) {
    out(json ? JSON.stringify({ cancelled: true }) : 'cancelled before an agreement: nothing was locked')
    return
  }
  const id = '0x' + agreementId
  // the deadline and the pause between polls are read from one clock, so the loop ends under any clock
  const deadline = clock.now() + 40_000
  let e: EscrowJson<EscrowDetail> | undefined
  while (clock.now() < deadline) {
    try { e = await api.call<EscrowJson<EscrowDetail>>('GET', `/v1/escrows/${id}`) } catch { e = undefined }
    if (e != null && e.status !== 'open') break
    await clock.sleep(500)
  }
  if (json) { out(JSON.stringify({ cancelled: true, escrow: e ?? null })); return }
  if (e == null) { out(`cancelled; escrow ${id} is not known to the node yet (bazaar escrow show ${id})`); return }
  out(`cancelled; escrow ${id} is ${e.status}${e.latestVoucher != null ? `, latest voucher ${alpha(e.latestVoucher.cumulative)} α` : ''}${e.status === 'open' ? ` (see bazaar escrow show ${id})` : ''}`)
}

/**
 * `bazaar rent --dry-run`: what the rental would lock and cost, from the node's config and chain,
 * before anything is signed. The budget is the most the escrow locks (at --max-price; a cheaper
 * match locks less).
 */
async function dryRun (args: ParsedArgs, ctx: CommandContext, r: { maxRao: bigint, gpus: number, durationS: number, raw: boolean }): Promise<number> {
  const home = resolveHome({ flag: str(args, 'home'), env: ctx.env })
  const config = await loadConfig({ home, env: ctx.env, configFile: str(args, 'config'), signal: ctx.signal })
  const budget = agreementBudget(r.maxRao, r.gpus, r.durationS)
  const raw = { raw: r.raw }
  const netuid = config.chain.netuid
  const basis = `${formatAmount(r.maxRao, 'alpha', raw)}/GPU-hour × ${r.gpus} GPU${r.gpus > 1 ? 's' : ''} × ${r.durationS} s`
  if (config.chain.adapter !== 'subtensor') {
    if (flag(args, 'json')) {
      ctx.out(JSON.stringify({ dryRun: true, chain: config.chain.adapter, netuid, unit: AMOUNT_UNIT, budget: budget.toString() }))
      return 0
    }
    ctx.out('dry run: nothing was locked or signed')
    ctx.out(`  budget       at most ${formatAmount(budget, 'alpha', raw)} (${basis})`)
    ctx.out(`  chain        the embedded ledger (no pool price, no fees); set chain.adapter "subtensor" for a real chain`)
    return 0
  }
  const q = await quoteRent(home, args, ctx, budget)
  if (flag(args, 'json')) {
    ctx.out(JSON.stringify({
      dryRun: true, chain: 'subtensor', specVersion: q.specVersion, netuid, asset: q.asset, payer: q.payer, unit: AMOUNT_UNIT, budget: budget.toString(), price: q.price.toString(),
      taoValue: q.taoValue.toString(), openFee: q.openFee.toString(), swapAllowance: q.swapAllowance.toString(),
      closeApproveFee: q.closeApproveFee.toString(), closeExecuteFee: q.closeExecuteFee.toString(),
      funds: q.funds.toString(), feeFree: q.feeFree.toString(), feeNeeded: q.feeNeeded.toString(), notes: q.notes
    }))
    return 0
  }
  ctx.out('dry run: nothing was locked or signed')
  for (const l of quoteLines(q, { budget, basis, netuid, raw: r.raw, endpoint: config.chain.endpoint })) ctx.out(l)
  return 0
}

type RentQuote = Awaited<ReturnType<typeof import('../../node/wallet/rent-quote.js').quoteRentOnChain>> & { payer: string }

/** The escrow's price on the configured subtensor chain: budget value, swap allowance, fees. */
async function quoteRent (home: string, args: ParsedArgs, ctx: CommandContext, budget: bigint, at?: { endpoint: string, netuid: number }): Promise<RentQuote> {
  // the chain client and the keystore's sr25519 code load only for a dry run
  const [{ readKeystorePublic }, { connectChain }] = await Promise.all([import('../../node/keystore/keystore.js'), import('../chain.js')])
  const pub = await readKeystorePublic(home)
  const netuid = at?.netuid ?? (await loadConfig({ home, env: ctx.env, configFile: str(args, 'config'), signal: ctx.signal })).chain.netuid
  const { quoteRentOnChain } = await import('../../node/wallet/rent-quote.js')
  const api = await connectChain({ home, env: ctx.env, configFile: str(args, 'config'), signal: ctx.signal, ...(at != null ? { endpoint: at.endpoint } : {}) })
  try {
    // the daemon opens escrows from the node's hotkey account (its config's `account`), not the coldkey
    return { ...await quoteRentOnChain(api, { payer: pub.hotkey, budget, netuid }), payer: pub.hotkey }
  } finally {
    await api.disconnect()
  }
}

/** The readable lines of a quote (`--dry-run`, and `rent` before it locks anything). */
function quoteLines (q: RentQuote, o: { budget: bigint, basis: string, netuid: number, raw: boolean, endpoint?: string }): string[] {
  const raw = { raw: o.raw }
  const asset = q.asset === 'alpha' ? 'alpha' : 'tao'
  const lines = [`  budget       at most ${formatAmount(o.budget, asset, raw)} (${o.basis})${q.asset === 'tao' ? ', held in TAO on this runtime' : ''}`]
  if (q.asset === 'alpha') {
    lines.push(`  TAO value    ${formatAmount(q.taoValue, 'tao', raw)} at ${formatPrice(q.price, raw)} (subnet ${o.netuid} pool, now)`)
    lines.push(`  swap         ${formatAmount(q.swapAllowance, 'alpha', raw)} moved in on top of the budget for the pool's fee on the move`)
  }
  lines.push(`  open fee     ${formatAmount(q.openFee, 'tao', raw)} (payer)`)
  lines.push(`  close fees   ${formatAmount(q.closeApproveFee, 'tao', raw)} first approval + ${formatAmount(q.closeExecuteFee, 'tao', raw)} executing approval`)
  lines.push(`  chain        ${o.endpoint ?? ''} runtime ${q.specVersion}, payer ${q.payer} (the node's hotkey account)`)
  // what that account holds against the budget and the fees: a rental short of either is refused
  const short: string[] = []
  if (q.funds < o.budget) short.push(`short of the budget: bazaar wallet fund --amount <τ> adds to it${q.asset === 'alpha' ? ', or --amount <α> from alpha the coldkey holds on the subnet' : ''}`)
  if (q.feeFree < q.feeNeeded) short.push(`short of the ${formatAmount(q.feeNeeded, 'tao', raw)} an escrow's fees and deposit need: bazaar wallet fund --fees ${formatAmount(q.feeNeeded, 'tao').split(' ')[0]}`)
  lines.push(`  funds        ${formatAmount(q.funds, asset, raw)} in the payer account, ${formatAmount(q.feeFree, 'tao', raw)} free for fees${short.length > 0 ? `; ${short.join('; ')}` : ''}`)
  for (const n of q.notes) lines.push(`  note         ${n}`)
  return lines
}

/** the request's fields → the flags that set them: a refusal of one is that flag's usage error */
const RENT_FLAGS = {
  gpu: '--gpu', count: '--count', minMemoryMib: '--min-memory', maxPricePerGpuHour: '--max-price', durationS: '--duration', teeKinds: '--tee',
  regions: '--region', outputs: '--output', image: '--image', outputDir: '--output-dir', matchTimeoutS: '--match-timeout'
} as const

/**
 * How the rental's escrow ended, for the last line of `bazaar rent`: what it paid and refunded once
 * settled; while still open, what it holds and what the close approved will pay, and where to follow it.
 */
export function escrowEnd (e: RentSummary['escrow']): string {
  const follow = `bazaar escrow show ${e.id}`
  if (e.status === 'open') return `the escrow still holds ${alpha(e.locked)} α: the close approved pays the supplier ${alpha(e.approved ?? '0')} α once executed (${follow})`
  if (e.status === 'unknown') return `the escrow's state could not be read: it settles at the node's next look (${follow})`
  return `paid ${alpha(e.paid)} α, refunded ${alpha(e.refunded)} α of ${alpha(e.locked)} α locked (escrow ${e.status})`
}
