import { systemClock, type Clock } from '../../util/clock.js'
import type { CapacityGuard } from '../types.js'

interface Claim { model: string, count: number, holdUntil: number | undefined }

/**
 * In-memory CapacityGuard: GPUs per model, holds that lapse after their ttl (checked lazily against
 * the clock, so no timer outlives the guard) and commitments kept until released. All methods are
 * synchronous, so in one process two racing holds are serialised: never more held plus committed
 * than there is.
 */
export class MemoryCapacity implements CapacityGuard {
  private readonly total = new Map<string, number>()
  private readonly claims = new Map<string, Claim>()

  constructor (inventory: Record<string, number> = {}, private readonly clock: Clock = systemClock) {
    for (const [m, n] of Object.entries(inventory)) this.total.set(m, n)
  }

  /** sets the GPUs of a model (inventory change); existing claims stay */
  setTotal (model: string, count: number): void { this.total.set(model, count) }

  private sweep (): void {
    const now = this.clock.now()
    for (const [id, c] of this.claims) if (c.holdUntil !== undefined && c.holdUntil <= now) this.claims.delete(id)
  }

  available (model: string): number {
    this.sweep()
    let used = 0
    for (const c of this.claims.values()) if (c.model === model) used += c.count
    return Math.max(0, (this.total.get(model) ?? 0) - used)
  }

  hold (agreementId: string, model: string, count: number, ttlMs: number): boolean {
    if (!Number.isInteger(count) || count <= 0) return false
    if (this.claims.has(agreementId)) return false
    if (this.available(model) < count) return false
    this.claims.set(agreementId, { model, count, holdUntil: this.clock.now() + ttlMs })
    return true
  }

  commit (agreementId: string): boolean {
    this.sweep()
    const c = this.claims.get(agreementId)
    if (c == null) return false
    c.holdUntil = undefined
    return true
  }

  release (agreementId: string): void { this.claims.delete(agreementId) }

  /** GPUs of a model under commitment (not holds) */
  committed (model: string): number {
    let n = 0
    for (const c of this.claims.values()) if (c.model === model && c.holdUntil === undefined) n += c.count
    return n
  }
}

/** The shape of a capacity ledger that throws typed errors (src/jobs CapacityLedger). */
export interface ThrowingLedger {
  hold (agreementId: string, model: string, count: number, ttlMs: number): unknown
  commit (agreementId: string): unknown
  release (agreementId: string): unknown
  available (model: string): number
}

/**
 * Adapts a ledger whose refusals are typed errors (an Error with a string `code`) to CapacityGuard:
 * a refusal becomes `false`; an untyped error is a bug and propagates.
 */
export function guardFromLedger (ledger: ThrowingLedger): CapacityGuard {
  const refused = (fn: () => unknown): boolean => {
    try {
      fn()
      return true
    } catch (err) {
      if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') return false
      throw err
    }
  }
  return {
    hold: (id, model, count, ttlMs) => refused(() => ledger.hold(id, model, count, ttlMs)),
    commit: (id) => refused(() => ledger.commit(id)),
    release: (id) => { refused(() => ledger.release(id)) },
    available: (model) => ledger.available(model)
  }
}
