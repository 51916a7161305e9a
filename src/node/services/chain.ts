import path from 'node:path'
import type { BazaarConfig } from '../config/types.js'
import type { Logger } from '../logger.js'
import { EmbeddedLedger, type ChainPort } from '../../escrow/index.js'
import { UserError } from '../../util/errors.js'
import type { ApiPromise } from '@polkadot/api'
import type { ChainMark } from '../../escrow/chain/subtensor/index.js'

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
    chain = await createSubtensorChain({ ...subtensorInitOf(config, endpoint), party: hotkey }, { signal })
    const info = await chain.info()
    const fallbacks = config.chain.fallbackEndpoints
    logger.info('chain: subtensor', { endpoint: chain.endpoint ?? endpoint, ...(fallbacks != null ? { endpoints: [endpoint, ...fallbacks] } : {}), asset: info.asset.kind, chain: info.chain, specVersion: info.specVersion, notes: info.notes })
    if (fallbacks != null) {
      // the nodes it may go on to later serve this chain: another network's URL is refused now,
      // not found at the failover (where the daemon would stop with CHAIN_CHANGED)
      const mark = await chainMark(chain.api)
      const { other, unreachable, unchecked } = await checkEndpoints(mark, [endpoint, ...fallbacks].filter((e) => e !== chain?.endpoint))
      if (other.length > 0) {
        const list = other.map((o) => o.block != null ? `${o.endpoint} (block #${o.block.number} ${o.block.hash})` : `${o.endpoint} (genesis ${o.genesis})`).join(', ')
        const ours = other[0]!.block != null ? `block #${mark.block!.number} ${mark.block!.hash}` : `genesis ${mark.genesis}`
        throw new UserError(`chain.fallbackEndpoints: ${list} ${other.length === 1 ? 'serves' : 'serve'} another chain than ${chain.endpoint ?? endpoint} (${ours}); list nodes of one chain`, { code: 'CHAIN_MISMATCH' })
      }
      for (const u of unreachable) logger.warn('chain: an endpoint did not answer at start; it is tried again when the one in use fails', { endpoint: u.endpoint, reason: u.reason })
      for (const u of unchecked) logger.warn('chain: an endpoint has the same genesis, and no later block to compare; it is checked again if the daemon goes on to it', { endpoint: u.endpoint, reason: u.reason })
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

/** the chain's block 0 and block 1 (where it has one), as the node in use serves them; block 0 alone where it does not answer in 10 s */
async function chainMark (api: ApiPromise): Promise<ChainMark> {
  const { answered } = await import('../../escrow/chain/subtensor/index.js')
  const genesis = api.genesisHash.toHex()
  const one = await answered(api.rpc.chain.getBlockHash(1), 'chain_getBlockHash', { timeoutMs: 10_000 }).then((h) => h.toHex(), () => undefined)
  return one != null && !/^0x0*$/.test(one) ? { genesis, block: { number: 1, hash: one } } : { genesis }
}

/**
 * What the subtensor adapter is opened with from a node's config (`chain.fallbackEndpoints`: its
 * `fallbacks`; `chain.scanFromBlock`: its `fromBlock`).
 */
export function subtensorInitOf (config: BazaarConfig, endpoint: string): { url: string, fallbacks?: string[], netuid: number, fromBlock?: number } {
  const { fallbackEndpoints: fallbacks, scanFromBlock: from } = config.chain
  return { url: endpoint, ...(fallbacks != null ? { fallbacks } : {}), netuid: config.chain.netuid, ...(from != null ? { fromBlock: from } : {}) }
}
