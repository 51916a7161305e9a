import { X509Certificate, createHash, verify as cryptoVerify } from 'node:crypto'
import { AttestationError, AttestationErrorCode, fail } from '../errors.js'
import { NVIDIA_RIM_ROOT } from '../roots/nvidia.js'
import { verifyChain } from '../x509/chain.js'
import type { Crl } from '../x509/crl.js'
import type { OcspResponse } from '../x509/ocsp.js'
import { checkPathRevocation } from '../x509/revocation.js'
import { commonName, publicKeyOf } from '../x509/load.js'
import { xmlLibraries, type XmlNode as Element } from './xml.js'
import { fromHex } from '../../util/hex.js'

/** Largest RIM accepted; NVIDIA's are about 20 KiB. */
export const MAX_RIM_SIZE = 256 * 1024
/** Most measurement resources read from one RIM (a GH100 RIM lists 64). */
export const MAX_RIM_RESOURCES = 512
/** Most golden values one measurement may list (alternatives). */
export const MAX_RIM_ALTERNATIVES = 16
/** Most certificates in a RIM's KeyInfo (NVIDIA's carry four). */
export const MAX_RIM_CERTS = 8
/**
 * Deepest element nesting accepted. What xml-crypto does before the signature decides anything
 * (reference lookup, canonicalisation) grows with the square of the element count, and faster when
 * they nest: 16,000 levels (130 KiB) cost it about 40 s, 6,000 about 9 s. NVIDIA's RIMs (the five of ../shared/fixtures/tee/
 * nvtrust, driver and VBIOS, 2023 and 2024) nest 6 deep, along SoftwareIdentity > Signature >
 * SignedInfo > Reference > Transforms > Transform.
 */
export const MAX_RIM_DEPTH = 32
/**
 * Most elements accepted in one RIM: MAX_RIM_RESOURCES resources and the signature's few dozen
 * elements fit. NVIDIA's RIMs hold 85 (64 resources). A flat document of 40,000 empty elements,
 * which fits MAX_RIM_SIZE, costs xml-crypto tens of seconds.
 */
export const MAX_RIM_ELEMENTS = 1024
/**
 * Most namespace declarations (`xmlns`, `xmlns:p`) accepted in one RIM, counted in its text (so a
 * declaration written in a comment counts too). NVIDIA's RIMs declare 6. Each one a canonicaliser
 * carries down the tree: 9,000 of them on one element cost xml-crypto 1.4 s, under every other bound.
 */
export const MAX_RIM_NAMESPACES = 32

const NS_SWID = 'http://standards.iso.org/iso/19770/-2/2015/schema.xsd'
const NS_DSIG = 'http://www.w3.org/2000/09/xmldsig#'
/** the namespace NVIDIA's RIMs put the `HashN` attributes in (the XML Encryption SHA-384 URI) */
const NS_SHA384 = 'http://www.w3.org/2001/04/xmlenc#sha384'
const C14N11 = 'http://www.w3.org/2006/12/xml-c14n11'
const ECDSA_SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384'
const SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#sha384'

/** One measurement's golden values: RIM index i is compared with the report's block i + 1. */
export interface GoldenMeasurement {
  index: number
  /** digest size in bytes */
  size: number
  /** the measurement matches when it equals any of these */
  alternatives: Uint8Array[]
}

/** A verified reference integrity manifest (signed SWID tag). */
export interface Rim {
  /** Meta@colloquialVersion: the driver ("550.90.07") or VBIOS ("96.00.9F.00.01") version it describes */
  version: string
  /** Meta@product, e.g. "GH100" */
  product: string
  tagId: string
  /** active measurements only (inactive ones are not compared) */
  golden: GoldenMeasurement[]
  /** signer chain common names, leaf first */
  chain: string[]
  /** when every certificate of the signer chain is valid: the latest notBefore and earliest notAfter */
  validFrom: Date
  validTo: Date
  /** every link of the signer chain had a revocation status, and none was revoked */
  revocationChecked: boolean
  /** the verified signer chain, leaf first, pinned root last (for revocation checks later) */
  signerPath: readonly X509Certificate[]
}

