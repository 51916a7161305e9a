import { EventEmitter } from 'node:events'
import { WsProvider } from '@polkadot/api'
import type {
  ProviderInterface, ProviderInterfaceCallback, ProviderInterfaceEmitCb, ProviderInterfaceEmitted, ProviderStats
} from '@polkadot/rpc-provider/types'

/** WsProvider's wait between reconnection attempts after a drop */
export const RECONNECT_MS = 1_000
/**
 * WsProvider's own deadline for a request (wall time). The adapter's reads end sooner
 * (READ_TIMEOUT_MS, on its clock); this one only clears what the provider keeps of them.
 */
export const WS_REQUEST_TIMEOUT_MS = 60_000
/**
 * Sockets dropped for silence whose close has not completed, at most: past it, no socket is
 * dropped until one of them ends. The close of a websocket waits for the node's close frame, and
 * a node that answers nothing sends none: the dropped socket (and the provider's 5 s timer that
 * sweeps its requests) stays until the node answers again or TCP gives up. Without a bound, a node
 * that stays silent would cost a socket every half minute.
 */
export const MAX_DROPPED = 4

/**
 * A websocket provider for ApiPromise whose socket can be replaced under it (`reset`): neither
 * @polkadot/api nor `WsProvider` can drop a socket whose node stopped answering. `WsProvider.disconnect()`
 * waits for a close the node never completes and turns reconnection off, and ApiPromise cannot take
 * another provider. So this one stands in front of a `WsProvider` to the endpoint and, on `reset`,
 * leaves it (its reconnection off, its close under way), fails every request sent through it at
 * once, says `disconnected`, and opens a fresh `WsProvider`, whose `connected` ApiPromise takes as a
 * reconnection (it keeps its metadata and subscribes to runtime updates again).
 *
 * Subscriptions live on the socket they were made on: a reset ends them, and only ApiPromise's own
 * (runtime updates) is made again on the new socket. The adapter makes none: it polls (submit.ts).
 *
 * Given several endpoints (nodes of one chain: the operator's own first, then public ones), each
 * `WsProvider` gets all of them, starting with the one after the socket it replaces: its own
 * reconnects after a socket closed go round them in turn (WsProvider's rotation), and so does every
 * reset, so a node that went away or stopped answering is left for the next one. Nothing goes back
 * to the first while the one in use answers: every endpoint is a node of the same chain, checked as
 * such at each reconnect (connection.ts).
 */
export class ResettableProvider implements ProviderInterface {
  readonly hasSubscriptions = true
  readonly isClonable = false
  private current: ProviderInterface
  /** the endpoints, the operator's order */
  readonly endpoints: readonly string[]
  /** the index in `endpoints` the current provider started at */
  private startedAt: number
  private readonly events = new EventEmitter()
  /** how each request sent through the current provider fails at a reset */
  private readonly inFlight = new Set<(err: Error) => void>()
  /** the provider each live subscription was made on, by `type::id` */
  private readonly subscribedOn = new Map<string, ProviderInterface>()
  /** dropped providers whose socket has not closed yet */
  private readonly dropped = new Set<ProviderInterface>()
  private closed = false

  /**
   * @param endpoints the node's ws:// or wss:// address, or several nodes of one chain in the order
   *   they are tried
   * @param open a provider to the first of `endpoints`, connecting on its own and, on a reconnect,
   *   going on to the next (tests give a fake)
   * @param start the index in `endpoints` of the first socket's node
   */
  constructor (endpoints: string | readonly string[], private readonly open: (endpoints: string[]) => ProviderInterface = (e) => new WsProvider(e, RECONNECT_MS, {}, WS_REQUEST_TIMEOUT_MS), start = 0) {
    this.endpoints = typeof endpoints === 'string' ? [endpoints] : [...endpoints]
    if (this.endpoints.length === 0) throw new RangeError('ResettableProvider: no endpoint given')
    this.events.setMaxListeners(0)
    this.startedAt = start % this.endpoints.length
    this.current = this.attach(open(this.rotated(this.startedAt)))
  }

  /**
   * The endpoint of the current socket: the one it is connected to, or trying. A provider that does
   * not say (a fake) is taken to be at the endpoint it started with.
   */
  get endpoint (): string {
    const at = (this.current as { endpoint?: unknown }).endpoint
    return typeof at === 'string' && this.endpoints.includes(at) ? at : this.endpoints[this.startedAt]!
  }

