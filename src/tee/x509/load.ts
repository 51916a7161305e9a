import { X509Certificate, type KeyObject } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { readTlv } from './der.js'

/** At most this many certificates from one bundle: a chain is three to five; more is abuse. */
export const MAX_CERTS_PER_BUNDLE = 16
/** Largest certificate bundle accepted (bytes). */
export const MAX_BUNDLE_SIZE = 64 * 1024

const PEM_RE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g

/**
 * Loads certificates from a PEM bundle (one or more CERTIFICATE blocks, any text around them) or a
 * single DER certificate. Throws MALFORMED on anything else.
 */
export function loadCertificates (bytes: Uint8Array): X509Certificate[] {
  if (bytes.byteLength > MAX_BUNDLE_SIZE) fail(AttestationErrorCode.MALFORMED, `certificate bundle over ${MAX_BUNDLE_SIZE} bytes`)
  try {
    if (bytes[0] === 0x30) return splitDer(bytes).map((d) => new X509Certificate(d))
    const text = Buffer.from(bytes).toString('latin1')
    const blocks = text.match(PEM_RE) ?? []
    if (blocks.length === 0) fail(AttestationErrorCode.MALFORMED, 'no certificate in bundle')
    if (blocks.length > MAX_CERTS_PER_BUNDLE) fail(AttestationErrorCode.MALFORMED, `over ${MAX_CERTS_PER_BUNDLE} certificates in bundle`)
    return blocks.map((b) => new X509Certificate(b))
  } catch (err) {
    if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code in AttestationErrorCode) throw err
    fail(AttestationErrorCode.MALFORMED, 'certificate does not parse', err)
  }
}

/**
 * Splits concatenated DER certificates by their outer SEQUENCE lengths (X.690 definite form).
 * Some producers put DER rather than PEM where a chain is expected.
 */
function splitDer (bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let o = 0
  while (o < bytes.byteLength) {
    if (out.length >= MAX_CERTS_PER_BUNDLE) fail(AttestationErrorCode.MALFORMED, `over ${MAX_CERTS_PER_BUNDLE} certificates in bundle`)
    const t = readTlv(bytes, o)
    if (t.tag !== 0x30) fail(AttestationErrorCode.MALFORMED, 'DER certificate expected')
    out.push(bytes.subarray(o, t.end))
    o = t.end
  }
  return out
}

/** The subject common name, for messages and for classifying AMD certificates. */
export function commonName (cert: X509Certificate): string {
  const m = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)
  return m?.[1] ?? ''
}

/**
 * The certificate's public key. A certificate of a peer can parse while its key does not (an EC
 * point with an unknown prefix byte, a point off the curve): node:crypto then throws an OpenSSL
 * error on reading `publicKey`, which this turns into MALFORMED naming `what`.
 */
export function publicKeyOf (cert: X509Certificate, what: string): KeyObject {
  try {
    return cert.publicKey
  } catch (err) {
    fail(AttestationErrorCode.MALFORMED, `${what} public key does not decode`, err)
  }
}
