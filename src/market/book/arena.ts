/**
 * Where the book keeps the signed envelopes of its resting offers: copied into large slabs, side by
 * side, rather than one `Uint8Array` each. 100,000 envelopes held one by one cost 100,000 typed
 * array and array buffer objects on the V8 heap and as many small allocations outside it, scattered
 * among the garbage that receiving them made; in slabs they cost a few hundred allocations, and an
 * entry holds only its slab, offset and length.
 *
 * Slabs are append-only: bytes once written are never overwritten, so a view handed out (`view`)
 * stays valid for as long as anyone holds it, whatever the book does later. A slab whose live bytes
 * fall under half of what it holds, once it is no longer the one written to, is evacuated: its live
 * envelopes are copied into the current slab and it is left to the garbage collector. So the slabs
 * hold at most about twice the live bytes (plus one slab), and each freed byte costs at most one
 * byte of copying.
 */
export class Slab {
  readonly bytes: Uint8Array
  /** bytes written, and bytes of envelopes still held */
  used = 0
  live = 0
  /** the holders of envelopes in this slab, by `Held.slot` (undefined once released) */
  holders: Array<Held | undefined> = []

  constructor (size: number) {
    this.bytes = new Uint8Array(size)
  }
}

/** What holds an envelope in the arena (a resting offer): where its bytes are. */
export interface Held {
  slab: Slab | undefined
  at: number
  len: number
  slot: number
}

export const SLAB_BYTES = 256 * 1024

export class EnvelopeArena {
  private current: Slab
  /** slabs with live envelopes (the current one included) */
  private readonly slabs = new Set<Slab>()
  private liveBytes = 0

  constructor (private readonly slabBytes: number = SLAB_BYTES) {
    this.current = new Slab(slabBytes)
    this.slabs.add(this.current)
  }

  /**
   * Copies `bytes`, then `rest` right after them when given, into the arena for `h`, which must not
   * hold anything yet: `h` then holds the two as one run of bytes.
   */
  put (h: Held, bytes: Uint8Array, rest?: Uint8Array): void {
    const len = bytes.byteLength + (rest?.byteLength ?? 0)
    let s = this.current
    if (s.used + len > s.bytes.byteLength) {
      // an envelope larger than a slab (never, at 8 KiB at most) gets one of its own size
      s = new Slab(Math.max(this.slabBytes, len))
      this.slabs.add(s)
      this.current = s
    }
    s.bytes.set(bytes, s.used)
    if (rest !== undefined) s.bytes.set(rest, s.used + bytes.byteLength)
    h.slab = s
    h.at = s.used
    h.len = len
    h.slot = s.holders.length
    s.holders.push(h)
    s.used += len
    s.live += len
    this.liveBytes += len
  }

  /** `h`'s bytes: a view into its slab, never overwritten later */
  view (h: Held): Uint8Array | undefined {
    return h.slab?.bytes.subarray(h.at, h.at + h.len)
  }

  /**
   * `h` lets its envelope go. `h` keeps pointing at its bytes (a view of it stays valid); a slab
   * then less than half live is evacuated.
   */
  release (h: Held): void {
    const s = h.slab
    if (s === undefined || s.holders[h.slot] !== h) return
    s.holders[h.slot] = undefined
    s.live -= h.len
    this.liveBytes -= h.len
    if (s.live === 0 && s !== this.current) this.slabs.delete(s)
    else if (s !== this.current && s.live * 2 < s.used) this.evacuate(s)
  }

  /** copies the live envelopes of `s` into the current slab and forgets `s` */
  private evacuate (s: Slab): void {
    const holders = s.holders
    s.holders = []
    this.slabs.delete(s)
    for (const h of holders) {
      if (h === undefined) continue
      const bytes = s.bytes.subarray(h.at, h.at + h.len)
      this.liveBytes -= h.len
      this.put(h, bytes)
    }
    s.live = 0
  }

  /** slabs held and their bytes, and the bytes of live envelopes in them */
  stats (): { slabs: number, bytes: number, live: number } {
    let bytes = 0
    for (const s of this.slabs) bytes += s.bytes.byteLength
    return { slabs: this.slabs.size, bytes, live: this.liveBytes }
  }
}
