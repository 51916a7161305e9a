import { systemClock } from '../util/clock.js'
import { CapacityError } from './errors.js'
import type { Clock } from '../util/clock.js'

/** A GPU the ledger can hand out: its CUDA index and its class. */
export interface LedgerGpu {
  index: number
  model: string
}

/** Capacity held for one agreement. */
export interface CapacityHold {
  agreementId: string
  model: string
  /** the GPUs assigned to the agreement (CUDA indices) */
  gpuIndices: number[]
  /** a hold lapses at this time unless committed; Infinity once committed */
  expiresAt: number
  committed: boolean
}

const MAX_AGREEMENT_ID = 256

/**
 * Which GPUs are free, held (during negotiation, with a time limit) or committed (a job runs on them).
 *
 * hold → commit → release is the life of an agreement's capacity. A hold that is not committed
 * before its TTL lapses frees its GPUs by itself (checked lazily against the injected clock, so no
 * timer outlives the ledger). Release is idempotent and must be called when a job ends, fails or is
 * cancelled; the job server does it in a `finally`. The ledger never assigns a GPU to two agreements.
 */
export class CapacityLedger {
  private readonly gpus: LedgerGpu[]
  private readonly holds = new Map<string, CapacityHold>()
  private readonly clock: Clock

  constructor (gpus: LedgerGpu[], opts: { clock?: Clock } = {}) {
    const seen = new Set<number>()
    for (const g of gpus) {
      if (seen.has(g.index)) throw new CapacityError('INVALID_REQUEST', `GPU index ${g.index} listed twice`)
      seen.add(g.index)
    }
    this.gpus = gpus.map((g) => ({ index: g.index, model: g.model }))
    this.clock = opts.clock ?? systemClock
  }

  /**
   * Holds `count` free GPUs of `model` for `agreementId` for `ttlMs`.
   * @throws CapacityError INSUFFICIENT_CAPACITY, ALREADY_HELD, INVALID_REQUEST
   */
  hold (agreementId: string, model: string, count: number, ttlMs: number): CapacityHold {
    if (agreementId.length === 0 || agreementId.length > MAX_AGREEMENT_ID) throw new CapacityError('INVALID_REQUEST', 'bad agreement id')
    if (!Number.isSafeInteger(count) || count <= 0) throw new CapacityError('INVALID_REQUEST', 'count must be a positive integer')
    if (!(ttlMs > 0)) throw new CapacityError('INVALID_REQUEST', 'ttl must be positive')
    this.expire()
    if (this.holds.has(agreementId)) throw new CapacityError('ALREADY_HELD', `agreement ${agreementId} already holds capacity`)
    const free = this.freeGpus(model)
    if (free.length < count) throw new CapacityError('INSUFFICIENT_CAPACITY', `${free.length} free ${model} GPUs, ${count} asked`)
    const hold: CapacityHold = {
      agreementId,
      model,
      gpuIndices: free.slice(0, count).map((g) => g.index),
      expiresAt: this.clock.now() + ttlMs,
      committed: false
    }
    this.holds.set(agreementId, hold)
    return { ...hold, gpuIndices: [...hold.gpuIndices] }
  }

  /**
   * Turns a live hold into a commitment that lasts until `release`.
   * @throws CapacityError NOT_HELD when the hold never existed, lapsed or was released
   */
  commit (agreementId: string): CapacityHold {
    this.expire()
    const hold = this.holds.get(agreementId)
    if (hold == null) throw new CapacityError('NOT_HELD', `agreement ${agreementId} holds no capacity`)
    hold.committed = true
    hold.expiresAt = Number.POSITIVE_INFINITY
    return { ...hold, gpuIndices: [...hold.gpuIndices] }
  }

  /** Frees the agreement's GPUs; returns whether it held any. Idempotent. */
  release (agreementId: string): boolean {
    return this.holds.delete(agreementId)
  }

  /** Free GPUs of `model`, or of every model when omitted. */
  available (model?: string): number {
    this.expire()
    return this.freeGpus(model).length
  }

  /** The live hold or commitment of an agreement. */
  get (agreementId: string): CapacityHold | undefined {
    this.expire()
    const h = this.holds.get(agreementId)
    return h == null ? undefined : { ...h, gpuIndices: [...h.gpuIndices] }
  }

  /** Live holds and commitments (for metrics and leak checks). */
  active (): CapacityHold[] {
    this.expire()
    return [...this.holds.values()].map((h) => ({ ...h, gpuIndices: [...h.gpuIndices] }))
  }

  private freeGpus (model?: string): LedgerGpu[] {
    const used = new Set<number>()
    for (const h of this.holds.values()) for (const i of h.gpuIndices) used.add(i)
    return this.gpus.filter((g) => !used.has(g.index) && (model == null || g.model === model))
  }

  private expire (): void {
    const now = this.clock.now()
    for (const [id, h] of this.holds) {
      if (!h.committed && h.expiresAt <= now) this.holds.delete(id)
    }
  }
}
