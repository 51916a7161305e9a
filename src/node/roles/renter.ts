import { randomBytes } from 'node:crypto'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { KeyringPair } from '@polkadot/keyring/types'
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeRecord } from '../../escrow/chain/records.js'
import type { BazaarNode } from '../bazaar-node.js'
import type { Logger } from '../logger.js'
import { peerOfAddrs } from '../market-service.js'
import { peerIdString } from '../market-json.js'
import { AgreementStore, matchBid, rent, type Match } from '../../market/index.js'
import { negotiate, type NegotiatedAgreement } from '../../protocols/negotiate/index.js'
import { openAttestedSession } from '../../protocols/session/index.js'
import type { AttestationPolicy } from '../../tee/index.js'
import { runJobClient, type JobResult, type JobSpec } from '../../jobs/index.js'
import { EscrowService, MeterRenter, VoucherSigner, type ArbiterClient, type ChainPort, type ChainRecord, type EscrowDb, type SignedVoucher } from '../../escrow/index.js'
import { decodeMetering, encodeMetering } from '../../protocols/metering/index.js'
import { BazaarError } from '../../util/errors.js'
import { gpuFamily } from '../../protocols/discovery/gpu-records.js'
import { roleMetrics, type RoleMetrics } from './metrics.js'
import type { VoucherKeyVault } from '../keystore/index.js'

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
  | { type: 'agreement', id: string, budget: string }
  | { type: 'escrow', id: string, locked: string, asset: string, blockNumber: number }
  | { type: 'attested', kind: string, enclave: string, measurement: string, gpu?: RentGpuAttestation }
  | { type: 'stdout', text: string }
  | { type: 'stderr', text: string }
  | { type: 'tick', elapsedMs: number, spent: string }
  | { type: 'job', exitCode: number, reason: string, outputs: Array<{ name: string, sha256: string, bytes: number }> }
  | { type: 'settled', paid: string, refunded: string, executed: boolean }

/** What the GPU evidence of an attested session said (when the policy asked for it and it came). */
export interface RentGpuAttestation {
  kind: string
  model: string
  driverVersion: string | null
  vbiosVersion: string | null
  ccMode: string
  measurementsMatched: boolean
}

export interface RentSummary {
  agreementId: string
  supplier: string
  attestation: { ok: boolean, kind: string, measurement: string, gpu?: RentGpuAttestation }
  job: { exitCode: number, reason: string, outputs: Array<{ name: string, sha256: string, bytes: number, path?: string }>, durationMs: number }
  vouchers: number
  escrow: {
    id: string
    asset: string
    locked: string
    paid: string
    refunded: string
    status: string
    records: Array<{ kind: string, blockNumber: number, blockHash: string, txHash: string }>
  }
}

export interface RenterRoleInit {
  node: BazaarNode
  chain: ChainPort
  escrowDb: EscrowDb
  agreements: AgreementStore
  /** the account that funds escrows (the renter hotkey: the agreement commits it) */
  account: KeyringPair
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
   * where per-escrow voucher keys are sealed before the escrow opens; without it a key lives in
   * memory only (one-process devnets and tests), and a renter that restarts cannot sign for it
   */
  voucherKeys?: VoucherKeyVault
  /** the node's escrow service, shared with its other roles; without it the role builds its own */
  escrow?: EscrowService
}

/** What `RenterRole.resume` did with one escrow left open by an earlier run of this renter. */
export interface ResumedEscrow {
  escrowId: string
  /** the cumulative amount of the last voucher the supplier acknowledged (rao) */
  paid: string
  /** the escrow's state on chain afterwards */
  status: string
  /** whether this renter still held the escrow's voucher key */
  key: boolean
}

/**
 * How long the renter waits, after approving the cooperative close, for it to land. On a subtensor
 * chain the payee executes the close once it sees the payer's approval, and it waits up to a minute
 * for that approval before it turns to the arbiter; the renter must wait longer than that, or it
 * reports an escrow as open that the payee is about to close. The wait ends as soon as the close is
 * on chain, so a healthy run pays nothing for the bound.
 */
const SETTLE_WAIT_MS = 120_000

