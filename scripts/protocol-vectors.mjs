// Writes docs/vectors/market-v1.json: the test vectors of docs/protocol.md, from fixed keys.
//
//   npm run build && node scripts/protocol-vectors.mjs
//
// Everything in the file is deterministic except the certificate's sr25519 signature (sr25519 signs
// with a random nonce); a re-run keeps the signatures of the file already there (when they sign the
// same certificate), so the vectors it held come out byte for byte and only new ones are added.
// test/unit/protocols/vectors.test.ts checks whatever the file holds against the code. Run it only
// when the wire format changes on purpose.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { MessageSigner, signedBytes, DOMAIN, certPayload, ed25519PublicFromSeed } from '../dist/market/signing/index.js'
import { Offer, Bid, Envelope, SignerCert } from '../dist/wire/market.js'

const hex = (b) => Buffer.from(b).toString('hex')
const T0 = Date.UTC(2026, 0, 1)
const FILE = 'docs/vectors/market-v1.json'
const previous = existsSync(FILE) ? JSON.parse(readFileSync(FILE, 'utf8')) : undefined

await cryptoWaitReady()
const kr = new Keyring({ type: 'sr25519', ss58Format: 42 })

// fixed 32-byte seeds, spelled out so an implementation in any language can derive the same keys
const seed = (tag) => createHash('sha256').update(tag).digest()
const supplierSeed = seed('bazaar vector supplier signing key')
const renterSeed = seed('bazaar vector renter signing key')
const enclaveSeed = seed('bazaar vector enclave peer key')
const supplierNodeSeed = seed('bazaar vector supplier node peer key')

const supplierHot = kr.addFromUri('//BazaarVectorSupplier')
const renterHot = kr.addFromUri('//BazaarVectorRenter')
const notAfter = Date.UTC(2027, 0, 1)
const supplier = MessageSigner.create(supplierHot, { now: T0, seed: supplierSeed, ttlMs: notAfter - T0 })
const renter = MessageSigner.create(renterHot, { now: T0, seed: renterSeed, ttlMs: notAfter - T0 })

/** the signer's certificate, with the file's signature where the file certifies the same key */
function certOf (s) {
  const c = s.cert
  const p = previous?.[s === supplier ? 'supplierCert' : 'renterCert']
  if (p?.payload === hex(certPayload(c.hotkey, c.signingKey, c.notAfter))) return { ...c, signature: new Uint8Array(Buffer.from(p.signature, 'hex')) }
  return c
}

const peerOf = (s) => peerIdFromPublicKey(publicKeyFromRaw(ed25519PublicFromSeed(s)))
const enclave = peerOf(enclaveSeed)
const supplierNode = peerOf(supplierNodeSeed)
const addr = multiaddr(`/ip4/192.0.2.10/tcp/4001/p2p/${supplierNode.toString()}`)

const offer = {
  version: 1,
  id: 'h100-pool-1',
  supplier: supplier.hotkey,
  enclavePeer: enclave.toMultihash().bytes,
  gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 8 }],
  teeKinds: ['tdx', 'sev-snp'],
  region: 'eu-west',
  pricePerGpuHour: 2_500_000_000n,
  netuid: 1,
  minDurationS: 60,
  maxDurationS: 86400,
  createdAt: BigInt(T0),
  expiresAt: BigInt(T0 + 3600_000),
  sequence: 1n,
  cancelled: false,
  addrs: [addr.bytes]
}
const bid = {
  version: 1,
  id: 'train-run-7',
  renter: renter.hotkey,
  requirements: { gpu: 'h100', minMemoryMib: 81920, count: 4, teeKinds: ['tdx'], regions: ['eu-west'] },
  maxPricePerGpuHour: 3_000_000_000n,
  netuid: 1,
  durationS: 7200,
  createdAt: BigInt(T0),
  expiresAt: BigInt(T0 + 600_000),
  sequence: 1n,
  cancelled: false,
  addrs: []
}

// an offer of a supplier whose jobs run in containers of these images, and a bid whose job names
// an image one of them allows (fields 18 and 19 of Offer, 6 of Requirements)
const containerOffer = {
  ...offer,
  id: 'h100-containers-1',
  runtime: 'container',
  images: ['docker.io/pytorch/pytorch:*', 'ghcr.io/example/train:1.0']
}
const imageBid = {
  ...bid,
  id: 'train-run-8',
  requirements: { ...bid.requirements, image: 'docker.io/pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime' }
}

function certVector (s) {
  const c = certOf(s)
  return {
    hotkeyUri: s === supplier ? '//BazaarVectorSupplier' : '//BazaarVectorRenter',
    hotkey: hex(c.hotkey),
    ss58: s.address,
    signingKeySeed: hex(s === supplier ? supplierSeed : renterSeed),
    signingKey: hex(c.signingKey),
    notAfter: c.notAfter.toString(),
    payload: hex(certPayload(c.hotkey, c.signingKey, c.notAfter)),
    signature: hex(c.signature),
    encoded: hex(SignerCert.encode(c))
  }
}

function messageVector (kind, fields, body, s) {
  const domain = kind === 'offer' ? DOMAIN.offer : DOMAIN.bid
  const signed = signedBytes(domain, body)
  const signature = s.sign(domain, body)
  const envelope = Envelope.encode({ body, signer: certOf(s), signature })
  const id = createHash('sha256').update(envelope).digest().subarray(0, 20)
  return {
    fields: JSON.parse(JSON.stringify(fields, (_, v) => typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? hex(v) : v)),
    domain,
    body: hex(body),
    signedBytes: hex(signed),
    signature: hex(signature),
    envelope: hex(envelope),
    messageId: hex(id),
    messageIdBase64: Buffer.from(id).toString('base64')
  }
}

const out = {
  description: 'gpu-bazaar market wire vectors, version 1 (docs/protocol.md). Hex unless noted; 64-bit values as decimal strings.',
  validateAt: T0 + 60_000,
  keys: {
    enclavePeerSeed: hex(enclaveSeed),
    enclavePeer: enclave.toString(),
    supplierNodePeerSeed: hex(supplierNodeSeed),
    supplierNodePeer: supplierNode.toString(),
    supplierAddr: addr.toString()
  },
  supplierCert: certVector(supplier),
  renterCert: certVector(renter),
  offer: messageVector('offer', offer, Offer.encode(offer).slice(), supplier),
  bid: messageVector('bid', bid, Bid.encode(bid).slice(), renter),
  containerOffer: messageVector('offer', containerOffer, Offer.encode(containerOffer).slice(), supplier),
  imageBid: messageVector('bid', imageBid, Bid.encode(imageBid).slice(), renter)
}
// Offer.fields.addrs is the binary multiaddr; keep its text form beside it
mkdirSync('docs/vectors', { recursive: true })
writeFileSync(FILE, JSON.stringify(out, null, 2) + '\n')
console.log(`wrote ${FILE}`)
