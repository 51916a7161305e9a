/**
 * The rental's escrow step (saga `openRentEscrow`) when the open fails: a refusal for good drops the
 * voucher key it sealed; an open whose outcome is unknown keeps it, and one that landed all the same
 * is the rental's escrow.
 */
import { describe, expect, it } from 'vitest'
import { openRentEscrow, type RentContext } from '../../../../src/node/roles/renter/saga.js'
import { RentError } from '../../../../src/node/roles/renter/errors.js'
import { roleMetrics } from '../../../../src/node/roles/metrics.js'
import { Registry } from '../../../../src/node/metrics.js'
import { silentLogger } from '../../../../src/node/logger.js'
import { EscrowError } from '../../../../src/escrow/errors.js'
import { VoucherSigner } from '../../../../src/escrow/voucher/keys.js'
import type { EscrowOnChain } from '../../../../src/escrow/chain/port.js'
import type { EscrowTerms } from '../../../../src/escrow/types.js'
import type { NegotiatedAgreement } from '../../../../src/protocols/negotiate/dialer.js'
import { parties, T0 } from '../../escrow/fixtures.js'

const p = await parties()
const agreed = {
  id: 'ab'.repeat(32),
  terms: { supplier: p.payee.publicKey, budget: 1_000n, netuid: 7, escrow: { arbiter: p.arbiter.publicKey, expiresAt: BigInt(T0 + 3_600_000) } }
} as unknown as NegotiatedAgreement

function ctx (open: (t: EscrowTerms) => Promise<EscrowOnChain>, onChain?: (t: EscrowTerms) => EscrowOnChain | undefined): { ctx: RentContext, keys: Set<string>, tracked: Array<{ escrowId: string, openBlock?: number }> } {
  const keys = new Set<string>()
  const tracked: Array<{ escrowId: string, openBlock?: number }> = []
  let opened: EscrowTerms | undefined
  const c = {
    init: {
      account: p.payer,
      voucherKeys: { create: async (id: string) => { keys.add(id); return VoucherSigner.generate() }, remove: async (id: string) => { keys.delete(id) } },
      chain: { get: async () => opened != null ? onChain?.(opened) : undefined }
    },
    escrow: {
      open: async (t: EscrowTerms) => { opened = t; return await open(t) },
      // what the escrow store keeps of it (EscrowService.track)
      track: async (t: EscrowTerms, o: { onChain?: Pick<EscrowOnChain, 'records'> } = {}) => {
        const openBlock = o.onChain?.records.find((r) => r.kind === 'open')?.blockNumber
        tracked.push({ escrowId: t.escrowId, ...(openBlock != null ? { openBlock } : {}) })
      }
    },
    metrics: roleMetrics(new Registry()),
    logger: silentLogger,
    emit: () => {},
    signal: new AbortController().signal
  } as unknown as RentContext
  return { ctx: c, keys, tracked }
}

const onChain = (t: EscrowTerms): EscrowOnChain => ({ terms: t, asset: { kind: 'alpha', netuid: 7 }, account: 'x', status: 'open', balance: t.amount, records: [{ kind: 'open', escrowId: t.escrowId, blockNumber: 42, blockHash: '0x' + '42'.repeat(32), txHash: '0x' + '43'.repeat(32), remark: '{}' }] })
const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => await p.then(() => undefined, (e: unknown) => e instanceof RentError ? e.code : `untyped ${String(e)}`)

describe('the rental\'s escrow open when it fails', () => {
  it('a refusal for good (funds short) drops the sealed voucher key', async () => {
    const { ctx: c, keys } = ctx(async () => { throw new EscrowError('INSUFFICIENT_BALANCE', 'short') })
    expect(await codeOf(openRentEscrow(c, agreed))).toBe('ESCROW_FAILED')
    expect(keys.size).toBe(0)
  })

  it('an open whose inclusion was not seen keeps its key when it is not on chain', async () => {
    const { ctx: c, keys } = ctx(async () => { throw Object.assign(new Error('not included in time'), { code: 'INCLUSION_TIMEOUT' }) })
    expect(await codeOf(openRentEscrow(c, agreed))).toBe('ESCROW_FAILED')
    expect([...keys]).toEqual(['0x' + agreed.id])
  })

  it('an open whose inclusion was not seen but that landed is the rental\'s escrow', async () => {
    const { ctx: c, keys, tracked } = ctx(async () => { throw Object.assign(new Error('not included in time'), { code: 'INCLUSION_TIMEOUT' }) }, onChain)
    const r = await openRentEscrow(c, agreed)
    expect(r.escrowId).toBe('0x' + agreed.id)
    expect(r.opened.status).toBe('open')
    expect([...keys]).toEqual(['0x' + agreed.id])
    // its open block kept, as an open that answered would have kept it
    expect(tracked).toEqual([{ escrowId: '0x' + agreed.id, openBlock: 42 }])
  })
})
