import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchRims, rimFromAnswer } from '../../../src/node/rim-fetch.js'
import { gpuRimIds } from '../../../src/tee/nvidia/rim-ids.js'
import { parseGpuReport } from '../../../src/tee/nvidia/parse-report.js'
import { parseGpuOpaqueData } from '../../../src/tee/nvidia/parse-opaque.js'
import { verifyGpuReport } from '../../../src/tee/nvidia/verify-report.js'
import { loadCertificates } from '../../../src/tee/x509/load.js'
import { main } from '../../../src/cli/main.js'
import { fixture, haveTeeFixtures, TEE_FIXTURES } from '../../helpers/tee-fixtures.js'

const hexFile = (rel: string): Uint8Array => new Uint8Array(Buffer.from(Buffer.from(fixture(rel)).toString('latin1').trim(), 'hex'))
const codeOf = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err) { return (err as { code?: string }).code }
  return undefined
}

describe('RIM ids from a GPU report', () => {
  it('Blackwell names its driver RIM by the chip it reports; ids take nothing that is not a plain segment', () => {
    const base = { raw: new Map(), driverVersion: '580.65.06', vbiosVersion: '97.00.e4.00.1e', project: 'g525', projectSku: '0220', chipSku: '886' }
    expect(gpuRimIds({ ...base, chipInfo: 'GB100' })).toEqual({ driver: 'NV_GPU_CC_DRIVER_GB100_580.65.06', vbios: 'NV_GPU_VBIOS_G525_0220_886_9700E4001E' })
    expect(gpuRimIds(base).driver).toBe('NV_GPU_DRIVER_GH100_580.65.06')
    expect(codeOf(() => gpuRimIds({ ...base, project: '../x' }))).toBe('MALFORMED')
    expect(codeOf(() => gpuRimIds({ ...base, driverVersion: undefined }))).toBe('MALFORMED')
    expect(codeOf(() => gpuRimIds({ ...base, chipSku: '8 86' }))).toBe('MALFORMED')
  })
})

/**
 * `bazaar attest fetch-rims` against a local HTTP server that answers as NVIDIA's RIM service does
 * (`{ id, rim: base64, sha256 }`), with nvtrust's real RIMs. The two RIMs' signing chains are valid
 * from 2024 until February 2026 (VBIOS) and June 2026 (driver); the checks run in July 2024.
 */
const AT = new Date('2024-07-01T00:00:00Z')
const DRIVER = 'NV_GPU_DRIVER_GH100_550.90.07'
const VBIOS = 'NV_GPU_VBIOS_1010_0200_882_96009F0001'

