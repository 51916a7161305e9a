import { CapacityLedger, clearWorkRoot, type Inventory } from '../../../jobs/index.js'
import { checkAgreementEscrow, escrowIdOfAgreement, EscrowService, SS58_PREFIX } from '../../../escrow/index.js'
import { encodeSs58 } from '../../../util/ss58.js'
import { createEnclaveHost, type EnclaveHost } from '../../host.js'
import { listenError } from '../../startup-errors.js'
import { roleMetrics } from '../metrics.js'
import { AgreementLifecycle } from './agreements.js'
import { restoreCooldown, supplierCooldown } from './cooldown.js'
import { SupplierJobs } from './jobs.js'
import { SupplierNegotiation } from './negotiation.js'
import { OfferPublisher } from './offers.js'
import { SupplierRecovery } from './recovery.js'
import { SessionServer } from './sessions.js'
import { SupplierSettlement } from './settlement.js'
import { cannotSettle } from '../../fee-funds.js'
import type { SupplierJobRecord, SupplierRoleInit } from './types.js'
import type { RenterCooldown } from '../../../market/index.js'
import { makeDirs } from '../../../util/fs.js'

/**
 * The supplier's side of the marketplace on one node, composed of named pieces:
 * - the enclave host (a libp2p host of its own, its key bound into every piece of evidence);
 * - the session server (attested session → escrow check → metered job → settlement);
 * - negotiation, answered with the capacity ledger;
 * - the agreement lifecycle (start timers, lapse, restore after a restart);
 * - the offer publisher (one offer per GPU class from free capacity);
 * - recovery (escrows of sessions a crash interrupted, closed with the arbiter).
 * `start` brings them up in that order; `stop` takes them down in reverse, so offers are withdrawn
 * before anything else goes and the enclave goes last.
 */
export class SupplierRole {
  readonly ledger: CapacityLedger
  readonly escrow: EscrowService
  enclave!: EnclaveHost
  private readonly controller = new AbortController()
  private readonly jobList: SupplierJobs
  private readonly lifecycle: AgreementLifecycle
  private readonly offers: OfferPublisher
  private readonly negotiation: SupplierNegotiation
  private readonly sessions: SessionServer
  private readonly recovery: SupplierRecovery
  private readonly cooldown: RenterCooldown
  /** agreements a job record names (loaded once at start: restore skips them) */
  private ran?: Set<string>
  private started = false
  private stopping?: Promise<void>

  /** the GPUs this supplier offers and where they came from (nvidia-smi or config) */
  get inventory (): Inventory { return this.i.inventory }

  /** the sessions of this run, oldest first (running ones, and the most recent finished ones) */
  get jobs (): readonly SupplierJobRecord[] { return this.jobList.list() }

  /** escrows of interrupted sessions closed at start */
  get recovered (): ReadonlyArray<{ escrowId: string, paid: string }> { return this.recovery.recovered }

  constructor (private readonly i: SupplierRoleInit) {
    const { node, logger } = i
    const clock = node.clock
    const metrics = roleMetrics(node.metrics)
    this.ledger = new CapacityLedger(i.inventory.devices.map((d) => ({ index: d.index, model: d.model })), { clock })
    this.escrow = i.escrow ?? new EscrowService({ chain: i.chain, escrows: i.escrowDb.escrows, vouchers: i.escrowDb.vouchers, account: i.account, arbiter: i.arbiter, clock })
    this.jobList = new SupplierJobs(i.maxFinishedJobs)
    this.offers = new OfferPublisher({ node, ledger: this.ledger, inventory: i.inventory, enclave: () => this.enclave, logger }, {
      defaultPrice: i.defaultPrice,
      netuid: i.netuid,
      region: i.region,
      teeKinds: i.teeKinds,
      gpuCc: i.gpuProvider != null,
      ...(i.runtime.kind === 'container' ? { images: i.images ?? [] } : {}),
      minDurationS: i.minDurationS,
      maxDurationS: i.maxDurationS,
      offerTtlS: i.offerTtlS
    })
    // renters whose holds end without a job wait before they may propose again (RENTER_COOLDOWN),
    // across restarts: the scores are kept in the node's database
    const cooldown = supplierCooldown({ clock, store: i.cooldowns, logger })
    this.cooldown = cooldown
    this.lifecycle = new AgreementLifecycle({
      clock,
      ledger: this.ledger,
      agreements: i.agreements,
      logger,
      sessionStarted: (id) => this.jobList.has(id),
      startedBefore: async (id) => this.ran?.has(id) === true || await i.escrowDb.escrows.get('0x' + id) != null,
      onCapacityChange: () => { this.offers.refresh() },
      onHoldEnded: (renter, end) => { cooldown.record(Buffer.from(renter).toString('hex'), end) },
      // the escrow the agreement's renter opened, as a session would check it
      escrowBacks: async (id, terms) => {
        const e = await i.chain.get(escrowIdOfAgreement(id), { payer: encodeSs58(terms.renter, SS58_PREFIX) })
        return checkAgreementEscrow(e, id, terms, i.account.address) == null
      },
      // a renter that opened the escrow and then gave up before the job (a cancel, a failed
      // attestation) approved a close that refunds everything: this approval executes it. With a
      // voucher stored, a job ran: the recovery's close on it is the one to make.
      onUnstarted: async (id, terms) => {
        const e = await i.chain.get(escrowIdOfAgreement(id), { payer: encodeSs58(terms.renter, SS58_PREFIX) })
        if (e == null || e.status !== 'open' || e.terms.payee !== i.account.address) return
        if (await i.escrowDb.vouchers.latest(e.terms.escrowId) != null) return
        await this.escrow.track(e.terms, { onChain: e })
        const r = await this.escrow.close(e.terms.escrowId, { mode: 'cooperative' })
        logger.info('escrow of an agreement that never started: approved its close refunding the renter', { escrow: e.terms.escrowId, executed: r.executed })
      }
    })
    this.negotiation = new SupplierNegotiation({ node, ledger: this.ledger, agreements: i.agreements, lifecycle: this.lifecycle, cooldown, logger, chain: i.chain }, { acceptArbiters: i.acceptArbiters })
    const settlement = new SupplierSettlement({ escrow: this.escrow, chain: i.chain, vouchers: i.escrowDb.vouchers, clock, metrics, logger }, { settleWaitMs: i.settleWaitMs })
    this.sessions = new SessionServer({
      clock,
      ledger: this.ledger,
      agreements: i.agreements,
      chain: i.chain,
      escrow: this.escrow,
      escrowDb: i.escrowDb,
      jobs: this.jobList,
      jobStore: i.jobStore,
      lifecycle: this.lifecycle,
      offers: this.offers,
      settlement,
      metrics,
      logger
    }, {
      provider: i.provider,
      gpuProvider: i.gpuProvider,
      runtime: i.runtime,
      workRoot: i.workRoot,
      payee: i.account.address,
      tickMs: i.tickMs,
      graceMs: i.graceMs,
      ...(i.reattachMs != null ? { reattachMs: i.reattachMs } : {})
    })
    this.recovery = new SupplierRecovery({
      escrow: this.escrow,
      chain: i.chain,
      escrowDb: i.escrowDb,
      metrics,
      logger,
      live: (escrowId) => escrowId.startsWith('0x') && this.jobList.has(escrowId.slice(2)),
      now: () => i.node.clock.now(),
      settlement,
      ...(i.jobStore != null ? { jobStore: i.jobStore } : {})
    })
  }

