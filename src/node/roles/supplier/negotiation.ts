import { encodeSs58 } from '../../../util/ss58.js'
import { guardFromLedger, type AgreementStore } from '../../../market/index.js'
import { registerNegotiationHandler, type NegotiationService } from '../../../protocols/negotiate/index.js'
import type { CapacityLedger } from '../../../jobs/index.js'
import { SS58_PREFIX } from '../../../escrow/index.js'
import type { Logger } from '../../logger.js'
import type { SupplierNode } from '../node.js'
import type { AgreementLifecycle } from './agreements.js'

export interface SupplierNegotiationComponents {
  node: Pick<SupplierNode, 'host' | 'signer' | 'market' | 'clock' | 'gossip'>
  ledger: CapacityLedger
  agreements: AgreementStore
  lifecycle: AgreementLifecycle
  logger: Logger
}

/**
 * Answers negotiation on the node's host with this supplier's capacity and current offers; an
 * agreement both sides committed goes to the agreement lifecycle (its start timer).
 */
export class SupplierNegotiation {
  private service?: NegotiationService

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
      onOutcome: (o) => {
        if (o.agreement != null && o.code == null) {
          this.c.lifecycle.committed(o.agreement).catch((err: unknown) => { logger.warn('a committed agreement could not be scheduled', { agreement: o.agreement, err }) })
        } else if (o.code != null) logger.debug('negotiation refused', { peer: o.peer, code: o.code })
      }
    })
  }

  async stop (): Promise<void> {
    await this.service?.stop()
    this.service = undefined
  }
}
