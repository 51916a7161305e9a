import type { X509Certificate } from 'node:crypto'
import { AttestationErrorCode, fail } from '../errors.js'
import { checkLinkCrl, type Crl } from './crl.js'
import { commonName } from './load.js'
import { checkOcspStatus, ocspAnswersFor, type OcspResponse } from './ocsp.js'

/**
 * Revocation of a verified path from CRLs and OCSP answers together, as NVIDIA publishes it: CRLs
 * for the top links of its chains (`crl.ndis.nvidia.com`: the device identity root's and each chip
 * identity CA's, the CoRIM signing root's) and OCSP for every certificate (`ocsp.ndis.nvidia.com`).
 * AMD and Intel publish CRLs only, and keep `checkRevocation` (crl.ts).
 */
export interface RevocationSources {
  crls?: readonly Crl[]
  /** parsed OCSP answers; each is used for the link it is about */
  ocsp?: readonly OcspResponse[]
  /** every link (but an exempt leaf) must have a status; otherwise links without one are skipped */
  required?: boolean
}

/**
 * Checks each link of `path` (leaf first, root last) whose status is at hand: the newest CRL of
 * its issuer (current, signed by it, not listing it) and every OCSP answer about it
 * (checkOcspStatus); all of them where several are given. `exemptLeaf`: the leaf may go without a status (an NVIDIA GPU's leaf
 * is an alias key its BROM certificate issues at boot, for which NVIDIA publishes none), but is
 * checked when one is given. Throws CERT_MISSING for a link without a status when `required`,
 * CERT_REVOKED, or what the checks throw. Returns whether every link that needs one had a status.
 */
export function checkPathRevocation (path: readonly X509Certificate[], src: RevocationSources, at: Date, opts: { exemptLeaf?: boolean } = {}): boolean {
  const crls = src.crls ?? []
  const answers = src.ocsp ?? []
  let covered = true
  for (let i = 0; i + 1 < path.length; i++) {
    const cert = path[i]
    const issuer = path[i + 1]
    const byCrl = checkLinkCrl(cert, issuer, crls, at)
    // every answer about the link must check: a stale or revoked one is not hidden by a good one
    const about = answers.filter((a) => ocspAnswersFor(a, cert, issuer).length > 0)
    for (const a of about) checkOcspStatus(a, path, i, at)
    if (byCrl || about.length > 0 || (i === 0 && opts.exemptLeaf === true)) continue
    if (src.required === true) fail(AttestationErrorCode.CERT_MISSING, `no revocation status for ${commonName(cert)}: no CRL from ${commonName(issuer)} and no OCSP answer about it`)
    covered = false
  }
  return covered
}