  async start (): Promise<void> {
    const { logger } = this.i
    const signal = this.controller.signal
    this.started = true
    await makeDirs(this.i.workRoot)
    // what an earlier run's jobs left (it crashed): no job runs yet, and a job of the same id could
    // not start while its directory is there
    const left = await clearWorkRoot(this.i.workRoot)
    if (left.length > 0) logger.warn('job directories an earlier run left could not be removed', { dir: this.i.workRoot, left: left.slice(0, 10).join(',') })
    const listen = this.i.enclaveListen
    this.enclave = await createEnclaveHost({ privateKey: this.i.enclaveKey, ...(listen != null ? { listen } : {}) }).catch((err: unknown) => {
      throw listenError(err, listen ?? [], '--enclave-listen, BAZAAR_ENCLAVE_LISTEN or tee.enclaveListen in the config')
    })
    const damaged = (key: string, err: { code: string }): void => { logger.warn('a job record does not read back: skipped', { key, code: err.code }) }
    // the jobs an earlier run left queued or running went with its process (no session runs yet);
    // their escrows are settled by the recovery below
    const interrupted = await this.i.jobStore?.closeInterrupted('supplier', 'SUPPLIER_RESTARTED', this.i.node.clock.now(), damaged) ?? 0
    if (interrupted > 0) logger.info('job records of an earlier run closed as failed', { jobs: interrupted, detail: 'SUPPLIER_RESTARTED' })
    this.ran = new Set((await this.i.jobStore?.list({ role: 'supplier' }) ?? []).map((j) => j.agreementId).filter((id): id is string => id != null))
    // the cooldowns of the run before stand before any proposal is answered
    await restoreCooldown(this.cooldown, logger)
    // the earlier run's agreements take their GPUs back before any session or negotiation is
    // answered: a proposal answered first could hold them (offers signed before the restart come
    // back through book sync early), and the restored agreement would then lapse for want of GPUs
    await this.lifecycle.restore()
    await this.sessions.start(this.enclave, signal)
    await this.negotiation.start()
    await this.offers.publish()
    this.recovery.start(signal)
    // in the background: a slow chain does not hold up the start
    void cannotSettle(this.i.chain, this.i.account.address, 'supplier', signal).then((why) => { if (why != null) logger.warn(why) })
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
  async publishOffers (): Promise<void> { await this.offers.publish() }

  /**
   * Stops in the reverse order of `start`: its signal ends the recovery and the running jobs (each
   * still tries to settle), offers are withdrawn so nobody negotiates with a supplier that is going
   * away, start timers stop, negotiation and sessions stop being answered, then the enclave stops.
   */
  async stop (): Promise<void> {
    // a second call waits for the first
    this.stopping ??= this.stopInOrder()
    await this.stopping
  }

  private async stopInOrder (): Promise<void> {
    this.controller.abort()
    await this.recovery.stop()
    await this.offers.stop()
    await this.lifecycle.stop()
    await this.negotiation.stop()
    await this.sessions.stop()
    // the scores written so far land before the node closes its database
    await this.cooldown.flush()
    if (this.started) await this.enclave?.stop()
  }
}
