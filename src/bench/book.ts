/**
 * `npm run bench:book`: figures for the order book (a script that prints, never a test).
 *
 * 1. Our workload: 100,000 resting offers over 20 GPU classes with TEE kinds, regions, netuids and
 *    durations, each inserted as a node inserts a gossiped offer (the offer decoded from its own
 *    exact-size envelope copy, the envelope passed to the book); 100,000 bids matched by the full
 *    rule. Inserts/s, matches/s, p50/p99 match latency, memory held by the book (V8 heap plus
 *    array buffers, after GC).
 *    Then, in a fresh process, the memory of 100,000 such offers alone: each envelope built, copied
 *    and decoded one at a time as the validator does, so nothing but the book keeps them; heap and
 *    array buffers held, and RSS growth beside a control process that does the same work without
 *    the book, with Node's default flags and with `--max-semi-space-size=2` (V8 grows its heap
 *    reserve with what survives; a capped young generation keeps RSS near what is live).
 * 2. Price-only workload, the one hft-limit-order-book (devDependency) is built for: 100,000 resting
 *    sell orders at random prices (sizes 1..10), then 250,000 market buys of size 1 that each take the best price
 *    and fill it. Our book runs the same sequence (matchBid, then `book.consume` of one GPU of the
 *    matched entry; an offer with nothing left leaves the book), and both must fill at the same
 *    prices. Same figures for both, the ratio of the medians, and the spread of the per-round
 *    ratios.
 *
 * Deterministic inputs (seeded PRNG); timings are wall clock (and process CPU time) on this machine,
 * each measurement in a fresh child process.
 */
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { OrderBook } from '../market/book/order-book.js'
import { matchBid } from '../market/match.js'
import { Envelope, Offer, type Bid, type SignerCert } from '../wire/market.js'
import { clockAt, systemClock } from '../util/clock.js'
import { Keyring } from '@polkadot/keyring'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { CertCache, MessageSigner } from '../market/signing/index.js'
import { sealOffer } from '../protocols/gossip/envelope.js'
import { TOPIC_OFFERS } from '../protocols/gossip/topics.js'
import { MarketMessageValidator } from '../protocols/gossip/validate.js'
import { MAX_DIGEST_BITS, bucketDigests, type IdCache } from '../protocols/book-sync/digest.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const N = Number(process.env.BENCH_N ?? 100_000)
const T0 = Date.UTC(2026, 0, 1)
const RAO = 1_000_000_000n

function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const CLASSES: Array<[string, number]> = [
  ['h100-80gb', 81920], ['h200-141gb', 144384], ['b200-192gb', 196608], ['gh200-96gb', 98304], ['h800-80gb', 81920],
  ['a100-80gb', 81920], ['a100-40gb', 40960], ['l40s-48gb', 49152], ['l4-24gb', 24576], ['l20-48gb', 49152],
  ['a10-24gb', 24576], ['a40-48gb', 49152], ['a30-24gb', 24576], ['v100-32gb', 32768], ['t4-16gb', 16384],
  ['rtx4090-24gb', 24576], ['rtx3090-24gb', 24576], ['a6000-48gb', 49152], ['mi300x-192gb', 196608], ['mi250-128gb', 131072]
]
const TEES = ['tdx', 'sev-snp', 'simulated']
const REGIONS = ['eu', 'us', 'ap', 'sa', 'af']

