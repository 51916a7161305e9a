/** Metering messages, transport-independent (their wire form is src/wire/metering.proto). */

/** The supplier's usage claim at one tick. */
export interface UsageReport {
  escrowId: string
  /** report sequence, strictly increasing from 1; the voucher answering it carries the same sequence */
  seq: bigint
  /** GPU time used since the session started, in ms (wall time while running, paused time excluded) */
  usedMs: number
  gpus: number
  /** the cumulative amount the supplier claims for `usedMs` (see price.ts) */
  amount: bigint
}

/** The supplier's acknowledgement: sent only after the voucher is durable. */
export interface VoucherAck {
  escrowId: string
  sequence: bigint
  cumulative: bigint
}

export type MeterState = 'running' | 'paused' | 'stopped'

export type StopReason = 'unpaid' | 'budget' | 'ended'