export class RentError extends BazaarError<'NO_MATCH' | 'ESCROW_FAILED' | 'SESSION_FAILED' | 'ABORTED'> {}

const sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve() }, { once: true })
  })
}

/**
 * The renter's side: bid, match, signed agreement, escrow, attested session, the job with live
 * output and vouchers, and settlement. Each step emits an event (the CLI prints them; the control
 * API streams them).
 */
export class RenterRole {
  readonly escrow: EscrowService
  private readonly metrics: RoleMetrics
  constructor (private readonly i: RenterRoleInit) {
    this.escrow = i.escrow ?? new EscrowService({ chain: i.chain, escrows: i.escrowDb.escrows, vouchers: i.escrowDb.vouchers, account: i.account, arbiter: i.arbiter, clock: i.node.clock })
    this.metrics = roleMetrics(i.node.metrics)
  }

  /** the role as a node service: nothing to start yet */
  async start (): Promise<void> {}

  /** the role as a node service: nothing to stop yet */
  async stop (): Promise<void> {}

  async rent (req: RentRequest, opts: { signal?: AbortSignal, onEvent?: (e: RentEvent) => void } = {}): Promise<RentSummary> {
    const { node, logger } = this.i
    const emit = opts.onEvent ?? (() => {})
    const signal = opts.signal
    const bidId = `job-${randomBytes(4).toString('hex')}`
    const published = await node.publishBid({
      id: bidId,
      gpu: req.gpu,
      minMemoryMib: req.minMemoryMib ?? 0,
      count: req.count,
      teeKinds: req.teeKinds,
      regions: req.regions,
      maxPricePerGpuHour: req.maxPricePerGpuHour,
      netuid: node.config.chain.netuid,
      durationS: req.durationS,
      ttlS: Math.max(60, Math.min(3600, req.durationS))
    })
    emit({ type: 'bid', id: bidId })
    const bid = published.bid
    try {
      // suppliers that published before we joined are found through their DHT records
      if (req.gpu !== '') void node.market.discover(gpuFamily(req.gpu), { signal: AbortSignal.timeout(15_000) }).catch(() => {})
      const deadline = node.clock.now() + (this.i.matchTimeoutMs ?? 30_000)
      // never our own offers: a node that also supplies would negotiate with itself
      const own = Buffer.from(node.signer.hotkey).toString('hex')
      const ownOffers = (): string[] => node.market.book.offers().filter((e) => e.supplier === own).map((e) => e.key)
      while (matchBid(node.market.book, bid, { exclude: new Set(ownOffers()) }) == null) {
        if (signal?.aborted === true) throw new RentError('ABORTED', 'cancelled before a match')
        if (node.clock.now() > deadline) { this.metrics.matches.inc({ result: 'no-match' }); throw new RentError('NO_MATCH', 'no compatible offer in the book') }
        await sleep(200, signal)
      }
      const arbiter = new Uint8Array(decodeAddress(this.i.arbiterAddress))
      const { match, result: agreed } = await rent<NegotiatedAgreement>(node.market.book, bid, {
        signal,
        exclude: ownOffers(),
        attempt: async (m: Match) => {
          this.metrics.matches.inc({ result: 'matched' })
          emit({ type: 'matched', supplier: encodeAddress(m.entry.offer.supplier, 42), offer: m.entry.offer.id, pricePerGpuHour: m.entry.offer.pricePerGpuHour.toString(), teeKind: m.teeKind })
          try {
            return await negotiate(node.host, supplierAddrs(m), {
              bid, offer: m.entry.offer, signer: node.signer, store: this.i.agreements, clock: node.clock, certs: node.gossip.validator.certCache, arbiter, signal
            })
          } catch (err) {
            this.metrics.matches.inc({ result: 'refused' })
            emit({ type: 'refused', supplier: encodeAddress(m.entry.offer.supplier, 42), code: (err as { code?: string }).code ?? 'ERROR' })
            throw err
          }
        }
      })
      const t = agreed.terms
      emit({ type: 'agreement', id: agreed.id, budget: t.budget.toString() })
      // GPUs taken here are gone from our book view until the supplier re-publishes
      node.market.book.consume(match.entry, match.gpu.model, t.gpuCount)

      const escrowId = '0x' + agreed.id
      // the key is durable before the escrow that names it exists: a renter that restarts mid-job
      // still signs for its escrow (see resume)
      const voucherSigner = this.i.voucherKeys != null ? await this.i.voucherKeys.create(escrowId) : VoucherSigner.generate()
      const terms = {
        escrowId,
        agreementHash: escrowId,
        payer: this.i.account.address,
        payee: encodeAddress(t.supplier, 42),
        arbiter: encodeAddress(t.escrow!.arbiter, 42),
        amount: t.budget,
        netuid: t.netuid,
        voucherKey: voucherSigner.publicKeyHex,
        expiresAt: Number(t.escrow!.expiresAt)
      }
      let opened
      try {
        opened = await this.escrow.open(terms, { signal })
      } catch (err) {
        throw new RentError('ESCROW_FAILED', `opening the escrow failed: ${(err as Error).message}`, { cause: err })
      }
      this.metrics.escrows.inc({ role: 'payer', event: 'open' })
      const openRec = opened.records.find((r) => r.kind === 'open')
      emit({ type: 'escrow', id: escrowId, locked: t.budget.toString(), asset: opened.asset.kind, blockNumber: openRec?.blockNumber ?? 0 })

      const enclavePeer = peerIdString(t.enclavePeer)
      const enclaveAddr = match.entry.offer.addrs.map((a) => multiaddr(a)).find((a) => a.getComponents().some((c) => c.name === 'p2p' && c.value === enclavePeer))
      let session
      try {
        session = await openAttestedSession(node.host, enclaveAddr ?? peerIdFromString(enclavePeer), {
          agreementHash: agreed.hash, policy: this.i.policy, clock: node.clock, signal, expectedPeer: peerIdFromString(enclavePeer)
        })
      } catch (err) {
        this.metrics.sessions.inc({ role: 'renter', result: 'refused' })
        this.metrics.attestation.inc({ kind: t.teeKind, result: (err as { code?: string }).code ?? 'ERROR' })
        logger.warn('attested session failed; refunding after expiry is possible with the arbiter', { escrow: escrowId, code: (err as { code?: string }).code })
        throw new RentError('SESSION_FAILED', `the enclave's attestation was refused: ${(err as { code?: string }).code ?? (err as Error).message}`, { cause: err })
      }
      this.metrics.sessions.inc({ role: 'renter', result: 'attested' })
      this.metrics.attestation.inc({ kind: session.kind, result: 'ok' })
      const measurement = Buffer.from(session.evidence.measurement ?? new Uint8Array(0)).toString('hex')
      const g = session.gpu
      const gpu: RentGpuAttestation | undefined = g == null ? undefined : { kind: g.kind, model: g.model, driverVersion: g.driverVersion, vbiosVersion: g.vbiosVersion, ccMode: g.ccMode, measurementsMatched: g.measurementsMatched }
      emit({ type: 'attested', kind: session.kind, enclave: session.remotePeer.toString(), measurement, ...(gpu != null ? { gpu } : {}) })

      const meter = new MeterRenter({ terms, pricePerGpuHour: t.pricePerGpuHour, gpus: t.gpuCount, signer: voucherSigner, clock: node.clock })
      const signed = new Map<bigint, SignedVoucher>()
      let acked = 0
      let spent = 0n
      meter.start()
      const decoder = new TextDecoder()
      let result: JobResult
      try {
        result = await runJobClient(session.channel, { ...req.spec, gpuCount: t.gpuCount }, {
          outputDir: req.outputDir,
          signal,
          onStdout: (c) => { emit({ type: 'stdout', text: decoder.decode(c) }) },
          onStderr: (c) => { emit({ type: 'stderr', text: decoder.decode(c) }) },
          onTick: (tick) => { emit({ type: 'tick', elapsedMs: Number((tick as { elapsedMs?: number | bigint }).elapsedMs ?? 0), spent: spent.toString() }) },
          onMetering: async (bytes, ctl) => {
            let m
            try { m = decodeMetering(bytes) } catch { return }
            if (m.kind === 'report') {
              try {
                const v = await meter.onReport(m.report)
                signed.set(v.sequence, v)
                this.metrics.vouchers.inc({ role: 'renter', result: 'signed' })
                await ctl.send(encodeMetering({ kind: 'voucher', voucher: v }))
              } catch (err) {
                logger.warn('usage report refused: no voucher for it', { code: (err as { code?: string }).code })
              }
            } else if (m.kind === 'ack') {
              // only what the supplier stored counts for our side of the cooperative close
              const v = signed.get(m.ack.sequence)
              if (v != null) {
                await this.i.escrowDb.vouchers.put(v)
                this.metrics.vouchers.inc({ role: 'renter', result: 'acknowledged' })
                acked++
                spent = v.cumulative
              }
            }
          }
        })
      } catch (err) {
        // the session broke (the supplier or the network is gone): settle for what was acknowledged
        logger.warn('job session broke', { agreement: agreed.id, err })
        result = { jobId: '', exitCode: -1, reason: 'failed', detail: (err as { code?: string }).code ?? (err as Error).message, outputs: [], missingOutputs: req.spec.outputs ?? [], durationMs: 0 }
      } finally {
        await session.channel.close().catch(() => {})
      }
      this.metrics.jobs.inc({ role: 'renter', reason: result.reason })
      emit({ type: 'job', exitCode: result.exitCode, reason: result.reason, outputs: result.outputs.map((o) => ({ name: o.name, sha256: o.sha256, bytes: o.bytes })) })

      // cooperative close on the last voucher the supplier acknowledged
      let executed = false
      try {
        executed = (await this.escrow.close(escrowId, { mode: 'cooperative' })).executed
      } catch (err) {
        logger.warn('cooperative approval failed', { escrow: escrowId, err })
      }
      const settleBy = node.clock.now() + (this.i.settleWaitMs ?? SETTLE_WAIT_MS)
      let final = await this.i.chain.get(escrowId)
      while ((final == null || final.status === 'open') && node.clock.now() < settleBy) {
        await sleep(250)
        final = await this.i.chain.get(escrowId)
      }
      const closeRec = final?.records.find((r) => r.kind === 'close' || r.kind === 'refund')
      const payouts = closeRec != null ? parsePayouts(closeRec.remark) : []
      const paid = payouts.filter((p) => p.to === terms.payee).reduce((a, p) => a + BigInt(p.amount), 0n)
      const refunded = payouts.filter((p) => p.to === terms.payer).reduce((a, p) => a + BigInt(p.amount), 0n)
      executed = executed || (final != null && final.status !== 'open')
      // a settled escrow takes no more vouchers: its key is of no use any more
      if (final != null && final.status !== 'open') await this.forgetKey(escrowId)
      if (executed) this.metrics.escrows.inc({ role: 'payer', event: final?.status === 'refunded' ? 'refund' : 'close' })
      emit({ type: 'settled', paid: paid.toString(), refunded: refunded.toString(), executed })
      return {
        agreementId: agreed.id,
        supplier: terms.payee,
        attestation: { ok: true, kind: session.kind, measurement, ...(gpu != null ? { gpu } : {}) },
        job: { exitCode: result.exitCode, reason: result.reason, outputs: result.outputs, durationMs: result.durationMs },
        vouchers: acked,
        escrow: {
          id: escrowId,
          asset: final?.asset.kind ?? opened.asset.kind,
          locked: t.budget.toString(),
          paid: paid.toString(),
          refunded: refunded.toString(),
          status: final?.status ?? 'unknown',
          records: (final?.records ?? opened.records).map((r: ChainRecord) => ({ kind: r.kind, blockNumber: r.blockNumber, blockHash: r.blockHash, txHash: r.txHash }))
        }
      }
    } finally {
      await node.cancelBid(bidId).catch(() => {})
    }
  }

