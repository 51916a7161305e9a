import 'reflect-metadata' // @peculiar/x509 (certificates and CRLs made for the tests) needs it
import { createHash, KeyObject, sign, webcrypto, X509Certificate } from 'node:crypto'
import * as px from '@peculiar/x509'

/**
 * A self-made GPU device PKI and SPDM GET_MEASUREMENTS reports signed under it, for the SPDM 1.2+
 * signing rules no NVIDIA sample exists for. The signed message is laid out here from DSP0274 1.2
 * ("Signature generation") independently of src/tee/nvidia/spdm-signing.ts, so the two can disagree.
 */
const alg = { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' }
const notBefore = new Date('2025-01-01T00:00:00Z')
const notAfter = new Date('2030-01-01T00:00:00Z')
/** a time inside every certificate made here */
export const PKI_AT = new Date('2026-06-01T00:00:00Z')

export interface TestGpuPki {
  root: X509Certificate
  /** leaf then intermediate, PEM: what a supplier sends */
  chainPem: Uint8Array
  leaf: X509Certificate
  leafKey: KeyObject
  /** a CRL from the intermediate (or the root) listing the given serials (hex), current at `at` (default PKI_AT), DER */
  crl: (serials: string[], opts?: { by?: 'ca' | 'root', at?: Date }) => Promise<Uint8Array>
  /**
   * a new attestation key and leaf from the same intermediate (the device certificate), as the GPU's
   * firmware makes one at boot: the same GPU after a reset
   */
  reissueLeaf: () => Promise<{ chainPem: Uint8Array, leaf: X509Certificate, leafKey: KeyObject }>
}

const keys = async (): Promise<webcrypto.CryptoKeyPair> => await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
const ca = (): px.Extension[] => [new px.BasicConstraintsExtension(true, undefined, true)]
const pem = (c: px.X509Certificate): string => c.toString('pem')

/** root → intermediate → leaf (the GPU's attestation key), ECDSA P-384. */
export async function makeGpuPki (name = 'Test GPU'): Promise<TestGpuPki> {
  px.cryptoProvider.set(webcrypto as never)
  const [rootKeys, caKeys, leafKeys] = await Promise.all([keys(), keys(), keys()])
  const root = await px.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: `CN=${name} Root`, notBefore, notAfter, keys: rootKeys, signingAlgorithm: alg, extensions: ca() })
  const mid = await px.X509CertificateGenerator.create({ serialNumber: '02', subject: `CN=${name} CA`, issuer: root.subject, notBefore, notAfter, publicKey: caKeys.publicKey, signingKey: rootKeys.privateKey, signingAlgorithm: alg, extensions: ca() })
  const leaf = await px.X509CertificateGenerator.create({ serialNumber: '0badf00d', subject: 'CN=GB100 A01 GSP FMC LF', issuer: mid.subject, notBefore, notAfter, publicKey: leafKeys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: alg })
  const day = 24 * 3600_000
  let reissued = 0
  const reissueLeaf = async (): Promise<{ chainPem: Uint8Array, leaf: X509Certificate, leafKey: KeyObject }> => {
    const k = await keys()
    const again = await px.X509CertificateGenerator.create({ serialNumber: (0x0badf00e + reissued++).toString(16), subject: 'CN=GB100 A01 GSP FMC LF', issuer: mid.subject, notBefore, notAfter, publicKey: k.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: alg })
    return { chainPem: new TextEncoder().encode(pem(again) + '\n' + pem(mid) + '\n'), leaf: new X509Certificate(Buffer.from(again.rawData)), leafKey: KeyObject.from(k.privateKey) }
  }
  return {
    reissueLeaf,
    root: new X509Certificate(Buffer.from(root.rawData)),
    chainPem: new TextEncoder().encode(pem(leaf) + '\n' + pem(mid) + '\n'),
    leaf: new X509Certificate(Buffer.from(leaf.rawData)),
    leafKey: KeyObject.from(leafKeys.privateKey),
    crl: async (serials, opts = {}) => new Uint8Array((await px.X509CrlGenerator.create({
      issuer: opts.by === 'root' ? root.subject : mid.subject,
      thisUpdate: new Date((opts.at ?? PKI_AT).getTime() - day),
      nextUpdate: new Date((opts.at ?? PKI_AT).getTime() + 30 * day),
      entries: serials.map((serialNumber) => ({ serialNumber, revocationDate: new Date((opts.at ?? PKI_AT).getTime() - 2 * day), reason: px.X509CrlReason.keyCompromise })),
      signingKey: opts.by === 'root' ? rootKeys.privateKey : caKeys.privateKey,
      signingAlgorithm: alg
    })).rawData)
  }
}

const u16 = (n: number): number[] => [n & 0xff, n >> 8]
const tlv = (type: number, value: Uint8Array): number[] => [...u16(type), ...u16(value.byteLength), ...value]
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s + '\0')

export interface SpdmReportInit {
  /** SPDMVersion byte of request and response: 0x11, 0x12 or 0x13 */
  version: number
  nonce: Uint8Array
  key: KeyObject
  /** the signing rules to sign by (default: those of `version`) */
  signAs?: number
  /** measurement blocks' values (48-byte digests); default two */
  blocks?: Uint8Array[]
}

/** The message a responder signs by the rules of `version` (DSP0274 1.1 §10.11; 1.2/1.3 "Signature generation"). */
function toBeSigned (version: number, transcript: Uint8Array): Uint8Array {
  if (version === 0x11) return transcript
  const v = `1.${version & 0xf}`
  const prefix = Buffer.concat([Buffer.from(`dmtf-spdm-v${v}.*`.repeat(4)), Buffer.alloc(6), Buffer.from('responder-measurements signing')])
  if (prefix.byteLength !== 100) throw new Error('combined_spdm_prefix must be 100 bytes')
  return Buffer.concat([prefix, createHash('sha384').update(transcript).digest()])
}

/**
 * GET_MEASUREMENTS (signature requested, all blocks) ‖ MEASUREMENTS, with NVIDIA-style opaque data
 * (driver 570.124.06, VBIOS 97.00.88.00.0F, chip GB100, single-GPU CC), 1.3's RequesterContext in
 * both, and an ECDSA P-384 signature by `key`.
 */
export function buildSpdmReport (init: SpdmReportInit): Uint8Array {
  const v = init.version
  const context = v >= 0x13 ? [1, 2, 3, 4, 5, 6, 7, 8] : []
  const request = [v, 0xe0, 0x01, 0xff, ...init.nonce, 0x00, ...context]
  const values = init.blocks ?? [new Uint8Array(48).fill(0x11), new Uint8Array(48).fill(0x22)]
  const record = values.flatMap((value, i) => [i + 1, 0x01, ...u16(value.byteLength + 3), 0x00, ...u16(value.byteLength), ...value])
  const opaque = [
    ...tlv(3, ascii('570.124.06')),
    ...tlv(6, new Uint8Array([0x00, 0x88, 0x00, 0x97, 0x0f])),
    ...tlv(35, ascii('GB100')),
    ...tlv(36, new Uint8Array([0]))
  ]
  const response = [
    v, 0x60, 0x00, 0x00, values.length, record.length & 0xff, (record.length >> 8) & 0xff, record.length >> 16, ...record,
    ...new Uint8Array(32).fill(0x5a), ...u16(opaque.length), ...opaque, ...context
  ]
  const transcript = new Uint8Array([...request, ...response])
  const signature = sign('sha384', toBeSigned(init.signAs ?? v, transcript), { key: init.key, dsaEncoding: 'ieee-p1363' })
  return new Uint8Array([...transcript, ...signature])
}
