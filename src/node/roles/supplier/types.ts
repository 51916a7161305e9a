import type { PrivateKey } from '@libp2p/interface'
import type { AccountPair } from '../../../util/sr25519.js'
import type { Logger } from '../../logger.js'
import type { AgreementStore, RenterCooldownStore } from '../../../market/index.js'
import type { AttestationProvider, GpuAttestationProvider } from '../../../tee/index.js'
import type { Inventory, JobStore, Runtime } from '../../../jobs/index.js'
import type { AgreementEscrowCode, ArbiterClient, ChainPort, EscrowDb, EscrowService } from '../../../escrow/index.js'
import { BazaarError } from '../../../util/errors.js'
import type { SupplierNode } from '../node.js'

/**
 * Why a supplier ends an attested session before the job: its agreement or escrow is not in order,
 * the chain did not answer the escrow check within its window (CHAIN_TIMEOUT), or the supplier is
 * stopping (ABORTED).
 */
export type SessionRefusedCode = 'UNKNOWN_AGREEMENT' | 'AGREEMENT_WITHDRAWN' | 'CHAIN_TIMEOUT' | 'ABORTED' | AgreementEscrowCode

export class SessionRefused extends BazaarError<SessionRefusedCode> {
  constructor (code: SessionRefusedCode) { super(code, code) }
}

export interface SupplierRoleInit {
  node: SupplierNode
  inventory: Inventory
  /** the enclave's own peer key: jobs run behind a libp2p host with this identity */
  enclaveKey: PrivateKey
  /**
   * where the enclave endpoint listens (config `tee.enclaveListen`, see enclaveListenAddrs); default
   * loopback with a free port, which only a renter on this machine can reach
   */
  enclaveListen?: string[]
  provider: AttestationProvider
  /** GPU evidence for renters that ask for it (`tee.gpuProvider`); absent: none is sent */
  gpuProvider?: GpuAttestationProvider
  runtime: Runtime
  /** with a container runtime: the images jobs may name (`jobs.images`; empty: any), stated in the offers */
  images?: readonly string[]
  workRoot: string
  chain: ChainPort
  escrowDb: EscrowDb
  agreements: AgreementStore
  /** where renters' cooldown scores are kept across restarts (the node's database); absent: in memory only */
  cooldowns?: RenterCooldownStore
  /** the account paid by escrows (the supplier hotkey: the agreement commits it) */
  account: AccountPair
  arbiter?: ArbiterClient
  /** arbiters this supplier accepts (ss58); empty accepts any */
  acceptArbiters?: string[]
  /** base-unit price per GPU-hour, per model (falls back to `defaultPrice`) */
  defaultPrice: bigint
  netuid: number
  region: string
  teeKinds: string[]
  minDurationS: number
  maxDurationS: number
  offerTtlS: number
  tickMs: number
  graceMs: number
  /** how long to wait for the renter's cooperative approval before closing with the arbiter */
  settleWaitMs?: number
  /** how long a job whose renter's session dropped waits for it to re-attach (sessions.ts DEFAULT_REATTACH_MS) */
  reattachMs?: number
  /** where the jobs this supplier ran are recorded (they outlive a restart) */
  jobStore?: JobStore
  /** the node's escrow service; absent: the role builds its own over `chain` and `escrowDb` */
  escrow?: EscrowService
  /** how many finished sessions `jobs` keeps (the oldest go first); running ones are always kept */
  maxFinishedJobs?: number
  logger: Logger
}

export interface SupplierJobRecord {
  agreementId: string
  jobId?: string
  /** the GPUs the job ran on: a renter that re-attaches after the exit attests those again */
  gpuIndices?: number[]
  reason?: string
  exitCode?: number
  paid?: string
  /** vouchers stored for the session (the sequence of the last one) */
  vouchers?: number
  settledBy?: 'cooperative' | 'arbiter' | 'refund' | 'none'
  /** of `paid`, what was too small to move as stake and went back to the renter (alpha escrows) */
  carried?: string
}
