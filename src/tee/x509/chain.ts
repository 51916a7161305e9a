import type { X509Certificate } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { commonName } from './load.js'

/** Longest path walked from a leaf to a root; real chains have two or three links. */
export const MAX_CHAIN_DEPTH = 5

/** Throws CERT_EXPIRED when `at` is outside the certificate's validity window. */
export function checkValidity (cert: X509Certificate, at: Date): void {
  if (at < cert.validFromDate || at > cert.validToDate) {
    fail(AttestationErrorCode.CERT_EXPIRED, `${commonName(cert)} valid ${cert.validFromDate.toISOString()} to ${cert.validToDate.toISOString()}, not at ${at.toISOString()}`)
  }
}

function signs (issuer: X509Certificate, child: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey)
  } catch {
    return false
  }
}

/**
 * Builds and verifies the path from `leaf` to one of the pinned `roots`, through `intermediates`
 * (untrusted; each must be signed by the next). Every certificate on the path, root included, must be
 * valid at `at`, and every issuer must be a CA. Returns the path, leaf first, pinned root last.
 * Throws CHAIN_INVALID when no path reaches a pinned root, CERT_EXPIRED when one exists but a
 * certificate on it is out of its validity window.
 */
export function verifyChain (leaf: X509Certificate, intermediates: readonly X509Certificate[], roots: readonly X509Certificate[], at: Date): X509Certificate[] {
  const path: X509Certificate[] = [leaf]
  let current = leaf
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    const root = roots.find((r) => signs(r, current))
    if (root != null) {
      // a pinned root signing itself is the anchor; we are done
      if (current.fingerprint256 !== root.fingerprint256) path.push(root)
      for (const c of path) checkValidity(c, at)
      return path
    }
    const next = intermediates.find((c) => c.ca && c.fingerprint256 !== current.fingerprint256 &&
      !path.some((p) => p.fingerprint256 === c.fingerprint256) && signs(c, current))
    if (next == null) break
    path.push(next)
    current = next
  }
  fail(AttestationErrorCode.CHAIN_INVALID, `no path from ${commonName(leaf)} to a pinned root`)
}
