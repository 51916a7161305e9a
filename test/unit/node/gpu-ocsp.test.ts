import { createServer, type Server } from 'node:http'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OCSP_RETRY_AFTER_MS, OcspStapler, withOcspStapling } from '../../../src/node/gpu-ocsp.js'
import { verifyGpuEvidence } from '../../../src/tee/gpu-verify.js'
import { ocspRequest } from '../../../src/tee/x509/ocsp.js'
import { simulatedGpuProvider } from '../../../src/tee/providers/simulated-gpu.js'
import type { GpuAttestationProvider } from '../../../src/tee/types.js'
import { ManualClock } from '../../../src/util/clock.js'
import type { Logger } from '../../../src/node/logger.js'
import { buildSpdmReport } from '../../helpers/spdm-gpu.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'

/**
 * The supplier's stapling against a local OCSP responder that answers with OpenSSL's answers
 * (test/fixtures/ocsp/make.sh) for the requests the stapler sends, and the renter's check of what
 * was stapled.
 */
const DIR = path.resolve(__dirname, '../../fixtures/ocsp')
const file = (f: string): Uint8Array => new Uint8Array(readFileSync(path.join(DIR, f)))
const cert = (name: string): X509Certificate => new X509Certificate(readFileSync(path.join(DIR, `${name}.pem`)))
const MADE = new Date(readFileSync(path.join(DIR, 'made-at.txt'), 'utf8').trim()).getTime()
const DAY = 24 * 3600_000
const root = cert('root')
const leafKey = createPrivateKey(readFileSync(path.join(DIR, 'leaf.key')))

function logger (lines: string[]): Logger {
  const l: Logger = {
    debug: () => {},
    info: () => {},
    warn: (m) => { lines.push(`warn ${m}`) },
    error: (m) => { lines.push(`error ${m}`) },
    child: () => l
  }
  return l
}

