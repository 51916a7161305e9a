import { encodeSs58 } from '../util/ss58.js'
import { ApiError, StreamResponse, toJson, type ControlApi } from './api/server.js'
import type { BazaarConfig } from './config/types.js'
import { parseRentBody, type ParsedRent } from './rent-input.js'
import { decodeTerms, type AgreementRecord, type AgreementStore } from '../market/index.js'
import { EscrowError, type ChainPort, type EscrowService } from '../escrow/index.js'
import { isHex32 } from '../escrow/hex.js'
import { stateForResult, type JobEndReason, type JobRecord, type JobState, type JobStore } from '../jobs/index.js'
import type { SupplierJobRecord, SupplierRole } from './roles/supplier.js'
import type { RentEvent, RentSummary } from './roles/renter.js'
import type { Clock } from '../util/clock.js'
import { peerIdString } from './market-json.js'
import { UserError } from '../util/errors.js'
import { abortable } from '../util/abortable.js'
import { JOBS_PAGE, JobSum } from '../jobs/page.js'
import { AMOUNT_UNIT, type AmountUnit } from '../util/units.js'

/** One agreement as `GET /v1/agreements` shows it (amounts as decimal strings of rao). */
export interface AgreementView {
  id: string
  role: AgreementRecord['role']
  status: AgreementRecord['status']
  peer: string
  /** ISO 8601 */
  updatedAt: string
  renter: string
  supplier: string
  enclavePeer: string
  offerId: string
  bidId: string
  gpuModel: string
  gpuCount: number
  pricePerGpuHour: string
  budget: string
  /** the unit of the amounts above (see util/units) */
  unit: AmountUnit
  durationS: number
  teeKind: string
  region: string
  netuid: number
}

/** One job as `GET /v1/jobs` shows it: supplier jobs of this run and stored renter jobs. */
export interface JobView {
  role: 'supplier' | 'renter'
  id: string
  state: JobState
  agreementId?: string
  peer?: string
  command?: string
  exitCode?: number
  /** the signal that ended the job's process (its exit code is then -1) */
  signal?: string
  reason?: string
  detail?: string
  /** what the escrow paid the supplier: the latest voucher's cumulative amount (base units) */
  paid?: string
  /** renter side: what came back to the renter (base units) */
  refunded?: string
  /** of `paid`, what was too small to move and went back to the renter (alpha escrows) */
  carried?: string
  /** the unit of the amounts, present with them (see util/units) */
  unit?: AmountUnit
  settledBy?: SupplierJobRecord['settledBy']
  outputs?: Array<{ name: string, sha256: string, bytes: number }>
  /** ISO 8601 */
  createdAt?: string
  /** ISO 8601 */
  endedAt?: string
}

/** Every time in the control API's JSON (and so in `--json` output) is ISO 8601 UTC. */
const iso = (ms: number): string => new Date(ms).toISOString()

/** An escrow view as the control API sends it: the expiry as ISO 8601, like every other time. */
export type EscrowJson<T extends { expiresAt: number }> = Omit<T, 'expiresAt'> & { expiresAt: string, unit: AmountUnit }

export function escrowJson<T extends { expiresAt: number }> (e: T): EscrowJson<T> {
  return { ...e, expiresAt: iso(e.expiresAt), unit: AMOUNT_UNIT }
}

function agreementView (r: AgreementRecord): AgreementView {
  const t = decodeTerms(r.agreement.terms)
  return {
    id: r.hash,
    role: r.role,
    status: r.status,
    peer: r.peer,
    updatedAt: iso(r.updatedAt),
    renter: encodeSs58(t.renter, 42),
    supplier: encodeSs58(t.supplier, 42),
    enclavePeer: peerIdString(t.enclavePeer),
    offerId: t.offerId,
    bidId: t.bidId,
    gpuModel: t.gpuModel,
    gpuCount: t.gpuCount,
    pricePerGpuHour: t.pricePerGpuHour.toString(),
    budget: t.budget.toString(),
    unit: AMOUNT_UNIT,
    durationS: t.durationS,
    teeKind: t.teeKind,
    region: t.region,
    netuid: t.netuid
  }
}

