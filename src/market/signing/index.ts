export { CertCache, createSignerCert, certPayload, type CertVerdict } from './cert.js'
export { MessageSigner, DOMAIN, signedBytes, ss58, SS58_PREFIX, type Domain } from './signer.js'
export { ed25519Generate, ed25519PublicKeyObject, ed25519PrivateKeyObject, ed25519PublicFromSeed, ed25519Sign, ed25519Verify, ed25519VerifyRaw } from '../../util/ed25519.js'
