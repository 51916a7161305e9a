import { encodeSs58 } from '../../../util/ss58.js'
import { abortable } from '../../../util/abortable.js'
import { guardFromLedger, NegotiationError, type AgreementStore, type RenterCooldown } from '../../../market/index.js'
import { registerNegotiationHandler, registerWithdrawHandler, type NegotiationService } from '../../../protocols/negotiate/index.js'
import { decodeTerms } from '../../../market/agreement/index.js'
import { DOMAIN, ed25519Verify, signedBytes } from '../../../market/signing/index.js'
import type { Withdraw } from '../../../wire/agreement.js'
import { bytesEqual } from '../../../util/bytes.js'
import type { CapacityLedger } from '../../../jobs/index.js'
import { SS58_PREFIX, type ChainPort } from '../../../escrow/index.js'
import type { Logger } from '../../logger.js'
import type { SupplierNode } from '../node.js'
import type { AgreementLifecycle } from './agreements.js'

export interface SupplierNegotiationComponents {
  node: Pick<SupplierNode, 'host' | 'signer' | 'market' | 'clock' | 'gossip'>
  ledger: CapacityLedger
  agreements: AgreementStore
  lifecycle: AgreementLifecycle
  /** renters whose holds ended without a job (the lifecycle records lapses and withdrawals in it) */
  cooldown?: RenterCooldown
  logger: Logger
  /** where the renter's funds are read (absent: no funds check) */
  chain?: Pick<ChainPort, 'balance'>
}

/**
 * how long the renter's balance may take to read before the proposal goes on without it: well
 * within the renter's own wait for the Accept (DEFAULT_MESSAGE_TIMEOUT_MS, 5 s), or a slow chain
 * would hold GPUs for renters that already gave up
 */
const FUNDS_CHECK_MS = 1_500

/**
 * Answers negotiation on the node's host with this supplier's capacity and current offers; an
 * agreement both sides committed goes to the agreement lifecycle (its start timer).
 *
 * A renter commits GPUs before it pays, so a proposal is refused when its renter already holds
 * DEFAULT_MAX_WAITING_PER_RENTER agreements here that have not started (RENTER_LIMIT), or when its
 * account does not hold the budget on chain (NO_FUNDS): GPUs are then held only for renters that
 * could pay, a few agreements at a time. A chain that cannot be read in FUNDS_CHECK_MS refuses no
 * one (the escrow window still bounds an unpaid agreement). A renter whose holds keep ending
 * without a job (lapsed unpaid, or withdrawn and unconfirmed in numbers) waits a growing while
 * before it may propose again (RENTER_COOLDOWN, RenterCooldown). A weak filter all the same: the same
 * funds back a renter's proposals at every supplier, and fresh hotkeys reset the count.
 */
export class SupplierNegotiation {
  private service?: NegotiationService
  private withdrawals?: { stop: () => Promise<void> }

  constructor (private readonly c: SupplierNegotiationComponents, private readonly init: { acceptArbiters?: string[] } = {}) {}

  async start (): Promise<void> {
    const { node, logger } = this.c
    const accept = new Set(this.init.acceptArbiters ?? [])
    this.service = await registerNegotiationHandler(node.host, {
      signer: node.signer,
      capacity: guardFromLedger(this.c.ledger),
      offers: { get: (id) => node.market.ownOffer(id) },
      store: this.c.agreements,
      clock: node.clock,
      certs: node.gossip.validator.certCache,
      // [REFUSE] an arbiter this supplier does not accept (an empty list accepts any)
      acceptArbiter: (a) => a.byteLength === 32 && (accept.size === 0 || accept.has(encodeSs58(a, SS58_PREFIX))),
      waiting: (renter) => this.c.lifecycle.waitingFor(renter),
      ...(this.c.cooldown != null ? { cooldown: this.c.cooldown } : {}),
      admit: async (terms) => {
        const chain = this.c.chain
        if (chain == null) return
        const payer = encodeSs58(terms.renter, SS58_PREFIX)
        let funds: bigint
        try {
          // wall time: a bound on the chain's answer (raced: an adapter may look at its signal only between tries)
          const signal = AbortSignal.timeout(FUNDS_CHECK_MS)
          funds = await abortable(chain.balance(payer, { signal }), signal)
        } catch (err) {
          logger.debug('the renter\'s funds could not be read: the proposal goes on', { renter: payer, err })
          return
        }
        // [IGNORE] the renter could not open the escrow: its GPUs are not held for it
        if (funds < terms.budget) throw new NegotiationError('NO_FUNDS', `the renter holds ${funds} of the budget ${terms.budget}`)
      },
      // the agreement goes to its lifecycle the moment it is active, before its Committed is sent:
      // the lifecycle counts it against its renter from this call on (AgreementLifecycle.committed),
      // and its startBy timer gets the GPUs back should the renter never start
      onCommitted: (id, terms) => {
        this.c.lifecycle.committed(id, terms.renter).catch((err: unknown) => { logger.warn('a committed agreement could not be scheduled', { agreement: id, err }) })
      },
      onOutcome: (o) => {
        if (o.code != null) logger.debug('negotiation refused', { peer: o.peer, code: o.code })
      }
    })
    this.withdrawals = await registerWithdrawHandler(node.host, {
      clock: node.clock,
      withdraw: async (w, peer) => {
        const code = await this.withdraw(w)
        if (code !== '') logger.debug('withdrawal refused', { peer, code })
        return code
      }
    })
  }

  async stop (): Promise<void> {
    await this.withdrawals?.stop()
    this.withdrawals = undefined
    await this.service?.stop()
    this.service = undefined
  }

  /**
   * A renter's Withdraw: the agreement must be one of this supplier's, the certificate its renter's
   * and current, and the signature over the agreement's hash under the withdraw domain; then the
   * lifecycle gives the GPUs back unless a session took the agreement up.
   */
  async withdraw (w: Withdraw): Promise<string> {
    if (w.agreement.byteLength !== 32) return 'UNKNOWN_AGREEMENT'
    const id = Buffer.from(w.agreement).toString('hex')
    const rec = await this.c.agreements.get(id)
    if (rec == null || rec.role !== 'supplier') return 'UNKNOWN_AGREEMENT'
    if (rec.status !== 'active') return 'NOT_ACTIVE'
    const terms = decodeTerms(rec.agreement.terms)
    const cert = w.renterCert
    // [REJECT] only the agreement's renter may give it back
    if (cert == null || !bytesEqual(cert.hotkey, terms.renter)) return 'NOT_THE_RENTER'
    const { verdict, key } = this.c.node.gossip.validator.certCache.check(cert, this.c.node.clock.now())
    if (verdict !== 'ok' || key == null) return 'BAD_CERT'
    if (!ed25519Verify(key, signedBytes(DOMAIN.withdraw, w.agreement), w.renterSignature)) return 'BAD_SIGNATURE'
    return await this.c.lifecycle.withdraw(id, terms)
  }
}
