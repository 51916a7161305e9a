import { describe, expect, it } from 'vitest'
import { decodeMetering, encodeMetering, MAX_METERING_FRAME, MeteringCodecError, type MeteringMessage } from '../../../src/protocols/metering/codec.js'
import { MeteringFrame } from '../../../src/protocols/schema/metering.js'
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
    ['used time beyond 2^53', () => MeteringFrame.encode({ report: { escrowId: id, seq: 1n, usedMs: 1n << 60n, gpus: 1, amount: 1n } }), 'FIELD_RANGE']
  ])('refuses %s', (_n, make, want) => {
    expect(code(() => decodeMetering(make()))).toBe(want)
  })
})
