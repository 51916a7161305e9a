/**
 * A bidirectional channel of length-delimited frames. The attested session hands one to the job
 * layer once attestation succeeded; tests use an in-memory pair. Frames larger than the channel's
 * limit end the channel with an error rather than being buffered.
 */
export interface FramedChannel {
  /** sends one frame; rejects when the channel is closed or the frame is over the limit */
  send (frame: Uint8Array, opts?: { signal?: AbortSignal }): Promise<void>
  /** frames in arrival order; ends when the remote closes its side */
  frames (): AsyncIterable<Uint8Array>
  /** closes our side gracefully */
  close (): Promise<void>
  /** ends the channel at once with a typed reason (both sides see it end) */
  abort (err: Error): void
}

/** Two connected in-memory channels, for tests and for in-process use. */
export function memoryChannelPair (maxFrame = 1 << 20): [FramedChannel, FramedChannel] {
  const a = new MemoryEnd(maxFrame)
  const b = new MemoryEnd(maxFrame)
  a.peer = b
  b.peer = a
  return [a, b]
}

class MemoryEnd implements FramedChannel {
  peer!: MemoryEnd
  private readonly queue: Uint8Array[] = []
  private waiting?: () => void
  private ended = false
  private error?: Error
  private closed = false
  constructor (private readonly maxFrame: number) {}

  async send (frame: Uint8Array): Promise<void> {
    if (this.closed || this.error != null) throw this.error ?? new Error('channel closed')
    if (frame.byteLength > this.maxFrame) throw new Error(`frame of ${frame.byteLength} bytes over the ${this.maxFrame} byte limit`)
    this.peer.push(frame.slice())
  }

  private push (frame: Uint8Array): void {
    this.queue.push(frame)
    this.wake()
  }

  private wake (): void {
    const w = this.waiting
    this.waiting = undefined
    w?.()
  }

  async * frames (): AsyncIterable<Uint8Array> {
    while (true) {
      const f = this.queue.shift()
      if (f != null) { yield f; continue }
      if (this.error != null) throw this.error
      if (this.ended) return
      await new Promise<void>((resolve) => { this.waiting = resolve })
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.peer.ended = true
    this.peer.wake()
  }

  abort (err: Error): void {
    this.error = err
    this.closed = true
    this.peer.error = err
    this.peer.wake()
    this.wake()
  }
}
