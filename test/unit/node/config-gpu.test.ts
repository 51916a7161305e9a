import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseArgs } from 'node:util'
import { attestationPolicyFromConfig, ConfigError, CONFIG_FLAG_OPTIONS, configFlagsFromArgs, defaultConfig, loadConfig } from '../../../src/node/config/index.js'

let home: string
beforeAll(async () => { home = await mkdtemp(path.join(tmpdir(), 'bazaar-config-gpu-')) })
afterAll(async () => { await rm(home, { recursive: true, force: true }) })

const load = async (tee: unknown): Promise<Awaited<ReturnType<typeof loadConfig>>> => {
  await writeFile(path.join(home, 'config.json'), JSON.stringify({ tee }))
  return await loadConfig({ home })
}

describe('tee.gpu config', () => {
  it('defaults: GPU evidence off, no GPU provider; the policy then has no gpu section', async () => {
    const d = await defaultConfig()
    expect(d.tee).toMatchObject({ gpu: 'off', gpuProvider: 'none', gpuRimFiles: [], gpuAccept: {} })
    expect(attestationPolicyFromConfig(d).gpu).toBeUndefined()
  })

  it('maps tee.gpu and tee.gpuAccept onto the attestation policy', async () => {
    const c = await load({ gpu: 'required', gpuAccept: { minDriverVersion: '550.54.15', vbiosVersions: ['96.00.9F.00.01'] }, gpuProvider: 'nvidia-gpu', gpuRimFiles: ['/rims/driver.xml'] })
    expect(attestationPolicyFromConfig(c).gpu).toEqual({ mode: 'required', minDriverVersion: '550.54.15', vbiosVersions: ['96.00.9F.00.01'] })
    expect(c.tee.gpuProvider).toBe('nvidia-gpu')
  })

  it('OCSP: suppliers staple from NVIDIA\'s responder by default; a renter may require a status for every link', async () => {
    const d = await defaultConfig()
    expect(d.tee).toMatchObject({ gpuOcsp: 'staple', gpuOcspUrl: 'https://ocsp.ndis.nvidia.com/' })
    const c = await load({ gpu: 'required', gpuAccept: { requireRevocation: true }, gpuOcsp: 'off', gpuOcspUrl: 'http://ocsp-proxy.internal:8080/' })
    expect(attestationPolicyFromConfig(c).gpu).toEqual({ mode: 'required', requireRevocation: true })
    expect(c.tee).toMatchObject({ gpuOcsp: 'off', gpuOcspUrl: 'http://ocsp-proxy.internal:8080/' })
  })

  it('tee.gpuCrlFiles from the file, the environment and the flags, the later layer winning', async () => {
    expect((await defaultConfig()).tee.gpuCrlFiles).toEqual([])
    expect((await load({ gpuCrlFiles: ['/etc/nvidia/root.crl'] })).tee.gpuCrlFiles).toEqual(['/etc/nvidia/root.crl'])
    const env = { BAZAAR_GPU_CRL_FILES: '/a.crl, /b.crl' }
    expect((await loadConfig({ home, env })).tee.gpuCrlFiles).toEqual(['/a.crl', '/b.crl'])
    const { values } = parseArgs({ args: ['--gpu-crl', '/c.crl', '--gpu-crl', '/d.crl'], options: CONFIG_FLAG_OPTIONS, strict: true })
    expect((await loadConfig({ home, env, flags: configFlagsFromArgs(values) })).tee.gpuCrlFiles).toEqual(['/c.crl', '/d.crl'])
  })

  it.each([
    ['mode', { gpu: 'maybe' }, 'tee.gpu'],
    ['driver version', { gpuAccept: { minDriverVersion: 'latest' } }, 'tee.gpuAccept.minDriverVersion'],
    ['VBIOS version', { gpuAccept: { vbiosVersions: ['96.0.9F'] } }, 'tee.gpuAccept.vbiosVersions[0]'],
    ['unknown accept field', { gpuAccept: { cc: true } }, 'tee.gpuAccept.cc'],
    ['provider', { gpuProvider: 'amd-gpu' }, 'tee.gpuProvider'],
    ['RIM files over the limit', { gpuRimFiles: ['/a', '/b', '/c', '/d', '/e'] }, 'tee.gpuRimFiles'],
    ['GPU CRL files not a list', { gpuCrlFiles: '/nvidia.crl' }, 'tee.gpuCrlFiles'],
    ['GPU CRL file repeated', { gpuCrlFiles: ['/a.crl', '/a.crl'] }, 'tee.gpuCrlFiles[1]'],
    ['GPU CRL files over the limit', { gpuCrlFiles: Array.from({ length: 17 }, (_, i) => `/c${i}.crl`) }, 'tee.gpuCrlFiles'],
    ['revocation requirement', { gpuAccept: { requireRevocation: 'yes' } }, 'tee.gpuAccept.requireRevocation'],
    ['OCSP stapling mode', { gpuOcsp: 'always' }, 'tee.gpuOcsp'],
    ['OCSP responder', { gpuOcspUrl: 'ocsp.ndis.nvidia.com' }, 'tee.gpuOcspUrl']
  ])('refuses a bad %s naming the field', async (_n, tee, field) => {
    const err = await load(tee).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).field).toBe(field)
  })
})

