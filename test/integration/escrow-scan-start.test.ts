/**
 * A restarted daemon finds the escrows it holds however long it was stopped: each keeps the block
 * of its open record as this node saw it, and the oldest one still in play is where the chain's
 * scan starts at least (`EscrowService.scanStart`, `ChainPort.scanFrom`).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedLedger } from '../../src/escrow/chain/embedded/ledger.js'
import type { ChainPort } from '../../src/escrow/chain/port.js'
import { EscrowService, SCAN_AFTER_EXPIRY_MS } from '../../src/escrow/service.js'
import { EscrowDb } from '../../src/escrow/store/db.js'
import { BazaarNode } from '../../src/node/bazaar-node.js'
import { defaultConfig } from '../../src/node/config/index.js'
import { devPair } from '../helpers/keys.js'
import { ManualClock } from '../../src/util/clock.js'
import { escrowId, HOUR, ledgerWorld, parties, T0, terms as mkTerms } from '../unit/escrow/fixtures.js'
import { recordingLogger } from '../helpers/nodes.js'

const p = await parties()
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

describe('the open block of each escrow, kept', () => {
  it('the payer keeps it from its own open; the payee from the escrow it read, kept once, and not from a read without records', async () => {
    const { ledger, supplierDb, renterDb, clock } = await ledgerWorld(p, 5_000_000_000n, cleanups)
    const t = mkTerms(p)
    const renter = new EscrowService({ chain: ledger, escrows: renterDb.escrows, vouchers: renterDb.vouchers, account: p.payer, clock })
    const supplier = new EscrowService({ chain: ledger, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, clock })
    const opened = await renter.open(t)
    const block = opened.records.find((r) => r.kind === 'open')!.blockNumber
    expect((await renterDb.escrows.get(t.escrowId))?.openBlock).toBe(block)
    // the supplier tracks it before it reads it (an agreement), then as its escrow check read it
    expect((await supplier.track(t)).openBlock).toBeUndefined()
    expect((await supplier.track(t, { onChain: (await ledger.get(t.escrowId))! })).openBlock).toBe(block)
    // a later read with other records changes nothing
    expect((await supplier.track(t, { onChain: { records: [{ ...opened.records[0]!, blockNumber: block + 9 }] } })).openBlock).toBe(block)
    expect((await supplierDb.escrows.get(t.escrowId))?.openBlock).toBe(block)
  })

  it(`scanStart: the oldest open block of the escrows paid or paid from that are unexpired or expired under SCAN_AFTER_EXPIRY_MS (${SCAN_AFTER_EXPIRY_MS / 60_000} min) ago; arbitrated ones and those without a block do not count`, async () => {
    const { supplierDb, ledger, clock } = await ledgerWorld(p, 5_000_000_000n, cleanups)
    const svc = new EscrowService({ chain: ledger, escrows: supplierDb.escrows, vouchers: supplierDb.vouchers, account: p.payee, clock })
    expect(await svc.scanStart()).toBeUndefined()
    const put = async (n: number, role: 'payer' | 'payee' | 'arbiter', expiresAt: number, openBlock?: number): Promise<void> =>
      await supplierDb.escrows.put({ terms: mkTerms(p, { escrowId: escrowId(n), expiresAt }), role, createdAt: T0, ...(openBlock != null ? { openBlock } : {}) })
    await put(1, 'payee', T0 + 2 * HOUR, 500)
    await put(2, 'payer', T0 + HOUR, 420)
    await put(3, 'arbiter', T0 + 2 * HOUR, 100)
    await put(4, 'payee', T0 + 2 * HOUR)
    await put(5, 'payee', T0 - SCAN_AFTER_EXPIRY_MS, 90)
    await put(6, 'payer', T0 - SCAN_AFTER_EXPIRY_MS + 1, 300)
    expect(await svc.scanStart(T0)).toBe(300)
    // an hour on, escrow 6 is past it
    expect(await svc.scanStart(T0 + 1)).toBe(420)
    expect(await svc.scanStart(T0 + 3 * HOUR - 1)).toBe(500)
    expect(await svc.scanStart(T0 + 3 * HOUR)).toBeUndefined()
  })
})

describe('a daemon started with escrows in its store', () => {
  it('tells the chain to read from the oldest one\'s open block, says so, then reads the chain at start', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'bazaar-scan-start-'))
    cleanups.push(async () => { await rm(home, { recursive: true, force: true }) })
    const hotkey = await devPair('Bob//hot')
    const now = Date.now()
    const db = await EscrowDb.open(path.join(home, 'escrow'))
    await db.escrows.put({ terms: mkTerms(p, { escrowId: escrowId(1), payee: hotkey.address, expiresAt: now + HOUR }), role: 'payee', createdAt: now, openBlock: 8_000 })
    await db.escrows.put({ terms: mkTerms(p, { escrowId: escrowId(2), payee: hotkey.address, expiresAt: now + HOUR }), role: 'payee', createdAt: now, openBlock: 7_321 })
    await db.close()
    const ledger = await EmbeddedLedger.open({ netuid: 1 })
    cleanups.push(async () => { await ledger.close() })
    const asked: string[] = []
    // the embedded ledger reads no blocks: a port that does, in its place
    const chain = new Proxy(ledger, {
      get: (target, key) => {
        if (key === 'scanFrom') return (block: number) => { asked.push(`scanFrom ${block}`) }
        if (key === 'catchUp') return async () => { asked.push('catchUp'); return { from: 7_321, head: 9_000, blocks: 1_680 } }
        const v = Reflect.get(target, key) as unknown
        return typeof v === 'function' ? v.bind(target) : v
      }
    }) as ChainPort
    const base = await defaultConfig()
    const { logger, records } = recordingLogger((r) => r.msg.startsWith('chain: escrow records'))
    const node = await BazaarNode.init({
      config: { ...base, role: 'renter', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], api: { ...base.api, host: '127.0.0.1', port: 0 } },
      identity: { peerKey: await generateKeyPair('Ed25519'), hotkey, coldkey: await devPair('Bob') },
      home,
      apiToken: 'c'.repeat(64),
      chain,
      clock: new ManualClock(now),
      logger
    })
    try {
      // the first read, begun at start (the chain follower), reaches back to that block
      expect(asked).toEqual(['scanFrom 7321', 'catchUp'])
      expect(records.map((r) => r.msg)).toEqual(['chain: escrow records are read from the open block of the oldest escrow this node holds that may still be in play, or earlier', 'chain: escrow records read up to the head'])
      expect(records[0]!.fields.block).toBe(7_321)
      expect(records[1]!.fields).toMatchObject({ from: 7_321, head: 9_000, blocks: 1_680 })
      // and /v1/chain (bazaar status) says how far it read, and when
      const res = await fetch(`http://127.0.0.1:${node.apiAddress!.port}/v1/chain`, { headers: { authorization: `Bearer ${'c'.repeat(64)}` } })
      expect(await res.json()).toMatchObject({ readBlock: 9_000, readAt: new Date(now).toISOString() })
    } finally {
      await node.close()
    }
  })
})