  /**
   * After a restart: every escrow this renter paid into that is still open on chain belonged to a
   * session that died with the old process (the supplier ends a job whose renter went away). Each
   * is settled as the job's end would have settled it: this renter approves the cooperative close
   * on the last voucher the supplier acknowledged (stored before the crash), which executes with
   * the supplier's approval of the same settlement; a supplier that already closed with the
   * arbiter on that voucher leaves nothing to do. Keys of escrows no longer open are removed.
   * `excluding` names escrows of rentals running in this process.
   */
  async resume (opts: { signal?: AbortSignal, excluding?: ReadonlySet<string> } = {}): Promise<ResumedEscrow[]> {
    const { logger, node } = this.i
    const out: ResumedEscrow[] = []
    // with a vault, the escrows still holding a key are the only ones that may be open (a key goes
    // once its escrow settles), so a restart asks the chain about those, not the whole history
    const vault = this.i.voucherKeys
    const candidates = vault != null ? await vault.list() : (await this.i.escrowDb.escrows.list()).map((l) => l.terms.escrowId)
    for (const id of candidates) {
      if (opts.excluding?.has(id) === true) continue
      const local = await this.i.escrowDb.escrows.get(id)
      // a key without a local escrow: the process stopped between writing the key and recording
      // the escrow, which comes before anything is submitted, so no escrow names it
      if (local == null) { await this.forgetKey(id); continue }
      if (local.role !== 'payer') continue
      if (opts.signal?.aborted === true) break
      try {
        const e = await this.i.chain.get(id, { signal: opts.signal })
        if (e == null) continue
        if (e.status !== 'open') { await this.forgetKey(id); continue }
        let key = false
        if (vault != null) {
          // a key that does not open (another passphrase, a damaged file) does not stop the close:
          // settling on the last acknowledged voucher needs no new signature
          const signer = await vault.load(id).catch((err: unknown) => {
            logger.warn('the stored voucher key of an open escrow does not open', { escrow: id, code: (err as { code?: string }).code })
            return undefined
          })
          // [refuse] a key the escrow does not name would sign vouchers nobody accepts
          key = signer != null && signer.publicKeyHex === e.terms.voucherKey
          if (signer != null && !key) logger.warn('stored voucher key does not match the escrow', { escrow: id })
        }
        const latest = await this.i.escrowDb.vouchers.latest(id)
        logger.info('resuming an escrow left open by a restart: approving its close on the last acknowledged voucher', { escrow: id, paid: (latest?.cumulative ?? 0n).toString(), voucherKey: key })
        let executed = false
        try {
          executed = (await this.escrow.close(id, { mode: 'cooperative', signal: opts.signal })).executed
        } catch (err) {
          logger.warn('cooperative approval after a restart failed', { escrow: id, err })
        }
        let final = await this.i.chain.get(id, { signal: opts.signal })
        const settleBy = node.clock.now() + (this.i.settleWaitMs ?? SETTLE_WAIT_MS)
        while (!executed && final?.status === 'open' && node.clock.now() < settleBy) {
          opts.signal?.throwIfAborted()
          await sleep(250, opts.signal)
          final = await this.i.chain.get(id, { signal: opts.signal })
        }
        const status = final?.status ?? 'unknown'
        if (status !== 'open') {
          this.metrics.escrows.inc({ role: 'payer', event: status === 'refunded' ? 'refund' : 'close' })
          await this.forgetKey(id)
        }
        logger.info('escrow of an interrupted rental', { escrow: id, status })
        out.push({ escrowId: id, paid: (latest?.cumulative ?? 0n).toString(), status, key })
      } catch (err) {
        logger.warn('resuming an escrow failed', { escrow: id, err })
      }
    }
    return out
  }

  private async forgetKey (escrowId: string): Promise<void> {
    await this.i.voucherKeys?.remove(escrowId).catch((err: unknown) => { this.i.logger.warn('removing a voucher key failed', { escrow: escrowId, err }) })
  }
}

function supplierAddrs (m: Match): Multiaddr[] {
  const { addrs } = peerOfAddrs(m.entry.offer.addrs)
  const peer = m.entry.meta.peer
  const own = addrs.filter((a) => peer == null || a.getComponents().some((c) => c.name === 'p2p' && c.value === peer))
  return own.length > 0 ? own : addrs
}

function parsePayouts (remark: string): Array<{ to: string, amount: string }> {
  const doc = decodeRecord(remark)
  return doc != null && doc.kind !== 'open' ? doc.payouts : []
}
