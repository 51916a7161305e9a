import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AgreementPruner } from '../../../src/node/services/agreement-pruner.js'
import { silentLogger } from '../../../src/node/logger.js'
import { AGREEMENT_PRUNE_INTERVAL_MS, AGREEMENT_RETENTION_MS, AgreementStore } from '../../../src/market/index.js'
import { ManualClock } from '../../../src/util/clock.js'

/** an agreement record with distinct terms (the store keys records by the terms' hash) */
const signed = (n: number): Parameters<AgreementStore['put']>[0] =>
  ({ terms: new Uint8Array([n, 1, 2, 3]), renterCert: undefined, renterSignature: new Uint8Array(), supplierCert: undefined, supplierSignature: new Uint8Array() })

describe('AgreementPruner: dormant agreements go on the node clock', () => {
  let dir = ''
  let db: Level<string, string>
  let agreements: AgreementStore
  const clock = new ManualClock()

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bazaar-pruner-'))
    db = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    await db.open()
    agreements = new AgreementStore(db)
  })
  afterEach(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('prunes at start and at each interval, keeps the active ones, and leaves no timer after stop', async () => {
    const stale = await agreements.put(signed(1), 'renter', 'lapsed', clock.now() - AGREEMENT_RETENTION_MS - 1)
    const active = await agreements.put(signed(2), 'renter', 'active', clock.now() - AGREEMENT_RETENTION_MS - 1)
    // lapsed now: dormant, but within the retention until the clock moves past it
    const later = await agreements.put(signed(3), 'supplier', 'lapsed', clock.now())
    const pruner = new AgreementPruner({ agreements, clock, logger: silentLogger })
    await pruner.start()
    expect(clock.pending).toBe(1)
    // the start's run, queued first
    expect(await pruner.prune()).toBe(0)
    expect(await agreements.get(stale)).toBeUndefined()
    expect(await agreements.get(later)).toBeDefined()

    await clock.advanceAsync(AGREEMENT_RETENTION_MS + AGREEMENT_PRUNE_INTERVAL_MS)
    await pruner.prune()
    expect(await agreements.get(later)).toBeUndefined()
    expect((await agreements.list()).map((r) => r.hash)).toEqual([active])

    await pruner.stop()
    expect(clock.pending).toBe(0)
    // a stopped pruner prunes nothing
    await agreements.put(signed(4), 'renter', 'lapsed', clock.now() - AGREEMENT_RETENTION_MS - 1)
    expect(await pruner.prune()).toBe(0)
  })
})
