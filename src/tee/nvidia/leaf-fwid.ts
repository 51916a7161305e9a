import type { X509Certificate } from 'node:crypto'
import { extensionValues } from '../x509/extensions.js'
import { children, oidString, readTlv, type Tlv } from '../x509/der.js'
import { OID_DICE_FWID, OID_DICE_TCB_INFO, OID_SHA384 } from './constants.js'

/** Elements visited in one extension; a real one has a dozen. */
const MAX_NODES = 256

/**
 * The SHA-384 firmware ids in the GPU attestation key's leaf certificate: every
 * FWID ::= SEQUENCE { hashAlg OID, digest OCTET STRING } inside the TCG DICE FWID extension (Hopper)
 * or the DICE TcbInfo extension's fwids (Blackwell). Empty when the certificate has neither.
 * Throws MALFORMED when such an extension does not parse.
 */
export function leafFwids (cert: X509Certificate): Uint8Array[] {
  const ext = extensionValues(cert)
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
