import { BazaarError } from '../../../util/errors.js'

export type SubtensorErrorCode =
  /** the endpoint could not be reached or the connection dropped past the retry budget */
  | 'CHAIN_UNAVAILABLE'
  /**
   * the node did not answer a read in time (READ_TIMEOUT_MS) while the socket stayed up; `details.method`
   * names the call. Nothing was changed by it: the caller tries again on its own schedule
   */
  | 'CHAIN_TIMEOUT'
  /** the endpoint now serves another chain than the one the port was opened on (another genesis) */
  | 'CHAIN_CHANGED'
  /** the runtime lacks a pallet or call the escrow needs (multisig, utility, remarkWithEvent) */
  | 'RUNTIME_UNSUPPORTED'
  /** the extrinsic was included but failed (module error in `details`) */
  | 'EXTRINSIC_FAILED'
  /** the extrinsic did not appear in a block in time */
  | 'INCLUSION_TIMEOUT'
  /** another transaction of the signer (another process with the same key) took the extrinsic's nonce */
  | 'NONCE_USED'
  /**
   * the pool refused the extrinsic because its signer cannot pay the fee (`1010` Invalid Transaction
   * `Payment`: its free TAO is too low). Nothing ran; it succeeds once the account holds TAO
   */
  | 'CANNOT_PAY_FEES'
  /** the second multisig approval was included but the settlement batch failed inside it */
  | 'SETTLEMENT_FAILED'
  /** no open record for this escrow id is known to the adapter */
  | 'ESCROW_UNKNOWN'
  /** an escrow with this id already has an open record */
  | 'ESCROW_EXISTS'
  /** the escrow is closed or refunded already */
  | 'ESCROW_NOT_OPEN'
  /** the approver is not payer, payee or arbiter of the escrow */
  | 'NOT_A_PARTY'
  /** the settlement does not fit the escrow (payouts to strangers, more than the escrow holds) */
  | 'SETTLEMENT_INVALID'
  /** the terms are malformed (ids, addresses, amounts) */
  | 'TERMS_INVALID'
  /**
   * the node no longer keeps the state of a block the read needs: it prunes state (a lite node
   * keeps the last 256 blocks' by default), where an archive node keeps every block's
   */
  | 'STATE_PRUNED'
  | 'ABORTED'

/** A typed failure of the subtensor adapter; `details` carries decoded chain errors. */
export class SubtensorError extends BazaarError<SubtensorErrorCode> {
  readonly details?: Record<string, unknown>
  constructor (code: SubtensorErrorCode, message: string, options: { cause?: unknown, details?: Record<string, unknown> } = {}) {
    super(code, message, { cause: options.cause })
    if (options.details != null) this.details = options.details
  }
}

/**
 * Whether a node's error says it no longer keeps the state of the block asked about. Substrate
 * answers `UnknownBlock: State already discarded for 0x…` (wrapped in a client error, with code
 * 4003 or -32603 by version); older nodes said `Api called for an unknown Block: State already
 * discarded`.
 */
export function isStatePruned (err: unknown): boolean {
  if (err instanceof SubtensorError) return err.code === 'STATE_PRUNED'
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : ''
  return /state already discarded/i.test(message)
}