describe('tee.crlDir config: CRLs the daemon keeps current', () => {
  it('absent by default, with every source; from the file or the environment', async () => {
    const d = await defaultConfig()
    expect(d.tee.crlDir).toBeUndefined()
    expect(d.tee.crlSources).toEqual(['amd-milan', 'amd-genoa', 'amd-turin', 'intel-root', 'intel-pck-platform', 'intel-pck-processor'])
    expect(d.tee.crlUrls).toEqual({})
    const c = await load({ crlDir: '/var/lib/bazaar/crl', crlSources: ['intel-root', 'intel-pck-platform'], crlUrls: { 'intel-root': 'https://pccs.internal:8081/sgx/root.crl' } })
    expect(c.tee).toMatchObject({ crlDir: '/var/lib/bazaar/crl', crlSources: ['intel-root', 'intel-pck-platform'], crlUrls: { 'intel-root': 'https://pccs.internal:8081/sgx/root.crl' } })
    expect((await loadConfig({ home, env: { BAZAAR_CRL_DIR: '/srv/crl' } })).tee.crlDir).toBe('/srv/crl')
  })

  it('tee.tdxCollateralDir and tee.tdxPcsUrl: absent by default; from the file or the environment; a bad one names its field', async () => {
    const d = await defaultConfig()
    expect(d.tee.tdxCollateralDir).toBeUndefined()
    expect(d.tee.tdxPcsUrl).toBeUndefined()
    const c = await load({ tdxCollateralDir: '/var/lib/bazaar/tdx', tdxPcsUrl: 'https://pccs.internal:8081' })
    expect(c.tee).toMatchObject({ tdxCollateralDir: '/var/lib/bazaar/tdx', tdxPcsUrl: 'https://pccs.internal:8081' })
    expect((await loadConfig({ home, env: { BAZAAR_TDX_COLLATERAL_DIR: '/srv/tdx' } })).tee.tdxCollateralDir).toBe('/srv/tdx')
    await expect(load({ tdxPcsUrl: 'ftp://pccs' })).rejects.toMatchObject({ message: expect.stringContaining('tee.tdxPcsUrl') })
    await expect(load({ tdxCollateralDir: '' })).rejects.toMatchObject({ message: expect.stringContaining('tee.tdxCollateralDir') })
  })

  it.each([
    ['directory', { crlDir: '' }, 'tee.crlDir'],
    ['source', { crlSources: ['amd-naples'] }, 'tee.crlSources[0]'],
    ['source repeated', { crlSources: ['intel-root', 'intel-root'] }, 'tee.crlSources[1]'],
    ['URL of an unknown source', { crlUrls: { 'amd-naples': 'https://kds.example/crl' } }, 'tee.crlUrls.amd-naples'],
    ['URL', { crlUrls: { 'intel-root': 'ftp://pccs.internal/root.crl' } }, 'tee.crlUrls.intel-root'],
    ['URL map', { crlUrls: ['https://pccs.internal/root.crl'] }, 'tee.crlUrls']
  ])('refuses a bad %s naming the field', async (_n, tee, field) => {
    const err = await load(tee).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).field).toBe(field)
  })
})
