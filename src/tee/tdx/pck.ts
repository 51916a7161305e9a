import type { X509Certificate } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { extensionValues } from '../x509/extensions.js'
import { children, oidString, readTlv, smallInt } from '../x509/der.js'

/** Intel SGX PCK certificate extensions (Intel "SGX PCK Certificate and CRL Profile", section 1.5). */
const SGX_EXTENSIONS = '1.2.840.113741.1.13.1'
const TCB = `${SGX_EXTENSIONS}.2`
const PCE_ID = `${SGX_EXTENSIONS}.3`
const FMSPC = `${SGX_EXTENSIONS}.4`

/** What the PCK leaf says about the platform: its family (FMSPC) and the TCB it was issued for. */
export interface PckPlatform {
  fmspc: Uint8Array
  pceId: Uint8Array
  /** SGX TCB components 1..16 */
  tcbComponents: number[]
  pceSvn: number
  cpuSvn: Uint8Array
}

/**
 * Reads the SGX extensions of a PCK certificate: SEQUENCE of SEQUENCE { OID, value }, where the TCB
 * entry is itself a SEQUENCE of { OID .2.1 .. .2.16 component SVNs, .2.17 PCESVN, .2.18 CPUSVN }.
 * Throws CHAIN_INVALID when the leaf is not a PCK certificate.
 */
export function readPckPlatform (leaf: X509Certificate): PckPlatform {
  const ext = extensionValues(leaf).get(SGX_EXTENSIONS)
  if (ext == null) fail(AttestationErrorCode.CHAIN_INVALID, 'leaf certificate has no SGX extensions (not a PCK certificate)')
  const top = readTlv(ext, 0)
  const out: Partial<PckPlatform> = {}
  for (const entry of children(ext, top)) {
    const [oid, value] = children(ext, entry, 1)
    if (oid == null || value == null || oid.tag !== 0x06) continue
    const id = oidString(ext, oid)
    if (id === FMSPC) out.fmspc = ext.slice(value.start, value.end)
    else if (id === PCE_ID) out.pceId = ext.slice(value.start, value.end)
    else if (id === TCB) {
      const comps = new Array<number>(16).fill(0)
      for (const c of children(ext, value, 2)) {
        const [cOid, cVal] = children(ext, c, 3)
        if (cOid == null || cVal == null) continue
        const arc = Number(oidString(ext, cOid).slice(TCB.length + 1))
        if (arc >= 1 && arc <= 16) comps[arc - 1] = smallInt(ext, cVal)
        else if (arc === 17) out.pceSvn = smallInt(ext, cVal)
        else if (arc === 18) out.cpuSvn = ext.slice(cVal.start, cVal.end)
      }
      out.tcbComponents = comps
    }
  }
  if (out.fmspc == null || out.tcbComponents == null || out.pceSvn == null || out.cpuSvn == null || out.pceId == null) {
    fail(AttestationErrorCode.MALFORMED, 'PCK certificate SGX extensions incomplete')
  }
  return out as PckPlatform
}
