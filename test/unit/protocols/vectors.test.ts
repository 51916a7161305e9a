/**
 * docs/vectors/market-v1.json against the node's code, and against a minimal implementation of
 * docs/protocol.md §2 written from the document alone: its own protobuf writer and reader, and
 * node:crypto for SHA-256 and ed25519. (sr25519 is not in node:crypto; the certificate's hotkey
 * signature is checked with @polkadot/util-crypto over the payload this implementation builds.)
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { cryptoWaitReady, sr25519Verify } from '@polkadot/util-crypto'
import { Bid, Envelope, Offer, SignerCert } from '../../../src/wire/market.js'
import { certPayload, DOMAIN, MessageSigner, signedBytes } from '../../../src/market/signing/index.js'
import { MarketMessageValidator, messageId } from '../../../src/protocols/gossip/validate.js'
import { MessageError } from '../../../src/market/validation/errors.js'
import { ManualClock } from '../../../src/util/clock.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../../../src/protocols/gossip/topics.js'
import { devPair } from '../../helpers/keys.js'

const V = JSON.parse(readFileSync(join(import.meta.dirname, '../../../docs/vectors/market-v1.json'), 'utf8'))
const hex = (s: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

// ---- the independent implementation (docs/protocol.md §2.2, §2.3) ----

/** protobuf writer: fields appended in the order the caller writes them (field-number order) */
class PbWriter {
  private readonly parts: number[] = []
  private varint (v: bigint): void {
    do {
      let b = Number(v & 0x7fn)
      v >>= 7n
      if (v > 0n) b |= 0x80
      this.parts.push(b)
    } while (v > 0n)
  }

  private tag (field: number, wire: number): void { this.varint(BigInt((field << 3) | wire)) }
  /** uint32 / bool; a default (0, false) is omitted */
  uint (field: number, v: number | boolean): this {
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : v
    if (n !== 0) { this.tag(field, 0); this.varint(BigInt(n)) }
    return this
  }

  fixed64 (field: number, v: bigint): this {
    if (v === 0n) return this
    this.tag(field, 1)
    for (let i = 0n; i < 8n; i++) this.parts.push(Number((v >> (8n * i)) & 0xffn))
    return this
  }

  /** bytes; empty is omitted unless `always` (a present sub-message) */
  bytes (field: number, b: Uint8Array, always = false): this {
    if (b.byteLength === 0 && !always) return this
    this.tag(field, 2)
    this.varint(BigInt(b.byteLength))
    for (const x of b) this.parts.push(x)
    return this
  }

  string (field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)) }
  finish (): Uint8Array { return Uint8Array.from(this.parts) }
}

type Field = { n: number, wire: number, v: bigint | Uint8Array }
/** protobuf reader: every field with its number, wire type and raw value, in order */
function pbRead (b: Uint8Array): Field[] {
  let i = 0
  const varint = (): bigint => {
    let v = 0n
    for (let s = 0n; ; s += 7n) {
      if (i >= b.length || s > 63n) throw new Error('bad varint')
      const x = b[i++]
      v |= BigInt(x & 0x7f) << s
      if ((x & 0x80) === 0) return v
    }
  }
  const out: Field[] = []
  while (i < b.length) {
    const t = Number(varint())
    const n = t >>> 3
    const wire = t & 7
    if (wire === 0) out.push({ n, wire, v: varint() })
    else if (wire === 1) {
      if (i + 8 > b.length) throw new Error('short fixed64')
      let v = 0n
      for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[i + k])
      i += 8
      out.push({ n, wire, v })
    } else if (wire === 2) {
      const len = Number(varint())
      if (i + len > b.length) throw new Error('short bytes')
      out.push({ n, wire, v: b.subarray(i, i + len) })
      i += len
    } else throw new Error(`wire type ${wire}`)
  }
  return out
}
const field = (fs: Field[], n: number): Uint8Array => fs.find((f) => f.n === n)?.v as Uint8Array

