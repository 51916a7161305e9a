import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto'
import { decodeSs58, encodeSs58, isSs58 } from '../../../src/util/ss58.js'

const account = fc.uint8Array({ minLength: 32, maxLength: 32 })
// 0..63 one-byte prefixes, 64..16383 two-byte ones; 46 and 47 are reserved by the registry
const prefix = fc.oneof(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 64, max: 16383 })).filter((p) => p !== 46 && p !== 47)

describe('ss58 addresses on node:crypto', () => {
  it('encodes and decodes exactly as @polkadot/util-crypto does, for one- and two-byte prefixes', () => {
    fc.assert(fc.property(account, prefix, (id, p) => {
      const ours = encodeSs58(id, p)
      expect(ours).toBe(encodeAddress(id, p))
      const back = decodeSs58(ours)
      expect(back.prefix).toBe(p)
      expect(Buffer.from(back.accountId).equals(Buffer.from(id))).toBe(true)
      expect(Buffer.from(decodeAddress(ours)).equals(Buffer.from(id))).toBe(true)
    }), { numRuns: 300 })
  })

  it('refuses the reserved prefixes 46 and 47 when encoding', () => {
    expect(() => encodeSs58(new Uint8Array(32), 46)).toThrow(/reserved/)
    expect(() => encodeSs58(new Uint8Array(32), 47)).toThrow(/reserved/)
  })

  it('keeps leading zero bytes (prefix 0, an all-zero account) as base58 leading ones', () => {
    const zero = new Uint8Array(32)
    const text = encodeSs58(zero, 0)
    expect(text).toBe(encodeAddress(zero, 0))
    expect(text.startsWith('1')).toBe(true)
    expect(decodeSs58(text)).toEqual({ accountId: zero, prefix: 0 })
  })

  it('reads the well-known dev address of //Alice', () => {
    const { accountId, prefix: p } = decodeSs58('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY')
    expect(p).toBe(42)
    expect(Buffer.from(accountId).toString('hex')).toBe('d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d')
  })

  it('refuses a changed character (unless it spells another valid address, as it does for polkadot), a wrong length and bad characters', () => {
    fc.assert(fc.property(account, fc.nat(), (id, pos) => {
      const good = encodeSs58(id, 42)
      const i = pos % good.length
      const swapped = good[i] === '2' ? '3' : '2'
      const bad = good.slice(0, i) + swapped + good.slice(i + 1)
      let polkadot: Uint8Array | undefined
      try { polkadot = decodeAddress(bad) } catch {}
      // a changed character breaks the 2-byte checksum, except about once in 65,536 changes, where
      // it spells another valid address (fast-check found 5Cy5g9VJTWPQyWdaCvx8iFWkxFTy7Ta3XeJ2AWqJ
      // jW8Fgp5e one character from 5Cy5...XeJVAW..., valid for both): the two agree either way.
      // polkadot also takes ids of other lengths, which are not accounts
      if (polkadot?.length === 32) {
        expect(isSs58(bad)).toBe(true)
        expect(decodeSs58(bad).accountId).toEqual(polkadot)
      } else {
        expect(isSs58(bad)).toBe(false)
      }
    }), { numRuns: 300 })
    // that collision, kept
    expect(isSs58('5Cy5g9VJTWPQyWdaCvx8iFWkxFTy7Ta3XeJ2AWqJjW8Fgp5e')).toBe(true)
    for (const bad of ['', '0OIl', 'x'.repeat(65), encodeSs58(new Uint8Array(32)).slice(0, -1), '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ']) {
      expect(isSs58(bad), bad).toBe(false)
    }
  })
})
