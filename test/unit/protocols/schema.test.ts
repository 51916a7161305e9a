import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SignerCert } from '../../../src/wire/market.js'

const SCHEMA_DIR = join(import.meta.dirname, '../../../src/wire')

describe('wire schemas', () => {
  // protons-runtime writes a uint64 varint in [2^31, 2^32) wrongly: no schema may declare one
  it.each(readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.proto')))('%s declares no varint 64-bit field', (file) => {
    const text = readFileSync(join(SCHEMA_DIR, file), 'utf8').replace(/\/\/.*$/gm, '')
    expect(text).not.toMatch(/\b(u?int64|sint64)\b/)
  })

  it('carries every 64-bit value from 0 to 2^63 - 1 exactly', () => {
    for (const v of [0n, 1n, 2n ** 31n - 1n, 2n ** 31n, 3_000_000_000n, 2n ** 32n - 1n, 2n ** 32n, 1_700_000_000_000n, 2n ** 63n - 1n]) {
      const cert = { hotkey: new Uint8Array(32), signingKey: new Uint8Array(32), notAfter: v, signature: new Uint8Array(64) }
      expect(SignerCert.decode(SignerCert.encode(cert)).notAfter).toBe(v)
    }
  })
})
