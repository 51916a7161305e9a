import type { AccountPair } from '../../util/sr25519.js'
import type { Host } from '../host.js'
import type { Logger } from '../logger.js'
import type { Clock } from '../../util/clock.js'
import { Arbiter, type ChainPort, type EscrowDb } from '../../escrow/index.js'
import { registerArbiterHandler, type ArbiterHandler } from '../../protocols/arbiter/index.js'
import type { NodeService } from './types.js'
import { cannotSettle } from '../fee-funds.js'

export interface ArbiterServiceComponents {
  host: Host
  chain: ChainPort
  escrowDb: EscrowDb
  clock: Clock
  logger: Logger
}

/**
 * The arbiter role as a node service: answers /bazaar/arbiter/2.0.0 and co-signs, with `key`,
 * only a close that pays the highest valid voucher, or a refund after expiry (escrow/arbiter).
 */
export class ArbiterService implements NodeService {
  readonly name = 'arbiter'
  private handler?: ArbiterHandler
  private readonly controller = new AbortController()

  constructor (private readonly c: ArbiterServiceComponents, private readonly key: AccountPair) {}

  async start (): Promise<void> {
    const { host, chain, escrowDb, clock, logger } = this.c
    const arbiter = new Arbiter({ chain, key: this.key, clock, vouchers: escrowDb.vouchers, escrows: escrowDb.escrows })
    this.handler = await registerArbiterHandler(host, {
      arbiter,
      clock,
      onOutcome: (o) => { logger.info('arbiter request', o) },
      onError: (err) => { logger.warn('arbiter failed', { err }) }
    })
    logger.info('arbiter ready', { arbiter: this.key.address, peer: host.peerId.toString() })
    // in the background: a slow chain does not hold up the start
    void cannotSettle(chain, this.key.address, 'arbiter', this.controller.signal).then((why) => { if (why != null) logger.warn(why) })
  }

  async stop (): Promise<void> {
    this.controller.abort()
    const h = this.handler
    this.handler = undefined
    await h?.stop()
  }
}
