/**
 * Submitting an extrinsic and waiting for it to land, in a way that survives a dropped websocket.
 *
 * `signAndSend`'s status subscription dies with the socket, and polkadot-js re-sends subscriptions
 * after a reconnect, which for `author_submitAndWatchExtrinsic` would submit the same bytes again.
 * So the waiting here does not hang on a subscription: the signed bytes are submitted once (again
 * only if the submission itself never reached the node), then the blocks after the submission
 * point are scanned for the extrinsic hash, and finality is read from `chain_getFinalizedHead`.
 * Every RPC call that fails while the provider is down waits for `WsProvider`'s automatic
 * reconnection and is retried, so a state change is only reported once it is on chain. A call the
 * node does not answer while the socket stays up is given up after READ_TIMEOUT_MS and, here, made
 * again until the inclusion deadline: a submission whose answer never came may still land.
 */
import type { ApiPromise } from '@polkadot/api'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import type { EventRecord, DispatchError } from '@polkadot/types/interfaces'
import type { INumber } from '@polkadot/types/types'
import { systemClock } from '../../../util/clock.js'
import { SubtensorError } from './errors.js'
import type { Clock, TimerHandle } from '../../../util/clock.js'

/**
 * How long one chain read (a storage query, a block, a runtime call, an RPC) may go unanswered
 * before it fails with CHAIN_TIMEOUT. A websocket can stay open while the node behind it stops
 * answering (a stuck RPC node, a half-open TCP connection, a proxy that keeps the socket): the
 * adapter then hears of no drop, and `WsProvider` fails a request only after its own timeout (60 s
 * as `createSubtensorChain` opens it, on wall time, as an untyped error, deaf to an abort). A
 * healthy node answers such a read in milliseconds and a loaded public endpoint in a few seconds;
 * 30 s is far past both, and short enough that what waits on the read (the supplier's escrow check
 * before a job, a settlement, which falls back to the arbiter) still has most of its window left.
 * On the adapter's clock, like the other chain deadlines, so a test drives it.
 */
export const READ_TIMEOUT_MS = 30_000

export interface Inclusion {
  txHash: string
  blockHash: string
  blockNumber: number
  /** position of the extrinsic in its block */
  index: number
  /** the events of this extrinsic */
  events: EventRecord[]
  /** `transactionPayment.TransactionFeePaid.actualFee` (0 where the event is absent) */
  fee: bigint
  /** ms (performance.now) when the block was seen, and when it was seen final */
  includedAt: number
  finalizedAt?: number
}

export interface WaitOptions {
  /** also wait until the block is final (chain_getFinalizedHead has reached it) */
  finality: boolean
  /** give up after this long without inclusion (default 120 s) */
  timeoutMs?: number
  /** how often to look at the chain (default 250 ms) */
  pollMs?: number
  signal?: AbortSignal
  /** the polls and the deadline run on it (the system clock by default) */
  clock?: Clock
  /** called once the node's pool holds the transaction (or said it had it already), before the wait */
  onSubmitted?: () => void
  /**
   * the signer and the nonce the transaction was signed with: while it is not in a block, the
   * wait reads the signer's nonce on chain, and once another transaction of the signer's has used
   * this one (another process signing with the same key), it fails at once with NONCE_USED instead
   * of waiting out its time
   */
  signedWith?: { account: string, nonce: number }
}

/** waits `ms` on `clock`; an abort ends it with SubtensorError ABORTED */
export async function sleep (ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  try {
    await clock.sleep(ms, { signal })
  } catch (err) {
    if (signal?.aborted === true) throw new SubtensorError('ABORTED', 'aborted', { cause: err })
    throw err
  }
}

/**
 * `p`, or SubtensorError CHAIN_TIMEOUT (naming `method`) once `timeoutMs` (READ_TIMEOUT_MS) of
 * `clock` pass without an answer, or ABORTED as soon as `signal` aborts. @polkadot/api cannot
 * cancel a request: a late answer is dropped.
 */
export async function answered<T> (p: Promise<T>, method: string, opts: { clock?: Clock, signal?: AbortSignal, timeoutMs?: number } = {}): Promise<T> {
  const { signal } = opts
  const ms = opts.timeoutMs ?? READ_TIMEOUT_MS
  if (signal?.aborted === true) throw new SubtensorError('ABORTED', 'aborted')
  let timer: TimerHandle | undefined
  let onAbort: (() => void) | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = (opts.clock ?? systemClock).setTimeout(() => {
      reject(new SubtensorError('CHAIN_TIMEOUT', `the chain did not answer ${method} in ${ms / 1000} s`, { details: { method } }))
    }, ms)
    if (signal != null) {
      onAbort = () => { reject(new SubtensorError('ABORTED', 'aborted')) }
      signal.addEventListener('abort', onAbort, { once: true })
    }
  })
  try {
    return await Promise.race([p, late])
  } finally {
    timer?.clear()
    if (onAbort != null) signal?.removeEventListener('abort', onAbort)
  }
}

