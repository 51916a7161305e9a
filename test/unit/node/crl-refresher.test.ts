import { createServer, type Server } from 'node:http'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CRL_REFRESH_MAX_MS, CRL_REFRESH_MIN_MS, CRL_RETRY_FIRST_MS, CrlRefresher } from '../../../src/node/services/crl-refresher.js'
import type { FetchCrlsOptions, FetchedCrl } from '../../../src/node/crl-fetch.js'
import { readCrlDir, withCrlFiles } from '../../../src/node/crl-files.js'
import { createLogger } from '../../../src/node/logger.js'
import { ManualClock } from '../../../src/util/clock.js'
import { UserError } from '../../../src/util/errors.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'

const HOUR = 3600_000
const DAY = 24 * HOUR

/** a fetch the test answers by hand, one round at a time */
function fakeFetch (): { fetch: (opts: FetchCrlsOptions) => Promise<FetchedCrl[]>, rounds: Array<{ opts: FetchCrlsOptions, answer: (r: FetchedCrl[] | Error) => void }> } {
  const rounds: Array<{ opts: FetchCrlsOptions, answer: (r: FetchedCrl[] | Error) => void }> = []
  return {
    rounds,
    fetch: async (opts) => await new Promise<FetchedCrl[]>((resolve, reject) => {
      rounds.push({ opts, answer: (r) => { if (r instanceof Error) reject(r); else resolve(r) } })
      opts.signal?.addEventListener('abort', () => { reject(opts.signal?.reason) }, { once: true })
    })
  }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve() }

const ok = (source: string, nextUpdate: number, result: 'updated' | 'kept' = 'updated'): FetchedCrl =>
  ({ source, file: `/crl/${source}.crl`, result, thisUpdate: new Date(nextUpdate - 30 * DAY).toISOString(), nextUpdate: new Date(nextUpdate).toISOString(), revoked: 3 })
const failed = (source: string): FetchedCrl => ({ source, file: `/crl/${source}.crl`, result: 'failed', code: 'UNREACHABLE', error: 'cannot fetch: ECONNREFUSED' })

async function started (sources: string[]): Promise<{ clock: ManualClock, f: ReturnType<typeof fakeFetch>, lines: Array<Record<string, unknown>>, r: CrlRefresher }> {
  const clock = new ManualClock()
  const f = fakeFetch()
  const lines: Array<Record<string, unknown>> = []
  const r = new CrlRefresher({ dir: '/crl', sources, urls: { 'intel-root': 'http://pccs.example/root.crl' }, clock, logger: createLogger({ level: 'debug', write: (l) => { lines.push(JSON.parse(l) as Record<string, unknown>) } }), fetch: f.fetch })
  await r.start()
  return { clock, f, lines, r }
}

