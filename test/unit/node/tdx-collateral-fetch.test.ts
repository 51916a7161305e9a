import { createServer, type Server } from 'node:http'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareTcbInfo, fetchTdxCollateral, readTdxCollateralDir, tdxCollateralFile } from '../../../src/node/tdx-collateral-fetch.js'
import { readTdxCollateral, withCrlFiles } from '../../../src/node/crl-files.js'
import { verifyTcbInfo } from '../../../src/tee/tdx/collateral.js'
import { main } from '../../../src/cli/main.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'

/**
 * Intel TDX TCB info fetched from a local server answering as Intel PCS API v4 does (the body, and
 * the signing chain URL-encoded in TCB-Info-Issuer-Chain), with Intel's real documents: the
 * go-tdx-guest PCS answer for FMSPC 50806f000000 (current in July 2023) and dcap-qvl's TCB info for
 * b0c06f000000 (current from 19 June to 19 July 2025). Each check runs at a time inside every
 * window involved.
 */
const SPR_AT = new Date('2023-07-01T00:00:00Z')
const DCAP_AT = new Date('2025-07-01T00:00:00Z')
const SPR = '50806f000000'
const DCAP = 'b0c06f000000'

const text = (rel: string): string => Buffer.from(fixture(rel)).toString('utf8')

