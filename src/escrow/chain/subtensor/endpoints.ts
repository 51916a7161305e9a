import { WsProvider } from '@polkadot/api'
import type { Clock } from '../../../util/clock.js'
import { isEmptyHash } from './connection.js'
import { SubtensorError } from './errors.js'
import { answered } from './submit.js'

/** How long one endpoint may take to connect and say its genesis at start: a node answers in milliseconds */
export const GENESIS_CHECK_MS = 10_000

/** The part of a provider the check uses (a `WsProvider` that does not connect on its own). */
export interface GenesisProvider {
  connect: () => Promise<void>
  readonly isReady: Promise<unknown>
  on: (type: 'error', cb: (err: unknown) => void) => unknown
  send: <T = unknown>(method: string, params: unknown[]) => Promise<T>
  disconnect: () => Promise<void>
}

/** What the chain first opened is known by: its block 0, and a block after it where it has one. */
export interface ChainMark {
  genesis: string
  /**
   * A block after genesis (the check uses block 1): dev chains started from one spec share their
   * block 0 (chopsticks serves every spec-made chain under one placeholder genesis) and differ from
   * block 1 on
   */
  block?: { number: number, hash: string }
}

export interface EndpointsCheck {
  /** endpoints that serve another chain: another block 0, or another hash for `block` */
  other: Array<{ endpoint: string, genesis: string, block?: { number: number, hash: string } }>
  /** endpoints that did not answer within GENESIS_CHECK_MS, or not with a block hash, with why */
  unreachable: Array<{ endpoint: string, reason: string }>
  /** endpoints with the same block 0 that lack `block` (behind, or keeping no old headers): not compared further */
  unchecked: Array<{ endpoint: string, reason: string }>
}

const HASH = /^0x[0-9a-f]{64}$/i

/**
 * Asks each endpoint, side by side, for its block 0 and `mark.block` (`chain_getBlockHash`), on a
 * socket of its own closed at once: the fallbacks a daemon goes on to later must be nodes of the
 * chain it opened, and a misconfigured one (another network's URL) is better refused at start than
 * found at the failover, when the daemon would stop with CHAIN_CHANGED. Never throws: what fails
 * is listed. `clock`: the deadline runs on it (the system clock by default).
 */
export async function checkEndpoints (mark: ChainMark, endpoints: readonly string[], opts: { timeoutMs?: number, clock?: Clock, open?: (endpoint: string) => GenesisProvider } = {}): Promise<EndpointsCheck> {
  const open = opts.open ?? ((e: string) => new WsProvider(e, false) as unknown as GenesisProvider)
  const timeoutMs = opts.timeoutMs ?? GENESIS_CHECK_MS
  const out: EndpointsCheck = { other: [], unreachable: [], unchecked: [] }
  const genesis = mark.genesis.toLowerCase()
  await Promise.all(endpoints.map(async (endpoint) => {
    const provider = open(endpoint)
    try {
      const [zero, then] = await answered((async () => {
        await Promise.race([
          (async () => { await provider.connect(); await provider.isReady })(),
          // without reconnection a refused connection only says 'error'
          new Promise<never>((_resolve, reject) => { provider.on('error', () => { reject(new SubtensorError('CHAIN_UNAVAILABLE', 'no connection')) }) })
        ])
        return await Promise.all([
          provider.send<unknown>('chain_getBlockHash', [0]),
          mark.block != null ? provider.send<unknown>('chain_getBlockHash', [mark.block.number]) : undefined
        ])
      })(), 'chain_getBlockHash', { timeoutMs, ...(opts.clock != null ? { clock: opts.clock } : {}) })
      if (typeof zero !== 'string' || !HASH.test(zero) || (mark.block != null && !isEmptyHash(then) && (typeof then !== 'string' || !HASH.test(then)))) {
        out.unreachable.push({ endpoint, reason: 'its answer is not a block hash' })
      } else if (zero.toLowerCase() !== genesis) {
        out.other.push({ endpoint, genesis: zero.toLowerCase() })
      } else if (mark.block != null && isEmptyHash(then)) {
        out.unchecked.push({ endpoint, reason: `it has no block #${mark.block.number} to compare` })
      } else if (mark.block != null && (then as string).toLowerCase() !== mark.block.hash.toLowerCase()) {
        out.other.push({ endpoint, genesis, block: { number: mark.block.number, hash: (then as string).toLowerCase() } })
      }
    } catch (err) {
      out.unreachable.push({ endpoint, reason: err instanceof SubtensorError ? err.message : 'no connection' })
    } finally {
      await provider.disconnect().catch(() => {})
    }
  }))
  // the operator's order, whichever answered first
  const rank = (e: string): number => endpoints.indexOf(e)
  for (const list of [out.other, out.unreachable, out.unchecked]) list.sort((a, b) => rank(a.endpoint) - rank(b.endpoint))
  return out
}
