/**
 * The chain port: what the escrow needs from a ledger. Two adapters implement it: `embedded` (an
 * in-process ledger for devnets and fast tests) and `subtensor` (@polkadot/api against a Substrate
 * node). Both have the same semantics and produce the same records.
 *
 * Amounts are integers in base units (rao, 10^-9) of the escrow's asset. Addresses are ss58
 * (prefix 42). An escrow account is controlled by a 2-of-3 multisig of payer, payee and arbiter;
 * a close or refund executes once two of the three have approved the same settlement.
 */
import type { AccountPair } from '../../util/sr25519.js'

/** What the escrow locks: the alpha of `netuid`, or TAO where the runtime cannot move alpha. */
export type EscrowAsset = { kind: 'alpha', netuid: number } | { kind: 'tao', netuid: number, reason: string }

export interface EscrowTermsOnChain {
  /** 32-byte escrow id, 0x-hex */
  escrowId: string
  /** 32-byte agreement hash, 0x-hex */
  agreementHash: string
  payer: string
  payee: string
  arbiter: string
  amount: bigint
  netuid: number
  /** ed25519 public key (0x-hex) that signs the payer's vouchers */
  voucherKey: string
  /** ms since epoch; after it the payer may refund with the arbiter */
  expiresAt: number
}

export type RecordKind = 'open' | 'close' | 'refund'

/** A record the adapter wrote on its ledger, with where to find it. */
export interface ChainRecord {
  kind: RecordKind
  escrowId: string
  blockNumber: number
  blockHash: string
  /** extrinsic hash (subtensor) or ledger entry hash (embedded) */
  txHash: string
  /** the JSON document recorded with system.remarkWithEvent */
  remark: string
}

export interface Payout { to: string, amount: bigint }

/** A settlement both approvers must agree on byte for byte. */
export interface Settlement {
  escrowId: string
  kind: 'cooperative' | 'voucher' | 'refund'
  payouts: Payout[]
  /** the voucher that justifies the payee's amount (kind 'voucher' and 'cooperative') */
  voucher?: { cumulative: bigint, sequence: bigint, signature: string }
}

export type EscrowChainStatus = 'open' | 'closed' | 'refunded'

/** A settlement one signatory approved that waits for a second (`ChainPort.pending`). */
export interface PendingSettlement {
  /** the chain's hash of it (subtensor: the multisig call hash) */
  hash: string
  /**
   * as approved. Its voucher's signature is '' where the chain does not carry it (subtensor: a
   * settlement's call holds the voucher's cumulative amount and sequence, not its signature)
   */
  settlement: Settlement
  /** who approved it, as the escrow's terms name them (payer, payee or arbiter) */
  approvals: string[]
}

export interface EscrowOnChain {
  terms: EscrowTermsOnChain
  asset: EscrowAsset
  /** address of the account that holds the funds */
  account: string
  status: EscrowChainStatus
  /** what the escrow account still holds */
  balance: bigint
  records: ChainRecord[]
}

export interface ApproveResult {
  /** true when this approval was the second and the settlement executed */
  executed: boolean
  record?: ChainRecord
  /** every transaction fee this call paid, in rao of TAO (chains that charge fees) */
  fees?: ChainFee[]
  /** this approver had approved this settlement before: nothing was submitted (chains that answer so) */
  alreadyApproved?: boolean
}

/** What `ChainPort.sweep` is given besides the owner. */
export interface SweepOptions {
  signal?: AbortSignal
  /** terms from the caller's own database, for escrows settled before the blocks the adapter read */
  known?: readonly EscrowTermsOnChain[]
  /**
   * called for each settled escrow this sweep left nothing behind on for `owner`: no approval of
   * its left pending, and, where it is the arbiter, the per-escrow key empty and reaped (by this
   * sweep or before it). An arbiter's record of such an escrow holds nothing more to do.
   */
  onSwept?: (escrowId: string, payer: string) => void
}

/** One transaction fee paid: what it was for, who paid it, how much (rao of TAO). */
export interface ChainFee {
  /** `open`, `approve`, `execute`, `arbiter-topup`, `arbiter-sweep`, `cancel` */
  op: string
  account: string
  fee: bigint
}

export interface ChainPortInfo {
  adapter: 'embedded' | 'subtensor'
  /** what funding uses on this chain, read from the runtime, never guessed */
  asset: EscrowAsset
  /** human-readable notes (for example "runtime 218 has no transferStake: funding in TAO") */
  notes: string[]
  chain?: string
  specVersion?: number
  /** the chain's genesis block hash (0x hex): which chain this is, whatever its endpoint or name */
  genesis?: string
}

/** What a node hears about its chain connection (`ChainPort.onConnection`). */
export type ChainConnectionEvent =
  /**
   * the websocket dropped; the provider reconnects by itself. `unresponsive`: the adapter dropped it
   * itself, because the node stopped answering on the open socket (subtensor's health watch).
   * `endpoint`: the node left, where the port knows
   */
  | { kind: 'lost', unresponsive?: true, endpoint?: string }
  /** it is back, on the same chain; `endpoint`: the node it reached, where the port knows (it may have several) */
  | { kind: 'restored', endpoint?: string }
  /**
   * it is back on another chain: the endpoint now serves a chain of another genesis, or of the same
   * genesis and another history (a local dev chain started again from its spec). Nothing this port
   * signed would be valid there, so every operation fails with CHAIN_CHANGED until the daemon is
   * restarted.
   */
  | {
    kind: 'changed'
    genesis: string
    was: string
    /** with the same genesis: a block the port saw finalized, and the hash the endpoint has for it now ('' where it has none) */
    block?: number
    blockHash?: string
    blockWas?: string
    /** the node that serves it, where the port knows */
    endpoint?: string
  }