export interface RetryOptions {
  signal?: AbortSignal
  /** after it (the clock's ms) a dropped connection, or a timeout being retried, fails the call */
  deadline: number
  clock?: Clock
  /** what is called, for a CHAIN_TIMEOUT (`chain_getBlockHash`, `system.account`) */
  method?: string
  /** make a call that timed out again until the deadline, instead of failing with CHAIN_TIMEOUT */
  retryTimeouts?: boolean
}

/**
 * Runs `fn`, and while the provider is disconnected waits for the reconnection and runs it again.
 * Each run is bounded (`answered`): one the node does not answer fails with CHAIN_TIMEOUT, and an
 * abort ends it at once. Errors that happen while connected are the caller's.
 */
export async function retrying<T> (api: ApiPromise, fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const clock = opts.clock ?? systemClock
  while (true) {
    if (opts.signal?.aborted === true) throw new SubtensorError('ABORTED', 'aborted')
    // no call while the socket is down: it could only fail, and @polkadot/api logs each failure
    if (api.isConnected) {
      try {
        return await answered(fn(), opts.method ?? 'a chain read', { clock, signal: opts.signal })
      } catch (err) {
        if (err instanceof SubtensorError && err.code === 'ABORTED') throw err
        const timedOut = err instanceof SubtensorError && err.code === 'CHAIN_TIMEOUT'
        // the chain's answer, or no answer on a socket still up that is not asked again
        if (api.isConnected && (!timedOut || opts.retryTimeouts !== true)) throw err
        if (clock.now() > opts.deadline) throw timedOut && api.isConnected ? err : new SubtensorError('CHAIN_UNAVAILABLE', 'chain connection lost', { cause: err })
      }
    } else if (clock.now() > opts.deadline) {
      throw new SubtensorError('CHAIN_UNAVAILABLE', 'chain connection lost')
    }
    await sleep(250, opts.signal, clock)
  }
}

/** A decoded dispatch error: `Module.Error` (e.g. `balances.InsufficientBalance`) or its kind. */
export function describeDispatchError (api: ApiPromise, err: DispatchError): string {
  if (err.isModule) {
    const meta = api.registry.findMetaError(err.asModule)
    return `${meta.section}.${meta.name}`
  }
  return err.type
}

