import { multiaddr } from '@multiformats/multiaddr'
import type { BazaarConfig } from './types.js'

/**
 * Where a supplier's enclave endpoint listens: `tee.enclaveListen` when set; else each IP address
 * of `listen` with a free port, so that the enclave is reachable wherever the node is (a node on
 * 0.0.0.0 gets an enclave on 0.0.0.0, a devnet on 127.0.0.1 keeps it on loopback). A renter on
 * another machine dials the enclave at the addresses the offer advertises, so an enclave bound to
 * loopback alone could be rented by nobody but its own host.
 */
export function enclaveListenAddrs (config: Pick<BazaarConfig, 'listen' | 'tee'>): string[] {
  if (config.tee.enclaveListen != null && config.tee.enclaveListen.length > 0) return [...config.tee.enclaveListen]
  const out = new Set<string>()
  for (const a of config.listen) {
    const ip = multiaddr(a).getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')
    if (ip?.value != null) out.add(`/${ip.name}/${ip.value}/tcp/0`)
  }
  return out.size > 0 ? [...out] : ['/ip4/127.0.0.1/tcp/0']
}