describe('the daemon\'s CRL refresher (tee.crlDir)', () => {
  it('fetches every source at start, then each one at half its time left, between an hour and a day', async () => {
    const { clock, f, lines, r } = await started(['intel-root', 'amd-milan', 'amd-genoa'])
    let ready = false
    void r.ready.then(() => { ready = true })
    clock.advance(0)
    expect(f.rounds).toHaveLength(1)
    expect(f.rounds[0]!.opts).toMatchObject({ dir: '/crl', sources: ['intel-root', 'amd-milan', 'amd-genoa'], urls: { 'intel-root': 'http://pccs.example/root.crl' }, now: new Date(clock.now()) })
    await settle()
    expect(ready).toBe(false)
    const t0 = clock.now()
    // intel-root: next update in 300 days (a day); amd-milan: in 4 hours (2 hours); amd-genoa: in 20 minutes (an hour)
    f.rounds[0]!.answer([ok('intel-root', t0 + 300 * DAY), ok('amd-milan', t0 + 4 * HOUR, 'kept'), ok('amd-genoa', t0 + 20 * 60_000)])
    await settle()
    expect(ready).toBe(true)
    expect(lines.filter((l) => l.msg === 'CRL updated').map((l) => [l.source, l.nextLookInS])).toEqual([['intel-root', CRL_REFRESH_MAX_MS / 1000], ['amd-genoa', CRL_REFRESH_MIN_MS / 1000]])
    expect(lines.find((l) => l.msg === 'CRL unchanged')).toMatchObject({ level: 'debug', source: 'amd-milan', nextLookInS: 7200 })
    clock.advance(HOUR - 1)
    expect(f.rounds).toHaveLength(1)
    clock.advance(1)
    expect(f.rounds.map((x) => x.opts.sources)).toEqual([['intel-root', 'amd-milan', 'amd-genoa'], ['amd-genoa']])
    f.rounds[1]!.answer([ok('amd-genoa', clock.now() + 10 * DAY)])
    await settle()
    clock.advance(HOUR)
    expect(f.rounds.map((x) => x.opts.sources).slice(2)).toEqual([['amd-milan']])
    f.rounds[2]!.answer([ok('amd-milan', clock.now() + 7 * DAY)])
    await settle()
    // a day after start: intel-root; then nothing until amd-genoa's day
    clock.advance(DAY - 2 * HOUR)
    expect(f.rounds.map((x) => x.opts.sources).slice(3)).toEqual([['intel-root']])
    await r.stop()
  })

  it('retries a failed source after 5 minutes, doubling up to an hour, and warns each time; the others keep their schedule', async () => {
    const { clock, f, lines, r } = await started(['intel-root', 'intel-pck-platform'])
    clock.advance(0)
    f.rounds[0]!.answer([failed('intel-root'), ok('intel-pck-platform', clock.now() + 30 * DAY)])
    await settle()
    expect(lines.find((l) => l.msg === 'CRL fetch failed; the file keeps what it held')).toMatchObject({ level: 'warn', source: 'intel-root', code: 'UNREACHABLE', retryInS: 300 })
    const gaps: number[] = []
    let last = clock.now()
    for (let i = 0; i < 6; i++) {
      const n = f.rounds.length
      while (f.rounds.length === n) clock.advance(60_000)
      expect(f.rounds[n]!.opts.sources).toEqual(['intel-root'])
      gaps.push(clock.now() - last)
      last = clock.now()
      f.rounds[n]!.answer([failed('intel-root')])
      await settle()
    }
    expect(gaps).toEqual([CRL_RETRY_FIRST_MS, 2 * CRL_RETRY_FIRST_MS, 4 * CRL_RETRY_FIRST_MS, 8 * CRL_RETRY_FIRST_MS, HOUR, HOUR])
    expect(lines.filter((l) => l.msg === 'CRL fetch failed; the file keeps what it held')).toHaveLength(7)
    // back: the retry delay starts over
    const n = f.rounds.length
    while (f.rounds.length === n) clock.advance(60_000)
    f.rounds[n]!.answer([ok('intel-root', clock.now() + 300 * DAY)])
    await settle()
    // a day on, each is looked at again, one round at a time (a look due while a round runs waits for it)
    f.rounds.length = 0
    clock.advance(DAY)
    f.rounds[0]!.answer([ok('intel-pck-platform', clock.now() + 30 * DAY, 'kept')])
    await settle()
    clock.advance(0)
    expect(f.rounds.map((x) => x.opts.sources)).toEqual([['intel-pck-platform'], ['intel-root']])
    await r.stop()
  })

  it('a round that throws (the directory cannot be made) retries every source; stop aborts a running round and releases ready', async () => {
    const { clock, f, lines, r } = await started(['amd-turin'])
    clock.advance(0)
    f.rounds[0]!.answer(new UserError('cannot create the CRL directory /crl: EACCES', { code: 'CRL_DIR_UNUSABLE' }))
    await settle()
    expect(lines.find((l) => l.msg === 'CRL refresh failed')).toMatchObject({ level: 'warn', dir: '/crl' })
    clock.advance(CRL_RETRY_FIRST_MS)
    expect(f.rounds).toHaveLength(2)
    const stopped = r.stop()
    await stopped
    expect(f.rounds[1]!.opts.signal?.aborted).toBe(true)
    await r.ready
    // nothing after stop
    clock.advance(2 * DAY)
    expect(f.rounds).toHaveLength(2)
    expect(clock.pending).toBe(0)
  })
})

