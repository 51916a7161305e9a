/**
 * Codec of the metering messages (schema: ../schema/metering.proto) between the escrow's domain
 * types (bigint amounts, 0x-hex ids) and frames on the job channel. Untrusted frames are checked
 * cheapest first: size cap → bounded decode → exactly one message → canonical re-encoding → field
 * ranges. Every failure is a MeteringCodecError with a stable code.
 */
import { isHex32 } from '../../escrow/hex.js'
import { fromHex, toHex0x } from '../../util/hex.js'
import type { UsageReport, VoucherAck } from '../../escrow/metering/types.js'
import type { SignedVoucher } from '../../escrow/types.js'
import { BazaarError } from '../../util/errors.js'
import { bytesEqual } from '../../util/bytes.js'
import { MeteringFrame } from '../../wire/metering.js'

/** Largest metering frame: the biggest message (a voucher) is about 120 bytes. */
export const MAX_METERING_FRAME = 512

export type MeteringCodecErrorCode = 'FRAME_TOO_LARGE' | 'MALFORMED' | 'NOT_CANONICAL' | 'NOT_ONE_MESSAGE' | 'FIELD_RANGE'

export class MeteringCodecError extends BazaarError<MeteringCodecErrorCode> {}

export type MeteringMessage =
  | { kind: 'report', report: UsageReport }
  | { kind: 'voucher', voucher: SignedVoucher }
  | { kind: 'ack', ack: VoucherAck }

function id (hex: string): Uint8Array<ArrayBuffer> {
  if (!isHex32(hex)) throw new MeteringCodecError('FIELD_RANGE', 'escrow id must be 32 bytes')
  return new Uint8Array(fromHex(hex))
}

const MAX_U63 = (1n << 63n) - 1n

/** true when every value is a 64-bit wire value this schema can carry (0 <= x < 2^63). */
function inRange (...xs: bigint[]): boolean {
  return xs.every((x) => typeof x === 'bigint' && x >= 0n && x <= MAX_U63)
}

/** Encodes one metering message as a frame; FIELD_RANGE for values the wire cannot carry. */
export function encodeMetering (m: MeteringMessage): Uint8Array {
  const ok = m.kind === 'report'
    ? inRange(m.report.seq, m.report.amount) && Number.isSafeInteger(m.report.usedMs) && m.report.usedMs >= 0
    : m.kind === 'voucher' ? inRange(m.voucher.cumulative, m.voucher.sequence) : inRange(m.ack.cumulative, m.ack.sequence)
  if (!ok) throw new MeteringCodecError('FIELD_RANGE', '64-bit field out of range')
  switch (m.kind) {
    case 'report':
      return MeteringFrame.encode({ report: { escrowId: id(m.report.escrowId), seq: m.report.seq, usedMs: BigInt(m.report.usedMs), gpus: m.report.gpus, amount: m.report.amount } })
    case 'voucher':
      return MeteringFrame.encode({ voucher: { escrowId: id(m.voucher.escrowId), cumulative: m.voucher.cumulative, sequence: m.voucher.sequence, signature: new Uint8Array(fromHex(m.voucher.signature)) } })
    case 'ack':
      return MeteringFrame.encode({ ack: { escrowId: id(m.ack.escrowId), sequence: m.ack.sequence, cumulative: m.ack.cumulative } })
  }
}

/** Decodes an untrusted frame into exactly one metering message. */
export function decodeMetering (frame: Uint8Array): MeteringMessage {
  // [REJECT] over the size cap, before any parsing
  if (frame.length > MAX_METERING_FRAME) throw new MeteringCodecError('FRAME_TOO_LARGE', 'metering frame too large')
  let f: MeteringFrame
  try {
    f = MeteringFrame.decode(frame)
  } catch (err) {
    throw new MeteringCodecError('MALFORMED', 'metering frame does not decode', { cause: err })
  }
  const present = [f.report, f.voucher, f.ack].filter((x) => x != null).length
  // [REJECT] one message per frame
  if (present !== 1) throw new MeteringCodecError('NOT_ONE_MESSAGE', 'a metering frame holds exactly one message')
  // [REJECT] one encoding per message (unknown fields, non-minimal varints, reordering)
  if (!bytesEqual(MeteringFrame.encode(f), frame)) throw new MeteringCodecError('NOT_CANONICAL', 'metering frame not canonical')
  if (f.report != null) {
    const r = f.report
    if (r.escrowId.length !== 32 || r.seq < 1n || !inRange(r.amount, r.usedMs) || r.usedMs > BigInt(Number.MAX_SAFE_INTEGER) || r.gpus < 1) {
      throw new MeteringCodecError('FIELD_RANGE', 'usage report field out of range')
    }
    return { kind: 'report', report: { escrowId: toHex0x(r.escrowId), seq: r.seq, usedMs: Number(r.usedMs), gpus: r.gpus, amount: r.amount } }
  }
  if (f.voucher != null) {
    const v = f.voucher
    if (v.escrowId.length !== 32 || v.signature.length !== 64 || v.sequence < 1n || !inRange(v.cumulative)) {
      throw new MeteringCodecError('FIELD_RANGE', 'voucher field out of range')
    }
    return { kind: 'voucher', voucher: { escrowId: toHex0x(v.escrowId), cumulative: v.cumulative, sequence: v.sequence, signature: toHex0x(v.signature) } }
  }
  const a = f.ack!
  if (a.escrowId.length !== 32 || a.sequence < 1n || !inRange(a.cumulative)) throw new MeteringCodecError('FIELD_RANGE', 'ack field out of range')
  return { kind: 'ack', ack: { escrowId: toHex0x(a.escrowId), sequence: a.sequence, cumulative: a.cumulative } }
}
