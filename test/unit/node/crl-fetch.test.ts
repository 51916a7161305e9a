import { createServer, type Server } from 'node:http'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchCrls } from '../../../src/node/crl-fetch.js'
import { readCrlFiles } from '../../../src/node/crl-files.js'
import { CRL_SOURCES } from '../../../src/tee/crl-sources.js'
import { main } from '../../../src/cli/main.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'

/**
 * `bazaar attest fetch-crls` against a local HTTP server serving Intel's real CRLs (the dcap-qvl
 * collateral: the SGX root CA's CRL and the PCK Platform CA's, with its issuer chain as PCS sends
 * it in a header). Both are current in June and July 2025, the time the checks run at.
 */
const AT = new Date('2025-07-01T00:00:00Z')

describe.skipIf(!haveTeeFixtures)('fetching the vendors\' CRLs', () => {
  let server: Server
  let base = ''
  let dir = ''
  const served = new Map<string, { body: Uint8Array, headers?: Record<string, string>, status?: number }>()
  const requests: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bazaar-crl-fetch-'))
    const root = fixture('dcap-qvl/tdx_quote_collateral.root_ca_crl.der')
    const pck = fixture('dcap-qvl/tdx_quote_collateral.pck_crl.der')
    const chain = Buffer.from(fixture('dcap-qvl/tdx_quote_collateral.pck_crl_issuer_chain.pem')).toString('latin1')
    served.set('/root', { body: root })
    served.set('/pck', { body: pck, headers: { 'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(chain) } })
    served.set('/pck-no-chain', { body: pck })
    served.set('/missing', { body: new Uint8Array(0), status: 404 })
    served.set('/huge', { body: new Uint8Array(600 * 1024) })
    served.set('/garbage', { body: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]) })
    server = createServer((req, res) => {
      requests.push(req.url ?? '')
      const s = served.get(req.url ?? '')
      if (s == null) { res.writeHead(404).end(); return }
      res.writeHead(s.status ?? 200, { 'content-type': 'application/pkix-crl', ...s.headers })
      res.end(Buffer.from(s.body))
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })

  const run = async (sources: Record<string, string>, at = AT, into = dir): Promise<Awaited<ReturnType<typeof fetchCrls>>> =>
    await fetchCrls({ dir: into, sources: Object.keys(sources), urls: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, `${base}${v}`])), now: at, timeoutMs: 5000 })

  it('lists AMD\'s three products and Intel\'s three CRLs at the vendors\' addresses', () => {
    expect(CRL_SOURCES.map((s) => s.name)).toEqual(['amd-milan', 'amd-genoa', 'amd-turin', 'intel-root', 'intel-pck-platform', 'intel-pck-processor'])
    expect(CRL_SOURCES[0].url).toBe('https://kdsintf.amd.com/vcek/v1/Milan/crl')
    expect(CRL_SOURCES.every((s) => s.url.startsWith('https://'))).toBe(true)
  })

  it('writes Intel\'s root and PCK CRLs once verified, replaces an older file, keeps one as new', async () => {
    const into = path.join(dir, 'a', 'crl')
    // an older root CRL (2023) already in place: replaced by the current one
    const first = await run({ 'intel-root': '/root' }, AT, into)
    expect(first).toEqual([expect.objectContaining({ source: 'intel-root', result: 'updated', thisUpdate: '2025-03-20T11:21:57.000Z', nextUpdate: '2026-04-03T11:21:57.000Z' })])
    writeFileSync(path.join(into, 'intel-root.crl'), fixture('go-tdx-guest/rootcrl.der'))
    expect((await run({ 'intel-root': '/root' }, AT, into))[0].result).toBe('updated')
    expect(readFileSync(path.join(into, 'intel-root.crl'))).toEqual(Buffer.from(fixture('dcap-qvl/tdx_quote_collateral.root_ca_crl.der')))
    // the same CRL again: kept, the file untouched
    expect((await run({ 'intel-root': '/root' }, AT, into))[0].result).toBe('kept')
    const pck = await run({ 'intel-pck-platform': '/pck' }, AT, into)
    expect(pck[0]).toMatchObject({ result: 'updated', thisUpdate: '2025-06-19T10:00:35.000Z' })
    // what tee.crlFiles reads: both files load, and no temporary file is left
    const crls = await readCrlFiles(['intel-root.crl', 'intel-pck-platform.crl'].map((f) => path.join(into, f)))
    expect(crls).toHaveLength(2)
    expect(readdirSync(into).sort()).toEqual(['intel-pck-platform.crl', 'intel-root.crl'])
  })

  it('refuses what does not verify or cannot be read, and leaves the file as it was', async () => {
    const into = path.join(dir, 'b')
    await run({ 'intel-root': '/root' }, AT, into)
    const before = readFileSync(path.join(into, 'intel-root.crl'))
    const results = await run({
      // Intel's CRL where AMD's ARK must have signed: another issuer
      'amd-milan': '/root',
      // the PCK CRL without the chain that leads to the root
      'intel-pck-platform': '/pck-no-chain',
      // the PCK CRL where the root must have signed it
      'intel-root': '/pck',
      'intel-pck-processor': '/missing',
      'amd-genoa': '/huge',
      'amd-turin': '/garbage'
    }, AT, into)
    expect(results.map((r) => [r.source, r.result])).toEqual([
      ['amd-milan', 'failed'], ['intel-pck-platform', 'failed'], ['intel-root', 'failed'],
      ['intel-pck-processor', 'failed'], ['amd-genoa', 'failed'], ['amd-turin', 'failed']
    ])
    expect(Object.fromEntries(results.map((r) => [r.source, r.code]))).toEqual({
      'amd-milan': 'CHAIN_INVALID',
      'intel-pck-platform': 'MALFORMED',
      'intel-root': 'CHAIN_INVALID',
      'intel-pck-processor': 'HTTP_STATUS',
      'amd-genoa': 'TOO_LARGE',
      'amd-turin': 'MALFORMED'
    })
    const errors = Object.fromEntries(results.map((r) => [r.source, r.error]))
    expect(errors['amd-milan']).toMatch(/CRL is not from/)
    expect(errors['intel-pck-platform']).toMatch(/issuer chain/)
    expect(errors['intel-root']).toMatch(/CRL is not from Intel SGX Root CA/)
    expect(errors['intel-pck-processor']).toMatch(/HTTP 404/)
    expect(errors['amd-genoa']).toMatch(/over 524288 bytes/)
    expect(errors['amd-turin']).toMatch(/CertificateList|MALFORMED|fields/)
    expect(readFileSync(path.join(into, 'intel-root.crl'))).toEqual(before)
    expect(readdirSync(into)).toEqual(['intel-root.crl'])
  })

  it('refuses a CRL that is not current at the time given', async () => {
    const [r] = await run({ 'intel-pck-platform': '/pck' }, new Date('2025-08-01T00:00:00Z'), path.join(dir, 'c'))
    expect(r).toMatchObject({ result: 'failed', code: 'STALE', error: expect.stringMatching(/current from .* not at 2025-08-01/) })
  })

  it('a source no server answers fails with one line, and the others still run', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => { closed.listen(0, '127.0.0.1', resolve) })
    const port = (closed.address() as { port: number }).port
    await new Promise((resolve) => closed.close(resolve))
    const results = await fetchCrls({ dir: path.join(dir, 'd'), sources: ['amd-milan', 'intel-root'], urls: { 'amd-milan': `http://127.0.0.1:${port}/crl`, 'intel-root': `${base}/root` }, now: AT })
    expect(results[0]).toMatchObject({ result: 'failed', code: 'UNREACHABLE', error: `cannot fetch http://127.0.0.1:${port}/crl: ECONNREFUSED` })
    expect(results[1].result).toBe('updated')
  })

  it('bazaar attest fetch-crls: one line per source, exit 1 when one failed, usage errors exit 2', async () => {
    const out: string[] = []
    const err: string[] = []
    const ctx = { out: (l: string) => { out.push(l) }, err: (l: string) => { err.push(l) } }
    const into = path.join(dir, 'cli')
    const ok = await main(['attest', 'fetch-crls', '--dir', into, '--source', 'intel-root', '--url', `intel-root=${base}/root`, '--at', AT.toISOString()], ctx)
    expect(ok).toBe(0)
    expect(out).toEqual([`intel-root: updated ${path.join(into, 'intel-root.crl')} (current 2025-03-20T11:21:57.000Z to 2026-04-03T11:21:57.000Z, ${(await readCrlFiles([path.join(into, 'intel-root.crl')]))[0].revoked.size} revoked)`])
    const bad = await main(['attest', 'fetch-crls', '--dir', into, '--source', 'intel-pck-processor', '--url', `intel-pck-processor=${base}/missing`, '--at', AT.toISOString()], ctx)
    expect(bad).toBe(1)
    expect(err).toEqual([`bazaar attest: intel-pck-processor: failed: HTTP 404 from ${base}/missing`])
    for (const args of [['--source', 'nvidia'], ['--url', 'intel-root=ftp://x'], ['--url', 'nowhere=http://x']]) {
      err.length = 0
      expect(await main(['attest', 'fetch-crls', '--dir', into, ...args], ctx)).toBe(2)
      expect(err).toHaveLength(1)
    }
    err.length = 0
    expect(await main(['attest', 'fetch-crls'], ctx)).toBe(2)
    expect(err).toEqual(['bazaar attest: --dir is required'])
    expect(requests.filter((r) => r === '/root').length).toBeGreaterThan(0)
  })
})