/** V8 heap in use plus array buffers (held outside the heap: the envelopes), after GC */
function heapUsed (): number {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/** the supplier node's peer id as the book's entries carry it (one string per supplier node) */
const PEER = '12D3KooWBenchSupplierPeer00000000000000000000000000'

interface Memory { offers: number, rss: number, heap: number, heapTotal: number, arrayBuffers: number, envelopeBytes: number, heldAsCopies: number, heldAsSources: number, idCache: number, digestMs: number, digestCachedMs: number }

/**
 * 100,000 offers into a fresh book, each built, sealed into its envelope, copied and decoded one at
 * a time (as the validator hands them over), so that afterwards only the book holds anything of
 * them. RSS, V8 heap and array buffers grow by what the book keeps, and by what V8 keeps of the
 * garbage made on the way (its young generation grows under allocation, as in a node): the control
 * (`keep` false) does the same work without the book, and the difference is the book's.
 */
function memory (keep = true): Memory {
  const rnd = prng(42)
  gc(); gc()
  const m0 = process.memoryUsage()
  const book = new OrderBook({ clock: clockAt(() => T0), maxOffers: N + 1, maxOffersPerSupplier: N })
  let envelopeBytes = 0
  for (let i = 0; i < N; i++) {
    const { offer, envelope } = received(genOffer(rnd, i, 2000))
    envelopeBytes += envelope.byteLength
    if (keep) book.upsertOffer(offer, { peer: PEER, source: 'gossip', envelope })
  }
  gc(); gc()
  const m1 = process.memoryUsage()
  const held = book.offerCount
  // what an anti-entropy exchange holds for its whole run: the envelopes as copies (each resting
  // offer's certificate put back into a new array), or the entries that read them per page
  const heldAsCopies = holding(() => book.offerEnvelopes())
  const heldAsSources = holding(() => book.offerEnvelopeSources())
  // the ids anti-entropy keeps for its digests, and a digest of the whole book without and with them
  const ids: IdCache = new WeakMap()
  const idCache = holding(() => { bucketDigests([book.offerEnvelopeSources()], MAX_DIGEST_BITS, ids); return [ids] })
  let t = performance.now()
  bucketDigests([book.offerEnvelopeSources()], MAX_DIGEST_BITS)
  const digestMs = performance.now() - t
  t = performance.now()
  bucketDigests([book.offerEnvelopeSources()], MAX_DIGEST_BITS, ids)
  const digestCachedMs = performance.now() - t
  return { offers: held, rss: m1.rss - m0.rss, heap: m1.heapUsed - m0.heapUsed, heapTotal: m1.heapTotal - m0.heapTotal, arrayBuffers: m1.arrayBuffers - m0.arrayBuffers, envelopeBytes: envelopeBytes / N, heldAsCopies, heldAsSources, idCache, digestMs, digestCachedMs }
}

/** the bytes (heap and array buffers, after GC) that holding what `take` returns costs */
function holding (take: () => unknown[]): number {
  const base = heapUsed()
  const list = take()
  const held = heapUsed() - base
  // read after the measurement, so the list is alive through it
  return list.length >= 0 ? held : NaN
}

function percentile (sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const mb = (b: number): string => `${fmt(b / 1048576, 1)} MB`

function supplierKey (i: number): Uint8Array<ArrayBuffer> {
  const k = new Uint8Array(32)
  new DataView(k.buffer).setUint32(0, i)
  k[31] = 1
  return k
}

/** a certificate and signature of realistic sizes (the book checks neither: the validator did) */
const CERT: SignerCert = { hotkey: new Uint8Array(32).fill(7), signingKey: new Uint8Array(32).fill(8), notAfter: BigInt(T0 + 86_400_000), signature: new Uint8Array(64).fill(9) }
const SIGNATURE = new Uint8Array(64).fill(3)
/** two dialable addresses as a supplier signs them (/ip4/…/tcp/…/p2p/<peer id>, binary) */
const ADDRS = [
  Uint8Array.from(Buffer.from('0404c0a80001060fa1a503260024080112201c3d7bd0c4a3bc1a9df6e2b0f4cc1f0b7b4f7a43a1e3b2c5d8f9e0a1b2c3d4e5', 'hex')),
  Uint8Array.from(Buffer.from('04047f000001060fa1a503260024080112201c3d7bd0c4a3bc1a9df6e2b0f4cc1f0b7b4f7a43a1e3b2c5d8f9e0a1b2c3d4e5', 'hex'))
]

/**
 * What the validator hands the book for one offer: its own exact-size copy of the wire envelope,
 * and the offer decoded from it (so the offer's byte fields are views into that copy).
 */
function received (o: Offer): { offer: Offer, envelope: Uint8Array } {
  const wire = Envelope.encode({ body: Offer.encode(o), signer: CERT, signature: SIGNATURE })
  const envelope = new Uint8Array(wire.byteLength)
  envelope.set(wire)
  return { offer: Offer.decode(Envelope.decode(envelope).body), envelope }
}

function genOffer (rnd: () => number, i: number, suppliers: number): Offer {
  {
    const [model, mem] = CLASSES[Math.floor(rnd() * CLASSES.length)]
    const tee = TEES.filter(() => rnd() < 0.6)
    return {
      version: 1,
      id: `o${i}`,
      supplier: supplierKey(i % suppliers),
      enclavePeer: new Uint8Array(38).fill(5),
      gpus: [{ model, memoryMib: mem, count: 1 + Math.floor(rnd() * 8) }],
      teeKinds: tee.length > 0 ? tee : ['tdx'],
      region: REGIONS[Math.floor(rnd() * REGIONS.length)],
      pricePerGpuHour: RAO / 2n + BigInt(Math.floor(rnd() * 4.5e9)),
      netuid: rnd() < 0.9 ? 1 : 2,
      minDurationS: rnd() < 0.8 ? 60 : 7200,
      maxDurationS: rnd() < 0.7 ? 0 : 86_400,
      createdAt: BigInt(T0 + i),
      expiresAt: BigInt(T0 + 3_600_000 + i),
      sequence: 1n,
      cancelled: false,
      addrs: ADDRS,
      images: []
    }
  }
}

function genOffers (rnd: () => number, suppliers: number): Array<{ offer: Offer, envelope: Uint8Array }> {
  const out: Array<{ offer: Offer, envelope: Uint8Array }> = []
  for (let i = 0; i < N; i++) out.push(received(genOffer(rnd, i, suppliers)))
  return out
}

function genBids (rnd: () => number): Bid[] {
  const out: Bid[] = []
  for (let i = 0; i < N; i++) {
    const r = rnd()
    const [model] = CLASSES[Math.floor(rnd() * CLASSES.length)]
    const gpu = r < 0.1 ? '' : r < 0.4 ? model.split('-')[0] : model
    out.push({
      version: 1,
      id: `b${i}`,
      renter: supplierKey(1_000_000 + i),
      requirements: {
        gpu,
        minMemoryMib: 0,
        count: 1 + Math.floor(rnd() * 4),
        teeKinds: rnd() < 0.5 ? [] : [TEES[Math.floor(rnd() * TEES.length)]],
        regions: rnd() < 0.5 ? [] : [REGIONS[Math.floor(rnd() * REGIONS.length)]]
      },
      maxPricePerGpuHour: RAO + BigInt(Math.floor(rnd() * 5e9)),
      netuid: rnd() < 0.9 ? 1 : 2,
      durationS: rnd() < 0.8 ? 3600 : 172_800,
      createdAt: BigInt(T0),
      expiresAt: BigInt(T0 + 600_000),
      sequence: 1n,
      cancelled: false,
      addrs: []
    })
  }
  return out
}

interface Figures {
  inserts: number
  matches: number
  p50: number
  p99: number
  heap: number
  /** the same throughputs by this process's CPU time (immune to other processes taking the cores) */
  insertsCpu: number
  matchesCpu: number
}

/** CPU microseconds (user + system) of this process since `since` */
function cpuUs (since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return d.user + d.system
}

function ours (): Figures & { matched: number } {
  const clock = clockAt(() => T0)
  const rnd = prng(42)
  const base = heapUsed()
  let offers: Array<{ offer: Offer, envelope: Uint8Array }> | undefined = genOffers(rnd, 2000)
  const bids = genBids(rnd)
  const book = new OrderBook({ clock, maxOffers: N + 1, maxOffersPerSupplier: N })
  gc()
  let c = process.cpuUsage()
  let t = process.hrtime.bigint()
  for (const { offer, envelope } of offers) book.upsertOffer(offer, { peer: PEER, source: 'gossip', envelope })
  const insertNs = Number(process.hrtime.bigint() - t)
  const insertCpu = cpuUs(c)
  offers = undefined
  const heap = heapUsed() - base
  // warm-up, then throughput without per-call timers, then latency per call
  for (let i = 0; i < 10_000; i++) matchBid(book, bids[i], { now: T0 })
  gc()
  let matched = 0
  c = process.cpuUsage()
  t = process.hrtime.bigint()
  for (const b of bids) if (matchBid(book, b, { now: T0 }) !== undefined) matched++
  const matchNs = Number(process.hrtime.bigint() - t)
  const matchCpu = cpuUs(c)
  const lat = new Float64Array(bids.length)
  for (let i = 0; i < bids.length; i++) {
    const s = process.hrtime.bigint()
    matchBid(book, bids[i], { now: T0 })
    lat[i] = Number(process.hrtime.bigint() - s) / 1000
  }
  lat.sort()
  return { inserts: N / (insertNs / 1e9), matches: N / (matchNs / 1e9), p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), heap, matched, insertsCpu: N / (insertCpu / 1e6), matchesCpu: N / (matchCpu / 1e6) }
}

/** distinct signed offers for the validator's part (each validated in full: about 0.25 ms of CPU) */
const VALIDATED = 20_000

/**
 * What the gossip validator keeps per accepted offer beside the book (its seen-cache and its
 * sequence per slot, both bounded): VALIDATED distinct signed offers from 80 signers through
 * `MarketMessageValidator.validate`, heap and array buffers after GC, per message.
 */
async function validatorMemory (): Promise<{ messages: number, bytesEach: number }> {
  await cryptoWaitReady()
  const kr = new Keyring({ type: 'sr25519', ss58Format: 42 })
  const now = Date.now()
  const signers = Array.from({ length: 80 }, (_, i) => MessageSigner.create(kr.addFromUri(`//book-bench-${i}`), { now }))
  const enclave = Uint8Array.from(Buffer.from(`002408011220${'11'.repeat(32)}`, 'hex'))
  const msgs = Array.from({ length: VALIDATED }, (_, k) => {
    const s = signers[k % signers.length]
    return sealOffer({ ...genOffer(prng(k), k, 1), supplier: s.hotkey, enclavePeer: enclave, addrs: [], minDurationS: 60, maxDurationS: 86_400, createdAt: BigInt(now), expiresAt: BigInt(now + 3_600_000) }, s)
  })
  const certCache = new CertCache()
  for (const s of signers) certCache.check(s.cert, now)
  const validator = new MarketMessageValidator({ clock: systemClock, certCache })
  const before = heapUsed()
  for (const m of msgs) validator.validate(TOPIC_OFFERS, m)
  const after = heapUsed()
  // the validator and the messages must still be reachable here, or the collector takes them
  // between the two readings
  return { messages: validator !== undefined ? msgs.length : 0, bytesEach: (after - before) / VALIDATED }
}

interface PriceOnly { figures: Figures, fills: number }

/** suppliers behind the price-only orders (100 offers each at N = 100,000; hft has no such notion) */
const PRICE_ONLY_SUPPLIERS = 1000

/** fills timed for throughput (then N / 2 more timed one by one); the book holds about 5.5 N units */
const FILLS = 2 * N

function priceInputs (): { prices: number[], sizes: number[] } {
  const rnd = prng(7)
  const prices: number[] = []
  const sizes: number[] = []
  for (let i = 0; i < N; i++) {
    prices.push(10_000 + Math.floor(rnd() * 10_000))
    sizes.push(1 + Math.floor(rnd() * 10))
  }
  return { prices, sizes }
}

/**
 * The fill phase of the price-only workload, the same for either book: FILLS fills timed together
 * (throughput), then N / 2 timed one by one (latency). `fill` returns the price it filled at.
 */
function measureFills (fill: () => number, insert: { insertNs: number, insertCpu: number, heap: number }): PriceOnly {
  const lat = new Float64Array(N / 2)
  let fills = 0
  gc()
  const c = process.cpuUsage()
  const t = process.hrtime.bigint()
  for (let i = 0; i < FILLS; i++) fills += fill()
  const matchNs = Number(process.hrtime.bigint() - t)
  const matchCpu = cpuUs(c)
  for (let i = 0; i < N / 2; i++) {
    const s = process.hrtime.bigint()
    fills += fill()
    lat[i] = Number(process.hrtime.bigint() - s) / 1000
  }
  lat.sort()
  const { insertNs, insertCpu, heap } = insert
  return {
    figures: { inserts: N / (insertNs / 1e9), matches: FILLS / (matchNs / 1e9), p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), heap, insertsCpu: N / (insertCpu / 1e6), matchesCpu: FILLS / (matchCpu / 1e6) },
    fills
  }
}

