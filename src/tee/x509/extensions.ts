import { AsnConvert } from '@peculiar/asn1-schema'
import { Certificate } from '@peculiar/asn1-x509'
import type { X509Certificate } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'

/** The raw value (extnValue contents) of every extension of a certificate, by OID. */
export function extensionValues (cert: X509Certificate): Map<string, Uint8Array> {
  let parsed: Certificate
  try {
    parsed = AsnConvert.parse(cert.raw, Certificate)
  } catch (err) {
    fail(AttestationErrorCode.MALFORMED, 'certificate does not parse', err)
  }
  const out = new Map<string, Uint8Array>()
  for (const e of parsed.tbsCertificate.extensions ?? []) out.set(e.extnID, new Uint8Array(e.extnValue.buffer))
  return out
}

/** Decodes a DER INTEGER that fits in 32 bits (the SPL extensions of AMD certificates), or undefined. */
export function derSmallInteger (v: Uint8Array | undefined): number | undefined {
  if (v == null || v.byteLength < 3 || v[0] !== 0x02 || v[1] !== v.byteLength - 2 || v[1] > 4) return undefined
  let n = 0
  for (let i = 2; i < v.byteLength; i++) n = n * 256 + v[i]
  return n
}
