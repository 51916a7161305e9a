import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { TEE_FIXTURES, haveTeeFixtures } from '../helpers/tee-fixtures.js'
import { ensureBuilt } from '../helpers/cli.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const f = (rel: string): string => path.join(TEE_FIXTURES, 'nvtrust', rel)

function bazaar (...args: string[]): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/bazaar.js'), ...args], { encoding: 'utf8', cwd: repo })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** inside the validity of every RIM signing certificate of the fixtures */
const AT = '2024-07-01T00:00:00Z'
const NONCE = '931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb'

describe.skipIf(!haveTeeFixtures)('bazaar attest verify --kind nvidia-gpu', () => {
  beforeAll(() => {
    ensureBuilt()
  }, 240_000)

  const base = (): string[] => ['attest', 'verify', f('hopperAttestationReport.txt'), '--kind', 'nvidia-gpu', '--certs', f('hopperCertChain.txt'), '--at', AT]

  it('an H100 report with its RIMs and nonce: valid, with the gpu summary in --json', () => {
    const r = bazaar(...base(), '--rim', f('NV_GPU_DRIVER_GH100_550.90.07.xml'), '--rim', f('NV_GPU_VBIOS_1010_0200_882_96009F0001.xml'), '--nonce', NONCE, '--json')
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({
      ok: true,
      kind: 'nvidia-gpu',
      reportData: NONCE,
      gpu: { model: 'GH100', driverVersion: '550.90.07', vbiosVersion: '96.00.9F.00.01', ccMode: 'unreported', measurementsMatched: true }
    })
    expect(out.chain.at(-1)).toBe('NVIDIA Device Identity CA')
  })

  it('a wrong nonce: exit 1 with one line naming the code', () => {
    const r = bazaar(...base(), '--nonce', '00'.repeat(32))
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('REPORT_DATA_MISMATCH')
  })

  it('RIMs of another driver: RIM_MISMATCH; without RIMs: valid but not matched', () => {
    const mismatch = bazaar(...base(), '--rim', f('Driver_RIM_test_no_gpu.swidtag'), '--json')
    expect(mismatch.code).toBe(1)
    expect(JSON.parse(mismatch.stdout)).toMatchObject({ ok: false, code: 'RIM_MISMATCH' })
    const bare = bazaar(...base())
    expect(bare.code, bare.stderr).toBe(0)
    expect(bare.stdout).toContain('measurements: not matched')
    expect(bare.stdout).toContain('nonce: not checked')
    expect(bare.stdout).toContain('revocation: not every certificate had a status')
  })

  it('revocation on NVIDIA\'s real chain: required, the BROM certificate is the first link needing a status; a bad answer is refused', () => {
    const required = bazaar(...base(), '--require-revocation', '--json')
    expect(required.code).toBe(1)
    // the alias leaf (GSP FMC LF) is exempt: NVIDIA publishes no status for it
    expect(JSON.parse(required.stdout)).toMatchObject({ ok: false, code: 'CERT_MISSING', reason: expect.stringMatching(/^no revocation status for GH100 A01 GSP BROM/) })
    const bad = bazaar(...base(), '--ocsp', f('hopperCertChain.txt'))
    expect(bad.code).toBe(1)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toContain('MALFORMED')
    const plain = bazaar(...base(), '--json')
    expect(JSON.parse(plain.stdout).fields.revocationChecked).toBe(false)
  })

  it('usage errors exit 2', () => {
    expect(bazaar('attest', 'verify', f('hopperAttestationReport.txt'), '--kind', 'tdx', '--ocsp', f('hopperCertChain.txt')).code).toBe(2)
    expect(bazaar(...base(), '--nonce', 'abc').code).toBe(2)
    expect(bazaar('attest', 'verify', f('hopperAttestationReport.txt'), '--kind', 'tdx', '--rim', f('NV_GPU_DRIVER_GH100_550.90.07.xml')).code).toBe(2)
  })
})
