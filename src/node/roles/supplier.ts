import { mkdir } from 'node:fs/promises'
import type { PrivateKey } from '@libp2p/interface'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { encodeAddress } from '@polkadot/util-crypto'
import type { BazaarNode } from '../bazaar-node.js'
import type { Logger } from '../logger.js'
import { AgreementStore, decodeTerms, guardFromLedger, hex } from '../../market/index.js'
import { registerNegotiationHandler, type NegotiationService } from '../../protocols/negotiate/index.js'
import { registerSessionHandler, type SessionHandler } from '../../protocols/session/index.js'
import type { AttestationProvider, GpuAttestationProvider } from '../../tee/index.js'
import type { FramedChannel } from '../../protocols/framed.js'
import { CapacityLedger, runJobServer, stateForResult, type Inventory, type JobStore, type Runtime } from '../../jobs/index.js'
import { EscrowService, MeterSupplier, type ArbiterClient, type ChainPort, type EscrowDb } from '../../escrow/index.js'
import { supplierMeteringHooks } from '../../protocols/metering/index.js'
import type { AgreementTerms } from '../../wire/agreement.js'
import type { KeyringPair } from '@polkadot/keyring/types'
import { roleMetrics, type RoleMetrics } from './metrics.js'
import { BazaarError } from '../../util/errors.js'

/** Why a supplier ends an attested session before the job: its agreement or escrow is not in order. */
export type SessionRefusedCode = 'UNKNOWN_AGREEMENT' | 'ESCROW_MISSING' | 'ESCROW_NOT_OPEN' | 'ESCROW_AGREEMENT_MISMATCH' |
  'ESCROW_PAYEE_MISMATCH' | 'ESCROW_ARBITER_MISMATCH' | 'ESCROW_AMOUNT_MISMATCH'

export class SessionRefused extends BazaarError<SessionRefusedCode> {
  constructor (code: SessionRefusedCode) { super(code, code) }
}

export interface SupplierRoleInit {
  node: BazaarNode
  inventory: Inventory
  /** the enclave's own peer key: jobs run behind a libp2p host with this identity */
  enclaveKey: PrivateKey
  provider: AttestationProvider
  /** GPU evidence for renters that ask for it (`tee.gpuProvider`); absent: none is sent */
  gpuProvider?: GpuAttestationProvider
  runtime: Runtime
  workRoot: string
  chain: ChainPort
  escrowDb: EscrowDb
  agreements: AgreementStore
  /** the account paid by escrows (the supplier hotkey: the agreement commits it) */
  account: KeyringPair
  arbiter?: ArbiterClient
  /** arbiters this supplier accepts (ss58); empty accepts any */
  acceptArbiters?: string[]
  /** base-unit price per GPU-hour, per model (falls back to `defaultPrice`) */
  defaultPrice: bigint
  netuid: number
  region: string
  teeKinds: string[]
  minDurationS: number
  maxDurationS: number
  offerTtlS: number
  tickMs: number
  graceMs: number
  /** how long to wait for the renter's cooperative approval before closing with the arbiter */
  settleWaitMs?: number
  /** where the jobs this supplier ran are recorded (they outlive a restart) */
  jobStore?: JobStore
  logger: Logger
  /** the node's escrow service, shared with its other roles; without it the role builds its own */
  escrow?: EscrowService
}

export interface SupplierJobRecord {
  agreementId: string
  jobId?: string
  reason?: string
  exitCode?: number
  paid?: string
  /** vouchers stored for the session (the sequence of the last one) */
  vouchers?: number
  settledBy?: 'cooperative' | 'arbiter' | 'none'
}

/**
 * The supplier's side of the marketplace on one node: publishes offers from its inventory, answers
 * negotiation with its capacity, runs the attested enclave endpoint (a libp2p host of its own,
 * bound into every piece of evidence), checks the escrow on chain before any job runs, meters the
 * job with vouchers written before they are acknowledged, and settles when the job ends.
 */