function encodeGpu (g: { model: string, memoryMib: number, count: number }): Uint8Array {
  return new PbWriter().string(1, g.model).uint(2, g.memoryMib).uint(3, g.count).finish()
}

interface OfferFields {
  version: number, id: string, supplier: string, enclavePeer: string, gpus: Array<{ model: string, memoryMib: number, count: number }>
  teeKinds: string[], region: string, pricePerGpuHour: string, netuid: number, minDurationS: number, maxDurationS: number
  createdAt: string, expiresAt: string, sequence: string, cancelled: boolean, addrs: string[]
  runtime?: string, images?: string[]
}
function encodeOffer (o: OfferFields): Uint8Array {
  const w = new PbWriter().uint(1, o.version).string(2, o.id).bytes(3, hex(o.supplier)).bytes(4, hex(o.enclavePeer))
  for (const g of o.gpus) w.bytes(5, encodeGpu(g), true)
  for (const t of o.teeKinds) w.bytes(6, new TextEncoder().encode(t), true)
  w.string(7, o.region).fixed64(8, BigInt(o.pricePerGpuHour)).uint(9, o.netuid).uint(10, o.minDurationS).uint(11, o.maxDurationS)
    .fixed64(12, BigInt(o.createdAt)).fixed64(13, BigInt(o.expiresAt)).fixed64(14, BigInt(o.sequence)).uint(15, o.cancelled)
  for (const a of o.addrs) w.bytes(16, hex(a), true)
  // 17 (gpuCc) absent; 18 runtime only when "container"; 19 one record per image pattern
  if (o.runtime !== undefined) w.string(18, o.runtime)
  for (const p of o.images ?? []) w.bytes(19, new TextEncoder().encode(p), true)
  return w.finish()
}

interface BidFields {
  version: number, id: string, renter: string
  requirements: { gpu: string, minMemoryMib: number, count: number, teeKinds: string[], regions: string[], image?: string }
  maxPricePerGpuHour: string, netuid: number, durationS: number, createdAt: string, expiresAt: string, sequence: string, cancelled: boolean, addrs: string[]
}
function encodeBid (b: BidFields): Uint8Array {
  const r = b.requirements
  const rw = new PbWriter().string(1, r.gpu).uint(2, r.minMemoryMib).uint(3, r.count)
  for (const t of r.teeKinds) rw.bytes(4, new TextEncoder().encode(t), true)
  for (const x of r.regions) rw.bytes(5, new TextEncoder().encode(x), true)
  if (r.image !== undefined) rw.string(6, r.image)
  const w = new PbWriter().uint(1, b.version).string(2, b.id).bytes(3, hex(b.renter)).bytes(4, rw.finish(), true)
    .fixed64(5, BigInt(b.maxPricePerGpuHour)).uint(6, b.netuid).uint(7, b.durationS).fixed64(8, BigInt(b.createdAt))
    .fixed64(9, BigInt(b.expiresAt)).fixed64(10, BigInt(b.sequence)).uint(11, b.cancelled)
  for (const a of b.addrs) w.bytes(12, hex(a), true)
  return w.finish()
}

interface CertFields { hotkey: string, signingKey: string, notAfter: string, signature: string, signingKeySeed: string }
function encodeCert (c: CertFields): Uint8Array {
  return new PbWriter().bytes(1, hex(c.hotkey)).bytes(2, hex(c.signingKey)).fixed64(3, BigInt(c.notAfter)).bytes(4, hex(c.signature)).finish()
}

/** "bazaar-cert-v1" || hotkey || signingKey || u64be(notAfter) */
function docCertPayload (c: CertFields): Uint8Array {
  const na = Buffer.alloc(8)
  na.writeBigUInt64BE(BigInt(c.notAfter))
  return Buffer.concat([Buffer.from('bazaar-cert-v1'), hex(c.hotkey), hex(c.signingKey), na])
}

