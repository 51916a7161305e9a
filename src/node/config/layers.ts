import { ConfigError, ConfigErrorCode } from './errors.js'
import type { PartialConfig } from './types.js'

/**
 * The environment variables read into the config, and the field each sets. Lists are comma
 * separated; booleans are true/false/1/0/yes/no.
 */
export const CONFIG_ENV_VARS: Readonly<Record<string, string>> = Object.freeze({
  BAZAAR_LISTEN: 'listen',
  BAZAAR_BOOTSTRAP: 'bootstrap',
  BAZAAR_MDNS: 'mdns',
  BAZAAR_API: 'api.host and api.port (host:port, [v6]:port or port)',
  BAZAAR_API_ALLOW_REMOTE: 'api.allowRemote',
  BAZAAR_LOG_LEVEL: 'log.level',
  BAZAAR_LOG_FORMAT: 'log.format',
  BAZAAR_ROLE: 'role',
  BAZAAR_CHAIN: 'chain.adapter (embedded, subtensor) or a ws(s):// URL = subtensor at that endpoint',
  BAZAAR_CHAIN_ENDPOINT: 'chain.endpoint',
  BAZAAR_CHAIN_FALLBACK: 'chain.fallbackEndpoints',
  BAZAAR_NETWORK: 'chain.network (local, test, finney or a ws(s):// URL; implies the subtensor adapter)',
  BAZAAR_NETUID: 'chain.netuid',
  BAZAAR_ARBITER: 'chain.arbiter',
  BAZAAR_ARBITER_PEER: 'chain.arbiterPeer',
  BAZAAR_CHAIN_SCAN_FROM: 'chain.scanFromBlock',
  BAZAAR_REGION: 'market.region',
  BAZAAR_PRICE: 'market.pricePerGpuHour',
  BAZAAR_TEE_PROVIDER: 'tee.provider',
  BAZAAR_ALLOW_SIMULATED: 'tee.allowSimulated',
  BAZAAR_ENCLAVE_LISTEN: 'tee.enclaveListen',
  BAZAAR_GPU_CRL_FILES: 'tee.gpuCrlFiles',
  BAZAAR_CRL_DIR: 'tee.crlDir',
  BAZAAR_TDX_COLLATERAL_DIR: 'tee.tdxCollateralDir'
})

/**
 * The config layer of the environment. Values are converted, not validated: the merged config is
 * validated once, and a bad value is then reported with its field and the source `env`.
 */
export function envLayer (env: NodeJS.ProcessEnv): PartialConfig {
  const out: Record<string, any> = {}
  const set = (path: string, value: unknown): void => { setPath(out, path, value) }
  const get = (name: string): string | undefined => {
    const v = env[name]
    return v == null || v.trim() === '' ? undefined : v.trim()
  }
  let v: string | undefined
  if ((v = get('BAZAAR_LISTEN')) != null) set('listen', splitList(v))
  // an explicitly empty BAZAAR_BOOTSTRAP clears the bootstrap list
  if (env.BAZAAR_BOOTSTRAP != null) set('bootstrap', splitList(env.BAZAAR_BOOTSTRAP))
  if ((v = get('BAZAAR_MDNS')) != null) set('mdns', parseBool(v))
  if ((v = get('BAZAAR_API')) != null) {
    const { host, port } = parseHostPort(v, 'env')
    if (host != null) set('api.host', host)
    set('api.port', port)
  }
  if ((v = get('BAZAAR_API_ALLOW_REMOTE')) != null) set('api.allowRemote', parseBool(v))
  if ((v = get('BAZAAR_LOG_LEVEL')) != null) set('log.level', v)
  if ((v = get('BAZAAR_LOG_FORMAT')) != null) set('log.format', v)
  if ((v = get('BAZAAR_ROLE')) != null) set('role', v)
  if ((v = get('BAZAAR_CHAIN')) != null) Object.assign(out.chain ??= {}, parseChain(v))
  if ((v = get('BAZAAR_CHAIN_ENDPOINT')) != null) set('chain.endpoint', v)
  if ((v = get('BAZAAR_CHAIN_FALLBACK')) != null) set('chain.fallbackEndpoints', splitList(v))
  if ((v = get('BAZAAR_NETWORK')) != null) Object.assign(out.chain ??= {}, parseNetwork(v))
  if ((v = get('BAZAAR_NETUID')) != null) set('chain.netuid', parseNumber(v))
  if ((v = get('BAZAAR_ARBITER')) != null) set('chain.arbiter', v)
  if ((v = get('BAZAAR_ARBITER_PEER')) != null) set('chain.arbiterPeer', v)
  if ((v = get('BAZAAR_CHAIN_SCAN_FROM')) != null) set('chain.scanFromBlock', parseNumber(v))
  if ((v = get('BAZAAR_REGION')) != null) set('market.region', v)
  if ((v = get('BAZAAR_PRICE')) != null) set('market.pricePerGpuHour', v)
  if ((v = get('BAZAAR_TEE_PROVIDER')) != null) set('tee.provider', v)
  if ((v = get('BAZAAR_ALLOW_SIMULATED')) != null) set('tee.allowSimulated', parseBool(v))
  if ((v = get('BAZAAR_ENCLAVE_LISTEN')) != null) set('tee.enclaveListen', splitList(v))
  if ((v = get('BAZAAR_GPU_CRL_FILES')) != null) set('tee.gpuCrlFiles', splitList(v))
  if ((v = get('BAZAAR_CRL_DIR')) != null) set('tee.crlDir', v)
  if ((v = get('BAZAAR_TDX_COLLATERAL_DIR')) != null) set('tee.tdxCollateralDir', v)
  return out as PartialConfig
}

