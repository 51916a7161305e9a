/**
 * A supplier's recovery after a restart (SupplierRecovery): which escrows of its database it closes
 * with the arbiter on its voucher, which it leaves, and when it warns that one is not on chain in
 * the blocks its adapter read.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { EscrowOnChain } from '../../../../src/escrow/chain/port.js'
import { EscrowDb } from '../../../../src/escrow/store/db.js'
import type { EscrowTerms } from '../../../../src/escrow/types.js'
import { Registry } from '../../../../src/node/metrics.js'
import { roleMetrics } from '../../../../src/node/roles/metrics.js'
import { SupplierRecovery } from '../../../../src/node/roles/supplier/recovery.js'
import { escrowId, NETUID, parties, signer, T0, tempDir, terms as mkTerms } from '../../escrow/fixtures.js'
import { recordingLogger } from '../../../helpers/nodes.js'
import path from 'node:path'
import { Level } from 'level'
import { JobStore, type JobRecord } from '../../../../src/jobs/index.js'
import { closeRecord, encodeRecord } from '../../../../src/escrow/chain/records.js'

const p = await parties()
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

describe('supplier recovery after a restart', () => {
  it('closes open escrows it holds a voucher for with the arbiter; leaves settled, voucherless and live ones; warns of an unexpired one not on chain', async () => {
    const dir = await tempDir()
    const db = await EscrowDb.open(dir.path)
    cleanups.push(async () => { await db.close(); await dir.cleanup() })
    const now = T0 + 60_000
    const t = (n: number, over: Partial<EscrowTerms> = {}): EscrowTerms => mkTerms(p, { escrowId: escrowId(n), ...over })
    const escrows = {
      open: t(1),
      noVoucher: t(2),
      closed: t(3),
      live: t(4),
      missingUnexpired: t(5),
      missingExpired: t(6, { expiresAt: now - 1 }),
      asPayer: t(7, { payer: p.payee.address, payee: p.payer.address })
    }
    for (const [name, terms] of Object.entries(escrows)) {
      await db.escrows.put({ terms, role: name === 'asPayer' ? 'payer' : 'payee', createdAt: T0 })
      if (name !== 'noVoucher') await db.vouchers.put(signer().sign({ escrowId: terms.escrowId, cumulative: 1_000n, sequence: 1n }))
    }
    const onChain = (terms: EscrowTerms, status: EscrowOnChain['status']): EscrowOnChain => ({ terms, asset: { kind: 'alpha', netuid: NETUID }, account: 'x', status, balance: terms.amount, records: [] })
    const chain = new Map<string, EscrowOnChain>([
      [escrows.open.escrowId, onChain(escrows.open, 'open')],
      [escrows.noVoucher.escrowId, onChain(escrows.noVoucher, 'open')],
      [escrows.closed.escrowId, onChain(escrows.closed, 'closed')],
      [escrows.live.escrowId, onChain(escrows.live, 'open')],
      [escrows.asPayer.escrowId, onChain(escrows.asPayer, 'open')]
    ])
    const closes: string[] = []
    const { logger, records } = recordingLogger((r) => r.level === 'warn' || r.level === 'info')
    const recovery = new SupplierRecovery({
      escrow: {
        close: async (id, opts) => {
          // the renter's approval is looked for first: there is none
          if (opts?.ifApproved === true) return { settlement: { escrowId: id, kind: 'cooperative', payouts: [] }, executed: false }
          expect(opts?.mode).toBe('arbiter')
          closes.push(id)
          return { settlement: { escrowId: id, kind: 'voucher', payouts: [] }, executed: true }
        }
      },
      chain: { get: async (id) => chain.get(id) },
      escrowDb: db,
      metrics: roleMetrics(new Registry()),
      logger,
      live: (id) => id === escrows.live.escrowId,
      now: () => now
    })
    await recovery.run(new AbortController().signal)
    expect(closes).toEqual([escrows.open.escrowId])
    expect(recovery.recovered).toEqual([{ escrowId: escrows.open.escrowId, paid: '1000' }])
    const warned = records.filter((r) => r.level === 'warn')
    expect(warned).toHaveLength(1)
    expect(warned[0]!.msg).toMatch(/not on chain in the blocks scanned.*chain\.scanFromBlock/)
    expect(warned[0]!.fields).toMatchObject({ escrow: escrows.missingUnexpired.escrowId, paid: '1000' })
  })

  it('writes on each job record how its escrow settled: after its own close with the arbiter, or as the renter settled it meanwhile; a record that says it already is left', async () => {
    const dir = await tempDir()
    const db = await EscrowDb.open(dir.path)
    const level = new Level<string, string>(path.join(dir.path, 'jobs'))
    await level.open()
    cleanups.push(async () => { await level.close(); await db.close(); await dir.cleanup() })
    const jobs = new JobStore(level)
    const now = T0 + 60_000
    const t = (n: number): EscrowTerms => mkTerms(p, { escrowId: escrowId(n) })
    const escrows = { open: t(11), refunded: t(12), cooperative: t(13), recorded: t(14) }
    const job = (id: string, terms: EscrowTerms, settlement?: JobRecord['settlement']): JobRecord => ({
      id, role: 'supplier', state: 'failed', agreementId: terms.escrowId.slice(2), command: '', args: [], gpuCount: 1, createdAt: T0, updatedAt: T0, ...(settlement != null ? { settlement } : {})
    })
    await jobs.put(job('j-open', escrows.open))
    await jobs.put(job('j-refunded', escrows.refunded))
    await jobs.put(job('j-cooperative', escrows.cooperative))
    await jobs.put(job('j-recorded', escrows.recorded, { paid: '7', settledBy: 'cooperative' }))
    for (const terms of Object.values(escrows)) {
      await db.escrows.put({ terms, role: 'payee', createdAt: T0 })
      await db.vouchers.put(signer().sign({ escrowId: terms.escrowId, cumulative: 1_000n, sequence: 1n }))
    }
    const settled = (terms: EscrowTerms, kind: 'voucher' | 'refund' | 'cooperative', paid: bigint): EscrowOnChain => ({
      terms, asset: { kind: 'alpha', netuid: NETUID }, account: 'x', status: kind === 'refund' ? 'refunded' : 'closed', balance: 0n,
      records: [{ kind: kind === 'refund' ? 'refund' : 'close', escrowId: terms.escrowId, blockNumber: 9, blockHash: '0x', txHash: '0x', remark: encodeRecord(closeRecord({ escrowId: terms.escrowId, kind, payouts: [...(paid > 0n ? [{ to: terms.payee, amount: paid }] : []), { to: terms.payer, amount: terms.amount - paid }] })) }]
    })
    const chain = new Map<string, EscrowOnChain>([
      [escrows.open.escrowId, { terms: escrows.open, asset: { kind: 'alpha', netuid: NETUID }, account: 'x', status: 'open', balance: escrows.open.amount, records: [] }],
      [escrows.refunded.escrowId, settled(escrows.refunded, 'refund', 0n)],
      [escrows.cooperative.escrowId, settled(escrows.cooperative, 'cooperative', 900n)],
      [escrows.recorded.escrowId, settled(escrows.recorded, 'cooperative', 800n)]
    ])
    const recovery = new SupplierRecovery({
      // the close lands: the chain then holds its record, paying the voucher
      escrow: {
        close: async (id, opts) => {
          if (opts?.ifApproved === true) return { settlement: { escrowId: id, kind: 'cooperative', payouts: [] }, executed: false }
          chain.set(id, settled(escrows.open, 'voucher', 1_000n))
          return { settlement: { escrowId: id, kind: 'voucher', payouts: [] }, executed: true }
        }
      },
      chain: { get: async (id) => chain.get(id) },
      escrowDb: db,
      metrics: roleMetrics(new Registry()),
      logger: recordingLogger(() => false).logger,
      live: () => false,
      now: () => now,
      jobStore: jobs
    })
    await recovery.run(new AbortController().signal)
    const settlementOf = async (id: string): Promise<JobRecord['settlement']> => (await jobs.get('supplier', id))?.settlement
    expect(await settlementOf('j-open')).toEqual({ paid: '1000', refunded: (escrows.open.amount - 1_000n).toString(), settledBy: 'arbiter' })
    expect(await settlementOf('j-refunded')).toEqual({ paid: '0', refunded: escrows.refunded.amount.toString(), settledBy: 'refund' })
    expect(await settlementOf('j-cooperative')).toEqual({ paid: '900', refunded: (escrows.cooperative.amount - 900n).toString(), settledBy: 'cooperative' })
    expect(await settlementOf('j-recorded')).toEqual({ paid: '7', settledBy: 'cooperative' })
    expect((await jobs.get('supplier', 'j-open'))?.updatedAt).toBe(now)
  })
})
