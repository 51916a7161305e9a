import { describe, expect, it } from 'vitest'
import { generateKeyPairSync, sign } from 'node:crypto'
import { voucherBytes, VOUCHER_BYTES_LENGTH } from '../../../src/escrow/voucher/bytes.js'
import { VoucherSigner } from '../../../src/escrow/voucher/keys.js'
import { verifyVoucher } from '../../../src/escrow/voucher/verify.js'
import { EscrowError } from '../../../src/escrow/errors.js'
import { escrowId, signer } from './fixtures.js'

describe('voucher bytes', () => {
  it('is the documented layout: domain tag, escrow id, u128 BE cumulative, u64 BE sequence', () => {
    const b = voucherBytes({ escrowId: escrowId(0xabcd), cumulative: (1n << 62n) + 5n, sequence: 0x0102n })
    expect(b.length).toBe(VOUCHER_BYTES_LENGTH)
    expect(b.length).toBe(17 + 32 + 16 + 8)
    expect(new TextDecoder().decode(b.subarray(0, 17))).toBe('bazaar-voucher-v1')
    expect(Buffer.from(b.subarray(17, 49)).toString('hex')).toBe('0'.repeat(60) + 'abcd')
    expect(Buffer.from(b.subarray(49, 65)).toString('hex')).toBe('00000000000000004000000000000005')
    expect(Buffer.from(b.subarray(65, 73)).toString('hex')).toBe('0000000000000102')
  })

  it.each([
    ['short escrow id', { escrowId: '0x1234', cumulative: 1n, sequence: 1n }],
    ['uppercase hex', { escrowId: '0x' + 'AB'.repeat(32), cumulative: 1n, sequence: 1n }],
    ['negative cumulative', { escrowId: escrowId(1), cumulative: -1n, sequence: 1n }],
    ['cumulative over u64', { escrowId: escrowId(1), cumulative: 1n << 64n, sequence: 1n }],
    ['cumulative at 2^63 (beyond the wire range)', { escrowId: escrowId(1), cumulative: 1n << 63n, sequence: 1n }],
    ['sequence zero', { escrowId: escrowId(1), cumulative: 1n, sequence: 0n }],
    ['sequence over u64', { escrowId: escrowId(1), cumulative: 1n, sequence: 1n << 64n }],
    ['sequence at 2^63', { escrowId: escrowId(1), cumulative: 1n, sequence: 1n << 63n }]
  ])('refuses %s with MALFORMED_VOUCHER', (_name, v) => {
    expect(() => voucherBytes(v)).toThrow(EscrowError)
    try { voucherBytes(v) } catch (e) { expect((e as EscrowError).code).toBe('MALFORMED_VOUCHER') }
  })
})

describe('voucher signatures (ed25519, node:crypto)', () => {
  const s = signer()
  const v = s.sign({ escrowId: escrowId(1), cumulative: 42n, sequence: 3n })

  it('verifies a voucher signed by the key', () => {
    expect(verifyVoucher(v, s.publicKeyHex)).toBe(true)
  })

  it('is deterministic (RFC 8032) and the key derives from the seed', () => {
    const again = VoucherSigner.fromSeed('0x' + '11'.repeat(32)).sign({ escrowId: escrowId(1), cumulative: 42n, sequence: 3n })
    expect(again.signature).toBe(v.signature)
    // RFC 8032 test 1 secret key gives the published public key
    const rfc = VoucherSigner.fromSeed('0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
    expect(rfc.publicKeyHex).toBe('0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
  })

  it('signs exactly the canonical bytes (an independent node:crypto signature verifies)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12)
    const body = { escrowId: escrowId(9), cumulative: 7n, sequence: 1n }
    const sig = sign(null, voucherBytes(body), privateKey)
    expect(verifyVoucher({ ...body, signature: '0x' + sig.toString('hex') }, '0x' + raw.toString('hex'))).toBe(true)
  })

  it.each([
    ['another cumulative', { ...v, cumulative: 43n }],
    ['another sequence', { ...v, sequence: 4n }],
    ['another escrow', { ...v, escrowId: escrowId(2) }],
    ['a flipped signature bit', { ...v, signature: v.signature.slice(0, -1) + (v.signature.endsWith('0') ? '1' : '0') }],
    ['a short signature', { ...v, signature: v.signature.slice(0, 66) }],
    ['a non-hex signature', { ...v, signature: '0x' + 'zz'.repeat(64) }]
  ])('rejects %s', (_name, bad) => {
    expect(verifyVoucher(bad, s.publicKeyHex)).toBe(false)
  })

  it('rejects another key and malformed keys', () => {
    expect(verifyVoucher(v, VoucherSigner.generate().publicKeyHex)).toBe(false)
    expect(verifyVoucher(v, '0x1234')).toBe(false)
  })
})