function oursPriceOnly (): PriceOnly {
  const { prices, sizes } = priceInputs()
  const base = heapUsed()
  let offers: Offer[] | undefined = prices.map((p, i) => ({
    version: 1,
    id: `o${i}`,
    supplier: supplierKey(i % PRICE_ONLY_SUPPLIERS),
    enclavePeer: new Uint8Array(0),
    gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: sizes[i] }],
    teeKinds: ['tdx'],
    region: 'eu',
    pricePerGpuHour: BigInt(p),
    netuid: 1,
    minDurationS: 0,
    maxDurationS: 0,
    createdAt: BigInt(T0 + i),
    expiresAt: BigInt(T0 + 3_600_000),
    sequence: 1n,
    cancelled: false,
    addrs: [],
    images: []
  }))
  const book = new OrderBook({ clock: clockAt(() => T0), maxOffers: N + 1, maxOffersPerSupplier: N })
  gc()
  const c = process.cpuUsage()
  const t = process.hrtime.bigint()
  for (const o of offers) book.upsertOffer(o)
  const insertNs = Number(process.hrtime.bigint() - t)
  const insertCpu = cpuUs(c)
  offers = undefined
  const heap = heapUsed() - base
  const bid: Bid = {
    version: 1, id: 'b', renter: supplierKey(9_999_999),
    requirements: { gpu: 'h100-80gb', minMemoryMib: 0, count: 1, teeKinds: [], regions: [] },
    maxPricePerGpuHour: 1n << 62n, netuid: 1, durationS: 3600, createdAt: BigInt(T0), expiresAt: BigInt(T0 + 1), sequence: 1n, cancelled: false, addrs: []
  }
  const opts = { now: T0 }
  const fill = (): number => {
    const m = matchBid(book, bid, opts)
    if (m === undefined) return 0
    book.consume(m.entry, m.gpu.model, 1)
    return m.entry.priceN
  }
  return measureFills(fill, { insertNs, insertCpu, heap })
}

