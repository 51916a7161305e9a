import type { AccountPair } from '../../../util/sr25519.js'
import type { Logger } from '../../logger.js'
import type { AgreementStore } from '../../../market/index.js'
import type { AttestationPolicy } from '../../../tee/index.js'
import type { JobResult, JobSpec } from '../../../jobs/index.js'
import type { ArbiterClient, ChainPort, EscrowDb, EscrowOnChain, EscrowService } from '../../../escrow/index.js'
import type { VoucherKeyVault } from '../../keystore/index.js'
import type { RenterNode } from '../node.js'
import type { AmountUnit } from '../../../util/units.js'

export interface RentRequest {
  gpu: string
  count: number
  minMemoryMib?: number
  maxPricePerGpuHour: bigint
  durationS: number
  teeKinds: string[]
  regions: string[]
  spec: Omit<JobSpec, 'gpuCount'>
  /** outputs land here */
  outputDir: string
}

export type RentEvent =
  | { type: 'bid', id: string }
  | { type: 'matched', supplier: string, offer: string, pricePerGpuHour: string, teeKind: string }
  | { type: 'refused', supplier: string, code: string }
  | { type: 'agreement', id: string, budget: string, unit: AmountUnit }
  | { type: 'escrow', id: string, locked: string, asset: string, unit: AmountUnit, blockNumber: number }
  | { type: 'attested', kind: string, enclave: string, measurement: string, gpu?: RentGpuAttestation, /** the enclave's addresses this rental dialled */ addrs: string[] }
  /** the supplier started the job: its time is paid from here */
  | { type: 'started' }
  | { type: 'stdout', text: string }
  | { type: 'stderr', text: string }
  | { type: 'tick', elapsedMs: number, spent: string, unit: AmountUnit }
  | { type: 'job', exitCode: number, signal?: string, reason: string, detail?: string, outputs: Array<{ name: string, sha256: string, bytes: number }>, /** see RentJob */ undelivered?: string[] }
  /** `carried`: of `paid`, what could not move as stake and went back to the payer with the refund (alpha escrows) */
  | { type: 'settled', paid: string, refunded: string, unit: AmountUnit, executed: boolean, carried?: string, /** not executed yet: what the close this renter approved pays the supplier (its last voucher signed) */ approved?: string }

/** What the GPU evidence of an attested session said (when the policy asked for it and it came). */
export interface RentGpuAttestation {
  kind: string
  model: string
  driverVersion: string | null
  vbiosVersion: string | null
  ccMode: string
  measurementsMatched: boolean
  /** how many GPUs attested (every GPU of the agreement; the fields above are GPU 0's) */
  count: number
}

/** How a rental's job ended, as its summary (and, without the paths, its `job` event) says it. */
export interface RentJob {
  /** the process's exit code; -1 when a signal ended it (`signal`) or it never ran */
  exitCode: number
  /** the signal that ended the process (SIGKILL: out of memory, or killed at a limit) */
  signal?: string
  /**
   * how the job ended (JobEndReason): `failed` as well when the rental did not receive the whole
   * of its end, with the exit it did receive (`exitCode`, `signal`) and the failure's code in `detail`
   */
  reason: string
  /** a stable code: why the job failed (the supplier's), or what failed the session (the renter's) */
  detail?: string
  /** the outputs received, verified against their sha256 and in place */
  outputs: Array<{ name: string, sha256: string, bytes: number, path?: string }>
  /** outputs asked for that the supplier said the job did not write */
  missingOutputs: string[]
  /** outputs asked for that were not received: the session failed first (`detail` says how); absent when none */
  undelivered?: string[]
  durationMs: number
}