  get isConnected (): boolean { return !this.closed && this.current.isConnected }

  get stats (): ProviderStats | undefined { return this.current.stats }

  get ttl (): number | null | undefined { return this.current.ttl }

  /** dropped sockets still closing (at most MAX_DROPPED) */
  get closing (): number { return this.dropped.size }

  clone (): ProviderInterface { return new ResettableProvider(this.endpoints, this.open) }

  async connect (): Promise<void> { await this.current.connect() }

  /** ends the current provider and every dropped one still closing; the requests in flight fail */
  async disconnect (): Promise<void> {
    if (this.closed) return
    this.closed = true
    const all = [this.current, ...this.dropped]
    this.dropped.clear()
    this.failInFlight(new Error(`disconnected from ${this.endpoint}: the provider was closed`))
    await Promise.allSettled(all.map(async (p) => { await p.disconnect() }))
  }

  on (type: ProviderInterfaceEmitted, sub: ProviderInterfaceEmitCb): () => void {
    this.events.on(type, sub)
    return () => { this.events.removeListener(type, sub) }
  }

  async send<T = any> (method: string, params: unknown[], isCacheable?: boolean): Promise<T> {
    const via = this.current
    return await new Promise<T>((resolve, reject) => {
      const fail = (err: Error): void => { reject(err) }
      this.inFlight.add(fail)
      via.send<T>(method, params, isCacheable).then(resolve, reject).finally(() => { this.inFlight.delete(fail) })
    })
  }

  async subscribe (type: string, method: string, params: unknown[], cb: ProviderInterfaceCallback): Promise<number | string> {
    const via = this.current
    // what a dropped socket still delivers is not passed on
    const id = await via.subscribe(type, method, params, (err, result) => { if (via === this.current) cb(err, result) })
    this.subscribedOn.set(`${type}::${id}`, via)
    return id
  }

  async unsubscribe (type: string, method: string, id: number | string): Promise<boolean> {
    const key = `${type}::${id}`
    const via = this.subscribedOn.get(key)
    this.subscribedOn.delete(key)
    // a subscription of a dropped socket ended with it
    if (via !== this.current) return true
    return await via.unsubscribe(type, method, id)
  }

  /**
   * Drops the socket and opens a fresh one, to the next endpoint where there are several (else to
   * the same one): the requests in flight fail at once (`disconnected from <endpoint>: <reason>`,
   * naming the endpoint left), `disconnected` is said, then `connected` once the new socket is open.
   * Returns false, doing nothing, once closed or while MAX_DROPPED dropped sockets are still closing.
   */
  reset (reason: string): boolean {
    if (this.closed || this.dropped.size >= MAX_DROPPED) return false
    const old = this.current
    const left = this.endpoint
    this.dropped.add(old)
    for (const [key, via] of this.subscribedOn) if (via === old) this.subscribedOn.delete(key)
    this.startedAt = (this.endpoints.indexOf(left) + 1) % this.endpoints.length
    this.current = this.attach(this.open(this.rotated(this.startedAt)))
    // ApiPromise hears the drop before the failures, so a read that fails sees the socket down and
    // waits for the new one (`retrying`) instead of taking the failure as the node's answer
    this.events.emit('disconnected')
    this.failInFlight(new Error(`disconnected from ${left}: ${reason}`))
    // turns its reconnection off; its close completes when the node answers again or TCP gives up
    old.disconnect().catch(() => {})
    return true
  }

  /** the endpoints from `start` on, then those before it: WsProvider's reconnects take them in turn */
  private rotated (start: number): string[] {
    return [...this.endpoints.slice(start), ...this.endpoints.slice(0, start)]
  }

  private failInFlight (err: Error): void {
    const fails = [...this.inFlight]
    this.inFlight.clear()
    for (const fail of fails) fail(err)
  }

  /** passes on what the current provider says; a dropped one's close ends its time in `dropped` */
  private attach (p: ProviderInterface): ProviderInterface {
    for (const type of ['connected', 'disconnected', 'error'] as const) {
      p.on(type, (value?: unknown) => {
        if (p === this.current && !this.closed) this.events.emit(type, value)
        else if (type === 'disconnected') this.dropped.delete(p)
      })
    }
    return p
  }
}