describe.skipIf(!haveTeeFixtures)('fetching Intel\'s TDX TCB info (PCS API v4)', () => {
  let server: Server
  let base = ''
  let dir = ''
  const routes = new Map<string, { body: string | Uint8Array, headers?: Record<string, string>, status?: number, hang?: boolean }>()
  const requests: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bazaar-tdx-collateral-'))
    const sprChain = encodeURIComponent(text('go-tdx-guest/tcbinfo_issuer_chain.pem'))
    const dcap = JSON.parse(text('dcap-qvl/tdx_quote_collateral.json')) as { tcb_info: string, tcb_info_signature: string, tcb_info_issuer_chain: string }
    const dcapBody = `{"tcbInfo":${dcap.tcb_info},"signature":"${dcap.tcb_info_signature}"}`
    const dcapChain = encodeURIComponent(dcap.tcb_info_issuer_chain)
    const sgx = JSON.parse(text('dcap-qvl/sgx_quote_collateral.json')) as { tcb_info: string, tcb_info_signature: string, tcb_info_issuer_chain: string }
    routes.set('/spr', { body: fixture('go-tdx-guest/sample_tcbInfo_response'), headers: { 'TCB-Info-Issuer-Chain': sprChain } })
    routes.set('/dcap', { body: dcapBody, headers: { 'TCB-Info-Issuer-Chain': dcapChain } })
    // PCS API v3's header name, which older PCCS still send
    routes.set('/dcap-v3-header', { body: dcapBody, headers: { 'SGX-TCB-Info-Issuer-Chain': dcapChain } })
    routes.set('/no-header', { body: dcapBody })
    routes.set('/garbled-header', { body: dcapBody, headers: { 'TCB-Info-Issuer-Chain': '%E0%A4%A' } })
    routes.set('/huge-header', { body: dcapBody, headers: { 'TCB-Info-Issuer-Chain': 'A'.repeat(200_000) } })
    routes.set('/huge-body', { body: new Uint8Array(300 * 1024), headers: { 'TCB-Info-Issuer-Chain': dcapChain } })
    routes.set('/missing', { body: '', status: 404 })
    routes.set('/redirect', { body: '', status: 302, headers: { location: 'http://169.254.169.254/' } })
    routes.set('/not-json', { body: '<html>maintenance</html>', headers: { 'TCB-Info-Issuer-Chain': dcapChain } })
    routes.set('/wrong-shape', { body: `{"tcbInfo":"x","signature":"${dcap.tcb_info_signature}"}`, headers: { 'TCB-Info-Issuer-Chain': dcapChain } })
    routes.set('/sgx', { body: `{"tcbInfo":${sgx.tcb_info},"signature":"${sgx.tcb_info_signature}"}`, headers: { 'TCB-Info-Issuer-Chain': encodeURIComponent(sgx.tcb_info_issuer_chain) } })
    routes.set('/changed-byte', { body: dcapBody.replace('"UpToDate"', '"UpToDatf"'), headers: { 'TCB-Info-Issuer-Chain': dcapChain } })
    // an AMD VCEK, ASK and ARK: a well-formed chain with a leaf, which does not lead to Intel's root
    routes.set('/foreign-chain', { body: dcapBody, headers: { 'TCB-Info-Issuer-Chain': encodeURIComponent(text('teekit/sev-gcp-vcek.pem') + text('teekit/sev-gcp-cert-chain.pem')) } })
    routes.set('/hang', { body: '', hang: true })
    server = createServer((req, res) => {
      requests.push(req.url ?? '')
      const [prefix] = (req.url ?? '').split('/tdx/')
      const r = routes.get(prefix ?? '')
      if (r == null || !(req.url ?? '').includes('/tdx/certification/v4/tcb?fmspc=')) { res.writeHead(404).end(); return }
      if (r.hang === true) return
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers })
      res.end(typeof r.body === 'string' ? r.body : Buffer.from(r.body))
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })

  const run = async (route: string, fmspc: string, at: Date, into: string, timeoutMs = 5000): Promise<Awaited<ReturnType<typeof fetchTdxCollateral>>[number]> =>
    (await fetchTdxCollateral({ dir: into, fmspcs: [fmspc], pcsUrl: `${base}${route}`, now: at, timeoutMs }))[0]!

  it('asks PCS for the FMSPC, writes the TCB info once verified, in a form tee.tdxCollateralFiles reads; the same again is kept', async () => {
    const into = path.join(dir, 'a')
    const r = await run('/spr', SPR.toUpperCase(), SPR_AT, into)
    expect(requests).toContain(`/spr/tdx/certification/v4/tcb?fmspc=${SPR}`)
    expect(r).toEqual({ fmspc: SPR, file: path.join(into, `${SPR}.json`), result: 'updated', issueDate: '2023-06-18T08:42:58Z', nextUpdate: '2023-07-18T08:42:58Z', tcbEvaluationDataNumber: 15, collateral: expect.objectContaining({ text: expect.stringContaining('"fmspc":"50806f000000"') }) })
    const [held] = await readTdxCollateral([r.file])
    expect(verifyTcbInfo(held!, SPR_AT).fmspc).toBe(SPR)
    expect((await readTdxCollateralDir(into)).map((c) => c.fmspc)).toEqual([SPR])
    // a rental's policy reads the directory (tee.tdxCollateralDir) and carries the daemon's source
    const source = { collateralFor: async () => { throw new Error('not asked') } }
    const policy = await withCrlFiles({ kinds: ['tdx'] }, { crlFiles: [], gpuCrlFiles: [], tdxCollateralDir: into }, { tdxCollateralSource: source })
    expect(policy.tdxCollateral?.map((c) => verifyTcbInfo(c, SPR_AT).fmspc)).toEqual([SPR])
    expect(policy.tdxCollateralSource).toBe(source)
    const before = readFileSync(r.file)
    expect((await run('/spr', SPR, SPR_AT, into)).result).toBe('kept')
    expect(readFileSync(r.file)).toEqual(before)
    // v3's header name is read too
    const v3 = await run('/dcap-v3-header', DCAP, DCAP_AT, into)
    expect(v3).toMatchObject({ result: 'updated', issueDate: '2025-06-19T10:16:03Z', tcbEvaluationDataNumber: 17 })
    expect(readdirSync(into).sort()).toEqual([`${SPR}.json`, `${DCAP}.json`])
  })

  it('replaces a held file that no longer verifies (expired, or altered) with a current one', async () => {
    const into = path.join(dir, 'b')
    const file = tdxCollateralFile(into, DCAP)
    await run('/dcap', DCAP, DCAP_AT, into)
    const good = readFileSync(file)
    // altered: its TCB info no longer matches its signature, whatever its dates say
    writeFileSync(file, good.toString('utf8').replace('2025-06-19T10:16:03Z', '2025-06-30T10:16:03Z'))
    expect((await run('/dcap', DCAP, DCAP_AT, into)).result).toBe('updated')
    expect(readFileSync(file)).toEqual(good)
    // not collateral at all
    writeFileSync(file, 'junk')
    expect((await run('/dcap', DCAP, DCAP_AT, into)).result).toBe('updated')
    expect(readFileSync(file)).toEqual(good)
  })

  it('orders TCB infos of a platform by evaluation number, then issue date: never an older over a newer', () => {
    const at = (issueDate: string, n?: number): { issueDate: string, tcbEvaluationDataNumber?: number } => ({ issueDate, ...(n != null ? { tcbEvaluationDataNumber: n } : {}) })
    expect(compareTcbInfo(at('2025-06-19T00:00:00Z', 17), at('2025-06-20T00:00:00Z', 17))).toBe(-1)
    expect(compareTcbInfo(at('2025-06-20T00:00:00Z', 17), at('2025-06-19T00:00:00Z', 17))).toBe(1)
    expect(compareTcbInfo(at('2025-06-20T00:00:00Z', 17), at('2025-06-20T00:00:00Z', 17))).toBe(0)
    // a TCB recovery (a higher evaluation) wins over a later re-signing of the older one
    expect(compareTcbInfo(at('2025-07-01T00:00:00Z', 16), at('2025-06-19T00:00:00Z', 17))).toBe(-1)
    expect(compareTcbInfo(at('2025-06-19T00:00:00Z'), at('2025-06-18T00:00:00Z', 1))).toBe(-1)
  })

  it.each([
    ['/missing', DCAP, DCAP_AT, 'HTTP_STATUS', /HTTP 404/],
    ['/redirect', DCAP, DCAP_AT, 'REDIRECTED', /HTTP 302 .*a redirect/],
    ['/no-header', DCAP, DCAP_AT, 'BAD_HEADER', /no TCB-Info-Issuer-Chain header/],
    ['/garbled-header', DCAP, DCAP_AT, 'BAD_HEADER', /not URL-encoded/],
    // the HTTP client's own bound on headers (16 KiB) refuses it before issuerChainHeader's
    ['/huge-header', DCAP, DCAP_AT, 'UNREACHABLE', /cannot fetch .*HEADERS_OVERFLOW|cannot fetch .*header/i],
    ['/huge-body', DCAP, DCAP_AT, 'TOO_LARGE', /over 262144 bytes/],
    ['/not-json', DCAP, DCAP_AT, 'MALFORMED', /not JSON/],
    ['/wrong-shape', DCAP, DCAP_AT, 'MALFORMED', /not \{"tcbInfo"/],
    // the TCB info of another platform than the one asked for
    ['/dcap', SPR, DCAP_AT, 'CERT_MISMATCH', /FMSPC B0C06F000000, 50806f000000 was asked for/],
    // SGX TCB info where TDX's was asked for
    ['/sgx', '00a067110000', DCAP_AT, 'MALFORMED', /TCB info SGX v3 is not TDX/],
    ['/changed-byte', DCAP, DCAP_AT, 'SIGNATURE_INVALID', /does not verify/],
    ['/foreign-chain', DCAP, DCAP_AT, 'CHAIN_INVALID', /./],
    // past its nextUpdate (19 July 2025)
    ['/dcap', DCAP, new Date('2025-08-01T00:00:00Z'), 'STALE', /expired at 2025-07-19/],
    // the 2018 TCB signing certificate expired in May 2025
    ['/spr', SPR, DCAP_AT, 'CERT_EXPIRED', /./]
  ])('%s for %s: refused (%s), one line, the file left as it was', async (route, fmspc, at, code, line) => {
    const into = path.join(dir, `refused${route}`)
    const file = tdxCollateralFile(into, fmspc)
    await run('/spr', SPR, SPR_AT, into)
    if (fmspc !== SPR) { writeFileSync(file, 'held before') }
    const before = readFileSync(file)
    const r = await run(route, fmspc, at, into)
    expect(r).toMatchObject({ fmspc, result: 'failed', code })
    expect(r.error).toMatch(line)
    expect(r.error).not.toContain('\n')
    expect(readFileSync(file)).toEqual(before)
    expect(readdirSync(into).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('a server that does not answer in time fails as UNREACHABLE', async () => {
    const r = await run('/hang', DCAP, DCAP_AT, path.join(dir, 'hang'), 200)
    expect(r).toMatchObject({ result: 'failed', code: 'UNREACHABLE', error: expect.stringMatching(/no answer in time/) })
  })

  it('bazaar attest fetch-tdx-collateral: one line per FMSPC, exit 1 when one failed, usage errors exit 2', async () => {
    const out: string[] = []
    const err: string[] = []
    const ctx = { out: (l: string) => { out.push(l) }, err: (l: string) => { err.push(l) } }
    const into = path.join(dir, 'cli')
    expect(await main(['attest', 'fetch-tdx-collateral', '--fmspc', DCAP, '--dir', into, '--pcs-url', `${base}/dcap`, '--at', DCAP_AT.toISOString()], ctx)).toBe(0)
    expect(out).toEqual([
      `${DCAP}: updated ${path.join(into, `${DCAP}.json`)} (TCB evaluation 17, issued 2025-06-19T10:16:03Z, current to 2025-07-19T10:16:03Z)`,
      `tee.tdxCollateralFiles: ${JSON.stringify([path.join(into, `${DCAP}.json`)])}`
    ])
    expect(err).toEqual([])
    expect(await main(['attest', 'fetch-tdx-collateral', '--fmspc', DCAP, '--dir', into, '--pcs-url', `${base}/changed-byte`, '--at', DCAP_AT.toISOString()], ctx)).toBe(1)
    expect(err).toEqual([`bazaar attest: ${DCAP}: failed (SIGNATURE_INVALID): TCB info signature does not verify`])
    for (const args of [[], ['--fmspc', 'b0c06f'], ['--fmspc', DCAP, '--pcs-url', 'ftp://pccs'], ['--fmspc', DCAP, '--at', 'soon'], ['--fmspc', DCAP, 'extra']]) {
      err.length = 0
      expect(await main(['attest', 'fetch-tdx-collateral', '--dir', into, ...args], ctx)).toBe(2)
      expect(err).toHaveLength(1)
      expect(err[0]).toMatch(/^bazaar attest: /)
    }
    err.length = 0
    expect(await main(['attest', 'fetch-tdx-collateral', '--fmspc', DCAP], ctx)).toBe(2)
    expect(err).toEqual(['bazaar attest: --dir is required'])
  })
})
