import type { BazaarNode } from '../bazaar-node.js'
import type { Logger } from '../logger.js'
import type { AgreementStore, RenterCooldownStore } from '../../market/index.js'
import type { ArbiterClient, ChainPort, EscrowDb, EscrowService } from '../../escrow/index.js'
import type { JobStore } from '../../jobs/index.js'

/**
 * A part of a node with a lifecycle, as js-libp2p's services: the root starts its services in
 * order and stops them in reverse, so a service may rely on everything started before it (the
 * supplier on gossip, the renter on the chain) for as long as it runs.
 */
export interface NodeService {
  /** a short name for logs and errors */
  readonly name: string
  start(): Promise<void>
  /** stops what start started; safe to call after a failed or partial start, and twice */
  stop(): Promise<void>
}

/** What a role service uses of its node: the stores and services the root opened once. */
export interface RoleServiceComponents {
  node: BazaarNode
  chain: ChainPort
  escrowDb: EscrowDb
  escrow: EscrowService
  agreements: AgreementStore
  jobs: JobStore
  /** a supplier's renter cooldown scores, kept across restarts */
  cooldowns?: RenterCooldownStore
  arbiter?: ArbiterClient
  logger: Logger
  signal: AbortSignal
}