describe.skipIf(!haveTeeFixtures)('fetching NVIDIA RIMs', () => {
  let server: Server
  let base = ''
  let dir = ''
  const served = new Map<string, { body: string | Uint8Array, status?: number }>()

  const answer = (id: string, rim: Uint8Array, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ id, rim: Buffer.from(rim).toString('base64'), sha256: createHash('sha256').update(rim).digest('hex'), last_updated: '2024-06-20T00:00:00Z', rim_format: 'SWID', ...extra })

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bazaar-rim-fetch-'))
    const driver = fixture(`nvtrust/${DRIVER}.xml`)
    const vbios = fixture(`nvtrust/${VBIOS}.xml`)
    served.set(`/ok/${DRIVER}`, { body: answer(DRIVER, driver) })
    served.set(`/ok/${VBIOS}`, { body: answer(VBIOS, vbios) })
    // the driver's RIM where the VBIOS's was asked for: validly signed, the wrong manifest
    served.set(`/swapped/${VBIOS}`, { body: answer(VBIOS, driver) })
    served.set(`/other-id/${DRIVER}`, { body: answer('NV_GPU_DRIVER_GH100_535.104.05', driver) })
    served.set(`/bad-sha/${DRIVER}`, { body: answer(DRIVER, driver, { sha256: '00'.repeat(32) }) })
    served.set(`/not-json/${DRIVER}`, { body: '<html>maintenance</html>' })
    served.set(`/huge/${DRIVER}`, { body: new Uint8Array(400 * 1024) })
    // one golden value changed after signing
    const tampered = Buffer.from(driver).toString('latin1').replace(/Hash0="[0-9a-f]/i, (m) => m.slice(0, -1) + (m.endsWith('0') ? '1' : '0'))
    served.set(`/tampered/${DRIVER}`, { body: answer(DRIVER, new Uint8Array(Buffer.from(tampered, 'latin1'))) })
    server = createServer((req, res) => {
      const s = served.get(req.url ?? '')
      if (s == null) { res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"not found"}'); return }
      res.writeHead(s.status ?? 200, { 'content-type': 'application/json' })
      res.end(typeof s.body === 'string' ? s.body : Buffer.from(s.body))
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })

  it('the real H100 report names exactly the RIMs nvtrust ships for it', () => {
    const ids = gpuRimIds(parseGpuOpaqueData(parseGpuReport(hexFile('nvtrust/hopperAttestationReport.txt')).opaque))
    expect(ids).toEqual({ driver: DRIVER, vbios: VBIOS })
    expect(gpuRimIds(parseGpuOpaqueData(parseGpuReport(hexFile('nvtrust/attestationReport-2023.txt')).opaque)))
      .toEqual({ driver: 'NV_GPU_DRIVER_GH100_545.00', vbios: 'NV_GPU_VBIOS_1010_0200_882_96005E0001' })
  })

  it('writes both RIMs once verified, keeps identical ones, and the report then verifies with them', async () => {
    const into = path.join(dir, 'a', 'rims')
    const first = await fetchRims({ dir: into, ids: [DRIVER, VBIOS], baseUrl: `${base}/ok/`, now: AT })
    expect(first).toEqual([
      expect.objectContaining({ id: DRIVER, result: 'updated', version: '550.90.07', product: 'GH100', file: path.join(into, `${DRIVER}.xml`) }),
      expect.objectContaining({ id: VBIOS, result: 'updated', version: '96.00.9F.00.01', product: 'GH100' })
    ])
    expect(first[0].measurements).toBeGreaterThan(0)
    expect(readFileSync(path.join(into, `${DRIVER}.xml`))).toEqual(Buffer.from(fixture(`nvtrust/${DRIVER}.xml`)))
    const again = await fetchRims({ dir: into, ids: [DRIVER, VBIOS], baseUrl: `${base}/ok/`, now: AT })
    expect(again.map((r) => r.result)).toEqual(['kept', 'kept'])
    // a file with other bytes (an older download, a truncated copy) is replaced
    writeFileSync(path.join(into, `${VBIOS}.xml`), 'partial')
    expect((await fetchRims({ dir: into, ids: [VBIOS], baseUrl: `${base}/ok/`, now: AT }))[0].result).toBe('updated')
    expect(readdirSync(into).sort()).toEqual([`${DRIVER}.xml`, `${VBIOS}.xml`])
    // what tee.gpuRimFiles sends: the report's measurements match the fetched files
    const v = verifyGpuReport(hexFile('nvtrust/hopperAttestationReport.txt'), {
      certs: loadCertificates(fixture('nvtrust/hopperCertChain.txt')),
      at: AT,
      rims: [DRIVER, VBIOS].map((id) => new Uint8Array(readFileSync(path.join(into, `${id}.xml`))))
    })
    expect(v.measurementsMatched).toBe(true)
  })

  it('refuses what is not the RIM asked for, does not verify or cannot be read, and leaves the file as it was', async () => {
    const into = path.join(dir, 'b')
    await fetchRims({ dir: into, ids: [DRIVER, VBIOS], baseUrl: `${base}/ok/`, now: AT })
    const before = readFileSync(path.join(into, `${DRIVER}.xml`))
    const cases: Array<[string, string, string, RegExp]> = [
      ['swapped', VBIOS, 'RIM_MISMATCH', /the manifest is for VBIOS 550\.90\.07/],
      ['other-id', DRIVER, 'RIM_MISMATCH', /the answer is for NV_GPU_DRIVER_GH100_535\.104\.05/],
      ['bad-sha', DRIVER, 'MALFORMED', /sha256/],
      ['not-json', DRIVER, 'MALFORMED', /not JSON/],
      ['huge', DRIVER, 'TOO_LARGE', /over \d+ bytes/],
      ['tampered', DRIVER, 'SIGNATURE_INVALID', /./],
      ['missing', DRIVER, 'HTTP_STATUS', /HTTP 404/]
    ]
    for (const [where, id, code, error] of cases) {
      const [r] = await fetchRims({ dir: into, ids: [id], baseUrl: `${base}/${where}/`, now: AT })
      expect({ where, result: r.result, code: r.code }).toEqual({ where, result: 'failed', code })
      expect(r.error).toMatch(error)
    }
    // a signing chain not valid at the time given
    const [late] = await fetchRims({ dir: into, ids: [DRIVER], baseUrl: `${base}/ok/`, now: new Date('2027-01-01T00:00:00Z') })
    expect(late).toMatchObject({ result: 'failed', code: 'CERT_EXPIRED' })
    expect(readFileSync(path.join(into, `${DRIVER}.xml`))).toEqual(before)
    expect(readdirSync(into).sort()).toEqual([`${DRIVER}.xml`, `${VBIOS}.xml`])
  })

  it('reads the service\'s answer strictly', () => {
    const rim = fixture(`nvtrust/${DRIVER}.xml`)
    expect(rimFromAnswer(new TextEncoder().encode(answer(DRIVER, rim)), DRIVER)).toEqual(new Uint8Array(rim))
    // without the optional fields
    expect(rimFromAnswer(new TextEncoder().encode(JSON.stringify({ rim: Buffer.from(rim).toString('base64') })), DRIVER)).toEqual(new Uint8Array(rim))
    for (const body of ['[]', 'null', '{"rim":""}', '{"rim":"***"}', '{"rim":42}', '{}']) {
      expect(codeOf(() => rimFromAnswer(new TextEncoder().encode(body), DRIVER)), body).toBe('MALFORMED')
    }
  })

  it('bazaar attest fetch-rims: ids from a report file, one line per RIM and the config line; usage errors exit 2', async () => {
    const out: string[] = []
    const err: string[] = []
    const ctx = { out: (l: string) => { out.push(l) }, err: (l: string) => { err.push(l) } }
    const into = path.join(dir, 'cli')
    const report = path.join(TEE_FIXTURES, 'nvtrust/hopperAttestationReport.txt')
    expect(await main(['attest', 'fetch-rims', '--dir', into, '--report', report, '--url', `${base}/ok/`, '--at', AT.toISOString()], ctx)).toBe(0)
    const files = [DRIVER, VBIOS].map((id) => path.join(into, `${id}.xml`))
    expect(out).toEqual([
      expect.stringMatching(new RegExp(`^${DRIVER}: updated ${files[0]} \\(GH100 550\\.90\\.07, \\d+ measurements, signed until 20`)),
      expect.stringMatching(new RegExp(`^${VBIOS}: updated ${files[1]} \\(GH100 96\\.00\\.9F\\.00\\.01, \\d+ measurements`)),
      `tee.gpuRimFiles: ${JSON.stringify(files)}`
    ])
    expect(err).toEqual([])
    // the fetched files verify the report through the CLI as a renter would
    out.length = 0
    expect(await main(['attest', 'verify', report, '--kind', 'nvidia-gpu', '--certs', path.join(TEE_FIXTURES, 'nvtrust/hopperCertChain.txt'), '--rim', files[0], '--rim', files[1], '--at', AT.toISOString(), '--json'], ctx)).toBe(0)
    expect(JSON.parse(out[0]).gpu.measurementsMatched).toBe(true)

    out.length = 0
    expect(await main(['attest', 'fetch-rims', '--dir', into, '--id', DRIVER, '--url', `${base}/tampered/`, '--at', AT.toISOString()], ctx)).toBe(1)
    expect(err).toEqual([expect.stringMatching(new RegExp(`^bazaar attest: ${DRIVER}: failed: `))])
    for (const bad of [
      ['--dir', into],
      ['--dir', into, '--id', DRIVER, '--report', report],
      ['--dir', into, '--id', '../../etc/passwd'],
      ['--dir', into, '--gpu', 'x'],
      ['--dir', into, '--id', DRIVER, '--python', 'python3'],
      ['--dir', into, '--id', DRIVER, '--url', 'ftp://x/']
    ]) {
      err.length = 0
      expect(await main(['attest', 'fetch-rims', ...bad], ctx), bad.join(' ')).toBe(2)
      expect(err).toHaveLength(1)
    }
    // --gpu: the ids from a fresh report of the GPU, through the NVML provider. A stand-in for
    // Python and NVML answers with nvtrust's H100 report, its request nonce set to the one asked
    // for (the provider checks that the report answers it), and its chain
    const fake = path.join(dir, 'fake-nvml.mjs')
    writeFileSync(fake, `
      import { readFileSync } from 'node:fs'
      const [, , , , nonce, index] = process.argv
      if (index !== '0') { console.error('no GPU at index ' + index); process.exit(3) }
      const report = Buffer.from(readFileSync(${JSON.stringify(report)}, 'latin1').trim(), 'hex')
      Buffer.from(nonce, 'hex').copy(report, 4)
      const chain = readFileSync(${JSON.stringify(path.join(TEE_FIXTURES, 'nvtrust/hopperCertChain.txt'))})
      console.log(JSON.stringify({ devTools: 0, report: report.toString('base64'), chain: chain.toString('base64') }))
    `)
    const python = path.join(dir, 'fake-python')
    writeFileSync(python, `#!/bin/sh\nexec "${process.execPath}" "${fake}" "$@"\n`, { mode: 0o755 })
    out.length = 0
    const gpuDir = path.join(dir, 'gpu')
    expect(await main(['attest', 'fetch-rims', '--dir', gpuDir, '--gpu', '0', '--python', python, '--url', `${base}/ok/`, '--at', AT.toISOString()], ctx)).toBe(0)
    expect(out.at(-1)).toBe(`tee.gpuRimFiles: ${JSON.stringify([DRIVER, VBIOS].map((id) => path.join(gpuDir, `${id}.xml`)))}`)
    err.length = 0
    expect(await main(['attest', 'fetch-rims', '--dir', gpuDir, '--gpu', '1', '--python', python], ctx)).toBe(1)
    expect(err).toEqual(['bazaar attest: GPU 1: nvidia-gpu: no CC-capable GPU evidence: no GPU at index 1'])

    // a file that is not a GPU report: one line, exit 1
    err.length = 0
    const notReport = path.join(dir, 'not-a-report')
    writeFileSync(notReport, 'hello')
    expect(await main(['attest', 'fetch-rims', '--dir', into, '--report', notReport], ctx)).toBe(1)
    expect(err).toEqual([expect.stringMatching(/^bazaar attest: .*not-a-report: gpu report: /)])
  })
})