/** How `ChainPort.approve` approves (see there). */
export interface ApproveOptions {
  signal?: AbortSignal
  /** the payer of the escrow meant */
  payer?: string
  /** only as the second approval: nothing is sent where no other approval is pending */
  ifApproved?: boolean
}

/** What one `catchUp` read: blocks `from` to `head`, `blocks` of them (none: already there) */
export interface ChainCatchUp {
  from: number
  head: number
  blocks: number
  /**
   * ranges of blocks passed over since the last `catchUp` (by it or by an escrow operation's own
   * read) because the node no longer keeps their state (a lite node): escrows opened there are
   * not found through this node
   */
  skipped?: Array<{ from: number, to: number }>
  /**
   * escrows naming the port's own party (subtensor: `party`) that reads since the last `catchUp`
   * found opened, each with its open record: where a node keeps their open blocks, a restart reads
   * back to them (`EscrowService.scanStart`)
   */
  opened?: Array<{ terms: EscrowTermsOnChain, records: ChainRecord[] }>
}

/**
 * Every call ends, whatever the chain does: a read the chain does not answer fails (subtensor:
 * CHAIN_TIMEOUT, after 30 s with its socket up), an abort of `signal` ends a call at once, and a
 * state change whose inclusion was not seen fails with a code that says its outcome is unknown
 * (ABORTED, INCLUSION_TIMEOUT). A caller needs no deadline of its own to be sure a call ends.
 */
export interface ChainPort {
  info (): Promise<ChainPortInfo>
  /** opens the escrow atomically (fund + open record); resolves once included (and final where the chain has finality) */
  open (terms: EscrowTermsOnChain, payer: AccountPair, opts?: { signal?: AbortSignal }): Promise<EscrowOnChain>
  /**
   * one party's approval of a settlement; the second matching approval executes it. `payer`: the
   * payer of the escrow meant (see `get`). `ifApproved`: only the second approval, where another
   * signatory's approval of this very settlement is pending now; otherwise nothing is sent and
   * nothing waited for (`executed: false`)
   */
  approve (settlement: Settlement, approver: AccountPair, opts?: ApproveOptions): Promise<ApproveResult>
  /**
   * The escrow of this id as the chain holds it. An escrow id is public once its open is submitted,
   * and on a public chain anyone can open an escrow of their own under the same id: `payer` names
   * the one meant (the agreement's renter); without it, the first opened.
   */
  get (escrowId: string, opts?: { signal?: AbortSignal, payer?: string }): Promise<EscrowOnChain | undefined>
  /**
   * How long an escrow another node of this chain reported as opened (its `open` resolved there)
   * may still be absent from this port's `get`: this port reads up to its own node's finalized
   * head, which may lag the renter's node by a block or two. Absent or 0: what `open` wrote, `get`
   * reads at once (one ledger for every node).
   */
  readonly seenLagMs?: number
  /** spendable balance of an account in the escrow asset */
  balance (address: string, opts?: { signal?: AbortSignal }): Promise<bigint>
  /**
   * What `address` holds and needs to take part in settlements: its free TAO, and the least a
   * settling party should hold (one approval's multisig deposit, returned on execution, the
   * existential deposit and a margin of fees). Absent where settling costs nothing (the embedded
   * ledger).
   */
  feeFunds? (address: string, opts?: { signal?: AbortSignal }): Promise<{ free: bigint, needed: bigint }>
  /**
   * The settlements of an escrow still open (the one `payer` names, see `get`) that one signatory
   * approved and that wait for a second. A payee whose latest voucher never reached it (lost on the
   * way, or signed as its node was killed) finds here the payer's approval of a close on that
   * voucher, and executes it with `approve`. Subtensor lists only approvals whose call went on chain
   * with them, as a payer's first approval of a cooperative close does: an approval by hash alone
   * cannot be read back. Absent where the chain cannot list them.
   */
  pending? (escrowId: string, opts?: { signal?: AbortSignal, payer?: string }): Promise<PendingSettlement[]>
  close (): Promise<void>
  /**
   * Returns to `owner` what its per-escrow keys still hold for escrows that are settled (the
   * arbiter's top-ups), where the chain has such keys; the fees it paid.
   */
  sweep? (owner: AccountPair, opts?: SweepOptions): Promise<ChainFee[]>
  /**
   * The hotkeys registered on subnet `netuid` (holding a UID there), as lowercase hex of their
   * 32 public-key bytes without `0x`: what the order book ranks parties by, since a registration
   * costs a burn and a fresh key costs nothing. On a chain that has no subnets (the embedded
   * ledger) the method is absent.
   */
  registeredHotkeys? (netuid: number, opts?: { signal?: AbortSignal }): Promise<ReadonlySet<string>>
  /**
   * Whether the connection is up, to the chain the port was opened on; absent where there is no
   * connection to lose (the embedded ledger)
   */
  connected? (): boolean
  /**
   * Escrow records are read from block `block` on at least, where the port reads blocks (subtensor):
   * a restarted daemon asks it for the open block of the oldest escrow it holds that may still be in
   * play. Blocks already read are read again from there.
   */
  scanFrom? (block: number): void
  /**
   * Reads the escrow records of the blocks not read yet, up to the head the port reads to, where
   * the port reads blocks (subtensor): what every escrow operation does first. A daemon calls it at
   * start and then now and again, so that no rental waits for a long read.
   */
  catchUp? (opts?: { signal?: AbortSignal }): Promise<ChainCatchUp>
  /** the node the connection is to now (or is trying), where the port has one: one of several it may go round */
  readonly endpoint?: string
  /** the connection's changes as they happen; returns the function that stops listening */
  onConnection? (fn: (e: ChainConnectionEvent) => void): () => void
}
