import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig, type BazaarConfig } from '../../../src/node/config/index.js'
import { checkTeeProvider } from '../../../src/node/daemon.js'

/** A config with `role` and `tee.provider` changed. */
async function configWith (role: BazaarConfig['role'], provider: BazaarConfig['tee']['provider']): Promise<BazaarConfig> {
  const c = structuredClone(await defaultConfig()) as BazaarConfig
  c.role = role
  c.tee.provider = provider
  return c
}

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  return await p.then(() => undefined, (err: unknown) => (err as { code?: string }).code)
}

describe('checkTeeProvider: a supplier that cannot attest refuses before it starts', () => {
  let dir = ''
  beforeAll(async () => { dir = await mkdtemp(path.join(tmpdir(), 'bazaar-tee-check-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it.each(['tdx', 'sev-snp'] as const)('%s without configfs-tsm → TEE_UNAVAILABLE', async (kind) => {
    expect(await codeOf(checkTeeProvider(await configWith('supplier', kind), { configfsRoot: path.join(dir, 'absent') }))).toBe('TEE_UNAVAILABLE')
    expect(await codeOf(checkTeeProvider(await configWith('both', kind), { configfsRoot: path.join(dir, 'absent') }))).toBe('TEE_UNAVAILABLE')
  })

  it('a configfs whose kernel driver is of the other kind → TEE_UNAVAILABLE, and the probe entry is removed', async () => {
    // a plain folder stands in for configfs: the entry the probe creates has no provider attribute
    expect(await codeOf(checkTeeProvider(await configWith('supplier', 'tdx'), { configfsRoot: dir }))).toBe('TEE_UNAVAILABLE')
    expect(await readdir(dir)).toEqual([])
  })

  it('nothing to check for the simulated provider or a node that does not supply', async () => {
    const absent = { configfsRoot: path.join(dir, 'absent') }
    await expect(checkTeeProvider(await configWith('supplier', 'simulated'), absent)).resolves.toBeUndefined()
    await expect(checkTeeProvider(await configWith('renter', 'tdx'), absent)).resolves.toBeUndefined()
    await expect(checkTeeProvider(await configWith('arbiter', 'sev-snp'), absent)).resolves.toBeUndefined()
  })
})
