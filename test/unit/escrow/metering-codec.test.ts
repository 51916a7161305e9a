import { describe, expect, it } from 'vitest'
import { decodeMetering, encodeMetering, MAX_METERING_FRAME, MeteringCodecError, type MeteringMessage } from '../../../src/protocols/metering/codec.js'
import { MeteringFrame } from '../../../src/wire/metering.js'
import { escrowId, signer } from './fixtures.js'

const v = signer().sign({ escrowId: escrowId(1), cumulative: 123_456_789n, sequence: 42n })
const messages: MeteringMessage[] = [
  { kind: 'report', report: { escrowId: escrowId(1), seq: 42n, usedMs: 420_000, gpus: 8, amount: 123_456_789n } },
  { kind: 'voucher', voucher: v },
  { kind: 'ack', ack: { escrowId: escrowId(1), sequence: 42n, cumulative: 123_456_789n } }
]

function code (fn: () => unknown): string | undefined {
  try { fn() } catch (e) { if (e instanceof MeteringCodecError) return e.code; throw e }
  return undefined
}

describe('metering codec', () => {
  it.each(messages.map((m) => [m.kind, m] as const))('round-trips a %s', (_k, m) => {
    const bytes = encodeMetering(m)
    expect(bytes.length).toBeLessThanOrEqual(MAX_METERING_FRAME)
    expect(decodeMetering(bytes)).toEqual(m)
  })

  // protons-runtime 7.1.2 writes undecodable varints for uint64 values in [2^31, 2^32); the schema
  // uses fixed64, and every edge of the carried range [0, 2^63) must survive the canonical round trip
  const edges = [0n, 1n, 127n, 128n, (1n << 31n) - 1n, 1n << 31n, 3_600_000_000n, (1n << 32n) - 1n, 1n << 32n, 1n << 53n, (1n << 62n) + 5n, (1n << 63n) - 1n]
  it.each(edges.map((x) => [x]))('round-trips 64-bit value %s in every field', (x) => {
    const seq = x === 0n ? 1n : x
    const usedMs = Number(x > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : x)
    for (const m of [
      { kind: 'report' as const, report: { escrowId: escrowId(1), seq, usedMs, gpus: 1, amount: x } },
      { kind: 'voucher' as const, voucher: { ...v, cumulative: x, sequence: seq } },
      { kind: 'ack' as const, ack: { escrowId: escrowId(1), sequence: seq, cumulative: x } }
    ]) {
      expect(decodeMetering(encodeMetering(m))).toEqual(m)
    }
  })

  it('refuses to encode values the wire cannot carry', () => {
    expect(code(() => encodeMetering({ kind: 'ack', ack: { escrowId: escrowId(1), sequence: 1n, cumulative: 1n << 63n } }))).toBe('FIELD_RANGE')
    expect(code(() => encodeMetering({ kind: 'voucher', voucher: { ...v, sequence: -1n } }))).toBe('FIELD_RANGE')
  })

  it('refuses a value with the top bit set', () => {
    const top = MeteringFrame.encode({ ack: { escrowId: new Uint8Array(32).fill(1), sequence: 1n, cumulative: 1n << 63n } })
    // protons-runtime 7 reads it back negative and re-encodes it differently (NOT_CANONICAL); a
    // runtime that reads fixed64 unsigned would hand over 2^63, which is out of range
    expect(['NOT_CANONICAL', 'FIELD_RANGE']).toContain(code(() => decodeMetering(top)))
  })

  const id = new Uint8Array(32).fill(1)
  it.each<[string, () => Uint8Array, string]>([
    ['an oversized frame', () => new Uint8Array(MAX_METERING_FRAME + 1), 'FRAME_TOO_LARGE'],
    ['garbage', () => Uint8Array.from([0x0a, 0xff, 0xff, 0xff]), 'MALFORMED'],
    ['an empty frame', () => new Uint8Array(0), 'NOT_ONE_MESSAGE'],
    ['two messages in a frame', () => MeteringFrame.encode({ ack: { escrowId: id, sequence: 1n, cumulative: 1n }, report: { escrowId: id, seq: 1n, usedMs: 1n, gpus: 1, amount: 1n } }), 'NOT_ONE_MESSAGE'],
    ['an unknown trailing field', () => Uint8Array.from([...encodeMetering(messages[2]), 0x20, 0x01]), 'NOT_CANONICAL'],
    ['a short escrow id', () => MeteringFrame.encode({ ack: { escrowId: id.subarray(0, 31), sequence: 1n, cumulative: 1n } }), 'FIELD_RANGE'],
    ['a short signature', () => MeteringFrame.encode({ voucher: { escrowId: id, cumulative: 1n, sequence: 1n, signature: new Uint8Array(63) } }), 'FIELD_RANGE'],
    ['a zero sequence', () => MeteringFrame.encode({ voucher: { escrowId: id, cumulative: 1n, sequence: 0n, signature: new Uint8Array(64) } }), 'FIELD_RANGE'],
    ['zero gpus', () => MeteringFrame.encode({ report: { escrowId: id, seq: 1n, usedMs: 1n, gpus: 0, amount: 1n } }), 'FIELD_RANGE'],
    ['used time beyond 2^53', () => MeteringFrame.encode({ report: { escrowId: id, seq: 1n, usedMs: 1n << 60n, gpus: 1, amount: 1n } }), 'FIELD_RANGE'],
    ['a negative amount', () => MeteringFrame.encode({ report: { escrowId: id, seq: 1n, usedMs: 1n, gpus: 1, amount: -5n } }), 'FIELD_RANGE']
  ])('refuses %s', (_n, make, want) => {
    expect(code(() => decodeMetering(make()))).toBe(want)
  })
})
