import type { CapacityLedger, Inventory } from '../../../jobs/index.js'
import type { Logger } from '../../logger.js'
import type { SupplierNode } from '../node.js'

export interface OfferPublisherComponents {
  node: Pick<SupplierNode, 'publishOffer' | 'cancelOffer'>
  ledger: CapacityLedger
  inventory: Inventory
  /** the enclave renters dial: its peer id and addresses go into every offer */
  enclave: () => { peerId: { toString: () => string }, getMultiaddrs: () => Array<{ toString: () => string }> }
  logger: Logger
}

export interface OfferPublisherInit {
  defaultPrice: bigint
  netuid: number
  region: string
  teeKinds: string[]
  /** the node sends GPU evidence (confidential-computing GPUs) */
  gpuCc: boolean
  /**
   * jobs run in containers of these images (`jobs.images`; empty: any), which the offers state so
   * that only renters whose image they allow match; undefined: jobs run as processes
   */
  images?: readonly string[]
  minDurationS: number
  maxDurationS: number
  offerTtlS: number
}

/**
 * Publishes one offer per GPU class from the capacity free now (the node re-publishes it before it
 * expires); a class with nothing free is withdrawn (cancelled) until capacity comes back.
 * Publications run one at a time, in the order asked, so two capacity changes in quick succession
 * cannot leave an older count standing.
 */
export class OfferPublisher {
  private readonly withdrawn = new Set<string>()
  private queue: Promise<void> = Promise.resolve()
  private stopped = false

  constructor (private readonly c: OfferPublisherComponents, private readonly init: OfferPublisherInit) {}

  /** publishes (or withdraws) every class from the capacity free now */
  async publish (): Promise<void> {
    const run = this.queue.then(async () => { if (!this.stopped) await this.publishNow() })
    this.queue = run.catch(() => {})
    await run
  }

  /** `publish` for a capacity change: a failure is logged, never thrown */
  refresh (): void {
    this.publish().catch((err: unknown) => { this.c.logger.warn('offer update failed', { err }) })
  }

  private async publishNow (): Promise<void> {
    const { ledger, node } = this.c
    for (const c of this.c.inventory.classes) {
      if (ledger.available(c.model) === 0) {
        if (this.withdrawn.has(c.model)) continue
        this.withdrawn.add(c.model)
        await node.cancelOffer(c.model).catch(() => {})
        continue
      }
      this.withdrawn.delete(c.model)
      const enclave = this.c.enclave()
      await node.publishOffer({
        id: c.model,
        gpus: [{ model: c.model, memoryMib: c.memoryMib, count: ledger.available(c.model) }],
        teeKinds: this.init.teeKinds,
        gpuCc: this.init.gpuCc,
        ...(this.init.images !== undefined ? { images: [...this.init.images] } : {}),
        region: this.init.region,
        pricePerGpuHour: c.pricePerGpuHour ?? this.init.defaultPrice,
        netuid: this.init.netuid,
        minDurationS: this.init.minDurationS,
        maxDurationS: this.init.maxDurationS,
        ttlS: this.init.offerTtlS,
        enclavePeer: enclave.peerId.toString(),
        extraAddrs: enclave.getMultiaddrs().map((a) => a.toString())
      })
    }
  }

  /**
   * Withdraws every class (a supplier going away: nobody should negotiate with it); no publication
   * runs after this.
   */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.queue
    for (const c of this.c.inventory.classes) await this.c.node.cancelOffer(c.model).catch(() => {})
  }
}
