import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONFIG_ENV_VARS, CONFIG_FIELDS, CONFIG_FLAG_OPTIONS, ConfigErrorCode, configKeys, defaultConfig, validateConfig, PACKAGE_CONFIG_DIR } from '../../../src/node/config/index.js'
import { main } from '../../../src/cli/main.js'

/** Leaf and object paths of a config object, `gpus[]` for list entries, `$comment` skipped. */
function paths (v: unknown, prefix = ''): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return []
  return Object.entries(v).filter(([k]) => k !== '$comment').flatMap(([k, x]) => {
    const p = prefix === '' ? k : `${prefix}.${k}`
    return [p, ...paths(x, p)]
  })
}

describe('the config schema: one table validates and describes', () => {
  const fields = new Set(CONFIG_FIELDS.map((f) => f.path))

  it('describes every field of the packaged defaults and examples', () => {
    for (const file of ['default.json', 'supplier.example.json', 'renter.example.json', 'daemon.example.json', 'devnet.json', 'local-supplier.json', 'local-renter.json', 'local-arbiter.json']) {
      const json = JSON.parse(readFileSync(path.join(PACKAGE_CONFIG_DIR, file), 'utf8')) as Record<string, unknown>
      for (const p of paths(json)) {
        const schemaPath = p.replace(/^gpus\.\d+/, 'gpus[]').replace(/^tee\.allowedMeasurements\.[a-z-]+$/, 'tee.allowedMeasurements.<kind>').replace(/^chain\.networks\.[a-z0-9-]+$/, 'chain.networks.<name>')
        expect(fields.has(schemaPath), `${file}: ${p}`).toBe(true)
      }
    }
  })

  it('names exactly the environment variables the environment layer reads, and only real flags', () => {
    const envs = new Set(CONFIG_FIELDS.flatMap((f) => f.env != null ? [f.env] : []))
    expect([...envs].sort()).toEqual(Object.keys(CONFIG_ENV_VARS).sort())
    for (const f of CONFIG_FIELDS) {
      if (f.flag != null) expect(Object.keys(CONFIG_FLAG_OPTIONS), f.path).toContain(f.flag.replace(/^--/, ''))
    }
  })

  it.each(['', 'api', 'log', 'chain', 'market', 'tee', 'metering'])('refuses a key the schema lacks under %j', async (level) => {
    const input = structuredClone(await defaultConfig()) as unknown as Record<string, any>
    const target = level === '' ? input : input[level]
    target.notInSchema = 1
    let code: string | undefined
    try { validateConfig(input) } catch (err) { code = (err as { code: string }).code }
    expect(code).toBe(ConfigErrorCode.UNKNOWN_FIELD)
    expect(configKeys(level)).not.toContain('notInSchema')
  })

  it('a gpus entry takes exactly the keys of gpus[]', async () => {
    expect(configKeys('gpus[]')).toEqual(['model', 'memoryMib', 'count', 'pricePerGpuHour'])
    const input = { ...structuredClone(await defaultConfig()), gpus: [{ model: 'h100', memoryMib: 81559, count: 1, vram: 1 }] }
    expect(() => validateConfig(input)).toThrow(/unknown field gpus\[0\]\.vram/)
  })

  it('bazaar config describe --json: every field with type, default, env, flag and meaning', async () => {
    const out: string[] = []
    const err: string[] = []
    expect(await main(['config', 'describe', '--json'], { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(0)
    expect(err).toEqual([])
    const rows = JSON.parse(out.join('\n')) as Array<Record<string, unknown>>
    expect(rows.map((r) => r.field)).toEqual(CONFIG_FIELDS.map((f) => f.path))
    for (const r of rows) expect(Object.keys(r).sort()).toEqual(['default', 'description', 'env', 'field', 'flag', 'type'])
    const byField = new Map(rows.map((r) => [r.field, r]))
    expect(byField.get('api.port')).toMatchObject({ default: 7545, env: 'BAZAAR_API', flag: '--api' })
    expect(byField.get('market.pricePerGpuHour')).toMatchObject({ default: '1000000000', env: 'BAZAAR_PRICE', flag: null })
    expect(byField.get('gpus[].model')).toMatchObject({ default: null })
    expect(await main(['config', 'show'], { out: () => {}, err: () => {} })).toBe(2)
  })
})
