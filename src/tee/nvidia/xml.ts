/**
 * The two XML libraries the RIM verifier uses, loaded on first use (they add about 0.2 s to a
 * process start, which every `bazaar` command would otherwise pay) and without their type
 * declarations:
 * `@xmldom/xmldom` 0.8 declares `/// <reference lib="dom" />`, which would put the browser's DOM and
 * WebCrypto globals into the whole program and clash with node:crypto's types. Only the few members
 * used here are typed.
 */
import { createRequire } from 'node:module'

/** The subset of a DOM node the verifier reads. */
export interface XmlNode {
  nodeType: number
  namespaceURI: string | null
  localName: string | null
  textContent: string | null
  firstChild: XmlNode | null
  nextSibling: XmlNode | null
  getAttribute: (name: string) => string | null
  getAttributeNS: (ns: string, name: string) => string | null
}

interface XmlDocument { documentElement: XmlNode | null }

export interface XmlErrorHandler {
  warning: (msg: string) => void
  error: (msg: string) => void
  fatalError: (msg: string) => void
}

interface DomParserCtor {
  new (opts: { errorHandler: XmlErrorHandler }): { parseFromString: (text: string, mime: string) => XmlDocument | undefined }
}

/** An algorithm class registered with xml-crypto (it instantiates them itself). */
type AlgorithmClass = new () => object

export interface SignedXmlInstance {
  CanonicalizationAlgorithms: Record<string, AlgorithmClass>
  HashAlgorithms: Record<string, AlgorithmClass>
  SignatureAlgorithms: Record<string, AlgorithmClass>
  loadSignature: (node: XmlNode) => void
  checkSignature: (xml: string) => boolean
  getSignedReferences: () => string[]
}

interface XmlCryptoModule {
  SignedXml: new (opts: { publicCert: string }) => SignedXmlInstance
  C14nCanonicalization: AlgorithmClass
}

export interface XmlLibraries {
  DOMParser: DomParserCtor
  SignedXml: XmlCryptoModule['SignedXml']
  C14nCanonicalization: AlgorithmClass
}

let loaded: XmlLibraries | undefined

/** xmldom's DOMParser and xml-crypto's SignedXml and C14N 1.0, loaded once. */
export function xmlLibraries (): XmlLibraries {
  if (loaded == null) {
    const require = createRequire(import.meta.url)
    const { DOMParser } = require('@xmldom/xmldom') as { DOMParser: DomParserCtor }
    const { SignedXml, C14nCanonicalization } = require('xml-crypto') as XmlCryptoModule
    loaded = { DOMParser, SignedXml, C14nCanonicalization }
  }
  return loaded
}
