import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attestationPolicyFromConfig, ConfigError, defaultConfig, loadConfig } from '../../../src/node/config/index.js'

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

  it.each([
    ['mode', { gpu: 'maybe' }, 'tee.gpu'],
    ['driver version', { gpuAccept: { minDriverVersion: 'latest' } }, 'tee.gpuAccept.minDriverVersion'],
    ['VBIOS version', { gpuAccept: { vbiosVersions: ['96.0.9F'] } }, 'tee.gpuAccept.vbiosVersions[0]'],
    ['unknown accept field', { gpuAccept: { cc: true } }, 'tee.gpuAccept.cc'],
    ['provider', { gpuProvider: 'amd-gpu' }, 'tee.gpuProvider'],
    ['RIM files over the limit', { gpuRimFiles: ['/a', '/b', '/c', '/d', '/e'] }, 'tee.gpuRimFiles']
  ])('refuses a bad %s naming the field', async (_n, tee, field) => {
    const err = await load(tee).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).field).toBe(field)
  })
})
