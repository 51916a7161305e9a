import { createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto'
import { bytesEqual } from '../../util/bytes.js'
import { AttestationErrorCode, fail } from '../errors.js'
import { checkValidity } from './chain.js'
import { SIGNATURE_HASH, serialHex, subjectDer, derTime } from './crl.js'
import { children, oidString, readTlv, type Tlv } from './der.js'
import { commonName } from './load.js'

/**
 * OCSP (RFC 6960): the request for one certificate's status, and the checks on an answer. NVIDIA
 * publishes the revocation status of its GPU device and RIM signing certificates by OCSP
 * (`ocsp.ndis.nvidia.com`), and CRLs only for the top links. A supplier fetches the answers and
 * sends them with its GPU evidence (stapling); a renter checks them against the same pinned chain
 * the evidence verified to, so it needs no connection to NVIDIA.
 */

/** NVIDIA's OCSP responder (its verifier's default; the certificates' AIA names it over http). */
export const NVIDIA_OCSP_URL = 'https://ocsp.ndis.nvidia.com/'

/** Largest OCSP response read: one answer, its signature and a responder certificate or two. */
export const MAX_OCSP_RESPONSE_SIZE = 16 * 1024
/** Most SingleResponses read from one answer, and certificates it carries. */
const MAX_SINGLE_RESPONSES = 16
const MAX_RESPONSE_CERTS = 4
/** A responder's clock may run ahead of ours by this much (thisUpdate in our future). */
export const OCSP_CLOCK_SKEW_MS = 5 * 60_000

const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1'
const ID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9'
const SHA384_OID = '2.16.840.1.101.3.4.2.2'
/** CertID hash algorithms accepted in answers */
const CERT_ID_HASH: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  [SHA384_OID]: 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512'
}
const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(4)', 'sigRequired', 'unauthorized']

export type OcspCertStatus = 'good' | 'revoked' | 'unknown'

/** What one SingleResponse says about one certificate. */
export interface OcspSingleResponse {
  /** CertID: its hash algorithm (node:crypto name), the issuer's name and key hashes, the serial */
  hash: string
  issuerNameHash: Uint8Array
  issuerKeyHash: Uint8Array
  /** lowercase hex without leading zeros, as crl.ts keeps serials */
  serial: string
  status: OcspCertStatus
  revokedAt?: Date
  thisUpdate: Date
  nextUpdate?: Date
}

/** A parsed, successful OCSP response carrying a BasicOCSPResponse. */
export interface OcspResponse {
  /** ResponderID: the responder's Name (DER) or the SHA-1 of its public key (for display: the signer is found by its signature) */
  responderName?: Uint8Array
  responderKeyHash?: Uint8Array
  producedAt: Date
  responses: OcspSingleResponse[]
  /** the signed ResponseData (DER), the signature algorithm OID and the signature */
  tbs: Uint8Array
  signatureAlgorithm: string
  signature: Uint8Array
  /** certificates the responder sent: a delegated responder's own, and maybe its issuers */
  certs: X509Certificate[]
}

// --- the request --------------------------------------------------------------------------------

function derLength (n: number): number[] {
  if (n < 0x80) return [n]
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return [0x80 | bytes.length, ...bytes]
}
const der = (tag: number, ...parts: Uint8Array[]): Uint8Array => {
  const body = Buffer.concat(parts)
  return new Uint8Array(Buffer.concat([Buffer.from([tag, ...derLength(body.byteLength)]), body]))
}
const SHA384_ALGORITHM = der(0x30, der(0x06, new Uint8Array([0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02])), der(0x05))

/** The contents of a certificate's subjectPublicKey BIT STRING, less its unused-bits byte. */
function publicKeyBits (cert: X509Certificate): Uint8Array {
  const raw = new Uint8Array(cert.raw)
  const tbs = children(raw, readTlv(raw, 0))[0]
  if (tbs?.tag !== 0x30) fail(AttestationErrorCode.MALFORMED, 'certificate TBSCertificate')
  const f = children(raw, tbs, 1)
  const spki = f[f[0]?.tag === 0xa0 ? 6 : 5]
  const bits = spki?.tag === 0x30 ? children(raw, spki, 2)[1] : undefined
  if (bits?.tag !== 0x03 || bits.end - bits.start < 2) fail(AttestationErrorCode.MALFORMED, 'certificate public key')
  return raw.subarray(bits.start + 1, bits.end)
}