describe('a CRL directory read for a rental', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(path.join(tmpdir(), 'bazaar-crl-dir-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('holding none of its sources refuses the rental with one line', async () => {
    const err = await readCrlDir(path.join(dir, 'empty'), ['intel-root']).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(UserError)
    expect((err as UserError).code).toBe('CRL_NOT_FETCHED')
    expect((err as UserError).message).toMatch(/^tee\.crlDir: no CRL in .*empty yet/)
    await expect(withCrlFiles({ kinds: ['tdx'] }, { crlFiles: [], gpuCrlFiles: [], crlDir: path.join(dir, 'empty'), crlSources: ['intel-root'] })).rejects.toThrow(/CRL|crlDir/)
  })
})

/**
 * The refresher with the real fetch, against a local server answering as Intel's PCS with its
 * real CRLs (current in June and July 2025, the clock's time): the files land in the directory, a
 * rental's policy reads them, and a source the server lacks stays absent and is retried.
 */
describe.skipIf(!haveTeeFixtures)('the CRL refresher against a server answering as Intel\'s PCS', () => {
  let server: Server
  let base = ''
  let dir = ''
  const hits: string[] = []
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bazaar-crl-refresh-'))
    const chain = Buffer.from(fixture('dcap-qvl/tdx_quote_collateral.pck_crl_issuer_chain.pem')).toString('latin1')
    const served: Record<string, { body: Uint8Array, headers?: Record<string, string> }> = {
      '/root': { body: fixture('dcap-qvl/tdx_quote_collateral.root_ca_crl.der') },
      '/pck': { body: fixture('dcap-qvl/tdx_quote_collateral.pck_crl.der'), headers: { 'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(chain) } }
    }
    server = createServer((req, res) => {
      hits.push(req.url ?? '')
      const s = served[req.url ?? '']
      if (s == null) { res.writeHead(404).end(); return }
      res.writeHead(200, { 'content-type': 'application/pkix-crl', ...s.headers }).end(Buffer.from(s.body))
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await rm(dir, { recursive: true, force: true })
  })

  it('writes what verifies, a rental reads it, and what failed is fetched again', async () => {
    const clock = new ManualClock(Date.parse('2025-07-01T00:00:00Z'))
    const lines: Array<Record<string, unknown>> = []
    const sources = ['intel-root', 'intel-pck-platform', 'intel-pck-processor']
    const r = new CrlRefresher({ dir, sources, urls: { 'intel-root': `${base}/root`, 'intel-pck-platform': `${base}/pck`, 'intel-pck-processor': `${base}/none` }, clock, logger: createLogger({ level: 'info', write: (l) => { lines.push(JSON.parse(l) as Record<string, unknown>) } }) })
    await r.start()
    clock.advance(0)
    await r.ready
    expect((await readdir(dir)).sort()).toEqual(['intel-pck-platform.crl', 'intel-root.crl'])
    expect(lines.filter((l) => l.msg === 'CRL updated').map((l) => l.source).sort()).toEqual(['intel-pck-platform', 'intel-root'])
    expect(lines.find((l) => l.msg === 'CRL fetch failed; the file keeps what it held')).toMatchObject({ source: 'intel-pck-processor', code: 'HTTP_STATUS' })
    const policy = await withCrlFiles({ kinds: ['tdx'] }, { crlFiles: [], gpuCrlFiles: [], crlDir: dir, crlSources: sources })
    expect(policy.crls?.map((c) => c.thisUpdate.toISOString()).sort()).toEqual(['2025-03-20T11:21:57.000Z', '2025-06-19T10:00:35.000Z'])
    // five minutes on: only the failed source is asked for again
    hits.length = 0
    clock.advance(CRL_RETRY_FIRST_MS)
    // the round the timer started: refresh() answers with it while it runs
    await r.refresh()
    await r.stop()
    expect(hits).toEqual(['/none'])
  })
})
