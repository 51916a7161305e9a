import type { X509Certificate } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { children, oidString, readTlv, type Tlv } from '../x509/der.js'
import { OID_DICE_FWID, OID_DICE_TCB_INFO, OID_SHA384 } from './constants.js'

/** Elements visited in one extension; a real one has a dozen. */
const MAX_NODES = 256

/**
 * The extensions of a certificate by OID, read straight from its DER (RFC 5280 §4.1:
 * Certificate → tbsCertificate → [3] Extensions → Extension { extnID, critical?, extnValue }).
 * A plain walk: the full ASN.1 schema parse costs several times more, and the report verifier
 * needs only these bytes.
 */
function extensions (der: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>()
  const cert = readTlv(der, 0)
  const tbs = children(der, cert)[0]
  if (tbs?.tag !== 0x30) fail(AttestationErrorCode.MALFORMED, 'certificate: no tbsCertificate')
  const wrapper = children(der, tbs, 1).find((t) => t.tag === 0xa3)
  if (wrapper == null) return out
  const list = children(der, wrapper, 2)[0]
  if (list?.tag !== 0x30) fail(AttestationErrorCode.MALFORMED, 'certificate: extensions')
  for (const ext of children(der, list, 3)) {
    const parts = children(der, ext, 4)
    const id = parts[0]
    const value = parts[parts.length - 1]
    if (id?.tag !== 0x06 || value?.tag !== 0x04) fail(AttestationErrorCode.MALFORMED, 'certificate: extension')
    out.set(oidString(der, id), der.subarray(value.start, value.end))
  }
  return out
}

/**
 * The SHA-384 firmware ids in the GPU attestation key's leaf certificate: every
 * FWID ::= SEQUENCE { hashAlg OID, digest OCTET STRING } inside the TCG DICE FWID extension (Hopper)
 * or the DICE TcbInfo extension's fwids (Blackwell). Empty when the certificate has neither.
 * Throws MALFORMED when such an extension does not parse.
 */
export function leafFwids (cert: X509Certificate): Uint8Array[] {
  const ext = extensions(new Uint8Array(cert.raw))
  const out: Uint8Array[] = []
  for (const oid of [OID_DICE_FWID, OID_DICE_TCB_INFO]) {
    const v = ext.get(oid)
    if (v == null) continue
    let visited = 0
    const walk = (t: Tlv, depth: number): void => {
      if (++visited > MAX_NODES) return
      // constructed: universal SEQUENCE/SET or any context-specific constructed tag (TcbInfo's [6] fwids)
      if ((t.tag & 0x20) === 0) return
      const kids = children(v, t, depth)
      const [a, b] = kids
      if (kids.length === 2 && a.tag === 0x06 && b.tag === 0x04 && oidString(v, a) === OID_SHA384 && b.end - b.start === 48) {
        out.push(v.slice(b.start, b.end))
        return
      }
      for (const k of kids) walk(k, depth + 1)
    }
    walk(readTlv(v, 0), 0)
  }
  return out
}
