import { BoundedReadError, readBoundedFile } from '../../util/fs.js'
import { fileURLToPath } from 'node:url'
import { homePaths } from '../home.js'
import { ConfigError, ConfigErrorCode, type ConfigSource } from './errors.js'
import { envLayer, isPlainObject, layerSets, mergeLayers } from './layers.js'
import type { BazaarConfig, PartialConfig } from './types.js'
import { validateConfig } from './validate.js'

/** A config file larger than this is refused unread. */
export const MAX_CONFIG_BYTES = 256 * 1024

/**
 * The `config/` folder of the package. This file is `src/node/config/load.ts` under vitest and
 * `dist/node/config/load.js` when built: both sit three levels below the package root.
 */
export const PACKAGE_CONFIG_DIR = fileURLToPath(new URL('../../../config/', import.meta.url))

/** Packaged configs usable as templates (`bazaar init --template <name>`), by name. */
export const CONFIG_TEMPLATES: Readonly<Record<string, string>> = Object.freeze({
  supplier: 'supplier.example.json',
  renter: 'renter.example.json',
  daemon: 'daemon.example.json',
  devnet: 'devnet.json',
  // a network on one machine (README): the local chain, fixed ports, the dev arbiter //Ferdie
  'local-supplier': 'local-supplier.json',
  'local-renter': 'local-renter.json',
  arbiter: 'local-arbiter.json'
})

export interface LoadConfigOptions {
  /** node home; its `config.json` is read when present */
  home?: string
  /** an explicit config file instead of `<home>/config.json`; it must exist */
  configFile?: string
  /** environment (BAZAAR_* variables, see CONFIG_ENV_VARS); default: none */
  env?: NodeJS.ProcessEnv
  /** the top layer, e.g. from configFlagsFromArgs */
  flags?: PartialConfig
  signal?: AbortSignal
}

/**
 * The node's configuration: config/default.json < the config file < environment < flags, merged
 * (objects by key, lists replaced whole) and validated once. The result is deeply frozen.
 * Throws ConfigError naming the bad field and the layer it came from.
 */
export async function loadConfig (opts: LoadConfigOptions = {}): Promise<BazaarConfig> {
  const defaults = await loadDefaultsLayer()
  opts.signal?.throwIfAborted()
  let file: Record<string, unknown> = {}
  if (opts.configFile != null) {
    // `--config ""` is an unset variable in a script: one line that says so, not `cannot read config file : ENOENT`
    if (opts.configFile.trim() === '') throw new ConfigError(ConfigErrorCode.UNREADABLE, '', '--config is empty: name the config file (or leave the flag out for <home>/config.json)', { source: 'flags' })
    file = await readConfigFile(opts.configFile, true) ?? {}
  } else if (opts.home != null) {
    file = await readConfigFile(homePaths(opts.home).config, false) ?? {}
  }
  opts.signal?.throwIfAborted()
  const env = opts.env != null ? envLayer(opts.env) : {}
  const flags = opts.flags ?? {}
  const layers: Array<[ConfigSource, unknown]> = [['defaults', defaults], ['file', file], ['env', env], ['flags', flags]]
  // a section that is not an object would replace the defaults under it whole, and a flag beside
  // it would bring back only its own field: the error would then blame a field of the defaults
  for (const [source, layer] of layers.slice(1)) checkSections(defaults, layer, '', source, opts)
  try {
    return deepFreeze(validateConfig(mergeLayers(defaults, file, env, flags)))
  } catch (err) {
    if (err instanceof ConfigError && err.source == null) {
      // the last layer that sets the field (or an ancestor of it) is where the bad value came from
      const source = findSource(layers, err.field)
      throw new ConfigError(err.code, err.field, source != null && source !== 'defaults' ? `${err.message} (from ${describeSource(source, opts)})` : err.message, { source, cause: err.cause })
    }
    throw err
  }
}

/** The packaged defaults alone, validated. */
export async function defaultConfig (): Promise<BazaarConfig> {
  return deepFreeze(validateConfig(await loadDefaultsLayer()))
}

/** Reads a packaged template (`supplier`, `renter`, `daemon`, `devnet`) as a partial config. */
export async function readConfigTemplate (name: string): Promise<Record<string, unknown>> {
  const file = CONFIG_TEMPLATES[name]
  if (file == null || !Object.hasOwn(CONFIG_TEMPLATES, name)) {
    throw new ConfigError(ConfigErrorCode.INVALID_FIELD, 'template', `unknown config template ${JSON.stringify(name)} (one of ${Object.keys(CONFIG_TEMPLATES).join(', ')})`)
  }
  return await readConfigFile(PACKAGE_CONFIG_DIR + file, true) ?? {}
}

