import { describe, expect, it } from 'vitest'
import { AttestationErrorCode } from '../../../src/tee/errors.js'
import { isCertTable, parseSnpCertTable, SNP_CERT_GUIDS } from '../../../src/tee/snp/certs.js'
import { verifyEvidence } from '../../../src/tee/verify.js'
import { NonceCache } from '../../../src/protocols/session/nonces.js'
import { AMD_ROOTS } from '../../../src/tee/roots/amd.js'
import { fixture, haveTeeFixtures, manifest } from '../../helpers/tee-fixtures.js'

/** EFI GUID bytes: the first three fields little-endian. */
function guidBytes (g: string): Uint8Array {
  const h = g.replace(/-/g, '')
  const b = Buffer.from(h, 'hex')
  b.subarray(0, 4).reverse(); b.subarray(4, 6).reverse(); b.subarray(6, 8).reverse()
  return new Uint8Array(b)
}

/** Lays out an SEV-SNP certificate table as the GHCB extended guest request / configfs auxblob does. */
function certTable (entries: Array<[string, Uint8Array]>): Uint8Array {
  const head = 24 * (entries.length + 1)
  const total = head + entries.reduce((n, [, d]) => n + d.byteLength, 0)
  const out = new Uint8Array(total)
  const v = new DataView(out.buffer)
  let off = head
  entries.forEach(([g, d], i) => {
    out.set(guidBytes(g), i * 24)
    v.setUint32(i * 24 + 16, off, true)
    v.setUint32(i * 24 + 20, d.byteLength, true)
    out.set(d, off)
    off += d.byteLength
  })
  return out
}

const codeOf = (fn: () => unknown): string | undefined => { try { fn() } catch (err) { return (err as { code?: string }).code } return undefined }

describe.skipIf(!haveTeeFixtures)('SNP certificate table (configfs-tsm auxblob)', () => {
  const e = haveTeeFixtures ? manifest().snp.find((x) => x.file === 'go-sev-guest/attestation.bin')! : undefined
  it('yields the VCEK, ASK and ARK, and a report verifies with the table alone', () => {
    const milan = AMD_ROOTS.find((r) => r.product === 'Milan')!
    const pem = (s: string) => new TextEncoder().encode(s)
    const table = certTable([[SNP_CERT_GUIDS.VCEK, fixture(e!.vek)], [SNP_CERT_GUIDS.ASK, pem(milan.ask)], [SNP_CERT_GUIDS.ARK, pem(milan.ark)]])
    expect(isCertTable(table)).toBe(true)
    expect(parseSnpCertTable(table)).toHaveLength(3)
    const v = verifyEvidence({ kind: 'sev-snp', evidence: fixture(e!.file), certs: [table] }, { at: new Date(e!.pinAt) })
    expect(v.chain).toEqual(['SEV-VCEK', 'SEV-Milan', 'ARK-Milan'])
  })
  it('refuses a table whose entry points past its end, or without terminator', () => {
    const table = certTable([[SNP_CERT_GUIDS.VCEK, fixture(e!.vek)]])
    expect(codeOf(() => parseSnpCertTable(table.slice(0, table.byteLength - 10)))).toBe(AttestationErrorCode.TRUNCATED)
    expect(codeOf(() => parseSnpCertTable(table.slice(0, 30)))).toBe(AttestationErrorCode.TRUNCATED)
  })
})

describe('NonceCache', () => {
  it('refuses a nonce seen before and stays within its bound, forgetting the oldest', () => {
    const c = new NonceCache(3)
    const n = (i: number) => new Uint8Array(32).fill(i)
    expect(c.add(n(1))).toBe(true)
    expect(c.add(n(1))).toBe(false)
    for (const i of [2, 3, 4]) expect(c.add(n(i))).toBe(true)
    expect(c.size).toBe(3)
    expect(c.add(n(4))).toBe(false)
    expect(c.add(n(1))).toBe(true)
  })
})
