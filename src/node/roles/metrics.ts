import type { Counter, Registry } from '../metrics.js'

/** Metrics of the supplier and renter roles (labels come from closed sets in code). */
export interface RoleMetrics {
  /** renter: a bid matched an offer, a supplier refused, or nothing matched */
  matches: Counter
  /** attested sessions by role and result (supplier: served / refused; renter: attested / refused) */
  sessions: Counter
  /** attestation verdicts by TEE kind and result (ok, or the refusal code) */
  attestation: Counter
  /** vouchers by role and result (supplier: stored / refused; renter: signed / acknowledged) */
  vouchers: Counter
  /** escrow state changes by role and event (open, close, refund, arbiter-close) */
  escrows: Counter
  /** jobs by role and how they ended */
  jobs: Counter
}

const cache = new WeakMap<Registry, RoleMetrics>()

/** One set per registry, so a node running both roles shares the series. */
export function roleMetrics (r: Registry): RoleMetrics {
  let m = cache.get(r)
  if (m == null) {
    m = {
      matches: r.counter('bazaar_matches_total', 'bids matched to offers, by result'),
      sessions: r.counter('bazaar_sessions_total', 'attested sessions by role and result'),
      attestation: r.counter('bazaar_attestation_verdicts_total', 'attestation verdicts by kind and result'),
      vouchers: r.counter('bazaar_vouchers_total', 'vouchers by role and result'),
      escrows: r.counter('bazaar_escrow_events_total', 'escrow state changes by role and event'),
      jobs: r.counter('bazaar_jobs_total', 'jobs by role and end reason')
    }
    cache.set(r, m)
  }
  return m
}