export interface VerifyRimOptions {
  at?: Date
  /** CRLs of the RIM signing chain (with any, every link needs a status) */
  crls?: readonly Crl[]
  /** OCSP answers about the chain's certificates (NVIDIA's status for its RIM signers) */
  ocsp?: readonly OcspResponse[]
  /** every link needs a status: a current CRL of its issuer or an OCSP answer, and none revoked */
  requireRevocation?: boolean
}

/**
 * Revocation of a verified RIM's signer chain (NVIDIA publishes a CRL for the link into the CoRIM
 * root and OCSP for every link). Throws what checkPathRevocation throws; returns the RIM with
 * `revocationChecked` set.
 */
export function checkRimRevocation (rim: Rim, opts: VerifyRimOptions, at: Date): Rim {
  const crls = opts.crls ?? []
  const ocsp = opts.ocsp ?? []
  const required = opts.requireRevocation === true || crls.length > 0
  if (!required && ocsp.length === 0) return rim.revocationChecked ? { ...rim, revocationChecked: false } : rim
  return { ...rim, revocationChecked: checkPathRevocation(rim.signerPath, { crls, ocsp, required }, at) }
}

/** SHA-384 for xml-crypto's digest step (xmldsig-more#sha384, RFC 6931 §2.1.3). */
class Sha384Digest {
  getHash (xml: string): string { return createHash('sha384').update(xml, 'utf8').digest('base64') }
  getAlgorithmName (): string { return SHA384 }
}

/**
 * ECDSA P-384 with SHA-384 for xml-crypto's signature step (RFC 6931 §2.3.6). XML-DSig carries an
 * ECDSA signature as r ‖ s (RFC 4050 §3.3), which is node:crypto's `ieee-p1363` encoding.
 */
class EcdsaSha384 {
  verifySignature (material: string, key: string, signatureValue: string): boolean {
    try {
      return cryptoVerify('sha384', Buffer.from(material, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signatureValue, 'base64'))
    } catch {
      return false
    }
  }

  getSignature (): string { throw new Error('signing RIMs is not supported') }
  getAlgorithmName (): string { return ECDSA_SHA384 }
}

let rimRoot: X509Certificate | undefined
const pinnedRimRoot = (): X509Certificate => (rimRoot ??= new X509Certificate(NVIDIA_RIM_ROOT))

function parseXml (text: string, what: string): Element {
  // [REJECT] a character XML 1.0 does not allow (C0 controls other than tab, newline and carriage
  // return): xmldom reads past them, so the same signed content would have many encodings
  const bad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.exec(text)
  if (bad != null) fail(AttestationErrorCode.MALFORMED, `${what}: XML holds the character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${bad.index}, which XML does not allow`)
  // a RIM NVIDIA signed is well-formed: anything xmldom would even warn about is refused
  const fatal = (msg: string): never => { throw new AttestationError(AttestationErrorCode.MALFORMED, `${what}: XML does not parse: ${String(msg).slice(0, 80)}`) }
  const { DOMParser } = xmlLibraries()
  const doc = new DOMParser({ errorHandler: { warning: fatal, error: fatal, fatalError: fatal } }).parseFromString(text, 'text/xml')
  const root = doc?.documentElement
  if (root == null) fail(AttestationErrorCode.MALFORMED, `${what}: no document element`)
  checkXmlShape(root, what)
  return root
}

/**
 * [REJECT] a document nested deeper than MAX_RIM_DEPTH or holding more than MAX_RIM_ELEMENTS
 * elements, before any XPath or canonicalisation runs over it. Walks without recursion, so the
 * depth it refuses cannot overflow the stack first, and stops at the first bound crossed.
 */
function checkXmlShape (root: Element, what: string): void {
  let elements = 1
  const stack: Array<[Element, number]> = [[root, 1]]
  for (let top = stack.pop(); top != null; top = stack.pop()) {
    const [node, depth] = top
    for (let n = node.firstChild; n != null; n = n.nextSibling) {
      if (n.nodeType !== 1) continue
      if (depth + 1 > MAX_RIM_DEPTH) fail(AttestationErrorCode.MALFORMED, `${what}: XML nested over ${MAX_RIM_DEPTH} elements deep`)
      if (++elements > MAX_RIM_ELEMENTS) fail(AttestationErrorCode.MALFORMED, `${what}: XML holds over ${MAX_RIM_ELEMENTS} elements`)
      stack.push([n, depth + 1])
    }
  }
}

