import type { X509Certificate } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { Reader } from '../bytes.js'
import { toHex } from '../../util/hex.js'
import { loadCertificates } from '../x509/load.js'

/**
 * GUIDs of the SEV-SNP certificate table (GHCB spec, "SNP Extended Guest Request": the table the
 * hypervisor returns, and configfs-tsm's `auxblob`), in their canonical string form.
 */
export const SNP_CERT_GUIDS = {
  VCEK: '63da758d-e664-4564-adc5-f4b93be8accd',
  VLEK: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ASK: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ARK: 'c0b406a4-a803-4952-9743-3fb6014cd0ae'
} as const

/** Most entries accepted from one table. */
export const MAX_CERT_TABLE_ENTRIES = 16

/** GUIDs are stored little-endian in their first three fields (RFC 4122 / EFI_GUID layout). */
function guidString (b: Uint8Array): string {
  const le = (s: Uint8Array): string => toHex(s.slice().reverse())
  return `${le(b.subarray(0, 4))}-${le(b.subarray(4, 6))}-${le(b.subarray(6, 8))}-${toHex(b.subarray(8, 10))}-${toHex(b.subarray(10, 16))}`
}

/** True when the bytes look like a certificate table rather than a PEM or DER certificate. */
export function isCertTable (bytes: Uint8Array): boolean {
  return bytes.byteLength >= 24 && bytes[0] !== 0x30 && !Buffer.from(bytes.subarray(0, 11)).toString('latin1').startsWith('-----BEGIN')
}

/**
 * Parses an SEV-SNP certificate table: entries of { GUID (16), offset u32, length u32 } ended by an
 * all-zero entry; offsets are from the start of the table. Returns every certificate it names.
 * Unknown GUIDs are skipped (the table may carry other blobs).
 */
export function parseSnpCertTable (bytes: Uint8Array): X509Certificate[] {
  const r = new Reader(bytes, 'snp certificate table')
  const certs: X509Certificate[] = []
  const known = new Set<string>(Object.values(SNP_CERT_GUIDS))
  for (let i = 0; ; i++) {
    if (i > MAX_CERT_TABLE_ENTRIES) fail(AttestationErrorCode.MALFORMED, 'snp certificate table: too many entries')
    const at = i * 24
    const guid = r.slice(at, 16)
    const offset = r.u32(at + 16)
    const length = r.u32(at + 20)
    if (guid.every((x) => x === 0)) break
    if (!known.has(guidString(guid))) continue
    certs.push(...loadCertificates(r.slice(offset, length)))
  }
  return certs
}
