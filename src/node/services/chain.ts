import path from 'node:path'
import type { BazaarConfig } from '../config/types.js'
import type { Logger } from '../logger.js'
import { EmbeddedLedger, type ChainPort } from '../../escrow/index.js'
import { UserError } from '../../util/errors.js'

/** Balance the embedded ledger credits the node's hotkey when it is first created (100 alpha). */
export const EMBEDDED_GENESIS_RAO = 100_000_000_000n

/** How long connecting to a subtensor endpoint may take before the node refuses to start. */
const CONNECT_TIMEOUT_MS = 60_000

/**
 * The chain port of `config.chain`: `embedded` is a ledger under `<home>/ledger`, private to this
 * process (a node on it can trade with nodes of the same process only); `subtensor` is the
 * @polkadot/api adapter at `chain.endpoint`. An endpoint that does not answer is a UserError.
 */
export async function openChain (config: BazaarConfig, home: string, hotkey: string, logger: Logger, opts: { signal?: AbortSignal } = {}): Promise<ChainPort> {
  if (config.chain.adapter === 'embedded') {
    logger.warn('chain: embedded ledger under <home>/ledger. It lives in this process only: this daemon can trade with no other process (use bazaar devnet for a whole network in one process, or a subtensor endpoint)', { ledger: path.join(home, 'ledger') })
    // a development ledger: the node's own hotkey is credited once, when the ledger is created
    return await EmbeddedLedger.open({ netuid: config.chain.netuid, path: path.join(home, 'ledger'), genesis: [{ address: hotkey, amount: EMBEDDED_GENESIS_RAO }] })
  }
  const endpoint = config.chain.endpoint
  if (endpoint == null) throw new UserError('chain.endpoint is required for the subtensor adapter', { code: 'NO_ENDPOINT' })
  const { checkEndpoints, createSubtensorChain } = await import('../../escrow/chain/subtensor/index.js')
  let chain: Awaited<ReturnType<typeof createSubtensorChain>> | undefined
  try {
    const signal = AbortSignal.any([AbortSignal.timeout(CONNECT_TIMEOUT_MS), ...(opts.signal != null ? [opts.signal] : [])])
    chain = await createSubtensorChain(subtensorInitOf(config, endpoint), { signal })
    const info = await chain.info()
    const fallbacks = config.chain.fallbackEndpoints
    logger.info('chain: subtensor', { endpoint: chain.endpoint ?? endpoint, ...(fallbacks != null ? { endpoints: [endpoint, ...fallbacks] } : {}), asset: info.asset.kind, chain: info.chain, specVersion: info.specVersion, notes: info.notes })
    if (fallbacks != null) {
      // the nodes it may go on to later serve this chain: another network's URL is refused now,
      // not found at the failover (where the daemon would stop with CHAIN_CHANGED)
      const genesis = chain.api.genesisHash.toHex()
      const { other, unreachable } = await checkEndpoints(genesis, [endpoint, ...fallbacks].filter((e) => e !== chain?.endpoint))
      if (other.length > 0) {
        const list = other.map((o) => `${o.endpoint} (genesis ${o.genesis})`).join(', ')
        throw new UserError(`chain.fallbackEndpoints: ${list} ${other.length === 1 ? 'serves' : 'serve'} another chain than ${chain.endpoint ?? endpoint} (genesis ${genesis}); list nodes of one chain`, { code: 'CHAIN_MISMATCH' })
      }
      for (const u of unreachable) logger.warn('chain: an endpoint did not answer at start; it is tried again when the one in use fails', { endpoint: u.endpoint, reason: u.reason })
    }
    return chain
  } catch (err) {
    await chain?.close().catch(() => {})
    if (err instanceof UserError) throw err
    // the adapter's message names every endpoint it tried where there were several
    const at = config.chain.fallbackEndpoints != null ? '' : ` at ${endpoint}`
    throw new UserError(`cannot use the subtensor chain${at}: ${(err as Error).message}`, { code: (err as { code?: string }).code ?? 'CHAIN_UNAVAILABLE', cause: err })
  }
}

/**
 * What the subtensor adapter is opened with from a node's config (`chain.fallbackEndpoints`: its
 * `fallbacks`; `chain.scanFromBlock`: its `fromBlock`).
 */
export function subtensorInitOf (config: BazaarConfig, endpoint: string): { url: string, fallbacks?: string[], netuid: number, fromBlock?: number } {
  const { fallbackEndpoints: fallbacks, scanFromBlock: from } = config.chain
  return { url: endpoint, ...(fallbacks != null ? { fallbacks } : {}), netuid: config.chain.netuid, ...(from != null ? { fromBlock: from } : {}) }
}