function hftPriceOnly (): PriceOnly | undefined {
  let lib: { OrderBook: new () => any }
  try {
    lib = createRequire(import.meta.url)('hft-limit-order-book')
  } catch {
    return undefined
  }
  const { prices, sizes } = priceInputs()
  const base = heapUsed()
  const ob = new lib.OrderBook()
  gc()
  const c = process.cpuUsage()
  const t = process.hrtime.bigint()
  for (let i = 0; i < N; i++) ob.limit({ side: 'sell', id: `o${i}`, size: sizes[i], price: prices[i] })
  const insertNs = Number(process.hrtime.bigint() - t)
  const insertCpu = cpuUs(c)
  const heap = heapUsed() - base
  const order = { side: 'buy', size: 1 }
  const fill = (): number => {
    const r = ob.market(order)
    return r.done.length > 0 ? r.done[0].price : (r.partial?.price ?? 0)
  }
  return measureFills(fill, { insertNs, insertCpu, heap })
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** per-figure median over rounds (each round a fresh book); heap from the first round */
function summarise (rounds: Figures[]): Figures {
  return {
    inserts: median(rounds.map((r) => r.inserts)),
    matches: median(rounds.map((r) => r.matches)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    heap: rounds[0].heap,
    insertsCpu: median(rounds.map((r) => r.insertsCpu)),
    matchesCpu: median(rounds.map((r) => r.matchesCpu))
  }
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)

function row (name: string, f: Figures): string {
  return `${name.padEnd(26)} ${fmt(f.inserts).padStart(12)} ${fmt(f.matches).padStart(12)} ${fmt(f.p50, 2).padStart(9)} ${fmt(f.p99, 2).padStart(9)} ${mb(f.heap).padStart(10)}`
}

const header = `${'book'.padEnd(26)} ${'inserts/s'.padStart(12)} ${'matches/s'.padStart(12)} ${'p50 µs'.padStart(9)} ${'p99 µs'.padStart(9)} ${'heap'.padStart(10)}`

/**
 * Each measurement runs in a fresh child process (`--part <name>`), after one untimed warm-up pass
 * of the same work: a book's figures then do not depend on what the JIT and the heap kept from the
 * other workload or the other library. The parent runs the rounds, alternating the two libraries
 * so that both see the same machine load.
 */
type Part = 'ours' | 'ours-price' | 'hft-price' | 'memory' | 'memory-control' | 'validator-memory'

function runPart (part: Part, nodeFlags: string[] = []): unknown {
  const r = spawnSync(process.execPath, [...nodeFlags, fileURLToPath(import.meta.url), '--part', part], {
    encoding: 'utf8', env: { ...process.env }, maxBuffer: 1 << 20
  })
  if (r.status !== 0) throw new Error(`bench part ${part} failed (${r.status ?? r.signal}): ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? 'null')
}

const partIndex = process.argv.indexOf('--part')
if (partIndex >= 0) {
  const part = process.argv[partIndex + 1] as Part
  // the memory parts run once, in a process that has done nothing else
  if (part === 'memory' || part === 'memory-control') { console.log(JSON.stringify(memory(part === 'memory'))); process.exit(0) }
  if (part === 'validator-memory') { console.log(JSON.stringify(await validatorMemory())); process.exit(0) }
  const run = part === 'ours' ? ours : part === 'ours-price' ? oursPriceOnly : part === 'hft-price' ? hftPriceOnly : undefined
  if (run === undefined) throw new Error(`unknown part ${part}`)
  // one untimed pass first: the JIT has compiled the hot paths and the heap has grown as in a
  // process that has been running, for either library alike; then the measured pass
  run()
  console.log(JSON.stringify(run() ?? null))
} else {
  main()
}

function main (): void {
  const wall0 = Date.now()
  console.log(`node ${process.version}, ${N.toLocaleString('en-US')} resting orders, median of ${ROUNDS} rounds (a fresh process and book for each)\n`)
  console.log(`1. bazaar workload: ${CLASSES.length} GPU classes, TEE kinds, regions, netuids, durations; full matching rule`)
  const aRounds = Array.from({ length: ROUNDS }, () => runPart('ours') as Figures & { matched: number })
  const a = summarise(aRounds)
  console.log(header)
  console.log(row('bazaar OrderBook', a))
  console.log(`   by process CPU time: ${fmt(a.insertsCpu)} inserts/s, ${fmt(a.matchesCpu)} matches/s`)
  console.log(`   ${fmt(aRounds[0].matched)} of ${fmt(N)} bids found a compatible offer; p99 goal < 50 µs: ${a.p99 < 50 ? 'met' : 'NOT met'}`)
  const mem = runPart('memory') as Memory
  console.log(`   memory of ${fmt(mem.offers)} offers alone (envelopes of ${fmt(mem.envelopeBytes)} bytes on average; a fresh process each, after GC):`)
  console.log(`     held: heap +${mb(mem.heap)}, array buffers +${mb(mem.arrayBuffers)}, ${fmt((mem.heap + mem.arrayBuffers) / mem.offers)} bytes per offer`)
  // V8 sizes its young generation (and grows its heap) by how much survives: receiving 100,000
  // offers that all stay grows the reserve far beyond what is live; a capped semi-space keeps it near
  for (const flags of [[], ['--max-semi-space-size=2']]) {
    const m = flags.length === 0 ? mem : runPart('memory', flags) as Memory
    const control = runPart('memory-control', flags) as Memory
    const cost = m.rss - control.rss
    console.log(`     node ${flags.length === 0 ? '(default flags)' : flags.join(' ')}: RSS +${mb(m.rss)} (V8 heap reserved +${mb(m.heapTotal)}); the same work without the book: RSS +${mb(control.rss)}; ` +
      `the offers' cost (the difference) ${mb(cost)}, goal <= 150 MB: ${cost <= 150 * 1048576 ? 'met' : 'NOT met'}`)
  }
  console.log(`   an anti-entropy exchange's hold on them, for as long as it runs: ${mb(mem.heldAsSources)} as entries that read each envelope when its page is cut (the node's), ${mb(mem.heldAsCopies)} as copies of the envelopes`)
  console.log(`   anti-entropy's ids of them, kept for its digests: ${mb(mem.idCache)}; a digest of the whole book ${fmt(mem.digestCachedMs, 1)} ms with them, ${fmt(mem.digestMs, 1)} ms hashing every envelope`)
  const v = runPart('validator-memory') as { messages: number, bytesEach: number }
  console.log(`   the gossip validator beside the book (seen-cache and sequence per slot, bounded): ${fmt(v.bytesEach)} bytes per accepted offer (${fmt(v.messages)} validated)`)
  console.log('')

  console.log('2. price-only workload (limit sells, then market buys of size 1 that fill the best price)')
  const bRounds: PriceOnly[] = []
  const hRounds: PriceOnly[] = []
  for (let r = 0; r < ROUNDS; r++) {
    // alternated (and which goes first swaps each round), so both books see the same machine load
    const order: Part[] = r % 2 === 0 ? ['ours-price', 'hft-price'] : ['hft-price', 'ours-price']
    for (const part of order) {
      const res = runPart(part) as PriceOnly | null
      if (part === 'ours-price' && res != null) bRounds.push(res)
      if (part === 'hft-price' && res != null) hRounds.push(res)
    }
  }
  const b = summarise(bRounds.map((x) => x.figures))
  console.log(header)
  console.log(row('bazaar OrderBook', b))
  if (hRounds.length === 0) {
    console.log('hft-limit-order-book is not installed (it is a devDependency: run `npm install`); comparison skipped')
  } else {
    const h = summarise(hRounds.map((x) => x.figures))
    console.log(row('hft-limit-order-book 7.0.2', h))
    const ri = b.inserts / h.inserts
    const rm = b.matches / h.matches
    console.log(`ratio bazaar/hft: inserts ${fmt(ri, 2)}x, matches ${fmt(rm, 2)}x (goal >= 2x: inserts ${ri >= 2 ? 'met' : 'NOT met'}, matches ${rm >= 2 ? 'met' : 'NOT met'}); same fill prices: ${bRounds[0].fills === hRounds[0].fills ? 'yes' : `NO (${bRounds[0].fills} vs ${hRounds[0].fills})`}`)
    const ci = b.insertsCpu / h.insertsCpu
    const cm = b.matchesCpu / h.matchesCpu
    console.log(`by process CPU time: bazaar ${fmt(b.insertsCpu)} inserts/s, ${fmt(b.matchesCpu)} matches/s; hft ${fmt(h.insertsCpu)} inserts/s, ${fmt(h.matchesCpu)} matches/s; ratio inserts ${fmt(ci, 2)}x, matches ${fmt(cm, 2)}x`)
    // each round ran both books back to back: the spread of the paired ratios shows how much the machine's load moved them
    const spread = (f: (x: Figures) => number): string => {
      const rs = bRounds.map((x, i) => f(x.figures) / f(hRounds[i].figures)).sort((p, q) => p - q)
      return `${fmt(rs[0], 2)}x to ${fmt(rs[rs.length - 1], 2)}x (median ${fmt(median(rs), 2)}x)`
    }
    console.log(`per-round ratios: inserts ${spread((x) => x.inserts)}, matches ${spread((x) => x.matches)}`)
  }
  console.log(`\n${fmt((Date.now() - wall0) / 1000, 1)} s in all`)
}
