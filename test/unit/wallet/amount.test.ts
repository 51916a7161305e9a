import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PassThrough } from 'node:stream'
import { formatAmount, formatPrice, parseAmountArg } from '../../../src/cli/amount.js'
import { confirm } from '../../../src/cli/confirm.js'
import { main } from '../../../src/cli/main.js'
import { initHome } from '../../../src/node/keystore/index.js'
import { UsageError } from '../../../src/util/errors.js'

describe('amounts in τ and α', () => {
  const ok: Array<[string, 'tao' | 'alpha', bigint]> = [
    ['1.5', 'tao', 1_500_000_000n],
    ['1.5τ', 'tao', 1_500_000_000n],
    ['1.5 TAO', 'tao', 1_500_000_000n],
    ['τ1.5', 'tao', 1_500_000_000n],
    ['0.25α', 'alpha', 250_000_000n],
    ['0.25 alpha', 'alpha', 250_000_000n],
    ['α 0.000000001', 'alpha', 1n],
    ['1_000', 'tao', 1_000_000_000_000n]
  ]
  it.each(ok)('reads %j', (s, asset, rao) => {
    expect(parseAmountArg(s, { flag: 'amount', dflt: 'tao' })).toEqual({ asset, rao })
  })
  const bad = ['', '-1', '1e9', '1.0000000001', '1.5 btc', 'τ1.5τ', '22000000', '0x10', '1,5']
  it.each(bad)('refuses %j as a usage error', (s) => {
    expect(() => parseAmountArg(s, { flag: 'amount', dflt: 'tao' })).toThrow(UsageError)
  })
  it('takes base units only with raw, and only the assets allowed', () => {
    expect(parseAmountArg('1500', { flag: 'amount', dflt: 'alpha', raw: true })).toEqual({ asset: 'alpha', rao: 1500n })
    expect(() => parseAmountArg('1.5', { flag: 'amount', dflt: 'alpha', raw: true })).toThrow(UsageError)
    expect(() => parseAmountArg('1α', { flag: 'amount', dflt: 'tao', allow: ['tao'] })).toThrow(UsageError)
  })
  it('shows the symbol, and rao only when asked', () => {
    expect(formatAmount(1_500_000_000n, 'tao')).toBe('1.5 τ')
    expect(formatAmount(1n, 'alpha')).toBe('0.000000001 α')
    expect(formatAmount(1_500_000_000n, 'alpha', { raw: true })).toBe('1500000000 rao α')
    expect(formatPrice(998_000_000n)).toBe('0.998 τ/α')
  })
})

describe('bazaar rent --dry-run on the embedded ledger', () => {
  it('prints the budget in α and exits without a daemon', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'bazaar-dry-'))
    try {
      const home = path.join(tmp, 'home')
      await initHome({ home, passphrase: 'x', scrypt: { N: 1024, r: 8, p: 1 } })
      const out: string[] = []
      const err: string[] = []
      const code = await main(['rent', '--home', home, '--gpu', 'h100', '--count', '2', '--max-price', '0.5α', '--duration', '90m', '--dry-run'],
        { out: (l) => out.push(l), err: (l) => err.push(l), env: {} })
      expect(err).toEqual([])
      expect(code).toBe(0)
      // 0.5 α/GPU-hour × 2 GPUs × 1.5 h
      expect(out[1]).toMatch(/^ {2}budget {7}at most 1\.5 α /)
      const json: string[] = []
      await main(['rent', '--home', home, '--gpu', 'h100', '--max-price', '500000000', '--raw', '--duration', '1h', '--dry-run', '--json'],
        { out: (l) => json.push(l), err: () => {}, env: {} })
      expect(JSON.parse(json[0])).toMatchObject({ dryRun: true, budget: '500000000' })
    } finally {
      await rm(tmp, { recursive: true, force: true })
    }
  })
})

describe('the question before signing', () => {
  it.each([['y\n', true], ['yes\n', true], ['n\n', false], ['\n', false], ['yolo\n', false]] as const)('answers %j with %s', async (typed, expected) => {
    const input = new PassThrough()
    const output = new PassThrough()
    const p = confirm('sign?', { tty: { input, output } })
    input.write(typed)
    expect(await p).toBe(expected)
    expect(output.read().toString()).toBe('sign? [y/N] ')
  })
  it('reads an ended input as no', async () => {
    const input = new PassThrough()
    const p = confirm('sign?', { tty: { input, output: new PassThrough() } })
    input.end()
    expect(await p).toBe(false)
  })
})