function childElements (parent: Element, ns: string, name: string): Element[] {
  const out: Element[] = []
  for (let n = parent.firstChild; n != null; n = n.nextSibling) {
    if (n.nodeType === 1 && n.namespaceURI === ns && n.localName === name) out.push(n)
  }
  return out
}

function only (parent: Element, ns: string, name: string, what: string): Element {
  const found = childElements(parent, ns, name)
  if (found.length !== 1) fail(AttestationErrorCode.MALFORMED, `${what}: ${found.length} ${name} elements, expected one`)
  return found[0]
}

function hex (s: string | null, bytes: number, what: string): Uint8Array {
  if (s == null || s.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(s)) fail(AttestationErrorCode.MALFORMED, `${what}: golden value is not ${bytes} bytes of hex`)
  return fromHex(s)
}

function intAttr (e: Element, name: string, max: number, what: string): number {
  const v = e.getAttribute(name)
  if (v == null || !/^\d{1,6}$/.test(v) || Number(v) > max) fail(AttestationErrorCode.MALFORMED, `${what}: ${name} ${String(v).slice(0, 16)}`)
  return Number(v)
}

/** Reads the measurements and Meta of the signed (canonical) SWID tag. */
function readSwid (root: Element, what: string): Pick<Rim, 'version' | 'product' | 'tagId' | 'golden'> {
  if (root.namespaceURI !== NS_SWID || root.localName !== 'SoftwareIdentity') fail(AttestationErrorCode.MALFORMED, `${what}: not a SWID tag (SoftwareIdentity)`)
  const meta = only(root, NS_SWID, 'Meta', what)
  const payload = only(root, NS_SWID, 'Payload', what)
  const resources = childElements(payload, NS_SWID, 'Resource')
  if (resources.length === 0 || resources.length > MAX_RIM_RESOURCES) fail(AttestationErrorCode.MALFORMED, `${what}: ${resources.length} resources`)
  const golden: GoldenMeasurement[] = []
  const seen = new Set<number>()
  for (const r of resources) {
    if (r.getAttribute('type') !== 'Measurement') continue
    const index = intAttr(r, 'index', 253, what)
    if (seen.has(index)) fail(AttestationErrorCode.MALFORMED, `${what}: measurement index ${index} repeated`)
    seen.add(index)
    const active = r.getAttribute('active')
    if (active !== 'True' && active !== 'False') fail(AttestationErrorCode.MALFORMED, `${what}: measurement ${index} active='${String(active).slice(0, 8)}'`)
    if (active === 'False') continue
    const size = intAttr(r, 'size', 64, what)
    const count = intAttr(r, 'alternatives', MAX_RIM_ALTERNATIVES, what)
    if (count === 0) fail(AttestationErrorCode.MALFORMED, `${what}: measurement ${index} has no golden value`)
    const alternatives: Uint8Array[] = []
    for (let i = 0; i < count; i++) alternatives.push(hex(r.getAttributeNS(NS_SHA384, `Hash${i}`), size, `${what} measurement ${index}`))
    golden.push({ index, size, alternatives })
  }
  return {
    version: meta.getAttribute('colloquialVersion') ?? '',
    product: meta.getAttribute('product') ?? '',
    tagId: root.getAttribute('tagId') ?? '',
    golden
  }
}

/**
 * Verifies an NVIDIA reference integrity manifest: an ISO/IEC 19770-2 SWID tag with an enveloped
 * XML-DSig signature (C14N 1.1, ECDSA P-384 / SHA-384) over the whole document, whose KeyInfo chain
 * leads to the pinned NVIDIA RIM root and is valid at `at` (and, with CRLs or OCSP answers, not revoked). Returns
 * the golden measurements read from the signed bytes only. Throws AttestationError: MALFORMED,
 * SIGNATURE_INVALID, CHAIN_INVALID, CERT_EXPIRED, CERT_MISSING, CERT_REVOKED.
 */