/** The serial's INTEGER contents as the certificate holds them. */
function serialBytes (cert: X509Certificate): Uint8Array {
  let hex = cert.serialNumber.toLowerCase()
  if (hex.length % 2 === 1) hex = '0' + hex
  // DER INTEGER: positive, so a leading 0x00 where the first byte's top bit is set
  if (/^[89a-f]/.test(hex)) hex = '00' + hex
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

/**
 * OCSPRequest for `cert` issued by `issuer`: one Request whose CertID is hashed with SHA-384 (what
 * NVIDIA's own verifier asks with), no nonce (the answer is stapled and reused until its
 * nextUpdate, so freshness comes from its validity window), unsigned. DER, byte for byte what
 * `openssl ocsp -sha384 -no_nonce` sends.
 */
export function ocspRequest (cert: X509Certificate, issuer: X509Certificate): Uint8Array {
  const sha384 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha384').update(b).digest())
  const certId = der(0x30, SHA384_ALGORITHM, der(0x04, sha384(subjectDer(issuer))), der(0x04, sha384(publicKeyBits(issuer))), der(0x02, serialBytes(cert)))
  return der(0x30, der(0x30, der(0x30, der(0x30, certId))))
}

// --- the response -------------------------------------------------------------------------------

function parseSingle (b: Uint8Array, t: Tlv): OcspSingleResponse {
  const f = children(b, t, 5)
  const [certId, status, thisUpdate] = f
  if (t.tag !== 0x30 || certId?.tag !== 0x30 || status == null || thisUpdate?.tag !== 0x18) fail(AttestationErrorCode.MALFORMED, 'OCSP SingleResponse')
  const [alg, nameHash, keyHash, serial] = children(b, certId, 6)
  const algOid = alg?.tag === 0x30 ? children(b, alg, 7)[0] : undefined
  if (algOid?.tag !== 0x06 || nameHash?.tag !== 0x04 || keyHash?.tag !== 0x04 || serial?.tag !== 0x02) fail(AttestationErrorCode.MALFORMED, 'OCSP CertID')
  const hash = CERT_ID_HASH[oidString(b, algOid)]
  if (hash == null) fail(AttestationErrorCode.MALFORMED, `OCSP CertID hash ${oidString(b, algOid)} not supported`)
  let s: OcspCertStatus
  let revokedAt: Date | undefined
  // CertStatus: good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT
  if (status.tag === 0x80) s = 'good'
  else if (status.tag === 0xa1) {
    s = 'revoked'
    const when = children(b, status, 6)[0]
    if (when?.tag !== 0x18) fail(AttestationErrorCode.MALFORMED, 'OCSP RevokedInfo')
    revokedAt = derTime(b, when)
  } else if (status.tag === 0x82) s = 'unknown'
  else fail(AttestationErrorCode.MALFORMED, 'OCSP CertStatus')
  let nextUpdate: Date | undefined
  const next = f[3]
  if (next?.tag === 0xa0) {
    const inner = children(b, next, 6)[0]
    if (inner?.tag !== 0x18) fail(AttestationErrorCode.MALFORMED, 'OCSP nextUpdate')
    nextUpdate = derTime(b, inner)
  }
  return {
    hash,
    issuerNameHash: b.slice(nameHash.start, nameHash.end),
    issuerKeyHash: b.slice(keyHash.start, keyHash.end),
    serial: serialHex(b.subarray(serial.start, serial.end)),
    status: s,
    revokedAt,
    thisUpdate: derTime(b, thisUpdate),
    nextUpdate
  }
}

/**
 * Parses a DER OCSPResponse with the bounded DER reader. [REJECT] a responseStatus other than
 * successful (the responder refused or failed: MALFORMED with its status) and any response type
 * but id-pkix-ocsp-basic. Throws MALFORMED.
 */
export function parseOcspResponse (b: Uint8Array): OcspResponse {
  if (b.byteLength > MAX_OCSP_RESPONSE_SIZE) fail(AttestationErrorCode.MALFORMED, `OCSP response over ${MAX_OCSP_RESPONSE_SIZE} bytes`)
  const outer = readTlv(b, 0)
  if (outer.tag !== 0x30 || outer.end !== b.byteLength) fail(AttestationErrorCode.MALFORMED, 'OCSP response is not one DER SEQUENCE')
  const [status, bytesT] = children(b, outer, 1)
  if (status?.tag !== 0x0a || status.end - status.start !== 1) fail(AttestationErrorCode.MALFORMED, 'OCSP responseStatus')
  const code = b[status.start]
  if (code !== 0) fail(AttestationErrorCode.MALFORMED, `the OCSP responder answered ${RESPONSE_STATUS[code] ?? String(code)}`)
  const rb = bytesT?.tag === 0xa0 ? children(b, bytesT, 2)[0] : undefined
  const [typeT, octets] = rb?.tag === 0x30 ? children(b, rb, 3) : []
  if (typeT?.tag !== 0x06 || octets?.tag !== 0x04) fail(AttestationErrorCode.MALFORMED, 'OCSP responseBytes')
  if (oidString(b, typeT) !== ID_PKIX_OCSP_BASIC) fail(AttestationErrorCode.MALFORMED, `OCSP response type ${oidString(b, typeT)} is not basic`)
  const basic = readTlv(b, octets.start)
  if (basic.tag !== 0x30 || basic.end !== octets.end) fail(AttestationErrorCode.MALFORMED, 'BasicOCSPResponse')
  const [tbsT, algT, sigT, certsT] = children(b, basic, 4)
  if (tbsT?.tag !== 0x30 || algT?.tag !== 0x30 || sigT?.tag !== 0x03) fail(AttestationErrorCode.MALFORMED, 'BasicOCSPResponse fields')
  const algOid = children(b, algT, 5)[0]
  if (algOid?.tag !== 0x06) fail(AttestationErrorCode.MALFORMED, 'OCSP signature algorithm')
  if (sigT.end - sigT.start < 2 || b[sigT.start] !== 0) fail(AttestationErrorCode.MALFORMED, 'OCSP signature value')
  const fields = children(b, tbsT, 5)
  let i = 0
  if (fields[i]?.tag === 0xa0) i++ // version v1, explicit
  const responder = fields[i++]
  const producedAt = fields[i++]
  const responses = fields[i++]
  if (responder == null || producedAt?.tag !== 0x18 || responses?.tag !== 0x30) fail(AttestationErrorCode.MALFORMED, 'OCSP ResponseData')
  if (fields[i] != null && fields[i].tag !== 0xa1) fail(AttestationErrorCode.MALFORMED, 'OCSP ResponseData trailing field')
  // ResponderID: byName [1] EXPLICIT Name, byKey [2] EXPLICIT KeyHash (OCTET STRING)
  const rid = children(b, responder, 6)[0]
  let responderName: Uint8Array | undefined
  let responderKeyHash: Uint8Array | undefined
  if (responder.tag === 0xa1 && rid?.tag === 0x30) responderName = b.slice(rid.at, rid.end)
  else if (responder.tag === 0xa2 && rid?.tag === 0x04) responderKeyHash = b.slice(rid.start, rid.end)
  else fail(AttestationErrorCode.MALFORMED, 'OCSP ResponderID')
  const singles = children(b, responses, 6)
  if (singles.length === 0 || singles.length > MAX_SINGLE_RESPONSES) fail(AttestationErrorCode.MALFORMED, `OCSP response with ${singles.length} answers`)
  const certs: X509Certificate[] = []
  if (certsT != null) {
    const list = certsT.tag === 0xa0 ? children(b, certsT, 5)[0] : undefined
    if (list?.tag !== 0x30) fail(AttestationErrorCode.MALFORMED, 'OCSP certs')
    const items = children(b, list, 6)
    if (items.length > MAX_RESPONSE_CERTS) fail(AttestationErrorCode.MALFORMED, `OCSP response with ${items.length} certificates`)
    for (const c of items) {
      try {
        certs.push(new X509Certificate(Buffer.from(b.subarray(c.at, c.end))))
      } catch (err) {
        fail(AttestationErrorCode.MALFORMED, 'OCSP responder certificate does not parse', err)
      }
    }
  }
  return {
    responderName,
    responderKeyHash,
    producedAt: derTime(b, producedAt),
    responses: singles.map((s) => parseSingle(b, s)),
    tbs: b.slice(tbsT.at, tbsT.end),
    signatureAlgorithm: oidString(b, algOid),
    signature: b.slice(sigT.start + 1, sigT.end),
    certs
  }
}

// --- the checks ---------------------------------------------------------------------------------

/** The answer's SingleResponses about `cert` issued by `issuer` (an answer may hold several). */
export function ocspAnswersFor (resp: OcspResponse, cert: X509Certificate, issuer: X509Certificate): OcspSingleResponse[] {
  const serial = serialHex(serialBytes(cert))
  return resp.responses.filter((s) => {
    if (s.serial !== serial) return false
    const h = (x: Uint8Array): Uint8Array => new Uint8Array(createHash(s.hash).update(x).digest())
    return bytesEqual(s.issuerNameHash, h(subjectDer(issuer))) && bytesEqual(s.issuerKeyHash, h(publicKeyBits(issuer)))
  })
}

/**
 * Checks who signed the answer: a key this chain vouches for. RFC 6960 §4.2.2.2: the CA that issued
 * the certificate, or a responder certificate that CA issued with the OCSP signing purpose. Like
 * NVIDIA's own verifier, a responder certified by any CA of the pinned path at or above the issuer
 * is taken too: each of them is trusted for every certificate below it. The signer is found by its
 * signature, not by the ResponderID, which proves nothing and which responders encode unevenly.
 * Throws SIGNATURE_INVALID where no such key signed it, CHAIN_INVALID for a responder certificate
 * the chain does not vouch for, CERT_EXPIRED for one out of its validity.
 */
function checkSigner (resp: OcspResponse, above: readonly X509Certificate[], at: Date, what: string): void {
  const hash = SIGNATURE_HASH[resp.signatureAlgorithm]
  if (hash == null) fail(AttestationErrorCode.MALFORMED, `OCSP signature algorithm ${resp.signatureAlgorithm} not supported`)
  const signed = (c: X509Certificate): boolean => { try { return cryptoVerify(hash, resp.tbs, c.publicKey, resp.signature) } catch { return false } }
  if (above.some(signed)) return
  const delegated = resp.certs.find(signed)
  // [REJECT] signed by no CA of the chain and by no certificate the answer carries
  if (delegated == null) fail(AttestationErrorCode.SIGNATURE_INVALID, `OCSP answer for ${what} does not verify`)
  // [REJECT] a responder certificate no CA of the chain issued
  if (!above.some((c) => { try { return delegated.checkIssued(c) && delegated.verify(c.publicKey) } catch { return false } })) {
    fail(AttestationErrorCode.CHAIN_INVALID, `OCSP responder ${commonName(delegated)} is not certified by the chain it answers for`)
  }
  // [REJECT] one certified for something else than answering OCSP (RFC 6960 §4.2.2.2). In NVIDIA's
  // chains a provisioner CA certifies every GPU's BROM key: without this, the key of a GPU NVIDIA
  // revoked (one extracted from the chip) could sign a "good" answer about itself
  if (!(delegated.keyUsage ?? []).includes(ID_KP_OCSP_SIGNING)) fail(AttestationErrorCode.CHAIN_INVALID, `${commonName(delegated)} is not an OCSP signing certificate`)
  checkValidity(delegated, at)
}

/**
 * The status of `path[i]` (issued by `path[i + 1]`) from `resp`, checked: an answer about exactly
 * that certificate, signed by a key the path vouches for (above), current at `at` (thisUpdate, with
 * OCSP_CLOCK_SKEW_MS of slack, to a nextUpdate it must state). Where the answer says several things
 * about the certificate, the worst counts. Throws CERT_REVOKED for a revoked certificate,
 * CERT_MISSING where the responder does not know it, STALE, SIGNATURE_INVALID, CHAIN_INVALID or
 * MALFORMED; returns when the answer is good.
 */
export function checkOcspStatus (resp: OcspResponse, path: readonly X509Certificate[], i: number, at: Date): void {
  const cert = path[i]
  const issuer = path[i + 1]
  if (cert == null || issuer == null) throw new RangeError('checkOcspStatus: no issuer for that link')
  const singles = ocspAnswersFor(resp, cert, issuer)
  if (singles.length === 0) fail(AttestationErrorCode.CERT_MISSING, `the OCSP answer is not about ${commonName(cert)}`)
  checkSigner(resp, path.slice(i + 1), at, commonName(cert))
  for (const single of singles) {
    // [REJECT] an answer not current at `at`: from the future, past its nextUpdate, or without one
    if (single.thisUpdate.getTime() > at.getTime() + OCSP_CLOCK_SKEW_MS || single.nextUpdate == null || at > single.nextUpdate) {
      fail(AttestationErrorCode.STALE, `OCSP answer for ${commonName(cert)} is current from ${single.thisUpdate.toISOString()} to ${single.nextUpdate?.toISOString() ?? '(no next update)'}, not at ${at.toISOString()}`)
    }
  }
  // [REJECT] revoked, or a status the responder does not know
  const revoked = singles.find((s) => s.status === 'revoked')
  if (revoked != null) fail(AttestationErrorCode.CERT_REVOKED, `${commonName(cert)} (serial ${cert.serialNumber}) is revoked (OCSP, since ${revoked.revokedAt?.toISOString() ?? '?'})`)
  if (singles.some((s) => s.status === 'unknown')) fail(AttestationErrorCode.CERT_MISSING, `the OCSP responder does not know ${commonName(cert)}`)
}