async function loadDefaultsLayer (): Promise<Record<string, unknown>> {
  return await readConfigFile(PACKAGE_CONFIG_DIR + 'default.json', true) ?? {}
}

/** Reads a JSON config file; undefined when absent and not `required`. */
export async function readConfigFile (file: string, required: boolean): Promise<Record<string, unknown> | undefined> {
  let buf: Buffer
  try {
    // bounded, and never blocking on a FIFO or reading a device such as /dev/zero without end
    buf = await readBoundedFile(file, MAX_CONFIG_BYTES)
  } catch (err) {
    if (err instanceof BoundedReadError && err.code === 'TOO_LARGE') throw new ConfigError(ConfigErrorCode.INVALID_FILE, '', `config file ${file} is larger than ${MAX_CONFIG_BYTES} bytes`, { source: 'file' })
    if (err instanceof BoundedReadError) throw new ConfigError(ConfigErrorCode.UNREADABLE, '', `cannot read config file ${file}: not a regular file`, { source: 'file' })
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ConfigError(ConfigErrorCode.UNREADABLE, '', `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { source: 'file', cause: err })
  }
  let v: unknown
  try {
    v = JSON.parse(buf.toString('utf8'))
  } catch (err) {
    throw new ConfigError(ConfigErrorCode.INVALID_FILE, '', `config file ${file} is not valid JSON: ${(err as Error).message.split('\n')[0]}`, { source: 'file', cause: err })
  }
  if (!isPlainObject(v)) throw new ConfigError(ConfigErrorCode.INVALID_FILE, '', `config file ${file} must hold a JSON object`, { source: 'file' })
  // [REJECT] nesting deeper than any field: merging and validating walk the value recursively
  if (nestedDeeperThan(v, MAX_CONFIG_DEPTH)) throw new ConfigError(ConfigErrorCode.INVALID_FILE, '', `config file ${file} nests arrays or objects deeper than ${MAX_CONFIG_DEPTH} levels`, { source: 'file' })
  return v
}

/** the deepest nesting a config file may have (its deepest field is 4 levels down) */
export const MAX_CONFIG_DEPTH = 16

/** whether `v` nests arrays or objects more than `max` levels deep; iterative, so any depth is safe */
export function nestedDeeperThan (v: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[v, 1]]
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!
    if (typeof x !== 'object' || x === null) continue
    if (depth > max) return true
    for (const c of Array.isArray(x) ? x : Object.values(x)) if (typeof c === 'object' && c !== null) stack.push([c, depth + 1])
  }
  return false
}

function findSource (layers: Array<[ConfigSource, unknown]>, field: string): ConfigSource | undefined {
  // try the field, then its ancestors: `api.host` refused for a cross-field reason may have been set
  // by a layer that only set `api`
  const parts = field.split('.')
  for (let n = parts.length; n > 0; n--) {
    const f = parts.slice(0, n).join('.')
    for (let i = layers.length - 1; i >= 0; i--) {
      if (layerSets(layers[i][1], f)) return layers[i][0]
    }
  }
  return undefined
}

/** every key of `layer` whose default is an object must be an object too, at any depth */
function checkSections (defaults: unknown, layer: unknown, prefix: string, source: ConfigSource, opts: LoadConfigOptions): void {
  if (!isPlainObject(defaults) || !isPlainObject(layer)) return
  for (const [k, v] of Object.entries(layer)) {
    const d = Object.hasOwn(defaults, k) ? defaults[k] : undefined
    if (!isPlainObject(d) || v === undefined) continue
    const field = prefix + k
    if (!isPlainObject(v)) {
      throw new ConfigError(ConfigErrorCode.INVALID_FIELD, field, `${field} must be an object, got ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v} (from ${describeSource(source, opts)})`, { source })
    }
    checkSections(d, v, field + '.', source, opts)
  }
}

function describeSource (source: ConfigSource, opts: LoadConfigOptions): string {
  if (source === 'file') return opts.configFile ?? (opts.home != null ? homePaths(opts.home).config : 'config file')
  if (source === 'env') return 'environment'
  return source
}

function deepFreeze<T> (v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}
