import { constants, verify as cryptoVerify, type X509Certificate } from 'node:crypto'
import { bytesEqual } from '../../util/bytes.js'
import { AttestationErrorCode, fail } from '../errors.js'
import { commonName } from './load.js'
import { children, oidString, readTlv, type Tlv } from './der.js'
import { toHex } from '../../util/hex.js'

/** Largest CRL accepted (Intel's PCK CRLs are a few KiB). */
export const MAX_CRL_SIZE = 512 * 1024
/** Most revoked entries read from one CRL. */
export const MAX_CRL_ENTRIES = 100_000

/** Signature algorithms a CRL or an OCSP answer may use, by OID: ECDSA (RFC 5758; Intel, NVIDIA) and RSA PKCS#1 v1.5 (RFC 4055). */
export const SIGNATURE_HASH: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512'
}
/** RSASSA-PSS (RFC 4055 §3.1; AMD signs its KDS CRLs with it), whose hash and salt are parameters */
const RSASSA_PSS = '1.2.840.113549.1.1.10'
const HASH_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512'
}

/** A parsed certificate revocation list (RFC 5280 §5): what the verifier needs of it. */
export interface Crl {
  /** DER of the issuer Name, compared with the issuing certificate's subject */
  issuer: Uint8Array
  thisUpdate: Date
  /** absent in a CRL that promises no next issue; such a CRL is refused as never current */
  nextUpdate?: Date
  /** serial numbers of the revoked certificates: lowercase hex without leading zeros */
  revoked: Set<string>
  /** the signed part (tbsCertList DER), the signature algorithm OID and the signature (DER) */
  tbs: Uint8Array
  signatureAlgorithm: string
  /** RSASSA-PSS only: the hash and salt length from the algorithm's parameters */
  pss?: { hash: string, saltLength: number }
  signature: Uint8Array
}

/**
 * Parses a DER CertificateList with the bounded DER reader:
 * SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }, where tbsCertList is
 * SEQUENCE { version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?, [0] extensions? }.
 * Throws MALFORMED.
 */
export function parseCrl (der: Uint8Array): Crl {
  if (der.byteLength > MAX_CRL_SIZE) fail(AttestationErrorCode.MALFORMED, `CRL over ${MAX_CRL_SIZE} bytes`)
  const outer = readTlv(der, 0)
  if (outer.tag !== 0x30 || outer.end !== der.byteLength) fail(AttestationErrorCode.MALFORMED, 'CRL is not one DER SEQUENCE')
  const [tbsT, algT, sigT] = expect(children(der, outer), 3, 'CertificateList')
  if (tbsT.tag !== 0x30 || algT.tag !== 0x30 || sigT.tag !== 0x03) fail(AttestationErrorCode.MALFORMED, 'CertificateList fields')
  const fields = children(der, tbsT, 1)
  let i = 0
  if (fields[i]?.tag === 0x02) i++ // version v2
  const innerAlg = fields[i++]
  const issuer = fields[i++]
  const thisUpdate = fields[i++]
  if (innerAlg?.tag !== 0x30 || issuer?.tag !== 0x30 || thisUpdate === undefined) fail(AttestationErrorCode.MALFORMED, 'TBSCertList fields')
  let nextUpdate: Date | undefined
  if (fields[i] !== undefined && (fields[i].tag === 0x17 || fields[i].tag === 0x18)) nextUpdate = derTime(der, fields[i++])
  const revoked = new Set<string>()
  if (fields[i]?.tag === 0x30) {
    const entries = children(der, fields[i++], 2)
    if (entries.length > MAX_CRL_ENTRIES) fail(AttestationErrorCode.MALFORMED, `CRL lists over ${MAX_CRL_ENTRIES} certificates`)
    for (const e of entries) {
      const serial = children(der, e, 3)[0]
      if (e.tag !== 0x30 || serial?.tag !== 0x02) fail(AttestationErrorCode.MALFORMED, 'revoked certificate entry')
      revoked.add(serialHex(der.subarray(serial.start, serial.end)))
    }
  }
  if (fields[i] !== undefined && fields[i].tag !== 0xa0) fail(AttestationErrorCode.MALFORMED, 'TBSCertList trailing field')
  const algOid = children(der, algT, 1)[0]
  if (algOid?.tag !== 0x06) fail(AttestationErrorCode.MALFORMED, 'CRL signature algorithm')
  const innerOid = children(der, innerAlg, 1)[0]
  const signatureAlgorithm = oidString(der, algOid)
  const pss = signatureAlgorithm === RSASSA_PSS ? pssParams(der, algT) : undefined
  // [REJECT] RFC 5280 §5.1.1.2: the two algorithm fields must agree
  if (innerOid?.tag !== 0x06 || oidString(der, innerOid) !== signatureAlgorithm) fail(AttestationErrorCode.MALFORMED, 'CRL signature algorithms differ')
  // BIT STRING: a leading unused-bits byte, 0 for a signature
  if (sigT.end - sigT.start < 2 || der[sigT.start] !== 0) fail(AttestationErrorCode.MALFORMED, 'CRL signature value')
  return {
    issuer: der.slice(issuer.at, issuer.end),
    thisUpdate: derTime(der, thisUpdate),
    nextUpdate,
    revoked,
    tbs: der.slice(tbsT.at, tbsT.end),
    signatureAlgorithm,
    pss,
    signature: der.slice(sigT.start + 1, sigT.end)
  }
}