export class SupplierRole {
  readonly ledger: CapacityLedger
  readonly escrow: EscrowService
  enclave!: Libp2p
  private negotiation?: NegotiationService
  private session?: SessionHandler
  private readonly startTimers = new Map<string, NodeJS.Timeout>()
  private readonly running = new Set<Promise<unknown>>()
  readonly jobs: SupplierJobRecord[] = []
  /** escrows of interrupted sessions closed at start */
  readonly recovered: Array<{ escrowId: string, paid: string }> = []
  private readonly controller = new AbortController()
  private readonly withdrawn = new Set<string>()
  private readonly metrics: RoleMetrics

  /** the GPUs this supplier offers and where they came from (nvidia-smi or config) */
  get inventory (): Inventory { return this.i.inventory }

  constructor (private readonly i: SupplierRoleInit) {
    this.ledger = new CapacityLedger(i.inventory.devices.map((d) => ({ index: d.index, model: d.model })), { clock: i.node.clock })
    this.escrow = i.escrow ?? new EscrowService({ chain: i.chain, escrows: i.escrowDb.escrows, vouchers: i.escrowDb.vouchers, account: i.account, arbiter: i.arbiter, clock: i.node.clock })
    this.metrics = roleMetrics(i.node.metrics)
  }

  async start (): Promise<void> {
    const { node, logger } = this.i
    await mkdir(this.i.workRoot, { recursive: true })
    this.enclave = await createLibp2p({
      privateKey: this.i.enclaveKey,
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() }
    })
    this.session = await registerSessionHandler(this.enclave, {
      provider: this.i.provider,
      gpuProvider: this.i.gpuProvider,
      acceptAgreement: (hash) => this.ledger.get(hex(hash)) != null,
      onSession: async (channel, info) => { await this.track(this.serve(channel, hex(info.agreementHash))) },
      onRefused: (err, peer) => {
        this.metrics.sessions.inc({ role: 'supplier', result: 'refused' })
        logger.warn('attested session refused', { peer: peer.toString(), code: err.code })
      }
    })
    const accept = new Set(this.i.acceptArbiters ?? [])
    this.negotiation = await registerNegotiationHandler(node.host, {
      signer: node.signer,
      capacity: guardFromLedger(this.ledger),
      offers: { get: (id) => node.market.ownOffer(id) },
      store: this.i.agreements,
      clock: node.clock,
      certs: node.gossip.validator.certCache,
      acceptArbiter: (a) => a.byteLength === 32 && (accept.size === 0 || accept.has(encodeAddress(a, 42))),
      onOutcome: (o) => {
        if (o.agreement != null && o.code == null) void this.onCommitted(o.agreement)
        else if (o.code != null) logger.debug('negotiation refused', { peer: o.peer, code: o.code })
      }
    })
    await this.restoreAgreements()
    await this.publishOffers()
    void this.track(this.recover())
    logger.info('supplier ready', {
      enclave: this.enclave.peerId.toString(),
      gpus: this.i.inventory.classes.map((c) => `${c.count}x${c.model}`).join(','),
      inventory: this.i.inventory.source
    })
  }

  /**
   * One offer per GPU class with the GPUs free now, re-published by the node before expiry; a class
   * with nothing free is withdrawn (cancelled) until capacity comes back.
   */
  async publishOffers (): Promise<void> {
    for (const c of this.i.inventory.classes) {
      if (this.ledger.available(c.model) === 0) {
        if (this.withdrawn.has(c.model)) continue
        this.withdrawn.add(c.model)
        await this.i.node.cancelOffer(c.model).catch(() => {})
        continue
      }
      this.withdrawn.delete(c.model)
      await this.i.node.publishOffer({
        id: c.model,
        gpus: [{ model: c.model, memoryMib: c.memoryMib, count: this.ledger.available(c.model) }],
        teeKinds: this.i.teeKinds,
        gpuCc: this.i.gpuProvider != null,
        region: this.i.region,
        pricePerGpuHour: c.pricePerGpuHour ?? this.i.defaultPrice,
        netuid: this.i.netuid,
        minDurationS: this.i.minDurationS,
        maxDurationS: this.i.maxDurationS,
        ttlS: this.i.offerTtlS,
        enclavePeer: this.enclave.peerId.toString(),
        extraAddrs: this.enclave.getMultiaddrs().map((a) => a.toString())
      })
    }
  }

  private async track<T> (p: Promise<T>): Promise<T> {
    this.running.add(p)
    try { return await p } finally { this.running.delete(p) }
  }

  /** A committed agreement must start before its `startBy`, or the capacity goes back. */
  private async onCommitted (agreementId: string): Promise<void> {
    const rec = await this.i.agreements.get(agreementId)
    if (rec == null) return
    this.scheduleStart(agreementId, decodeTerms(rec.agreement.terms))
    await this.publishOffers().catch((err) => { this.i.logger.warn('offer update failed', { err }) })
  }

  /** At `startBy`, an agreement no session has started gives its GPUs back and is marked lapsed. */
  private scheduleStart (agreementId: string, terms: AgreementTerms): void {
    const wait = Math.max(0, Number(terms.startBy) - this.i.node.clock.now())
    const t = setTimeout(() => {
      this.startTimers.delete(agreementId)
      if (this.ledger.get(agreementId)?.committed === true && !this.jobs.some((j) => j.agreementId === agreementId)) {
        this.ledger.release(agreementId)
        this.i.logger.info('agreement not started in time: capacity released', { agreement: agreementId })
        void this.lapse(agreementId)
        void this.publishOffers().catch(() => {})
      }
    }, wait)
    t.unref()
    this.startTimers.set(agreementId, t)
  }

  private async lapse (agreementId: string): Promise<void> {
    await this.i.agreements.setStatus(agreementId, 'lapsed', this.i.node.clock.now())
      .catch((err: unknown) => { this.i.logger.warn('could not mark an agreement lapsed', { agreement: agreementId, err }) })
  }

  /**
   * After a restart the capacity ledger is empty, but the store may hold active agreements that no
   * session has started yet (a session that got past the escrow check leaves an escrow record, a
   * job leaves a job record). Those still before their `startBy` get their GPUs committed again
   * and their start timer back; the others are marked lapsed. Without this, a restart would free
   * GPUs a renter holds an agreement for, and leave records active for ever.
   */
  private async restoreAgreements (): Promise<void> {
    const now = this.i.node.clock.now()
    const ran = new Set((await this.i.jobStore?.list({ role: 'supplier' }) ?? []).map((j) => j.agreementId))
    for (const rec of await this.i.agreements.list({ role: 'supplier', status: 'active' })) {
      if (ran.has(rec.hash) || await this.i.escrowDb.escrows.get('0x' + rec.hash) != null) continue
      const terms = decodeTerms(rec.agreement.terms)
      const left = Number(terms.startBy) - now
      if (left <= 0) {
        await this.lapse(rec.hash)
        continue
      }
      try {
        this.ledger.hold(rec.hash, terms.gpuModel, terms.gpuCount, left)
        this.ledger.commit(rec.hash)
      } catch (err) {
        // the GPUs it names are gone (a smaller inventory since): it cannot be served
        this.i.logger.warn('an agreement could not get its GPUs back after a restart', { agreement: rec.hash, err })
        this.ledger.release(rec.hash)
        await this.lapse(rec.hash)
        continue
      }
      this.scheduleStart(rec.hash, terms)
      this.i.logger.info('agreement restored after a restart', { agreement: rec.hash, startsBy: new Date(Number(terms.startBy)).toISOString() })
    }
  }

  /** The terms on chain must be the agreement's: same hash, us as payee, enough locked, open. */
  private async checkEscrow (agreementId: string, terms: AgreementTerms): Promise<{ escrowId: string }> {
    const escrowId = '0x' + agreementId
    const e = await this.i.chain.get(escrowId, { signal: this.controller.signal })
    const arbiter = encodeAddress(terms.escrow?.arbiter ?? new Uint8Array(32), 42)
    if (e == null) throw new SessionRefused('ESCROW_MISSING')
    if (e.status !== 'open') throw new SessionRefused('ESCROW_NOT_OPEN')
    if (e.terms.agreementHash !== escrowId) throw new SessionRefused('ESCROW_AGREEMENT_MISMATCH')
    if (e.terms.payee !== this.i.account.address) throw new SessionRefused('ESCROW_PAYEE_MISMATCH')
    if (e.terms.arbiter !== arbiter) throw new SessionRefused('ESCROW_ARBITER_MISMATCH')
    if (e.terms.amount < terms.budget || e.terms.netuid !== terms.netuid) throw new SessionRefused('ESCROW_AMOUNT_MISMATCH')
    await this.escrow.track(e.terms)
    return { escrowId }
  }

  /** One attested session: escrow check, the job with metering, then settlement. */
  private async serve (channel: FramedChannel, agreementId: string): Promise<void> {
    const { logger } = this.i
    const record: SupplierJobRecord = { agreementId }
    this.jobs.push(record)
    clearTimeout(this.startTimers.get(agreementId))
    const rec = await this.i.agreements.get(agreementId)
    if (rec == null) { channel.abort(new SessionRefused('UNKNOWN_AGREEMENT')); return }
    const terms = decodeTerms(rec.agreement.terms)
    let escrowId: string
    try {
      ({ escrowId } = await this.checkEscrow(agreementId, terms))
    } catch (err) {
      logger.warn('session refused: escrow not in order', { agreement: agreementId, code: (err as { code?: string }).code ?? 'ERROR' })
      channel.abort(err as Error)
      this.ledger.release(agreementId)
      void this.lapse(agreementId)
      void this.publishOffers().catch(() => {})
      record.settledBy = 'none'
      this.metrics.sessions.inc({ role: 'supplier', result: 'escrow-refused' })
      return
    }
    this.metrics.sessions.inc({ role: 'supplier', result: 'served' })
    const local = await this.i.escrowDb.escrows.get(escrowId)
    const meter = await MeterSupplier.open({
      terms: local!.terms,
      pricePerGpuHour: terms.pricePerGpuHour,
      gpus: terms.gpuCount,
      store: this.i.escrowDb.vouchers,
      clock: this.i.node.clock,
      tickMs: this.i.tickMs,
      graceMs: this.i.graceMs,
      stopAfterMs: this.i.graceMs * 2
    })
    const hooks = supplierMeteringHooks(meter, {
      onPause: (lagMs) => { logger.warn('vouchers lag: job paused', { agreement: agreementId, lagMs }) },
      onError: (err) => { this.metrics.vouchers.inc({ role: 'supplier', result: 'refused' }); logger.warn('voucher refused', { agreement: agreementId, code: err.code }) }
    })
    try {
      const result = await runJobServer(channel, {
        runtime: this.i.runtime,
        workRoot: this.i.workRoot,
        lease: { ledger: this.ledger, agreementId },
        clock: this.i.node.clock,
        signal: this.controller.signal,
        tickIntervalMs: this.i.tickMs,
        onUsageTick: hooks.onUsageTick,
        onMetering: hooks.onMetering,
        onStarted: (info) => {
          record.jobId = info.jobId
          logger.info('job started', { agreement: agreementId, job: info.jobId, gpus: info.gpuIndices })
          const now = this.i.node.clock.now()
          void this.i.jobStore?.put({
            id: info.jobId, role: 'supplier', state: 'running', agreementId, peer: rec.peer, command: '', args: [],
            gpuCount: terms.gpuCount, gpuIndices: info.gpuIndices, createdAt: now, updatedAt: now, startedAt: now
          }).catch((err) => { logger.warn('job record failed', { err }) })
        }
      })
      record.reason = result.reason
      record.exitCode = result.exitCode
      this.metrics.jobs.inc({ role: 'supplier', reason: result.reason })
      await this.i.jobStore?.transition('supplier', result.jobId, stateForResult(result.reason, result.exitCode), this.i.node.clock.now(), {
        exitCode: result.exitCode, reason: result.reason, ...(result.detail != null ? { detail: result.detail } : {}), outputs: result.outputs
      }).catch((err) => { logger.warn('job record failed', { err }) })
      logger.info('job ended', { agreement: agreementId, reason: result.reason, exitCode: result.exitCode })
    } catch (err) {
      record.reason = 'failed'
      logger.warn('job session failed', { agreement: agreementId, err })
    } finally {
      meter.stop()
      this.ledger.release(agreementId)
      void this.publishOffers().catch(() => {})
    }
    await this.settle(escrowId, record)
  }

  /**
   * Cooperative close first (our approval of the settlement that pays our latest stored voucher);
   * when the renter has not approved it in time, close with the arbiter on the same voucher.
   */
  private async settle (escrowId: string, record: SupplierJobRecord): Promise<void> {
    const { logger } = this.i
    const latest = await this.i.escrowDb.vouchers.latest(escrowId)
    record.paid = (latest?.cumulative ?? 0n).toString()
    record.vouchers = Number(latest?.sequence ?? 0n)
    this.metrics.vouchers.inc({ role: 'supplier', result: 'stored' }, record.vouchers)
    try {
      const r = await this.escrow.close(escrowId, { mode: 'cooperative', signal: this.controller.signal })
      if (r.executed) { record.settledBy = 'cooperative'; this.metrics.escrows.inc({ role: 'payee', event: 'close' }); return }
      const deadline = this.i.node.clock.now() + (this.i.settleWaitMs ?? 15_000)
      while (this.i.node.clock.now() < deadline && !this.controller.signal.aborted) {
        const e = await this.i.chain.get(escrowId)
        if (e != null && e.status !== 'open') { record.settledBy = 'cooperative'; this.metrics.escrows.inc({ role: 'payee', event: 'close' }); return }
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
      if (latest == null) { record.settledBy = 'none'; return }
      await this.escrow.close(escrowId, { mode: 'arbiter', signal: this.controller.signal })
      record.settledBy = 'arbiter'
      this.metrics.escrows.inc({ role: 'payee', event: 'arbiter-close' })
      logger.info('escrow closed with the arbiter', { escrow: escrowId, paid: record.paid })
    } catch (err) {
      logger.warn('settlement failed', { escrow: escrowId, err })
    }
  }

  /**
   * After a crash or restart: every escrow where we are the payee that is still open on chain and
   * for which we hold a voucher (written before we acknowledged it) is closed with the arbiter on
   * that voucher. The session it belonged to is gone, so there is nothing to wait for.
   */
  private async recover (): Promise<void> {
    for (const local of await this.i.escrowDb.escrows.list()) {
      if (local.role !== 'payee' || this.controller.signal.aborted) continue
      const id = local.terms.escrowId
      if (this.jobs.some((j) => '0x' + j.agreementId === id)) continue
      try {
        const e = await this.i.chain.get(id)
        if (e == null || e.status !== 'open') continue
        const latest = await this.i.escrowDb.vouchers.latest(id)
        if (latest == null) continue
        await this.escrow.close(id, { mode: 'arbiter', signal: this.controller.signal })
        this.recovered.push({ escrowId: id, paid: latest.cumulative.toString() })
        this.metrics.escrows.inc({ role: 'payee', event: 'arbiter-close' })
        this.i.logger.info('escrow of an interrupted session closed with the arbiter', { escrow: id, paid: latest.cumulative.toString() })
      } catch (err) {
        this.i.logger.warn('closing an interrupted escrow failed', { escrow: id, err })
      }
    }
  }

  async stop (): Promise<void> {
    // withdraw our offers first, so nobody negotiates with a supplier that is going away
    if (!this.controller.signal.aborted) {
      for (const c of this.i.inventory.classes) await this.i.node.cancelOffer(c.model).catch(() => {})
    }
    this.controller.abort()
    for (const t of this.startTimers.values()) clearTimeout(t)
    this.startTimers.clear()
    await this.negotiation?.stop()
    await this.session?.unregister()
    await Promise.allSettled([...this.running])
    await this.enclave?.stop()
  }
}