function supplierJobView (j: SupplierJobRecord): JobView {
  const state: JobState = j.reason == null ? 'running' : stateForResult(j.reason as JobEndReason, j.exitCode ?? -1)
  return {
    role: 'supplier',
    id: j.jobId ?? j.agreementId,
    state,
    agreementId: j.agreementId,
    ...(j.exitCode != null ? { exitCode: j.exitCode } : {}),
    ...(j.reason != null ? { reason: j.reason } : {}),
    ...(j.paid != null ? { paid: j.paid, unit: AMOUNT_UNIT } : {}),
    ...(j.carried != null ? { carried: j.carried } : {}),
    ...(j.settledBy != null ? { settledBy: j.settledBy } : {})
  }
}

function settlementOf (j: SupplierJobRecord | undefined): Partial<JobView> {
  return j == null ? {} : { ...(j.paid != null ? { paid: j.paid, unit: AMOUNT_UNIT } : {}), ...(j.carried != null ? { carried: j.carried } : {}), ...(j.settledBy != null ? { settledBy: j.settledBy } : {}) }
}

export function renterJobView (j: JobRecord): JobView {
  return {
    role: 'renter',
    id: j.id,
    state: j.state,
    ...(j.agreementId != null ? { agreementId: j.agreementId } : {}),
    ...(j.peer != null ? { peer: j.peer } : {}),
    ...(j.command !== '' ? { command: [j.command, ...j.args].join(' ').slice(0, 200) } : {}),
    ...(j.exitCode != null ? { exitCode: j.exitCode } : {}),
    ...(j.signal != null ? { signal: j.signal } : {}),
    ...(j.reason != null ? { reason: j.reason } : {}),
    ...(j.detail != null ? { detail: j.detail } : {}),
    ...(j.outputs != null ? { outputs: j.outputs.map((o) => ({ name: o.name, sha256: o.sha256, bytes: o.bytes })) } : {}),
    ...settlementView(j.settlement),
    createdAt: iso(j.createdAt),
    ...(j.endedAt != null ? { endedAt: iso(j.endedAt) } : {})
  }
}

/** how a job's escrow settled, as its record keeps it */
function settlementView (st: JobRecord['settlement']): Partial<JobView> {
  if (st == null || typeof st.paid !== 'string') return {}
  return {
    paid: st.paid,
    ...(st.refunded != null ? { refunded: st.refunded } : {}),
    ...(st.carried != null ? { carried: st.carried } : {}),
    unit: AMOUNT_UNIT,
    settledBy: st.settledBy
  }
}

/** [REJECT] an escrow id is 32 bytes of lowercase 0x-hex */
function escrowId (id: string): string {
  if (!isHex32(id)) throw new ApiError(400, 'BAD_INPUT', 'escrow id: expected 0x and 64 lowercase hex digits', 'id')
  return id
}

/** EscrowError → an HTTP status that says whose fault it is. */
async function escrowCall<T> (chain: Pick<ChainPort, 'connected'>, fn: () => Promise<T>): Promise<T> {
  // [REFUSE] at once while the chain is away: its reads would wait out their retry budget, past
  // the client's own timeout
  if (chain.connected?.() === false) throw new ApiError(503, 'CHAIN_UNAVAILABLE', 'the chain is not connected now (the node reconnects by itself; a chain that came back as another chain needs a restart)')
  try {
    return await fn()
  } catch (err) {
    if (err instanceof EscrowError) {
      const status = err.code === 'UNKNOWN_ESCROW' ? 404 : err.code === 'NOT_A_PARTY' || err.code === 'ESCROW_NOT_OPEN' || err.code === 'ARBITER_REFUSED' || err.code === 'NO_VOUCHER' ? 409 : 400
      const reason = (err.detail as { reason?: string } | undefined)?.reason
      throw new ApiError(status, err.code, reason != null ? `${err.message} (${reason})` : err.message)
    }
    throw err
  }
}