const PEM_CRL_RE = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+?)-----END X509 CRL-----/g
/** Most CRLs read from one file. */
export const MAX_CRLS_PER_FILE = 8

/** CRLs from a file: one DER CertificateList, or PEM `X509 CRL` blocks. Throws MALFORMED. */
export function loadCrls (bytes: Uint8Array): Crl[] {
  if (bytes[0] === 0x30) return [parseCrl(bytes)]
  if (bytes.byteLength > MAX_CRL_SIZE * 2) fail(AttestationErrorCode.MALFORMED, 'CRL file too large')
  const out: Crl[] = []
  for (const m of Buffer.from(bytes).toString('latin1').matchAll(PEM_CRL_RE)) {
    if (out.length >= MAX_CRLS_PER_FILE) fail(AttestationErrorCode.MALFORMED, `over ${MAX_CRLS_PER_FILE} CRLs in one file`)
    out.push(parseCrl(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')))
  }
  if (out.length === 0) fail(AttestationErrorCode.MALFORMED, 'neither a DER CRL nor a PEM X509 CRL')
  return out
}

/**
 * Checks that `crl` is the current CRL of `issuer` at `at`: issued under the issuer's name,
 * signed by its key (ECDSA), and `at` within [thisUpdate, nextUpdate]. Throws CHAIN_INVALID for a
 * CRL of another issuer, SIGNATURE_INVALID, STALE, or MALFORMED.
 */
export function checkCrl (crl: Crl, issuer: X509Certificate, at: Date): void {
  // [REJECT] the CRL names another issuer
  if (!bytesEqual(crl.issuer, subjectDer(issuer))) fail(AttestationErrorCode.CHAIN_INVALID, `CRL is not from ${commonName(issuer)}`)
  const hash = crl.pss?.hash ?? SIGNATURE_HASH[crl.signatureAlgorithm]
  if (hash === undefined) fail(AttestationErrorCode.MALFORMED, `CRL signature algorithm ${crl.signatureAlgorithm} not supported`)
  let ok = false
  try {
    const key = crl.pss !== undefined
      ? { key: issuer.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: crl.pss.saltLength }
      : issuer.publicKey
    ok = cryptoVerify(hash, crl.tbs, key, crl.signature)
  } catch { ok = false }
  // [REJECT] the CRL is not signed by the issuer's key
  if (!ok) fail(AttestationErrorCode.SIGNATURE_INVALID, `CRL of ${commonName(issuer)} does not verify`)
  // [REJECT] a CRL says nothing about times outside its window
  if (at < crl.thisUpdate || crl.nextUpdate === undefined || at > crl.nextUpdate) {
    fail(AttestationErrorCode.STALE, `CRL of ${commonName(issuer)} is current from ${crl.thisUpdate.toISOString()} to ${crl.nextUpdate?.toISOString() ?? '(no next update)'}, not at ${at.toISOString()}`)
  }
}

/**
 * Revocation along a verified path (leaf first, root last): every certificate but the root must be
 * covered by a current CRL of the certificate that issued it (the newest given, when several are),
 * and must not be listed there. `links: 'into-root'` checks only the certificate the root signed:
 * AMD publishes one CRL per product, signed by the ARK, for the ASK and ASVK, and none below.
 * Throws CERT_MISSING when a link has no CRL among `crls`, CERT_REVOKED, or what checkCrl throws.
 */
export function checkRevocation (path: readonly X509Certificate[], crls: readonly Crl[], at: Date, opts: { links?: 'all' | 'into-root' } = {}): void {
  for (let i = opts.links === 'into-root' ? Math.max(0, path.length - 2) : 0; i + 1 < path.length; i++) {
    if (!checkLinkCrl(path[i], path[i + 1], crls, at)) fail(AttestationErrorCode.CERT_MISSING, `no CRL from ${commonName(path[i + 1])} among the CRLs given`)
  }
}

/**
 * One link by CRL: the newest of `crls` that `issuer` issued (an older one cannot hide a later
 * revocation) must be current and signed by it, and must not list `cert`. Returns false when none
 * of `crls` is the issuer's; throws CERT_REVOKED, or what checkCrl throws.
 */
export function checkLinkCrl (cert: X509Certificate, issuer: X509Certificate, crls: readonly Crl[], at: Date): boolean {
  const issuerName = subjectDer(issuer)
  let crl: Crl | undefined
  for (const c of crls) if (bytesEqual(c.issuer, issuerName) && (crl === undefined || c.thisUpdate > crl.thisUpdate)) crl = c
  if (crl === undefined) return false
  checkCrl(crl, issuer, at)
  // [REJECT] the issuer revoked this certificate
  if (crl.revoked.has(serialHex(Buffer.from(cert.serialNumber, 'hex')))) {
    fail(AttestationErrorCode.CERT_REVOKED, `${commonName(cert)} (serial ${cert.serialNumber}) is revoked by ${commonName(issuer)}`)
  }
  return true
}

/**
 * RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] DEFAULT sha1, maskGenAlgorithm [1] DEFAULT
 * mgf1SHA1, saltLength [2] DEFAULT 20, trailerField [3] DEFAULT 1 }. MGF1 must use the same hash
 * (node:crypto verifies PSS that way).
 */
function pssParams (der: Uint8Array, alg: Tlv): { hash: string, saltLength: number } {
  const params = children(der, alg, 1)[1]
  if (params?.tag !== 0x30) fail(AttestationErrorCode.MALFORMED, 'RSASSA-PSS parameters')
  let hash = 'sha1'
  let mgfHash = 'sha1'
  let saltLength = 20
  for (const p of children(der, params, 2)) {
    const inner = children(der, p, 3)[0]
    if (p.tag === 0xa0 && inner?.tag === 0x30) {
      hash = hashOf(der, inner)
    } else if (p.tag === 0xa1 && inner?.tag === 0x30) {
      // MaskGenAlgorithm: SEQUENCE { id-mgf1, hashAlgorithm }
      const mgfHashAlg = children(der, inner, 4)[1]
      if (mgfHashAlg?.tag !== 0x30) fail(AttestationErrorCode.MALFORMED, 'RSASSA-PSS mask generation')
      mgfHash = hashOf(der, mgfHashAlg)
    } else if (p.tag === 0xa2 && inner?.tag === 0x02) {
      if (inner.end - inner.start > 2) fail(AttestationErrorCode.MALFORMED, 'RSASSA-PSS salt length')
      saltLength = 0
      for (let i = inner.start; i < inner.end; i++) saltLength = saltLength * 256 + der[i]
    } else if (p.tag !== 0xa3) fail(AttestationErrorCode.MALFORMED, 'RSASSA-PSS parameters')
  }
  if (mgfHash !== hash) fail(AttestationErrorCode.MALFORMED, 'RSASSA-PSS with a mask hash other than its hash')
  return { hash, saltLength }
}

function hashOf (der: Uint8Array, alg: Tlv): string {
  const oid = children(der, alg, 4)[0]
  const hash = oid?.tag === 0x06 ? HASH_OIDS[oidString(der, oid)] : undefined
  if (hash === undefined) fail(AttestationErrorCode.MALFORMED, 'unknown hash algorithm')
  return hash
}

/** DER of a certificate's subject Name (the sixth or fifth field of its TBSCertificate). */
export function subjectDer (cert: X509Certificate): Uint8Array {
  const raw = new Uint8Array(cert.raw)
  const tbs = children(raw, readTlv(raw, 0))[0]
  if (tbs?.tag !== 0x30) fail(AttestationErrorCode.MALFORMED, 'certificate TBSCertificate')
  const f = children(raw, tbs, 1)
  const subject = f[f[0]?.tag === 0xa0 ? 5 : 4]
  if (subject?.tag !== 0x30) fail(AttestationErrorCode.MALFORMED, 'certificate subject')
  return raw.subarray(subject.at, subject.end)
}

/** an INTEGER's content bytes as lowercase hex without leading zeros ("0" for zero) */
export function serialHex (bytes: Uint8Array): string {
  const h = toHex(bytes).replace(/^0+/, '')
  return h === '' ? '0' : h
}

function expect (ts: Tlv[], n: number, what: string): Tlv[] {
  if (ts.length !== n) fail(AttestationErrorCode.MALFORMED, `${what} has ${ts.length} fields`)
  return ts
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950–2049) or GeneralizedTime (YYYYMMDDHHMMSSZ) */
export function derTime (bytes: Uint8Array, t: Tlv): Date {
  const s = Buffer.from(bytes.subarray(t.start, t.end)).toString('latin1')
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : t.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null
  if (m == null) fail(AttestationErrorCode.MALFORMED, 'DER time')
  let year = Number(m[1])
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900
  const d = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])))
  if (Number.isNaN(d.getTime())) fail(AttestationErrorCode.MALFORMED, 'DER time')
  return d
}
