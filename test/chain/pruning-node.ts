import { ApiPromise, WsProvider } from '@polkadot/api'

/**
 * A node that prunes state, as a lite subtensor node does (Substrate keeps the state of the last
 * 256 blocks by default): every `state_*` call at a block hash in `pruned` is answered as such a
 * node answers it, while blocks themselves (`chain_*`) stay readable. Calls at the head, or with no
 * hash, go to the chain. The error is the one Substrate's state RPC gives.
 */
export class PruningProvider extends WsProvider {
  readonly pruned = new Set<string>()

  override async send<T = unknown> (method: string, params: unknown[], isCacheable?: boolean, subscription?: Parameters<WsProvider['send']>[3]): Promise<T> {
    if (method.startsWith('state_')) {
      const at = params.find((p): p is string => typeof p === 'string' && this.pruned.has(p.toLowerCase()))
      if (at != null) throw new Error(`4003: Client error: UnknownBlock: State already discarded for ${at}`)
    }
    return await super.send<T>(method, params, isCacheable, subscription)
  }
}

/**
 * An API on a `PruningProvider` to `url`, the blocks of `pruned` (hashes) pruned from the start:
 * prune more by adding to `provider.pruned`. An API keeps what it learned of recent blocks (the
 * runtime of the head it last saw), so one made after the pruning sees exactly what a client newly
 * connected to a lite node sees.
 */
export async function pruningApi (url: string, pruned: Iterable<string> = []): Promise<{ api: ApiPromise, provider: PruningProvider }> {
  const provider = new PruningProvider(url, 1_000)
  for (const hash of pruned) provider.pruned.add(hash.toLowerCase())
  const api = await ApiPromise.create({ provider, noInitWarn: true })
  return { api, provider }
}