/** What the daemon's routes read and drive: a node's stores and role services (BazaarNode builds it). */
export interface DaemonRouteContext {
  config: BazaarConfig
  home: string
  clock: Clock
  agreements: AgreementStore
  jobs: JobStore
  escrow: EscrowService
  chain: ChainPort
  /** the running supplier role, if any (it changes when the supplier restarts) */
  supplier: () => SupplierRole | undefined
  /** the block the chain follower last read up to, and when (a chain read from its blocks) */
  chainRead?: () => { block: number, at: number } | undefined
  rentRefusal: () => UserError | undefined
  rent: (parsed: ParsedRent, opts: { signal?: AbortSignal, onEvent?: (e: RentEvent) => void }) => Promise<RentSummary>
}

/**
 * The daemon's routes on the control API: agreements, jobs, escrows (list, show, close, refund)
 * and `POST /v1/rent`, which streams the rental as NDJSON (`RentEvent` lines, then one
 * `{type:'summary', ...RentSummary}` line, or one `{type:'error', error}` line). A client that
 * disconnects cancels its rental; the escrow still settles.
 */
export function registerDaemonRoutes (api: ControlApi, daemon: DaemonRouteContext): void {
  api.route('GET', '/v1/chain', async () => await chainView(daemon))
  api.route('GET', '/v1/agreements', async () => (await daemon.agreements.list()).map(agreementView))
  // supplier jobs come from the job store (they outlive a restart), with this run's settlement facts
  // by agreement: a job id is the renter's choice, and two agreements' jobs may share one
  const supplierJobs = (): { view: (j: JobRecord) => JobView, pending: JobView[] } => {
    const jobs = daemon.supplier()?.jobs ?? []
    const live = new Map(jobs.filter((j) => j.jobId != null).map((j) => [j.agreementId, j]))
    return {
      view: (j) => ({ ...renterJobView(j), role: 'supplier' as const, ...settlementOf(j.agreementId != null ? live.get(j.agreementId) : undefined) }),
      pending: jobs.filter((j) => j.jobId == null).map(supplierJobView)
    }
  }
  api.route('GET', '/v1/jobs', async () => {
    const { view, pending } = supplierJobs()
    const supplier = (await daemon.jobs.recent('supplier', JOBS_PAGE)).map(view)
    const renter = (await daemon.jobs.recent('renter', JOBS_PAGE)).map(renterJobView)
    return [...supplier, ...pending, ...renter]
  })
  // what `GET /v1/jobs` lists summed over every job of the store, not its page alone, and over
  // the jobs whose records were pruned
  api.route('GET', '/v1/jobs/totals', async () => {
    const { view, pending } = supplierJobs()
    const supplier = new JobSum()
    supplier.addPruned(await daemon.jobs.prunedTotals('supplier'))
    for await (const j of daemon.jobs.records('supplier')) supplier.add(view(j))
    for (const j of pending) supplier.add(j)
    const renter = new JobSum()
    renter.addPruned(await daemon.jobs.prunedTotals('renter'))
    for await (const j of daemon.jobs.records('renter')) renter.add(renterJobView(j))
    return { ...(supplier.jobs > 0 ? { supplier: supplier.totals } : {}), ...(renter.jobs > 0 ? { renter: renter.totals } : {}), unit: AMOUNT_UNIT }
  })
  api.route('GET', '/v1/escrows', async (req) => (await escrowCall(daemon.chain, async () => await daemon.escrow.list({ signal: req.signal }))).map(escrowJson))
  api.route('GET', '/v1/escrows/:id', async (req) => escrowJson(await escrowCall(daemon.chain, async () => await daemon.escrow.show(escrowId(req.params.id), { signal: req.signal }))))
  api.route('POST', '/v1/escrows/:id/close', async (req) => {
    const mode = (req.body as { mode?: unknown } | undefined)?.mode ?? 'cooperative'
    if (mode !== 'cooperative' && mode !== 'arbiter') throw new ApiError(400, 'BAD_INPUT', 'mode: expected cooperative or arbiter', 'mode')
    const id = escrowId(req.params.id)
    return { ...await escrowCall(daemon.chain, async () => await daemon.escrow.close(id, { mode, signal: req.signal })), unit: AMOUNT_UNIT }
  })
  api.route('POST', '/v1/escrows/:id/refund', async (req) => {
    const id = escrowId(req.params.id)
    return { ...await escrowCall(daemon.chain, async () => await daemon.escrow.refund(id, { signal: req.signal })), unit: AMOUNT_UNIT }
  })
  api.route('POST', '/v1/rent', async (req) => {
    const parsed = parseRentBody(req.body, { config: daemon.config, home: daemon.home, now: daemon.clock.now() })
    const refusal = daemon.rentRefusal()
    if (refusal != null) throw new ApiError(409, refusal.code, refusal.message)
    return new StreamResponse('application/x-ndjson', async (write, signal) => {
      const summary = await daemon.rent(parsed, { signal, onEvent: (e) => { write(toJson(e) + '\n') } })
        .catch((err: unknown) => { throw err instanceof UserError ? new ApiError(409, err.code, err.message) : err })
      write(toJson({ type: 'summary', ...summary }) + '\n')
    })
  })
}