/** Submits a signed extrinsic and resolves once it is in a block (and final where asked). */
export async function submitAndWait (api: ApiPromise, tx: SubmittableExtrinsic<'promise'>, opts: WaitOptions): Promise<Inclusion> {
  const signal = opts.signal
  const clock = opts.clock ?? systemClock
  const deadline = clock.now() + (opts.timeoutMs ?? 120_000)
  const pollMs = opts.pollMs ?? 250
  const txHash = tx.hash.toHex()
  // a poll the node does not answer is made again until the deadline, which then says what the
  // timeouts mean here: the transaction's fate is unknown
  const call = async <T>(method: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await retrying(api, fn, { signal, deadline, clock, method, retryTimeouts: true })
    } catch (err) {
      if (err instanceof SubtensorError && err.code === 'CHAIN_TIMEOUT') throw new SubtensorError('INCLUSION_TIMEOUT', `extrinsic ${txHash}: ${err.message} until the deadline`, { cause: err })
      throw err
    }
  }

  const start = (await call('chain_getHeader', async () => await api.rpc.chain.getHeader())).number.toNumber()
  // Submit until the node has the bytes. A failure while connected is the pool's verdict, except
  // when it says it has the transaction already (a resubmission after a reconnect) or that its
  // nonce is used (it may have landed while the socket was down): then the scan decides.
  let resubmission = false
  let submissions = 0
  await call('author_submitExtrinsic', async () => {
    // a submission made again (the socket dropped, or the node never answered the last one) may
    // find the bytes in the pool or on chain already
    if (submissions++ > 0) resubmission = true
    try {
      await api.rpc.author.submitExtrinsic(tx)
    } catch (err) {
      if (!api.isConnected) { resubmission = true; throw err }
      const msg = String((err as Error)?.message ?? err)
      // the signer cannot pay the fee: a real node says "Inability to pay some fees", chopsticks
      // `{"invalid":{"payment":null}}`. Not a nonce race: signing again cannot help
      if (/1010/.test(msg) && /payment|pay some fees|balance too low/i.test(msg)) {
        const who = opts.signedWith != null ? `the account ${opts.signedWith.account}` : 'the signer'
        throw new SubtensorError('CANNOT_PAY_FEES', `${who} cannot pay the transaction fee: it holds too little free TAO (${msg})`, { cause: err })
      }
      // the pool holds another transaction of this signer with this nonce, or the nonce is used
      // and this is the first submission (so not ours): another process signs with the same key
      if (/priority is too low|1014/i.test(msg) || (!resubmission && /stale|outdated|1010/i.test(msg) && opts.signedWith != null)) {
        throw new SubtensorError('NONCE_USED', `the nonce of the extrinsic was used by another transaction of its signer: ${msg}`, { cause: err })
      }
      if (/already imported|stale|outdated|1013/i.test(msg)) return
      throw new SubtensorError('EXTRINSIC_FAILED', `the transaction pool refused the extrinsic: ${msg}`, { cause: err })
    }
  })
  opts.onSubmitted?.()

  let next = start + 1
  /** the last block whose state the signer's nonce was read at (once per block, not per poll) */
  let nonceSeenAt = start
  let found: { blockHash: string, blockNumber: number, index: number } | undefined
  while (true) {
    while (found == null) {
      const head = (await call('chain_getHeader', async () => await api.rpc.chain.getHeader())).number.toNumber()
      for (; next <= head && found == null; next++) {
        const n = next
        const hash = await call('chain_getBlockHash', async () => await api.rpc.chain.getBlockHash(n))
        const block = await call('chain_getBlock', async () => await api.rpc.chain.getBlock(hash))
        const index = block.block.extrinsics.findIndex((x) => x.hash.toHex() === txHash)
        if (index >= 0) found = { blockHash: hash.toHex(), blockNumber: n, index }
      }
      if (found != null) break
      // every block up to `next - 1` was scanned without it: where the signer's nonce at that block
      // is past ours, another transaction used it, and this one can never be included
      if (opts.signedWith != null && next - 1 > nonceSeenAt) {
        nonceSeenAt = next - 1
        const at = await call('chain_getBlockHash', async () => await api.rpc.chain.getBlockHash(next - 1))
        const used = await call('system.account', async () => ((await (await api.at(at)).query.system.account(opts.signedWith!.account)) as unknown as { nonce: INumber }).nonce.toNumber())
        if (used > opts.signedWith.nonce) throw new SubtensorError('NONCE_USED', `extrinsic ${txHash}: nonce ${opts.signedWith.nonce} of its signer was used by another transaction by block ${next - 1}`)
      }
      if (clock.now() > deadline) throw new SubtensorError('INCLUSION_TIMEOUT', `extrinsic ${txHash} not included after block ${start}`)
      await sleep(pollMs, signal, clock)
    }
    const includedAt = performance.now()
    const { blockHash, blockNumber, index } = found
    const events = (await call('system.events', async () => await (await api.at(blockHash)).query.system.events()) as unknown as EventRecord[])
      .filter((e) => e.phase.isApplyExtrinsic && e.phase.asApplyExtrinsic.toNumber() === index)
    let finalizedAt: number | undefined
    if (opts.finality) {
      let reorged = false
      while (true) {
        const fin = await call('chain_getFinalizedHead', async () => await api.rpc.chain.getFinalizedHead())
        const finNumber = (await call('chain_getHeader', async () => await api.rpc.chain.getHeader(fin))).number.toNumber()
        if (finNumber >= blockNumber) {
          const canonical = (await call('chain_getBlockHash', async () => await api.rpc.chain.getBlockHash(blockNumber))).toHex()
          reorged = canonical !== blockHash
          break
        }
        if (clock.now() > deadline + 120_000) throw new SubtensorError('INCLUSION_TIMEOUT', `block ${blockNumber} not final in time`)
        await sleep(pollMs, signal, clock)
      }
      if (reorged) {
        // the block we saw lost the fork choice: look for the extrinsic again from there
        next = blockNumber
        found = undefined
        continue
      }
      finalizedAt = performance.now()
    }
    const failed = events.find((e) => api.events.system.ExtrinsicFailed.is(e.event))
    if (failed != null && api.events.system.ExtrinsicFailed.is(failed.event)) {
      const reason = describeDispatchError(api, failed.event.data[0] as unknown as DispatchError)
      throw new SubtensorError('EXTRINSIC_FAILED', `extrinsic ${txHash} failed in block ${blockNumber}: ${reason}`, { details: { reason, blockHash, blockNumber } })
    }
    let fee = 0n
    for (const e of events) {
      // TransactionFeePaid { who, actual_fee, tip }
      if (api.events.transactionPayment?.TransactionFeePaid?.is(e.event) === true) fee += (e.event.data[1] as unknown as INumber).toBigInt()
    }
    const inc: Inclusion = { txHash, blockHash, blockNumber, index, events, fee, includedAt }
    if (finalizedAt != null) inc.finalizedAt = finalizedAt
    return inc
  }
}
