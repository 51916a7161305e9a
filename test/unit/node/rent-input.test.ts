import { beforeAll, describe, expect, it } from 'vitest'
import { parseRentBody } from '../../../src/node/rent-input.js'
import { defaultConfig, type BazaarConfig } from '../../../src/node/config/index.js'
import { ApiError } from '../../../src/node/api/server.js'

const base = { gpu: 'h100', count: 1, maxPricePerGpuHour: '2000000000', durationS: 120, command: 'python', args: ['train.py'] }

async function config (over: { allowSimulated?: boolean, teeKinds?: BazaarConfig['market']['teeKinds'] } = {}): Promise<BazaarConfig> {
  const c = await defaultConfig()
  return { ...c, tee: { ...c.tee, allowSimulated: over.allowSimulated ?? false }, market: { ...c.market, teeKinds: over.teeKinds ?? ['sev-snp', 'tdx'] } }
}

function refusal (fn: () => unknown): { status: number, code: string, field?: string } {
  try {
    fn()
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, code: err.code, field: err.field }
    throw err
  }
  throw new Error('accepted')
}

describe('parseRentBody', () => {
  let strict: BazaarConfig
  beforeAll(async () => { strict = await config() })

  it('accepts a request and fills the defaults', async () => {
    const p = parseRentBody(base, { config: await config(), home: '/h', now: 0 })
    expect(p.request).toMatchObject({ gpu: 'h100', count: 1, minMemoryMib: 0, maxPricePerGpuHour: 2_000_000_000n, durationS: 120, regions: [] })
    expect(p.request.spec).toMatchObject({ command: 'python', args: ['train.py'], outputs: [], limits: { maxDurationMs: 120_000 } })
    // no kinds asked: the kinds the config accepts
    expect(p.teeKinds).toEqual(['sev-snp', 'tdx'])
    expect(p.request.teeKinds).toEqual(['sev-snp', 'tdx'])
    expect(p.matchTimeoutMs).toBe(30_000)
    expect(p.request.outputDir).toBe('/h/outputs/1970-01-01T00-00-00-000Z')
  })

  it('accepts what a bid carries at its bounds', () => {
    const p = parseRentBody({ ...base, regions: ['eu-west-1', 'r'.repeat(32)], minMemoryMib: 4 * 1024 * 1024, teeKinds: ['tdx', 'sev-snp'] }, { config: strict, home: '/h', now: 0 })
    expect(p.request).toMatchObject({ regions: ['eu-west-1', 'r'.repeat(32)], minMemoryMib: 4 * 1024 * 1024, teeKinds: ['tdx', 'sev-snp'] })
  })

  it('accepts simulated only where the config allows it', async () => {
    const body = { ...base, teeKinds: ['simulated'] }
    expect(refusal(() => parseRentBody(body, { config: strict, home: '/h', now: 0 }))).toEqual({ status: 409, code: 'SIMULATED_NOT_ALLOWED', field: 'teeKinds' })
    const devnet = await config({ allowSimulated: true, teeKinds: ['simulated'] })
    expect(parseRentBody(body, { config: devnet, home: '/h', now: 0 }).teeKinds).toEqual(['simulated'])
    expect(parseRentBody(base, { config: devnet, home: '/h', now: 0 }).teeKinds).toEqual(['simulated'])
  })

  const table: Array<[string, Record<string, unknown> | unknown, string, string | undefined]> = [
    ['not an object', [1, 2], 'BAD_INPUT', 'body'],
    ['gpu with capitals', { ...base, gpu: 'H100' }, 'BAD_INPUT', 'gpu'],
    ['gpu too long', { ...base, gpu: 'h'.repeat(49) }, 'BAD_INPUT', 'gpu'],
    ['count 0', { ...base, count: 0 }, 'BAD_INPUT', 'count'],
    ['count above the bound', { ...base, count: 65 }, 'BAD_INPUT', 'count'],
    ['count as a string', { ...base, count: '1' }, 'BAD_INPUT', 'count'],
    ['price as a number', { ...base, maxPricePerGpuHour: 2e9 }, 'BAD_INPUT', 'maxPricePerGpuHour'],
    ['price zero', { ...base, maxPricePerGpuHour: '0' }, 'BAD_INPUT', 'maxPricePerGpuHour'],
    ['price at 2^63', { ...base, maxPricePerGpuHour: (2n ** 63n).toString() }, 'BAD_INPUT', 'maxPricePerGpuHour'],
    ['price with a fraction', { ...base, maxPricePerGpuHour: '1.5' }, 'BAD_INPUT', 'maxPricePerGpuHour'],
    ['duration missing', { ...base, durationS: undefined }, 'BAD_INPUT', 'durationS'],
    ['duration over 30 days', { ...base, durationS: 30 * 86400 + 1 }, 'BAD_INPUT', 'durationS'],
    ['unknown tee kind', { ...base, teeKinds: ['sgx'] }, 'BAD_INPUT', 'teeKinds[0]'],
    ['too many regions', { ...base, regions: Array.from({ length: 17 }, (_, i) => `r${i}`) }, 'BAD_INPUT', 'regions'],
    ['bad region', { ...base, regions: ['eu west'] }, 'BAD_INPUT', 'regions[0]'],
    // what no bid carries (market/validation/bid.ts) is refused before the rental starts
    ['region in capitals', { ...base, regions: ['EU'] }, 'BAD_INPUT', 'regions[0]'],
    ['region with an underscore', { ...base, regions: ['eu-west', 'eu_west'] }, 'BAD_INPUT', 'regions[1]'],
    ['region with a dot', { ...base, regions: ['eu.west'] }, 'BAD_INPUT', 'regions[0]'],
    ['region over 32 characters', { ...base, regions: ['r'.repeat(33)] }, 'BAD_INPUT', 'regions[0]'],
    ['minimum memory above a bid\'s bound', { ...base, minMemoryMib: 4 * 1024 * 1024 + 1 }, 'BAD_INPUT', 'minMemoryMib'],
    ['a tee kind twice', { ...base, teeKinds: ['tdx', 'tdx'] }, 'BAD_INPUT', 'teeKinds'],
    ['no command', { ...base, command: '' }, 'BAD_INPUT', 'command'],
    ['args not strings', { ...base, args: [1] }, 'BAD_INPUT', 'args[0]'],
    ['env value not a string', { ...base, env: { A: 1 } }, 'BAD_INPUT', 'env.A'],
    ['relative output dir', { ...base, outputDir: 'out' }, 'BAD_INPUT', 'outputDir'],
    ['match timeout above the bound', { ...base, matchTimeoutS: 601 }, 'BAD_INPUT', 'matchTimeoutS'],
    ['output escaping the job dir', { ...base, outputs: ['../etc/passwd'] }, 'OUTPUT_PATH_INVALID', undefined]
  ]
  it.each(table)('refuses %s', async (_name, body, code, field) => {
    const r = refusal(() => parseRentBody(body, { config: strict, home: '/h', now: 0 }))
    expect(r.code).toBe(code)
    expect(r.status).toBe(400)
    if (field != null) expect(r.field).toBe(field)
  })
})
