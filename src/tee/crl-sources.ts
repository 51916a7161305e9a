import { X509Certificate } from 'node:crypto'
import { bytesEqual } from '../util/bytes.js'
import { AttestationErrorCode, fail } from './errors.js'
import { AMD_ROOTS } from './roots/amd.js'
import { INTEL_SGX_ROOT_CA } from './roots/intel.js'
import { verifyChain } from './x509/chain.js'
import { checkCrl, parseCrl, subjectDer, type Crl } from './x509/crl.js'
import { loadCertificates } from './x509/load.js'

/**
 * Where the vendors publish the CRLs that `tee.crlFiles` lists, and who must have signed each.
 *
 * - AMD's Key Distribution Service: one CRL per product, signed by the product's ARK, for the ASK
 *   and the ASVK (the only link a VCEK or VLEK path checks: `checkRevocation`'s `into-root`).
 * - Intel's PCS: the SGX root CA's CRL (signed by the root, for the PCK platform and processor
 *   CAs), and the PCK CRL of each of those two CAs (signed by that CA, for the PCK certificates).
 *   PCS sends the issuing CA's chain in the `SGX-PCK-CRL-Issuer-Chain` header; it must lead to the
 *   pinned root.
 *
 * NVIDIA publishes the status of its certificates by OCSP (suppliers staple the answers:
 * src/node/gpu-ocsp.ts), and CRLs only for its top links, which are not listed here.
 */
export type CrlSigner =
  | { kind: 'amd-ark', product: string }
  | { kind: 'intel-root' }
  | { kind: 'intel-pck' }

export interface CrlSource {
  /** the source's name, and its file's name in a CRL directory (`<name>.crl`) */
  name: string
  url: string
  signer: CrlSigner
}

const amd = (product: string): CrlSource => ({
  name: `amd-${product.toLowerCase()}`,
  url: `https://kdsintf.amd.com/vcek/v1/${product}/crl`,
  signer: { kind: 'amd-ark', product }
})

export const CRL_SOURCES: readonly CrlSource[] = [
  ...AMD_ROOTS.map((r) => amd(r.product)),
  { name: 'intel-root', url: 'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der', signer: { kind: 'intel-root' } },
  { name: 'intel-pck-platform', url: 'https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=platform&encoding=der', signer: { kind: 'intel-pck' } },
  { name: 'intel-pck-processor', url: 'https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=processor&encoding=der', signer: { kind: 'intel-pck' } }
]

/** the response header in which Intel's PCS sends a PCK CRL's issuer chain (URL-encoded PEM) */
export const PCK_CRL_ISSUER_CHAIN_HEADER = 'sgx-pck-crl-issuer-chain'

/**
 * Checks a CRL downloaded from `source` before anything keeps it: DER, signed by the key the
 * source names (an ARK or Intel's root pinned in this program, or a PCK CA whose chain in
 * `issuerChain` leads to Intel's pinned root), and current at `at`. Returns the parsed CRL.
 * Throws an AttestationError: MALFORMED, CHAIN_INVALID (another issuer, a chain that does not lead
 * to the root), SIGNATURE_INVALID or STALE.
 */
export function verifySourceCrl (source: CrlSource, der: Uint8Array, at: Date, issuerChain?: Uint8Array): Crl {
  const crl = parseCrl(der)
  checkCrl(crl, signerOf(source.signer, crl, at, issuerChain), at)
  return crl
}

function signerOf (signer: CrlSigner, crl: Crl, at: Date, issuerChain: Uint8Array | undefined): X509Certificate {
  const root = new X509Certificate(INTEL_SGX_ROOT_CA)
  switch (signer.kind) {
    case 'amd-ark': {
      const roots = AMD_ROOTS.find((r) => r.product === signer.product)
      if (roots == null) fail(AttestationErrorCode.CHAIN_INVALID, `no pinned ARK for ${signer.product}`)
      return new X509Certificate(roots.ark)
    }
    case 'intel-root':
      return root
    case 'intel-pck': {
      if (issuerChain == null) fail(AttestationErrorCode.MALFORMED, 'no PCK CRL issuer chain (the SGX-PCK-CRL-Issuer-Chain header)')
      const certs = loadCertificates(issuerChain)
      // [REJECT] the CA that issued the CRL must be in the chain, and the chain must lead to the pinned root
      const ca = certs.find((c) => bytesEqual(subjectDer(c), crl.issuer))
      if (ca == null) fail(AttestationErrorCode.CHAIN_INVALID, 'the issuer chain has no certificate of the CRL\'s issuer')
      verifyChain(ca, certs.filter((c) => c !== ca), [root], at)
      return ca
    }
  }
}
