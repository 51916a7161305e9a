import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { MarketMessageValidator } from '../../../src/protocols/gossip/validate.js'
import { sealBid, sealOffer } from '../../../src/protocols/gossip/envelope.js'
import { TOPIC_BIDS, TOPIC_OFFERS } from '../../../src/protocols/gossip/topics.js'
import { MessageError } from '../../../src/market/validation/errors.js'
import { MessageSigner } from '../../../src/market/signing/index.js'
import { decodeJobFrame, encodeJobFrame } from '../../../src/protocols/job/index.js'
import { JobProtocolError } from '../../../src/protocols/job/errors.js'
import { decodeMetering, encodeMetering, MeteringCodecError } from '../../../src/protocols/metering/codec.js'
import { requestFromWire, requestToWire } from '../../../src/protocols/arbiter/codec.js'
import { ArbiterProtocolError } from '../../../src/protocols/arbiter/errors.js'
import { ArbiterRequest as WireRequest } from '../../../src/wire/arbiter.js'
import { buildTerms, decodeTerms, encodeTerms } from '../../../src/market/agreement/index.js'
import { NegotiationError } from '../../../src/market/errors.js'
import { closeSettlement } from '../../../src/escrow/rules/settlement.js'
import { ManualClock } from '../../../src/util/clock.js'
import { devPair } from '../../helpers/keys.js'
import { makeBid, makeOffer } from '../../helpers/market.js'
import { parties, signer, terms as escrowTerms } from '../escrow/fixtures.js'

/**
 * Every decoder of bytes a peer sends, fed random bytes and mutations of valid messages (flipped
 * bytes, a cut): whatever happens, the only error is the decoder's own typed one, never a
 * TypeError, RangeError or a library's error. The validator and decoders are the first code a
 * hostile peer reaches.
 */

const NOW = Date.UTC(2026, 5, 1)
/** runs per property; BAZAAR_FUZZ_RUNS raises it for a longer campaign */
const RUNS = Number(process.env.BAZAAR_FUZZ_RUNS ?? 400)

const mutation = (len: number): fc.Arbitrary<{ flips: Array<{ at: number, xor: number }>, cut: number | undefined }> => fc.record({
  flips: fc.array(fc.record({ at: fc.nat({ max: Math.max(0, len - 1) }), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }),
  cut: fc.option(fc.nat({ max: len }), { nil: undefined })
})

function mutate (bytes: Uint8Array, m: { flips: Array<{ at: number, xor: number }>, cut?: number }): Uint8Array {
  const t = bytes.slice(0, m.cut ?? bytes.byteLength)
  for (const f of m.flips) if (f.at < t.byteLength) t[f.at] ^= f.xor
  return t
}

/** runs fn; anything it throws must be an instance of `cls` */
function onlyTyped (fn: () => unknown, cls: abstract new (...a: any[]) => Error): void {
  try { fn() } catch (err) {
    if (!(err instanceof cls)) throw new Error(`untyped ${(err as Error)?.name}: ${(err as Error)?.message}`)
  }
}

/** random bytes, and mutations of each valid sample */
function fuzz (samples: Uint8Array[], check: (bytes: Uint8Array) => void): void {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => { check(b) }), { numRuns: RUNS })
  for (const s of samples) fc.assert(fc.property(mutation(s.byteLength), (m) => { check(mutate(s, m)) }), { numRuns: RUNS })
}

describe('decoders of peer bytes throw only their typed errors', () => {
  let alice: MessageSigner
  beforeAll(async () => {
    alice = MessageSigner.create(await devPair('Alice'), { now: NOW - 1000, ttlMs: 3600_000 })
  })

  it('gossip: the market message validator (offers and bids)', async () => {
    const offer = sealOffer(await makeOffer(alice, NOW), alice)
    const bid = sealBid(makeBid(alice, NOW), alice)
    for (const topic of [TOPIC_OFFERS, TOPIC_BIDS]) {
      // one validator across runs, as on a node: its caches and limiter see every message
      const v = new MarketMessageValidator({ clock: new ManualClock(NOW) })
      fuzz([offer, bid], (b) => { onlyTyped(() => v.validate(topic, b), MessageError) })
    }
  })

  it('job protocol frames', () => {
    const spec = { command: 'true', args: ['-x'], env: [{ name: 'A', value: 'b' }], inputs: [], outputs: ['out.txt'], gpuCount: 1, maxDurationMs: 1000n, maxBudget: 5n, image: '' }
    const samples = [
      { start: { version: 1, jobId: 'j', spec } },
      { input: { file: 0, offset: 0n, data: new Uint8Array([1, 2]) } },
      { tick: { elapsedMs: 2n ** 31n + 5n, stdoutBytes: 3n, stderrBytes: 0n, gpuCount: 1, paused: false } },
      { exit: { exitCode: -1, signal: 'SIGKILL', reason: 'timeout', durationMs: 5n, detail: 'x' } },
      { output: { file: 0, name: 'a', size: 3n, sha256: new Uint8Array(32), missing: false } }
    ].map((f) => encodeJobFrame(f as never))
    fuzz(samples, (b) => { onlyTyped(() => decodeJobFrame(b), JobProtocolError) })
  })

  it('metering frames (usage reports, vouchers, acknowledgements)', async () => {
    const t = escrowTerms(await parties())
    const voucher = signer().sign({ escrowId: t.escrowId, cumulative: 300n, sequence: 3n })
    const samples = [
      encodeMetering({ kind: 'report', report: { escrowId: t.escrowId, seq: 1n, usedMs: 60_000, gpus: 1, amount: 1000n } }),
      encodeMetering({ kind: 'voucher', voucher }),
      encodeMetering({ kind: 'ack', ack: { escrowId: t.escrowId, sequence: 3n, cumulative: 300n } })
    ]
    fuzz(samples, (b) => { onlyTyped(() => decodeMetering(b), MeteringCodecError) })
  })

  it('arbiter requests (after the bounded protobuf decode the handler does)', async () => {
    const t = escrowTerms(await parties())
    const voucher = signer().sign({ escrowId: t.escrowId, cumulative: 300n, sequence: 3n })
    const sample = WireRequest.encode(requestToWire({ terms: t, settlement: closeSettlement(t, voucher, 'voucher'), voucher }))
    fuzz([sample], (b) => {
      let wire: WireRequest
      try { wire = WireRequest.decode(b, { limits: { settlement: { payouts: 8 } } as never }) } catch { return } // the handler refuses these as MALFORMED
      onlyTyped(() => requestFromWire(wire), ArbiterProtocolError)
    })
  })

  it('agreement terms in a proposal', async () => {
    const bob = MessageSigner.create(await devPair('Bob'), { now: NOW - 1000, ttlMs: 3600_000 })
    const offer = await makeOffer(alice, NOW)
    const bid = makeBid(bob, NOW, { requirements: { gpu: offer.gpus[0].model, minMemoryMib: 0, count: 1, teeKinds: [], regions: [] } })
    const bytes = encodeTerms(buildTerms(bid, offer, { now: NOW, arbiter: new Uint8Array(32).fill(7) }))
    expect(decodeTerms(bytes).offerId).toBe(offer.id)
    fuzz([bytes], (b) => { onlyTyped(() => decodeTerms(b), NegotiationError) })
  })
})
