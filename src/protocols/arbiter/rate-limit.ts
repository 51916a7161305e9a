/** Fixed-window request budget per peer, with a bounded peer table (oldest forgotten first). */
export class WindowLimiter {
  private readonly windows = new Map<string, { start: number, used: number }>()
  constructor (private readonly perWindow: number, private readonly windowMs: number, private readonly maxPeers: number) {}

  /** true when `peer` may make one more request at `now` */
  take (peer: string, now: number): boolean {
    let w = this.windows.get(peer)
    if (w == null || now - w.start >= this.windowMs) {
      this.windows.delete(peer)
      if (this.windows.size >= this.maxPeers) this.windows.delete(this.windows.keys().next().value as string)
      w = { start: now, used: 0 }
      this.windows.set(peer, w)
    }
    if (w.used >= this.perWindow) return false
    w.used++
    return true
  }
}
