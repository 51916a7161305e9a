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
      escrow: { close: async (id, opts) => { expect(opts?.mode).toBe('arbiter'); closes.push(id); return { settlement: { escrowId: id, kind: 'voucher', payouts: [] }, executed: true } } },
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
})
