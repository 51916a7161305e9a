import { WsProvider } from '@polkadot/api'
import type { Clock } from '../../../util/clock.js'
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

export interface EndpointsCheck {
  /** endpoints whose block 0 is another chain's */
  other: Array<{ endpoint: string, genesis: string }>
  /** endpoints that did not answer within GENESIS_CHECK_MS, with why */
  unreachable: Array<{ endpoint: string, reason: string }>
}

/**
 * Asks each endpoint, side by side, for its block 0 (`chain_getBlockHash(0)`), on a socket of its
 * own closed at once: the fallbacks a daemon goes on to later must be nodes of the chain it opened,
 * and a misconfigured one (another network's URL) is better refused at start than found at the
 * failover, when the daemon would stop with CHAIN_CHANGED. Never throws: what fails is listed.
 * `clock`: the deadline runs on it (the system clock by default).
 */
export async function checkEndpoints (genesis: string, endpoints: readonly string[], opts: { timeoutMs?: number, clock?: Clock, open?: (endpoint: string) => GenesisProvider } = {}): Promise<EndpointsCheck> {
  const open = opts.open ?? ((e: string) => new WsProvider(e, false) as unknown as GenesisProvider)
  const timeoutMs = opts.timeoutMs ?? GENESIS_CHECK_MS
  const out: EndpointsCheck = { other: [], unreachable: [] }
  await Promise.all(endpoints.map(async (endpoint) => {
    const provider = open(endpoint)
    try {
      const said = await answered((async () => {
        await Promise.race([
          (async () => { await provider.connect(); await provider.isReady })(),
          // without reconnection a refused connection only says 'error'
          new Promise<never>((_resolve, reject) => { provider.on('error', () => { reject(new SubtensorError('CHAIN_UNAVAILABLE', 'no connection')) }) })
        ])
        return await provider.send<unknown>('chain_getBlockHash', [0])
      })(), 'chain_getBlockHash', { timeoutMs, ...(opts.clock != null ? { clock: opts.clock } : {}) })
      if (typeof said !== 'string' || !/^0x[0-9a-f]{64}$/i.test(said)) out.unreachable.push({ endpoint, reason: 'its answer for block 0 is not a block hash' })
      else if (said.toLowerCase() !== genesis.toLowerCase()) out.other.push({ endpoint, genesis: said.toLowerCase() })
    } catch (err) {
      out.unreachable.push({ endpoint, reason: err instanceof SubtensorError ? err.message : 'no connection' })
    } finally {
      await provider.disconnect().catch(() => {})
    }
  }))
  // the operator's order, whichever answered first
  const rank = (e: string): number => endpoints.indexOf(e)
  out.other.sort((a, b) => rank(a.endpoint) - rank(b.endpoint))
  out.unreachable.sort((a, b) => rank(a.endpoint) - rank(b.endpoint))
  return out
}