/** `a,b , c` → ['a', 'b', 'c']; empty entries dropped. */
export function splitList (s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '')
}

/** A boolean word, or the raw string (which validation then rejects naming the field). */
export function parseBool (s: string): boolean | string {
  const v = s.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(v)) return true
  if (['false', '0', 'no', 'off'].includes(v)) return false
  return s
}

/** A decimal number, or the raw string (which validation then rejects naming the field). */
export function parseNumber (s: string): number | string {
  return /^-?[0-9]+$/.test(s.trim()) ? Number(s.trim()) : s
}

/** `host:port`, `[::1]:port`, `:port` or `port`. */
export function parseHostPort (s: string, source: 'env' | 'flags'): { host?: string, port: number | string } {
  const v6 = /^\[([^\]]+)\]:([0-9]+)$/.exec(s)
  if (v6 != null) return { host: v6[1], port: parseNumber(v6[2]) }
  const i = s.lastIndexOf(':')
  if (i === -1) return { port: parseNumber(s) }
  if (s.indexOf(':') !== i) {
    throw new ConfigError(ConfigErrorCode.INVALID_FIELD, 'api.host', 'an IPv6 API address must be written [addr]:port', { source })
  }
  const host = s.slice(0, i)
  return { ...(host !== '' ? { host } : {}), port: parseNumber(s.slice(i + 1)) }
}

/** `embedded`, `subtensor`, or a ws(s):// endpoint meaning the subtensor adapter at that endpoint. */
/** `--network local` (or a ws URL): the network by name, which always means the subtensor adapter. */
export function parseNetwork (s: string): { adapter: string, network: string } {
  return { adapter: 'subtensor', network: s }
}

export function parseChain (s: string): { adapter: string, endpoint?: string } {
  if (/^wss?:\/\//i.test(s)) return { adapter: 'subtensor', endpoint: s }
  return { adapter: s }
}

/**
 * Layers configs: plain objects merge key by key, arrays and scalars of a later layer replace the
 * earlier value, `undefined` leaves it. Inputs are not modified.
 */
export function mergeLayers (...layers: unknown[]): Record<string, unknown> {
  let out: unknown = {}
  for (const layer of layers) out = mergeTwo(out, layer)
  return out as Record<string, unknown>
}

function mergeTwo (a: unknown, b: unknown): unknown {
  if (b === undefined) return clone(a)
  if (!isPlainObject(a) || !isPlainObject(b)) return clone(b)
  const out: Record<string, unknown> = {}
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const v = mergeTwo(a[k], b[k])
    // define, not assign: a `__proto__` key from a JSON file stays a plain (and then unknown) field
    if (v !== undefined) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
  }
  return out
}

function clone (v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone)
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]))
  return v
}

export function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Whether `layer` sets the field at `field` (`a.b`, `listen[1]`); used to say where a bad value came from. */
export function layerSets (layer: unknown, field: string): boolean {
  if (field === '') return false
  let cur: unknown = layer
  for (const part of field.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.prototype.hasOwnProperty.call(cur, part)) return false
    cur = (cur as Record<string, unknown>)[part]
  }
  return true
}

function setPath (o: Record<string, any>, path: string, value: unknown): void {
  const parts = path.split('.')
  let cur = o
  for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {})
  cur[parts[parts.length - 1]] = value
}
