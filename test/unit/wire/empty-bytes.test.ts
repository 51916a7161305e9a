/**
 * Absent bytes fields decode to one shared, frozen, zero-length array (`npm run proto` writes it
 * into the generated decoders): a decode allocates nothing for a field it does not find, and the
 * encoders still treat the field as absent.
 */
import { describe, expect, it } from 'vitest'
import { EMPTY_BYTES } from '../../../src/wire/empty-bytes.js'
import { Envelope, SignerCert } from '../../../src/wire/market.js'

describe('generated decoders: absent bytes fields', () => {
  it('are the one frozen empty array, in every message that lacks them', () => {
    const a = Envelope.decode(Envelope.encode({ body: new Uint8Array([1, 2, 3]), signature: new Uint8Array(0) }))
    const b = SignerCert.decode(SignerCert.encode({ hotkey: new Uint8Array([9]), signingKey: new Uint8Array(0), notAfter: 0n, signature: new Uint8Array(0) }))
    expect(a.signature).toBe(EMPTY_BYTES)
    expect(b.signingKey).toBe(EMPTY_BYTES)
    expect(b.signature).toBe(EMPTY_BYTES)
    expect(EMPTY_BYTES.byteLength).toBe(0)
    expect(Object.isFrozen(EMPTY_BYTES)).toBe(true)
    // a present field is still its own bytes
    expect([...a.body]).toEqual([1, 2, 3])
    expect([...b.hotkey]).toEqual([9])
  })

  it('encode as absent, so a message re-encodes to the bytes it was decoded from', () => {
    const wire = Envelope.encode({ body: new Uint8Array([7]), signature: new Uint8Array(0) })
    const back = Envelope.encode(Envelope.decode(wire))
    expect(Buffer.from(back).equals(Buffer.from(wire))).toBe(true)
    expect(Envelope.encode({ body: EMPTY_BYTES, signature: EMPTY_BYTES }).byteLength).toBe(0)
  })
})