export function verifyRim (bytes: Uint8Array, opts: VerifyRimOptions = {}): Rim {
  const what = 'rim'
  const at = opts.at ?? new Date()
  if (bytes.byteLength > MAX_RIM_SIZE) fail(AttestationErrorCode.MALFORMED, `rim over ${MAX_RIM_SIZE} bytes`)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (err) {
    fail(AttestationErrorCode.MALFORMED, 'rim is not UTF-8', err)
  }
  // [REJECT] DTDs: entity expansion has no place in a RIM
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) fail(AttestationErrorCode.MALFORMED, 'rim carries a DTD')
  // C14N 1.1 differs from C14N 1.0 only in how xml:id, xml:base (and their inheritance into a
  // document subset) are treated; without any xml:* attribute both give the same octets, so the
  // 1.0 implementation is exact here. A RIM with such attributes is refused rather than guessed at.
  if (/\sxml:[A-Za-z]+\s*=/.test(text)) fail(AttestationErrorCode.MALFORMED, 'rim carries xml:* attributes')
  // [REJECT] namespace declarations past any RIM's need, before the parser reads them
  let namespaces = 0
  for (const re = /xmlns[\s:=]/g; re.exec(text) != null;) {
    if (++namespaces > MAX_RIM_NAMESPACES) fail(AttestationErrorCode.MALFORMED, `rim declares over ${MAX_RIM_NAMESPACES} XML namespaces`)
  }
  const root = parseXml(text, what)
  readSwid(root, what) // shape check before any crypto

  // [REJECT] exactly one enveloped signature over the whole document
  const signature = only(root, NS_DSIG, 'Signature', what)
  const signedInfo = only(signature, NS_DSIG, 'SignedInfo', what)
  const references = childElements(signedInfo, NS_DSIG, 'Reference')
  if (references.length !== 1 || references[0].getAttribute('URI') !== '') fail(AttestationErrorCode.MALFORMED, 'rim signature does not cover the whole document')
  const keyInfo = only(signature, NS_DSIG, 'KeyInfo', what)
  const x509 = only(keyInfo, NS_DSIG, 'X509Data', what)
  const certNodes = childElements(x509, NS_DSIG, 'X509Certificate')
  if (certNodes.length === 0) fail(AttestationErrorCode.CERT_MISSING, 'rim carries no signing certificate')
  if (certNodes.length > MAX_RIM_CERTS) fail(AttestationErrorCode.MALFORMED, `rim carries over ${MAX_RIM_CERTS} certificates`)
  let certs: X509Certificate[]
  try {
    certs = certNodes.map((n) => new X509Certificate(Buffer.from((n.textContent ?? '').replace(/\s+/g, ''), 'base64')))
  } catch (err) {
    fail(AttestationErrorCode.MALFORMED, 'rim certificate does not parse', err)
  }
  // [REJECT] the signer (KeyInfo's first certificate) chains to the pinned NVIDIA RIM root
  const leaf = certs[0]
  const path = verifyChain(leaf, certs.slice(1), [pinnedRimRoot()], at)

  // [REJECT] the signature verifies under that signer
  const { SignedXml, C14nCanonicalization } = xmlLibraries()
  const sx = new SignedXml({ publicCert: publicKeyOf(leaf, 'rim signing certificate').export({ type: 'spki', format: 'pem' }) as string })
  sx.CanonicalizationAlgorithms[C14N11] = C14nCanonicalization
  sx.HashAlgorithms[SHA384] = Sha384Digest
  sx.SignatureAlgorithms[ECDSA_SHA384] = EcdsaSha384
  let signed: string
  try {
    sx.loadSignature(signature)
    if (!sx.checkSignature(text)) fail(AttestationErrorCode.SIGNATURE_INVALID, 'rim digest does not match its content')
    const refs = sx.getSignedReferences()
    if (refs.length !== 1) fail(AttestationErrorCode.SIGNATURE_INVALID, 'rim signature covers no content')
    signed = refs[0]
  } catch (err) {
    if (err instanceof AttestationError) throw err
    fail(AttestationErrorCode.SIGNATURE_INVALID, 'rim signature does not verify', err)
  }
  // read the golden values from what the signature covers, never from the document as given
  const swid = readSwid(parseXml(signed, what), what)
  const validFrom = new Date(Math.max(...path.map((c) => c.validFromDate.getTime())))
  const validTo = new Date(Math.min(...path.map((c) => c.validToDate.getTime())))
  return checkRimRevocation({ ...swid, chain: path.map(commonName), validFrom, validTo, revocationChecked: false, signerPath: path }, opts, at)
}