/** domain || 0x00 || body, signed with the ed25519 seed through node:crypto (RFC 8410 PKCS#8 wrapping) */
function docSign (seedHex: string, domain: string, body: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), hex(seedHex)]), format: 'der', type: 'pkcs8' })
  return new Uint8Array(sign(null, Buffer.concat([Buffer.from(domain), Buffer.from([0]), body]), key))
}

function docVerify (pubHex: string, domain: string, body: Uint8Array, sig: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), hex(pubHex)]), format: 'der', type: 'spki' })
  return verify(null, Buffer.concat([Buffer.from(domain), Buffer.from([0]), body]), key, sig)
}

function docEnvelope (body: Uint8Array, cert: CertFields, signature: Uint8Array): Uint8Array {
  return new PbWriter().bytes(1, body).bytes(2, encodeCert(cert), true).bytes(3, signature).finish()
}

const docMessageId = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest().subarray(0, 20))

// ---- the tests ----

function validatorAt (t: number): MarketMessageValidator {
  return new MarketMessageValidator({ clock: new ManualClock(t) })
}
function codeOf (f: () => unknown): string {
  try { f() } catch (err) { return err instanceof MessageError ? err.code : 'UNTYPED' }
  return 'ACCEPTED'
}

describe('protocol vectors: the node', () => {
  beforeAll(async () => { await cryptoWaitReady() })

  it.each(['supplierCert', 'renterCert'])('%s: payload, hotkey signature, encoding and the dev-URI hotkey', async (name) => {
    const c = V[name]
    expect(toHex(certPayload(hex(c.hotkey), hex(c.signingKey), BigInt(c.notAfter)))).toBe(c.payload)
    expect(sr25519Verify(hex(c.payload), hex(c.signature), hex(c.hotkey))).toBe(true)
    expect(toHex(SignerCert.encode({ hotkey: hex(c.hotkey), signingKey: hex(c.signingKey), notAfter: BigInt(c.notAfter), signature: hex(c.signature) }))).toBe(c.encoded)
    const pair = await devPair(c.hotkeyUri.slice(2))
    expect(toHex(pair.publicKey)).toBe(c.hotkey)
    const signer = MessageSigner.create(pair, { now: 0, seed: hex(c.signingKeySeed), ttlMs: 1 })
    expect(toHex(signer.cert.signingKey)).toBe(c.signingKey)
  })

  it.each([['offer', TOPIC_OFFERS], ['bid', TOPIC_BIDS], ['containerOffer', TOPIC_OFFERS], ['imageBid', TOPIC_BIDS]] as const)('%s: body, signed bytes, signature, envelope and id; the validator accepts it', (name, topic) => {
    const m = V[name]
    const kind = topic === TOPIC_OFFERS ? 'offer' : 'bid'
    const env = Envelope.decode(hex(m.envelope))
    expect(toHex(env.body)).toBe(m.body)
    const body = kind === 'offer' ? Offer.encode(Offer.decode(env.body)) : Bid.encode(Bid.decode(env.body))
    expect(toHex(body)).toBe(m.body)
    expect(m.domain).toBe(kind === 'offer' ? DOMAIN.offer : DOMAIN.bid)
    expect(toHex(signedBytes(m.domain, hex(m.body)))).toBe(m.signedBytes)
    const cert = V[kind === 'offer' ? 'supplierCert' : 'renterCert']
    expect(docSign(cert.signingKeySeed, m.domain, hex(m.body))).toEqual(hex(m.signature))
    expect(messageId(hex(m.envelope))).toBe(m.messageIdBase64)
    const v = validatorAt(V.validateAt).validate(topic, hex(m.envelope))
    expect(v.msgId).toBe(m.messageIdBase64)
    expect(v.signer).toBe(cert.ss58)
    expect(v.kind).toBe(kind)
  })

  it('the container offer and the image bid carry the runtime, images and image; the older vectors none of them', () => {
    const offer = Offer.decode(hex(V.containerOffer.body))
    expect(offer.runtime).toBe('container')
    expect(offer.images).toEqual(V.containerOffer.fields.images)
    expect(Bid.decode(hex(V.imageBid.body)).requirements?.image).toBe(V.imageBid.fields.requirements.image)
    expect(Offer.decode(hex(V.offer.body)).runtime).toBeUndefined()
    expect(Offer.decode(hex(V.offer.body)).images).toEqual([])
    expect(Bid.decode(hex(V.bid.body)).requirements?.image).toBeUndefined()
  })
})

