import type { X509Certificate } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { children, oidString, readTlv } from './der.js'

const SEQUENCE = 0x30
const OID = 0x06
const BOOLEAN = 0x01
const OCTET_STRING = 0x04
/** tbsCertificate's `extensions [3] EXPLICIT` (RFC 5280 §4.1) */
const EXTENSIONS = 0xa3

/**
 * The raw value (extnValue contents) of every extension of a certificate, by OID. Read with the
 * project's bounded DER reader (der.ts): Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { …,
 * extensions [3] SEQUENCE OF Extension }, … }, Extension ::= SEQUENCE { extnID OID, critical
 * BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. Node's X509Certificate has already parsed the
 * certificate; anything else here is MALFORMED.
 */
export function extensionValues (cert: X509Certificate): Map<string, Uint8Array> {
  const der = new Uint8Array(cert.raw)
  const top = readTlv(der, 0)
  const tbs = children(der, top)[0]
  if (top.tag !== SEQUENCE || tbs?.tag !== SEQUENCE) fail(AttestationErrorCode.MALFORMED, 'certificate does not parse')
  const out = new Map<string, Uint8Array>()
  const wrapper = children(der, tbs, 1).find((t) => t.tag === EXTENSIONS)
  if (wrapper == null) return out
  const [list, extra] = children(der, wrapper, 2)
  if (list?.tag !== SEQUENCE || extra != null) fail(AttestationErrorCode.MALFORMED, 'certificate extensions do not parse')
  for (const ext of children(der, list, 3)) {
    const parts = ext.tag === SEQUENCE ? children(der, ext, 4) : []
    const [id, second, third] = parts
    const value = second?.tag === BOOLEAN ? third : second
    if (id?.tag !== OID || value?.tag !== OCTET_STRING || parts.length !== (second?.tag === BOOLEAN ? 3 : 2)) {
      fail(AttestationErrorCode.MALFORMED, 'a certificate extension does not parse')
    }
    out.set(oidString(der, id), der.slice(value.start, value.end))
  }
  return out
}

/** Decodes a DER INTEGER that fits in 32 bits (the SPL extensions of AMD certificates), or undefined. */
export function derSmallInteger (v: Uint8Array | undefined): number | undefined {
  if (v == null || v.byteLength < 3 || v[0] !== 0x02 || v[1] !== v.byteLength - 2 || v[1] > 4) return undefined
  let n = 0
  for (let i = 2; i < v.byteLength; i++) n = n * 256 + v[i]
  return n
}