describe('stapling NVIDIA OCSP answers to GPU evidence', () => {
  let server: Server
  let url = ''
  const requests: string[] = []
  // which answer the responder gives for the BROM certificate
  let brom = 'brom-good.der'
  let up = true
  const key = (b: Uint8Array): string => Buffer.from(b).toString('hex')
  const answers = new Map<string, () => string>([
    [key(ocspRequest(cert('brom'), cert('prov'))), () => brom],
    [key(ocspRequest(cert('prov'), cert('ica'))), () => 'prov-good.der'],
    [key(ocspRequest(cert('ica'), root)), () => 'ica-good.der']
  ])

  beforeAll(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = []
      req.on('data', (c: Buffer) => parts.push(c)).on('end', () => {
        requests.push(`${req.method ?? ''} ${req.headers['content-type'] ?? ''}`)
        const a = answers.get(key(Buffer.concat(parts)))
        if (!up || a == null) { res.writeHead(up ? 404 : 503).end(); return }
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.from(file(a())))
      })
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
  })
  afterAll(async () => { await new Promise((resolve) => server.close(resolve)) })

  const gpu: GpuAttestationProvider = {
    kind: 'nvidia-gpu',
    attest: async (nonce) => ({ kind: 'nvidia-gpu', report: buildSpdmReport({ version: 0x12, nonce, key: leafKey }), certs: [file('chain.pem')], rims: [] })
  }
  const setup = (): { clock: ManualClock, stapler: OcspStapler, lines: string[], provider: GpuAttestationProvider } => {
    const clock = new ManualClock(MADE + DAY)
    const lines: string[] = []
    const stapler = new OcspStapler({ url, clock, logger: logger(lines), deviceRoots: [root] })
    return { clock, stapler, lines, provider: withOcspStapling(gpu, stapler) }
  }
  const renterCheck = (ev: Awaited<ReturnType<GpuAttestationProvider['attest']>>, nonce: Uint8Array, at: number) =>
    verifyGpuEvidence(ev, { at: new Date(at), nonce, deviceRoots: [root], requireRevocation: true })

  it('staples an answer for every link NVIDIA publishes a status for, which a renter requiring revocation takes', async () => {
    brom = 'brom-good.der'
    const { clock, stapler, provider, lines } = setup()
    const nonce = new Uint8Array(randomBytes(32))
    const ev = await provider.attest(nonce)
    expect(ev.ocsp).toHaveLength(3)
    expect(stapler.fetches).toBe(3)
    expect(requests.at(-1)).toBe('POST application/ocsp-request')
    expect(renterCheck(ev, nonce, clock.now()).fields.revocationChecked).toBe(true)
    // the next session reuses them
    const again = await provider.attest(nonce)
    expect(stapler.fetches).toBe(3)
    expect(again.ocsp).toEqual(ev.ocsp)
    expect(lines).toEqual([])
  })

  it('past half their window the kept answers are stapled and fresh ones fetched in the background', async () => {
    brom = 'brom-good.der'
    const { clock, stapler, provider } = setup()
    const nonce = new Uint8Array(randomBytes(32))
    await provider.attest(nonce)
    clock.set(MADE + 4 * DAY)
    const ev = await provider.attest(nonce)
    expect(ev.ocsp).toHaveLength(3)
    await stapler.settled()
    expect(stapler.fetches).toBe(6)
  })

  it('a revoked certificate\'s answer is stapled and logged, and the renter refuses the GPU', async () => {
    brom = 'brom-revoked.der'
    const { clock, provider, lines } = setup()
    const nonce = new Uint8Array(randomBytes(32))
    const ev = await provider.attest(nonce)
    expect(ev.ocsp).toHaveLength(3)
    expect(lines).toEqual([expect.stringMatching(/^error gpu ocsp: NVIDIA says Test GSP BROM .* is revoked/)])
    expect(() => renterCheck(ev, nonce, clock.now())).toThrow(expect.objectContaining({ code: 'CERT_REVOKED' }))
  })

  it('an answer that does not check is not stapled; the renter then finds the link without a status', async () => {
    brom = 'prov-good.der'
    const { clock, provider, lines } = setup()
    const nonce = new Uint8Array(randomBytes(32))
    const ev = await provider.attest(nonce)
    expect(ev.ocsp).toHaveLength(2)
    expect(lines).toEqual([expect.stringMatching(/^warn gpu ocsp: no answer about CN=Test GSP BROM from http.*: the OCSP answer is not about Test GSP BROM/)])
    expect(() => renterCheck(ev, nonce, clock.now())).toThrow(/no revocation status for Test GSP BROM/)
  })

  it('with the responder down the evidence goes without answers once the kept ones lapse', async () => {
    brom = 'brom-good.der'
    const { clock, provider, lines, stapler } = setup()
    const nonce = new Uint8Array(randomBytes(32))
    expect((await provider.attest(nonce)).ocsp).toHaveLength(3)
    up = false
    try {
      clock.set(MADE + 8 * DAY)
      const ev = await provider.attest(nonce)
      expect(ev.ocsp).toBeUndefined()
      expect(lines.filter((l) => l.includes('HTTP 503'))).toHaveLength(3)
      // the next sessions do not wait on the responder, nor log again, for a while
      const fetches = stapler.fetches
      clock.set(MADE + 8 * DAY + OCSP_RETRY_AFTER_MS - 1000)
      expect((await provider.attest(nonce)).ocsp).toBeUndefined()
      expect(stapler.fetches).toBe(fetches)
      expect(lines).toHaveLength(3)
    } finally {
      up = true
    }
    // then they ask again (the fixtures' answers are past their window by now: none is stapled)
    clock.set(MADE + 8 * DAY + OCSP_RETRY_AFTER_MS)
    await provider.attest(nonce)
    expect(lines.filter((l) => l.includes('not at'))).toHaveLength(3)
  })

  it('simulated GPU evidence is left as it is, and nothing is fetched', async () => {
    const clock = new ManualClock(MADE + DAY)
    const stapler = new OcspStapler({ url, clock, deviceRoots: [root] })
    const ev = await withOcspStapling(simulatedGpuProvider({ clock }), stapler).attest(new Uint8Array(32))
    expect(ev.kind).toBe('simulated-gpu')
    expect(ev.ocsp).toBeUndefined()
    expect(stapler.fetches).toBe(0)
  })
})

describe.skipIf(!haveTeeFixtures)('which certificates the stapler asks about, for a real H100 with its RIMs', () => {
  it('the device chain but its alias leaf, and each RIM signer chain, each certificate once', async () => {
    const asked: string[] = []
    const lines: string[] = []
    const stapler = new OcspStapler({
      url: 'https://ocsp.invalid/',
      clock: new ManualClock(Date.parse('2024-07-01T00:00:00Z')),
      logger: logger(lines),
      post: async (_url, body) => { asked.push(Buffer.from(body).toString('hex')); throw new Error('offline') }
    })
    const ev = await stapler.staple({
      kind: 'nvidia-gpu',
      report: new Uint8Array(Buffer.from(Buffer.from(fixture('nvtrust/hopperAttestationReport.txt')).toString('latin1').trim(), 'hex')),
      certs: [fixture('nvtrust/hopperCertChain.txt')],
      rims: ['NV_GPU_DRIVER_GH100_550.90.07.xml', 'NV_GPU_VBIOS_1010_0200_882_96009F0001.xml'].map((f) => fixture(`nvtrust/${f}`))
    })
    // BROM, provisioner CA, GH100 identity CA; each RIM's own signer, and the two CAs both RIMs share
    expect(asked).toHaveLength(7)
    expect(new Set(asked).size).toBe(7)
    expect(ev.ocsp).toBeUndefined()
    expect(lines.filter((l) => l.includes('offline'))).toHaveLength(7)
    expect(lines.some((l) => l.includes('CN=GH100 A01 GSP BROM'))).toBe(true)
    expect(lines.some((l) => l.includes('FMC LF'))).toBe(false)
  })
})