describe('protocol vectors: an implementation from docs/protocol.md alone', () => {
  beforeAll(async () => { await cryptoWaitReady() })

  it('produces the vector bytes: bodies, certificates, signatures, envelopes, ids', () => {
    const offerBody = encodeOffer(V.offer.fields)
    expect(toHex(offerBody)).toBe(V.offer.body)
    const bidBody = encodeBid(V.bid.fields)
    expect(toHex(bidBody)).toBe(V.bid.body)
    const containerBody = encodeOffer(V.containerOffer.fields)
    expect(toHex(containerBody)).toBe(V.containerOffer.body)
    const imageBidBody = encodeBid(V.imageBid.fields)
    expect(toHex(imageBidBody)).toBe(V.imageBid.body)
    for (const [m, body, cert] of [[V.offer, offerBody, V.supplierCert], [V.bid, bidBody, V.renterCert], [V.containerOffer, containerBody, V.supplierCert], [V.imageBid, imageBidBody, V.renterCert]] as const) {
      expect(toHex(encodeCert(cert))).toBe(cert.encoded)
      expect(toHex(docCertPayload(cert))).toBe(cert.payload)
      expect(sr25519Verify(docCertPayload(cert), hex(cert.signature), hex(cert.hotkey))).toBe(true)
      const sig = docSign(cert.signingKeySeed, m.domain, body)
      expect(toHex(sig)).toBe(m.signature)
      const env = docEnvelope(body, cert, sig)
      expect(toHex(env)).toBe(m.envelope)
      expect(toHex(docMessageId(env))).toBe(m.messageId)
    }
  })

  it('reads the vector envelopes and verifies them', () => {
    for (const [m, cert] of [[V.offer, V.supplierCert], [V.bid, V.renterCert], [V.containerOffer, V.supplierCert], [V.imageBid, V.renterCert]] as const) {
      const env = pbRead(hex(m.envelope))
      expect(env.map((f) => f.n)).toEqual([1, 2, 3])
      const certFields = pbRead(field(env, 2))
      expect(toHex(field(certFields, 2))).toBe(cert.signingKey)
      expect(docVerify(cert.signingKey, m.domain, field(env, 1), field(env, 3))).toBe(true)
      // the party field (3 in both bodies) is the certificate's hotkey
      expect(toHex(field(pbRead(field(env, 1)), 3))).toBe(cert.hotkey)
    }
  })

  it('publishes new messages that the node accepts', () => {
    const v = validatorAt(V.validateAt)
    const offer = { ...V.offer.fields, sequence: '2', pricePerGpuHour: '2400000000', gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 4 }] }
    const body = encodeOffer(offer)
    const env = docEnvelope(body, V.supplierCert, docSign(V.supplierCert.signingKeySeed, 'bazaar-offer-v1', body))
    const got = v.validate(TOPIC_OFFERS, env)
    expect(got.kind === 'offer' && got.offer.pricePerGpuHour).toBe(2_400_000_000n)
    expect(got.msgId).toBe(Buffer.from(docMessageId(env)).toString('base64'))

    const cancel = { ...V.bid.fields, sequence: '5', cancelled: true }
    const bidBody = encodeBid(cancel)
    const bidEnv = docEnvelope(bidBody, V.renterCert, docSign(V.renterCert.signingKeySeed, 'bazaar-bid-v1', bidBody))
    const b = v.validate(TOPIC_BIDS, bidEnv)
    expect(b.kind === 'bid' && b.bid.cancelled).toBe(true)
  })

  it('is refused where it departs from the document', () => {
    const body = encodeOffer({ ...V.offer.fields, sequence: '3' })
    const cert = V.supplierCert
    // the signature without the 0x00 separator (the old wording of market.proto)
    const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), hex(cert.signingKeySeed)]), format: 'der', type: 'pkcs8' })
    const noSep = new Uint8Array(sign(null, Buffer.concat([Buffer.from('bazaar-offer-v1'), body]), key))
    expect(codeOf(() => validatorAt(V.validateAt).validate(TOPIC_OFFERS, docEnvelope(body, cert, noSep)))).toBe('BAD_SIGNATURE')
    // the bid domain tag on an offer
    expect(codeOf(() => validatorAt(V.validateAt).validate(TOPIC_OFFERS, docEnvelope(body, cert, docSign(cert.signingKeySeed, 'bazaar-bid-v1', body))))).toBe('BAD_SIGNATURE')
    // fields out of order: `id` (2) written before `version` (1)
    const swapped = (() => {
      const w = new PbWriter().string(2, V.offer.fields.id).uint(1, 1).finish()
      const rest = body.subarray(2 + 2 + V.offer.fields.id.length) // version (08 01) and id (12 len ...)
      return Uint8Array.from([...w, ...rest])
    })()
    expect(pbRead(swapped).length).toBe(pbRead(body).length)
    expect(codeOf(() => validatorAt(V.validateAt).validate(TOPIC_OFFERS, docEnvelope(swapped, cert, docSign(cert.signingKeySeed, 'bazaar-offer-v1', swapped))))).toBe('NON_CANONICAL')
    // a default written explicitly: `cancelled = false` as 78 00
    const withDefault = Uint8Array.from([...body, 0x78, 0x00])
    expect(codeOf(() => validatorAt(V.validateAt).validate(TOPIC_OFFERS, docEnvelope(withDefault, cert, docSign(cert.signingKeySeed, 'bazaar-offer-v1', withDefault))))).toBe('NON_CANONICAL')
    // a non-minimal varint: version 1 as 81 00 (two bytes) instead of 01
    const longVarint = Uint8Array.from([0x08, 0x81, 0x00, ...body.subarray(2)])
    expect(codeOf(() => validatorAt(V.validateAt).validate(TOPIC_OFFERS, docEnvelope(longVarint, cert, docSign(cert.signingKeySeed, 'bazaar-offer-v1', longVarint))))).toBe('NON_CANONICAL')
    // an unknown field
    const unknown = Uint8Array.from([...body, 0xa8, 0x01, 0x01])
    expect(codeOf(() => validatorAt(V.validateAt).validate(TOPIC_OFFERS, docEnvelope(unknown, cert, docSign(cert.signingKeySeed, 'bazaar-offer-v1', unknown))))).toBe('NON_CANONICAL')
    // the default runtime written out ("process" is the absence of field 18), and an unknown one
    for (const [runtime, code] of [['process', 'NON_CANONICAL'], ['gvisor', 'BAD_FIELD']]) {
      const b = encodeOffer({ ...V.offer.fields, sequence: '3', runtime })
      expect(codeOf(() => validatorAt(V.validateAt).validate(TOPIC_OFFERS, docEnvelope(b, cert, docSign(cert.signingKeySeed, 'bazaar-offer-v1', b))))).toBe(code)
    }
    // image patterns without the container runtime
    const images = encodeOffer({ ...V.offer.fields, sequence: '3', images: ['docker.io/pytorch/pytorch:*'] })
    expect(codeOf(() => validatorAt(V.validateAt).validate(TOPIC_OFFERS, docEnvelope(images, cert, docSign(cert.signingKeySeed, 'bazaar-offer-v1', images))))).toBe('BAD_FIELD')
  })
})
