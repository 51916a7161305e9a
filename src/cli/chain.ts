import type { ApiPromise } from '@polkadot/api'
import { UsageError } from '../util/errors.js'
import { loadConfig } from '../node/config/index.js'
import { WalletError, WalletErrorCode } from '../node/wallet/index.js'

/** How long connecting to the chain may take before the command gives up with one line. */
const CONNECT_TIMEOUT_MS = 15_000

/**
 * The chain the node is configured for (config `chain.adapter` subtensor and `chain.endpoint`, then
 * `chain.fallbackEndpoints` in turn where it does not answer; or `endpoint` from --endpoint alone),
 * connected. NO_CHAIN, one line, when the node has none or none can be reached.
 */
export async function connectChain (opts: { endpoint?: string, configFile?: string, home: string, env: NodeJS.ProcessEnv, signal?: AbortSignal }): Promise<ApiPromise> {
  let endpoints: string[]
  if (opts.endpoint != null) {
    if (!/^wss?:\/\/\S{1,500}$/.test(opts.endpoint)) throw new UsageError('--endpoint expects a ws:// or wss:// URL')
    endpoints = [opts.endpoint]
  } else {
    const config = await loadConfig({ home: opts.home, env: opts.env, configFile: opts.configFile, signal: opts.signal })
    if (config.chain.adapter !== 'subtensor' || config.chain.endpoint == null) {
      throw new WalletError(WalletErrorCode.NO_CHAIN, `this node's chain is the ${config.chain.adapter} ledger: set chain.adapter "subtensor" and chain.endpoint in config.json, or pass --endpoint ws://...`)
    }
    endpoints = [config.chain.endpoint, ...(config.chain.fallbackEndpoints ?? [])]
  }
  // @polkadot/api is loaded here, on use: at the top it would slow every command's start
  const { ApiPromise, WsProvider } = await import('@polkadot/api')
  let last: unknown
  for (const endpoint of endpoints) {
    const provider = new WsProvider(endpoint, false)
    let timer: NodeJS.Timeout | undefined
    try {
      // without reconnection a refused connection only emits 'error': race it with the open
      await Promise.race([
        (async () => { await provider.connect(); await provider.isReady })(),
        new Promise((_resolve, reject) => {
          provider.on('error', (e: unknown) => { reject(e instanceof Error ? e : new Error('connection failed')) })
          // wall time: a bound on a websocket connect, I/O that a stopped clock would never end
          timer = setTimeout(() => { reject(new Error('timeout')) }, CONNECT_TIMEOUT_MS)
        })
      ])
      return await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true })
    } catch (err) {
      last = err
      await provider.disconnect().catch(() => {})
      opts.signal?.throwIfAborted()
    } finally {
      clearTimeout(timer)
    }
  }
  const where = endpoints.length === 1 ? `at ${endpoints[0]!}` : `at any of ${endpoints.join(', ')}`
  throw new WalletError(WalletErrorCode.NO_CHAIN, `cannot reach the chain ${where}`, { cause: last })
}
