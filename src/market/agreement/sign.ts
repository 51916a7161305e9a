import type { KeyObject } from 'node:crypto'
import type { SignedAgreement } from '../../wire/agreement.js'
import type { SignerCert } from '../../wire/market.js'
import type { AgreementTerms } from '../../wire/agreement.js'
import { CertCache } from '../signing/cert.js'
import { ed25519Verify } from '../../util/ed25519.js'
import { DOMAIN, signedBytes, type MessageSigner } from '../signing/signer.js'
import { NegotiationError } from '../errors.js'
import { agreementHash, decodeTerms } from './terms.js'
import { bytesEqual } from '../../util/bytes.js'

/**
 * Signs an agreement hash with a party's certified key: ed25519 over
 * "bazaar-agreement-v1" || 0x00 || hash.
 */
export function signAgreementHash (signer: MessageSigner, hash: Uint8Array): Uint8Array<ArrayBuffer> {
  return signer.sign(DOMAIN.agreement, hash)
}

/**
 * Checks one party's signature over `hash`: the certificate must be valid at `now` and certify the
 * expected hotkey, and the signature must verify under the certified key.
 * Throws NegotiationError BAD_CERT or BAD_SIGNATURE.
 */
export function verifyPartySignature (certs: CertCache, cert: SignerCert | undefined, hotkey: Uint8Array, hash: Uint8Array, signature: Uint8Array, now: number): void {
  if (cert == null) throw new NegotiationError('BAD_CERT', 'certificate missing')
  // [REJECT] the certificate names another party than the terms do (cheap check before crypto)
  if (!bytesEqual(cert.hotkey, hotkey)) throw new NegotiationError('BAD_CERT', 'certificate is for another hotkey')
  const { verdict, key } = certs.check(cert, now)
  if (verdict !== 'ok' || key == null) throw new NegotiationError('BAD_CERT', `certificate ${verdict}`)
  if (!verifyWith(key, hash, signature)) throw new NegotiationError('BAD_SIGNATURE', 'signature does not verify')
}

function verifyWith (key: KeyObject, hash: Uint8Array, signature: Uint8Array): boolean {
  return ed25519Verify(key, signedBytes(DOMAIN.agreement, hash), signature)
}

/** A fully verified agreement: its decoded terms and hash. */
export interface VerifiedAgreement {
  terms: AgreementTerms
  hash: Uint8Array
  agreement: SignedAgreement
}

/**
 * Verifies a stored or received SignedAgreement: canonical terms, and both parties' certificates
 * and signatures (certificates checked at `now`; pass the agreement's createdAt to check an old
 * one as of when it was made).
 */
export function verifyAgreement (agreement: SignedAgreement, certs: CertCache, now: number): VerifiedAgreement {
  const terms = decodeTerms(agreement.terms)
  const hash = agreementHash(agreement.terms)
  verifyPartySignature(certs, agreement.renterCert, terms.renter, hash, agreement.renterSignature, now)
  verifyPartySignature(certs, agreement.supplierCert, terms.supplier, hash, agreement.supplierSignature, now)
  return { terms, hash, agreement }
}