export interface RentSummary {
  agreementId: string
  supplier: string
  attestation: { ok: boolean, kind: string, measurement: string, gpu?: RentGpuAttestation }
  job: RentJob
  vouchers: number
  escrow: {
    id: string
    asset: string
    /** the unit of locked, paid and refunded (see util/units) */
    unit: AmountUnit
    locked: string
    paid: string
    refunded: string
    /** of `paid`, what was too small to move as stake and went back to the payer with the refund (alpha escrows; absent when none) */
    carried?: string
    status: string
    /** how it settled, once it did: the cooperative close, a close with the arbiter, or a refund */
    settledBy?: 'cooperative' | 'arbiter' | 'refund'
    /**
     * while it is still open: what the cooperative close this renter approved pays the supplier
     * (its last voucher signed); it executes with the supplier's approval, or the supplier closes
     * with the arbiter
     */
    approved?: string
    records: Array<{ kind: string, blockNumber: number, blockHash: string, txHash: string }>
  }
}

export interface RenterRoleInit {
  node: RenterNode
  chain: ChainPort
  escrowDb: EscrowDb
  agreements: AgreementStore
  /** the account that funds escrows (the renter hotkey: the agreement commits it) */
  account: AccountPair
  /** ss58 of the arbiter named in agreements */
  arbiterAddress: string
  arbiter?: ArbiterClient
  policy: AttestationPolicy
  logger: Logger
  /** how long to wait for a compatible offer */
  matchTimeoutMs?: number
  /** how long to wait for the supplier's approval of the cooperative close */
  settleWaitMs?: number
  /**
   * how long a rental whose session broke under its running job keeps trying to take the job up
   * again (the supplier keeps it that long for its renter: `metering.reattachS`); default
   * DEFAULT_REATTACH_WINDOW_MS, 0 never
   */
  reattachMs?: number
  /**
   * where per-escrow voucher keys are sealed before the escrow opens; without it a key lives in
   * memory only (one-process devnets and tests), and a renter that restarts cannot sign for it
   */
  voucherKeys?: VoucherKeyVault
  /** the node's escrow service; absent: the role builds its own over `chain` and `escrowDb` */
  escrow?: EscrowService
  /** how long `stop` waits for rentals in flight to settle before it ends their settlement waits */
  stopWaitMs?: number
  /**
   * called once for each escrow `refundExpired` finds settled after its rental ended with it still
   * open (its close approved, waiting for the supplier or the arbiter): the job's record learns how
   */
  onSettledLater?: (escrowId: string, e: EscrowOnChain) => Promise<void>
}

/** How one rental runs: its cancel, its events, and what of it differs from the role's init. */
export interface RentOptions {
  signal?: AbortSignal
  onEvent?: (e: RentEvent) => void
  /** the enclave's evidence must meet this (a rent's `--tee` kinds and CRLs); the role's `policy` by default */
  policy?: AttestationPolicy
  /** how long to wait for a compatible offer; the role's `matchTimeoutMs` by default */
  matchTimeoutMs?: number
}

/** What RenterRole.refundExpired did with one escrow left open past its expiry. */
export type RefundedEscrow =
  | {
    escrowId: string
    /** a refund of everything, or the close on a voucher the arbiter had co-signed */
    kind: 'refund' | 'voucher-close'
    /** rao to the supplier and back to this renter */
    paid: string
    refunded: string
    /** false where this renter's approval was the first on chain and waits for a second one */
    executed: boolean
  }
  | { escrowId: string, /** the typed reason the refund failed; tried again next time */ error: string }

/** What `RenterRole.resume` did with one escrow left open by an earlier run of this renter. */
export interface ResumedEscrow {
  escrowId: string
  /** the cumulative amount of the last voucher this renter signed (rao), the one its approval pays */
  paid: string
  /** the escrow's state on chain afterwards */
  status: string
  /** whether this renter still held the escrow's voucher key */
  key: boolean
  /** the job, when this renter took it up again after the restart (see RenterRole.resume) */
  job?: JobResult
  /** why taking the job up again failed (a typed code), when it was tried */
  attachError?: string
}

/** What a restarted renter knows of a job it was running (its job record's `attach`). */
export interface RentalToResume {
  agreementId: string
  /** when the job started, on this renter's clock */
  startedAt: number
  enclave: string
  addrs: string[]
  outputDir: string
  outputs: string[]
  /** the job's maximum duration, when known: it bounds how long the job is followed (jobs recorded before it was kept have none) */
  maxDurationMs?: number
}