/** The chain a daemon settles on, as `GET /v1/chain` (and `bazaar status`) shows it. */
export interface ChainView {
  adapter: 'embedded' | 'subtensor'
  /** `local`, `test`, `finney` or the URL, as configured; `embedded` for the in-process ledger */
  network: string
  /** the node the daemon's chain connection is to now */
  endpoint?: string
  /** every node it may use, in order, where `chain.fallbackEndpoints` adds to `chain.endpoint` */
  endpoints?: string[]
  /** the runtime's spec version (subtensor) */
  runtime?: number
  chain?: string
  /** what escrows hold: `alpha` of `netuid`, or `tao` where the runtime cannot move alpha */
  asset: 'alpha' | 'tao'
  netuid: number
  /** whether the connection is up, to the chain the daemon opened (absent on the embedded ledger) */
  connected?: boolean
  /**
   * the head up to which the daemon has read escrow records, and when it last read (the chain
   * follower's last look that worked, every 12 s); absent on the embedded ledger and before the
   * first read ends
   */
  readBlock?: number
  /** ISO 8601 */
  readAt?: string
  /** the account escrows are paid from: the node's hotkey's */
  account: string
  /**
   * what that account can spend on escrows now, in rao of `asset` (alpha it owns under the escrow
   * hotkey, or free TAO); absent where the chain did not answer within FUNDS_READ_MS
   */
  funds?: string
  /**
   * the account's free TAO for fees and what settling an escrow needs (rao of TAO), where the chain
   * charges for it; read as `funds` is
   */
  fees?: { free: string, needed: string }
}

/** how long `/v1/chain` waits for the account's funds: a chain that went away leaves them out */
const FUNDS_READ_MS = 3_000

async function chainView (daemon: DaemonRouteContext): Promise<ChainView> {
  const c = daemon.config.chain
  const info = await daemon.chain.info()
  const view: ChainView = {
    adapter: info.adapter,
    network: info.adapter === 'embedded' ? 'embedded' : (c.network ?? c.endpoint ?? 'subtensor'),
    asset: info.asset.kind,
    netuid: info.asset.netuid,
    account: daemon.escrow.address
  }
  if (info.adapter === 'subtensor' && c.endpoint != null) {
    view.endpoint = daemon.chain.endpoint ?? c.endpoint
    if (c.fallbackEndpoints != null) view.endpoints = [c.endpoint, ...c.fallbackEndpoints]
  }
  const connected = daemon.chain.connected?.()
  if (connected != null) view.connected = connected
  const read = daemon.chainRead?.()
  if (read != null) {
    view.readBlock = read.block
    view.readAt = iso(read.at)
  }
  if (info.specVersion != null) view.runtime = info.specVersion
  if (info.chain != null) view.chain = info.chain
  if (connected !== false) {
    // wall time: a bound on a read from a remote node, which a stopped clock would never end
    const signal = AbortSignal.timeout(FUNDS_READ_MS)
    const [funds, fees] = await Promise.all([
      abortable(daemon.chain.balance(view.account, { signal }), signal).catch(() => undefined),
      daemon.chain.feeFunds != null ? abortable(daemon.chain.feeFunds(view.account, { signal }), signal).catch(() => undefined) : undefined
    ])
    if (funds != null) view.funds = funds.toString()
    if (fees != null) view.fees = { free: fees.free.toString(), needed: fees.needed.toString() }
  }
  return view
}
