import type { ParseArgsConfig } from 'node:util'
import { parseChain, parseHostPort, parseNetwork, parseNumber, splitList } from './layers.js'
import type { PartialConfig } from './types.js'
import { ConfigError, ConfigErrorCode } from './errors.js'

/**
 * Command-line flags that override the config, for commands that start a node (`node start`,
 * `supply`, `rent`, `devnet`). Spread them into a command's `options`, then pass
 * `configFlagsFromArgs(args.values)` as `flags` to loadConfig.
 */
export const CONFIG_FLAG_OPTIONS = {
  config: { type: 'string' },
  listen: { type: 'string', multiple: true },
  bootstrap: { type: 'string', multiple: true },
  'no-mdns': { type: 'boolean' },
  api: { type: 'string' },
  chain: { type: 'string' },
  network: { type: 'string' },
  netuid: { type: 'string' },
  role: { type: 'string' },
  'enclave-listen': { type: 'string', multiple: true },
  'gpu-crl': { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' }
} as const satisfies NonNullable<ParseArgsConfig['options']>

/** Help lines for CONFIG_FLAG_OPTIONS, to append to a command's usage. */
export const CONFIG_FLAGS_USAGE = [
  '  --config <file>        config file instead of <home>/config.json',
  '  --listen <multiaddr>   listen address (repeatable; replaces the config list)',
  '  --bootstrap <multiaddr> bootstrap peer with /p2p/<id> (repeatable)',
  '  --no-mdns              disable mDNS discovery',
  '  --api <host:port>      control API address (loopback unless api.allowRemote)',
  '  --chain <adapter|url>  embedded, subtensor, or a ws(s):// subtensor endpoint',
  '  --network <name|url>   subtensor network: local, test, finney (endpoints in chain.networks) or ws(s)://',
  '  --netuid <n>           subnet whose alpha denominates escrows',
  '  --role <role>          supplier, renter, both or arbiter',
  '  --enclave-listen <multiaddr> where a supplier\'s enclave endpoint listens (repeatable)',
  '  --gpu-crl <file>       NVIDIA CRL (DER or PEM) GPU evidence is checked against (repeatable; tee.gpuCrlFiles)',
  '  --log-level <level>    trace, debug, info, warn, error, silent',
  '  --log-format <fmt>     json or pretty'
].join('\n')

/**
 * The config layer of the flags parsed with CONFIG_FLAG_OPTIONS. Like the environment layer it
 * converts and leaves validation to loadConfig (errors then name the field and the source `flags`).
 */
export function configFlagsFromArgs (values: Record<string, unknown>): PartialConfig {
  const out: Record<string, any> = {}
  const s = (name: string): string | undefined => typeof values[name] === 'string' ? values[name] as string : undefined
  const many = (name: string): string[] | undefined => {
    const v = values[name]
    if (v == null) return undefined
    return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string').flatMap(splitList)
  }
  // an empty --listen (an unset variable) would start a node that listens nowhere, silently: a node
  // meant to dial out only says so in its config file, not through a flag that lost its value
  const listen = many('listen')
  if (listen != null && listen.length === 0) throw new ConfigError(ConfigErrorCode.INVALID_FIELD, 'listen', '--listen names no address (give a multiaddr such as /ip4/0.0.0.0/tcp/4001)', { source: 'flags' })
  if (listen != null) out.listen = listen
  const enclaveListen = many('enclave-listen')
  if (enclaveListen != null && enclaveListen.length === 0) throw new ConfigError(ConfigErrorCode.INVALID_FIELD, 'tee.enclaveListen', '--enclave-listen names no address (give a multiaddr such as /ip4/0.0.0.0/tcp/4002)', { source: 'flags' })
  if (enclaveListen != null) out.tee = { ...out.tee, enclaveListen }
  const gpuCrlFiles = many('gpu-crl')
  if (gpuCrlFiles != null) out.tee = { ...out.tee, gpuCrlFiles }
  const bootstrap = many('bootstrap')
  if (bootstrap != null) out.bootstrap = bootstrap
  if (values['no-mdns'] === true) out.mdns = false
  const api = s('api')
  if (api != null) {
    const { host, port } = parseHostPort(api, 'flags')
    out.api = { ...(host != null ? { host } : {}), port }
  }
  const chain = s('chain')
  if (chain != null) out.chain = parseChain(chain)
  const network = s('network')
  if (network != null) Object.assign(out.chain ??= {}, parseNetwork(network))
  const netuid = s('netuid')
  if (netuid != null) (out.chain ??= {}).netuid = parseNumber(netuid)
  const role = s('role')
  if (role != null) out.role = role
  const level = s('log-level')
  if (level != null) (out.log ??= {}).level = level
  const format = s('log-format')
  if (format != null) (out.log ??= {}).format = format
  return out as PartialConfig
}
