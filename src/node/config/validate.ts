import { isIP } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeSs58 } from '../../util/ss58.js'
import { isImagePattern } from '../../util/image-ref.js'
import { MAX_DURATION_S, MAX_IMAGE_PATTERN_LENGTH, MAX_IMAGE_PATTERNS, MAX_REGION_LENGTH, MAX_U64, REGION_PATTERN } from '../../market/validation/constants.js'
import { ConfigError, ConfigErrorCode } from './errors.js'
import { configKeys } from './schema.js'
import {
  CHAIN_ADAPTERS, LOG_FORMATS, LOG_LEVELS, ROLES, TEE_KINDS,
  type BazaarConfig, type GpuAcceptConfig, type GpuConfig, type TeeConfig, type TeeKind
} from './types.js'
import { NVIDIA_OCSP_URL } from '../../tee/x509/ocsp.js'
import { CRL_SOURCES } from '../../tee/crl-sources.js'

/** Intel's TDX TCB status names (`tee.tdxTcbStatuses`), as src/tee/tdx/tcb-status.ts reports them */
const TDX_TCB_STATUSES = ['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded', 'Revoked'] as const

/** Bounds on what a config may hold (it may come from a copied file or an environment). */
export const CONFIG_LIMITS = Object.freeze({
  maxAddrs: 64,
  maxAddrLength: 1024,
  maxString: 256,
  maxGpuEntries: 64,
  maxGpusPerEntry: 1024,
  maxMeasurements: 256,
  maxCrlFiles: 16,
  maxPathLength: 4096,
  /** 2^63 - 1, the largest price an offer carries, has 19 decimal digits */
  maxPriceDigits: 19
})

/** A file path: not empty, no NUL, bounded. */
const PATH_RE = new RegExp(`^[^\\0]{1,${CONFIG_LIMITS.maxPathLength}}$`)

/** NVIDIA driver versions ("550.90.07") and VBIOS versions in RIM notation ("96.00.9F.00.01"). */
/**
 * an image reference as a job spec must give it (`isImageReference`), or a prefix of one ending in
 * `*`, no longer than an offer carries one (the supplier publishes the list in its offers)
 */
function imagePattern (v: unknown, path: string): string {
  const what = `an image reference (ghcr.io/org/name:tag), or a prefix of one ending in *, at most ${MAX_IMAGE_PATTERN_LENGTH} characters`
  if (typeof v !== 'string') fail(path, `${path} must be ${what}, got ${describe(v)}`)
  if (v.length > MAX_IMAGE_PATTERN_LENGTH || !isImagePattern(v)) fail(path, `${path} must be ${what}, got ${describe(v)}`)
  return v
}
const DRIVER_VERSION_RE = /^\d{1,4}(\.\d{1,4}){0,3}$/
const VBIOS_VERSION_RE = /^[0-9A-Fa-f]{2}(\.[0-9A-Fa-f]{2}){4}$/

function gpuAccept (v: unknown): GpuAcceptConfig {
  const g = obj(v ?? {}, 'tee.gpuAccept')
  known(g, 'tee.gpuAccept', ['driverVersions', 'minDriverVersion', 'vbiosVersions', 'minVbiosVersion', 'requireRimMatch', 'requireRevocation'])
  const driver = (x: unknown, p: string): string => text(x, p, DRIVER_VERSION_RE, 'a driver version like 550.90.07')
  const vbios = (x: unknown, p: string): string => text(x, p, VBIOS_VERSION_RE, 'a VBIOS version like 96.00.9F.00.01')
  return {
    ...(g.driverVersions != null ? { driverVersions: uniqueList(g.driverVersions, 'tee.gpuAccept.driverVersions', CONFIG_LIMITS.maxMeasurements, driver) } : {}),
    ...(g.minDriverVersion != null ? { minDriverVersion: driver(g.minDriverVersion, 'tee.gpuAccept.minDriverVersion') } : {}),
    ...(g.vbiosVersions != null ? { vbiosVersions: uniqueList(g.vbiosVersions, 'tee.gpuAccept.vbiosVersions', CONFIG_LIMITS.maxMeasurements, vbios) } : {}),
    ...(g.minVbiosVersion != null ? { minVbiosVersion: vbios(g.minVbiosVersion, 'tee.gpuAccept.minVbiosVersion') } : {}),
    ...(g.requireRimMatch != null ? { requireRimMatch: bool(g.requireRimMatch, 'tee.gpuAccept.requireRimMatch') } : {}),
    ...(g.requireRevocation != null ? { requireRevocation: bool(g.requireRevocation, 'tee.gpuAccept.requireRevocation') } : {})
  }
}

/**
 * `tee.minTcb`: the lowest TCB a renter accepts, per kind. SEV-SNP: each component of the report's
 * REPORTED_TCB (SEV-SNP ABI, TCB_VERSION: one byte each); TDX: each byte of TEE_TCB_SVN (16 bytes).
 */
function minTcb (v: unknown): TeeConfig['minTcb'] {
  const m = obj(v ?? {}, 'tee.minTcb')
  known(m, 'tee.minTcb', ['sev-snp', 'tdx'])
  const out: NonNullable<TeeConfig['minTcb']> = {}
  if (m['sev-snp'] != null) {
    const c = obj(m['sev-snp'], 'tee.minTcb.sev-snp')
    const parts = ['bootloader', 'tee', 'snp', 'microcode', 'fmc'] as const
    known(c, 'tee.minTcb.sev-snp', [...parts])
    const snp: Partial<Record<typeof parts[number], number>> = {}
    for (const k of parts) if (c[k] != null) snp[k] = int(c[k], `tee.minTcb.sev-snp.${k}`, 0, 255)
    out['sev-snp'] = snp
  }
  if (m.tdx != null) out.tdx = hex(m.tdx, 'tee.minTcb.tdx', 16)
  return out
}

const CRL_SOURCE_NAMES = CRL_SOURCES.map((s) => s.name)

/** `tee.crlUrls`: a known source name → an http(s) URL */
function crlUrls (v: unknown): Record<string, string> {
  const u = obj(v ?? {}, 'tee.crlUrls')
  known(u, 'tee.crlUrls', CRL_SOURCE_NAMES)
  const out: Record<string, string> = {}
  for (const [name, url] of Object.entries(u)) out[name] = text(url, `tee.crlUrls.${name}`, /^https?:\/\/[\x21-\x7e]{1,500}$/, 'an http(s) URL')
  return out
}

/** Length of a launch measurement of every TEE kind (a SHA-384 digest). */
const MEASUREMENT_BYTES = 48

/** A key that documents a config file and is otherwise ignored, at any level. */
export const COMMENT_KEY = '$comment'

/**
 * Validates a complete (merged) configuration and returns it typed, with exactly the known fields:
 * those of CONFIG_FIELDS (schema.ts) at each level, which also documents them.
 * Throws ConfigError INVALID_FIELD or UNKNOWN_FIELD with `field` set to the path of the first bad
 * field, e.g. `listen[1]`, `market.pricePerGpuHour`, `gpus[0].memoryMib`.
 */
export function validateConfig (input: unknown): BazaarConfig {
  const o = obj(input, '')
  known(o, '', configKeys(''))

  const listen = list(o.listen, 'listen', CONFIG_LIMITS.maxAddrs, (v, p) => addr(v, p, 'listen'))
  const bootstrap = list(o.bootstrap, 'bootstrap', CONFIG_LIMITS.maxAddrs, (v, p) => addr(v, p, 'bootstrap'))
  const mdns = bool(o.mdns, 'mdns')

  const a = obj(o.api, 'api')
  known(a, 'api', configKeys('api'))
  const api = { host: host(a.host, 'api.host'), port: int(a.port, 'api.port', 0, 65535), allowRemote: bool(a.allowRemote, 'api.allowRemote') }
  // [refuse] the control API moves money: it stays on loopback unless remote access is asked for
  if (!api.allowRemote && !isLoopback(api.host)) {
    fail('api.host', `api.host ${api.host} is not a loopback address; set api.allowRemote to true to expose the control API`)
  }

  const l = obj(o.log, 'log')
  known(l, 'log', configKeys('log'))
  const log = { level: oneOf(l.level, 'log.level', LOG_LEVELS), format: oneOf(l.format, 'log.format', LOG_FORMATS) }

  const role = oneOf(o.role, 'role', ROLES)

  const c = obj(o.chain, 'chain')
  known(c, 'chain', configKeys('chain'))
  const networks = networkTable(c.networks)
  const chain: BazaarConfig['chain'] = {
    adapter: oneOf(c.adapter ?? (c.network != null || c.endpoint != null ? 'subtensor' : 'embedded'), 'chain.adapter', CHAIN_ADAPTERS),
    netuid: int(c.netuid, 'chain.netuid', 0, 65535),
    sweepS: int(c.sweepS, 'chain.sweepS', 0, 86400)
  }
  if (c.endpoint != null) chain.endpoint = wsUrl(c.endpoint, 'chain.endpoint')
  if (c.network != null) {
    if (typeof c.network !== 'string' || c.network.length > CONFIG_LIMITS.maxString) fail('chain.network', `chain.network must be ${networkChoices(networks)}, got ${describe(c.network)}`)
    const url = /^wss?:\/\//i.test(c.network) ? wsUrl(c.network, 'chain.network') : networks[c.network]
    if (url == null) fail('chain.network', `chain.network must be ${networkChoices(networks)}, got ${describe(c.network)}`)
    // [refuse] two different endpoints: which one the operator meant is not ours to guess
    if (chain.endpoint != null && chain.endpoint !== url) fail('chain.endpoint', `chain.endpoint ${chain.endpoint} and chain.network ${c.network} (${url}) name different chains; give one of them`)
    if (chain.adapter !== 'subtensor') fail('chain.network', `chain.network ${c.network} is a subtensor network but chain.adapter is ${chain.adapter}`)
    chain.network = c.network
    chain.endpoint = url
  }
  if (c.fallbackEndpoints != null) {
    const fallbacks = list(c.fallbackEndpoints, 'chain.fallbackEndpoints', MAX_FALLBACK_ENDPOINTS, wsUrl)
    if (chain.adapter !== 'subtensor') fail('chain.fallbackEndpoints', `chain.fallbackEndpoints are subtensor nodes but chain.adapter is ${chain.adapter}`)
    const all = [chain.endpoint, ...fallbacks]
    const twice = all.find((e, i) => e != null && all.indexOf(e) !== i)
    if (twice != null) fail('chain.fallbackEndpoints', `chain.fallbackEndpoints lists ${twice} twice (chain.endpoint included)`)
    if (fallbacks.length > 0) chain.fallbackEndpoints = fallbacks
  }
  if (c.arbiter != null) chain.arbiter = ss58(c.arbiter, 'chain.arbiter')
  if (c.arbiterPeer != null) chain.arbiterPeer = addr(c.arbiterPeer, 'chain.arbiterPeer', 'bootstrap')
  if (c.scanFromBlock != null) chain.scanFromBlock = int(c.scanFromBlock, 'chain.scanFromBlock', 1, 0xffff_ffff)
  if (chain.adapter === 'subtensor' && chain.endpoint == null) fail('chain.endpoint', 'chain.endpoint is required when chain.adapter is subtensor')

  const m = obj(o.market, 'market')
  known(m, 'market', configKeys('market'))
  const market = {
    // the bounds an offer's own validation applies (a region it refuses would stop the supplier at start)
    region: text(m.region, 'market.region', REGION_PATTERN, `a region of a-z, 0-9 and - (at most ${MAX_REGION_LENGTH} characters)`),
    pricePerGpuHour: price(m.pricePerGpuHour, 'market.pricePerGpuHour'),
    minDurationS: int(m.minDurationS, 'market.minDurationS', 1, MAX_DURATION_S),
    maxDurationS: int(m.maxDurationS, 'market.maxDurationS', 1, MAX_DURATION_S),
    offerTtlS: int(m.offerTtlS, 'market.offerTtlS', 10, 86400),
    republishS: int(m.republishS, 'market.republishS', 1, 86400),
    bookSyncS: int(m.bookSyncS, 'market.bookSyncS', 0, 86400),
    teeKinds: uniqueList(m.teeKinds, 'market.teeKinds', TEE_KINDS.length, (v, p) => oneOf(v, p, TEE_KINDS))
  }
  if (market.minDurationS > market.maxDurationS) fail('market.minDurationS', 'market.minDurationS must not exceed market.maxDurationS')
  // an offer must be re-published before it expires, or it vanishes from other books between rounds
  if (market.republishS >= market.offerTtlS) fail('market.republishS', 'market.republishS must be below market.offerTtlS')

  let gpus: GpuConfig[] | undefined
  if (o.gpus != null) {
    gpus = list(o.gpus, 'gpus', CONFIG_LIMITS.maxGpuEntries, (v, p) => {
      const g = obj(v, p)
      known(g, p, configKeys('gpus[]'))
      const gpu: GpuConfig = {
        model: text(g.model, `${p}.model`, /^[\x20-\x7e]{1,128}$/, 'printable ASCII, 1 to 128 characters'),
        memoryMib: int(g.memoryMib, `${p}.memoryMib`, 1, 16 * 1024 * 1024),
        count: int(g.count, `${p}.count`, 1, CONFIG_LIMITS.maxGpusPerEntry)
      }
      if (g.pricePerGpuHour != null) gpu.pricePerGpuHour = price(g.pricePerGpuHour, `${p}.pricePerGpuHour`)
      return gpu
    })
  }

  const t = obj(o.tee, 'tee')
  known(t, 'tee', configKeys('tee'))
  const am = obj(t.allowedMeasurements, 'tee.allowedMeasurements')
  known(am, 'tee.allowedMeasurements', TEE_KINDS)
  const allowedMeasurements: Partial<Record<TeeKind, string[]>> = {}
  for (const kind of TEE_KINDS) {
    // absent: any measurement; present (even empty): only those listed
    if (am[kind] === undefined) continue
    // SEV-SNP MEASUREMENT (SEV-SNP ABI, ATTESTATION_REPORT) and TDX MRTD are SHA-384 digests, 48
    // bytes; the simulated evidence format carries 48 bytes as well
    allowedMeasurements[kind] = uniqueList(am[kind], `tee.allowedMeasurements.${kind}`, CONFIG_LIMITS.maxMeasurements, (v, q) => hex(v, q, MEASUREMENT_BYTES))
  }
  const tee = {
    provider: oneOf(t.provider, 'tee.provider', TEE_KINDS),
    allowSimulated: bool(t.allowSimulated, 'tee.allowSimulated'),
    allowMigratable: bool(t.allowMigratable, 'tee.allowMigratable'),
    allowedMeasurements,
    maxEvidenceAgeS: int(t.maxEvidenceAgeS, 'tee.maxEvidenceAgeS', 1, 7 * 86400),
    minTcb: minTcb(t.minTcb),
    // SEV-SNP VMPL 0 to 3 (a paravisor runs the guest at 1 or more, and sees its memory)
    ...(t.snpMaxVmpl != null ? { snpMaxVmpl: int(t.snpMaxVmpl, 'tee.snpMaxVmpl', 0, 3) } : {}),
    tdxCollateralFiles: uniqueList(t.tdxCollateralFiles ?? [], 'tee.tdxCollateralFiles', CONFIG_LIMITS.maxCrlFiles, (v, q) => text(v, q, PATH_RE, `a file path of at most ${CONFIG_LIMITS.maxPathLength} characters`)),
    ...(t.tdxTcbStatuses != null ? { tdxTcbStatuses: uniqueList(t.tdxTcbStatuses, 'tee.tdxTcbStatuses', TDX_TCB_STATUSES.length, (v, q) => oneOf(v, q, TDX_TCB_STATUSES)) } : {}),
    crlFiles: uniqueList(t.crlFiles ?? [], 'tee.crlFiles', CONFIG_LIMITS.maxCrlFiles, (v, q) => text(v, q, PATH_RE, `a file path of at most ${CONFIG_LIMITS.maxPathLength} characters`)),
    ...(t.crlDir != null ? { crlDir: text(t.crlDir, 'tee.crlDir', PATH_RE, `a directory path of at most ${CONFIG_LIMITS.maxPathLength} characters`) } : {}),
    crlSources: uniqueList(t.crlSources ?? CRL_SOURCE_NAMES, 'tee.crlSources', CRL_SOURCE_NAMES.length, (v, q) => oneOf(v, q, CRL_SOURCE_NAMES)),
    crlUrls: crlUrls(t.crlUrls),
    ...(t.tdxCollateralDir != null ? { tdxCollateralDir: text(t.tdxCollateralDir, 'tee.tdxCollateralDir', PATH_RE, `a directory path of at most ${CONFIG_LIMITS.maxPathLength} characters`) } : {}),
    ...(t.tdxPcsUrl != null ? { tdxPcsUrl: text(t.tdxPcsUrl, 'tee.tdxPcsUrl', /^https?:\/\/[\x21-\x7e]{1,500}$/, 'an http(s) URL') } : {}),
    gpuCrlFiles: uniqueList(t.gpuCrlFiles ?? [], 'tee.gpuCrlFiles', CONFIG_LIMITS.maxCrlFiles, (v, q) => text(v, q, PATH_RE, `a file path of at most ${CONFIG_LIMITS.maxPathLength} characters`)),
    gpu: oneOf(t.gpu ?? 'off', 'tee.gpu', ['required', 'optional', 'off'] as const),
    gpuAccept: gpuAccept(t.gpuAccept),
    gpuProvider: oneOf(t.gpuProvider ?? 'none', 'tee.gpuProvider', ['none', 'nvidia-gpu', 'simulated-gpu'] as const),
    // a driver RIM and a VBIOS RIM, and a spare pair while a driver update rolls out
    gpuRimFiles: uniqueList(t.gpuRimFiles ?? [], 'tee.gpuRimFiles', 4, (v, q) => text(v, q, PATH_RE, `a file path of at most ${CONFIG_LIMITS.maxPathLength} characters`)),
    gpuOcsp: oneOf(t.gpuOcsp ?? 'staple', 'tee.gpuOcsp', ['staple', 'off'] as const),
    gpuOcspUrl: text(t.gpuOcspUrl ?? NVIDIA_OCSP_URL, 'tee.gpuOcspUrl', /^https?:\/\/[\x21-\x7e]{1,200}$/, 'an http(s) URL'),
    ...(t.enclaveListen != null ? { enclaveListen: list(t.enclaveListen, 'tee.enclaveListen', 8, (v, p) => addr(v, p, 'listen')) } : {})
  }

  const me = obj(o.metering, 'metering')
  known(me, 'metering', configKeys('metering'))
  const metering = { tickS: int(me.tickS, 'metering.tickS', 1, 3600), graceS: int(me.graceS, 'metering.graceS', 1, 86400), reattachS: int(me.reattachS, 'metering.reattachS', 0, 86400) }
  if (metering.graceS < metering.tickS) fail('metering.graceS', 'metering.graceS must be at least one tick (metering.tickS)')

  const jo = obj(o.jobs, 'jobs')
  known(jo, 'jobs', configKeys('jobs'))
  const jobs = {
    runtime: oneOf(jo.runtime ?? 'process', 'jobs.runtime', ['process', 'container'] as const),
    engine: oneOf(jo.engine ?? 'auto', 'jobs.engine', ['auto', 'docker', 'podman'] as const),
    images: uniqueList(jo.images ?? [], 'jobs.images', MAX_IMAGE_PATTERNS, (v, q) => imagePattern(v, q)),
    pull: oneOf(jo.pull ?? 'missing', 'jobs.pull', ['missing', 'never'] as const),
    memoryMib: int(jo.memoryMib ?? 0, 'jobs.memoryMib', 0, 16_777_216),
    processes: int(jo.processes, 'jobs.processes', 0, 4_194_304),
    openFiles: int(jo.openFiles, 'jobs.openFiles', 64, 1_048_576),
    fileMib: int(jo.fileMib, 'jobs.fileMib', 0, 16_777_216)
  }
  // [refuse] a limit the runtime cannot set would be a bound on paper only
  if (jobs.runtime === 'process' && jobs.memoryMib > 0) fail('jobs.memoryMib', 'jobs.memoryMib needs jobs.runtime container: a process job\'s memory cannot be bounded here (a container\'s cgroup bounds it)')
  if (jobs.runtime === 'process' && jobs.images.length > 0) fail('jobs.images', 'jobs.images needs jobs.runtime container: the process runtime runs no image')

  return { listen, bootstrap, mdns, api, log, role, chain, market, ...(gpus != null ? { gpus } : {}), tee, metering, jobs }
}

/** Whether `host` is a loopback name or address (127.0.0.0/8, ::1, localhost). */
export function isLoopback (host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

function fail (field: string, message: string): never {
  throw new ConfigError(ConfigErrorCode.INVALID_FIELD, field, message)
}

function describe (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)
  if (typeof v === 'object') return 'an object'
  return String(v)
}

function label (path: string): string {
  return path === '' ? 'the config' : path
}

function obj (v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `${label(path)} must be an object, got ${describe(v)}`)
  return v as Record<string, unknown>
}

function known (o: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (k === COMMENT_KEY || keys.includes(k)) continue
    const field = path === '' ? k : `${path}.${k}`
    throw new ConfigError(ConfigErrorCode.UNKNOWN_FIELD, field, `unknown field ${field}${path === '' ? '' : ` (known: ${keys.join(', ')})`}`)
  }
}

function bool (v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, `${path} must be true or false, got ${describe(v)}`)
  return v
}

function int (v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `${path} must be an integer in ${min}..${max}, got ${describe(v)}`)
  return v
}

function oneOf<T extends string> (v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(path, `${path} must be one of ${values.join(', ')}, got ${describe(v)}`)
  return v as T
}

function text (v: unknown, path: string, re: RegExp, what: string): string {
  if (typeof v !== 'string' || !re.test(v)) fail(path, `${path} must be ${what}, got ${describe(v)}`)
  return v
}

function list<T> (v: unknown, path: string, max: number, each: (v: unknown, path: string) => T): T[] {
  if (!Array.isArray(v)) fail(path, `${path} must be an array, got ${describe(v)}`)
  if (v.length > max) fail(path, `${path} has ${v.length} entries, at most ${max} allowed`)
  return v.map((x, i) => each(x, `${path}[${i}]`))
}

function uniqueList<T> (v: unknown, path: string, max: number, each: (v: unknown, path: string) => T): T[] {
  const out = list(v, path, max, each)
  const seen = new Set<T>()
  out.forEach((x, i) => {
    if (seen.has(x)) fail(`${path}[${i}]`, `${path}[${i}] repeats an earlier entry`)
    seen.add(x)
  })
  return out
}

/** A multiaddr this node can use: TCP for `listen`; TCP and a valid `/p2p/<peer id>` for `bootstrap`. */
function addr (v: unknown, path: string, kind: 'listen' | 'bootstrap'): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > CONFIG_LIMITS.maxAddrLength || !v.startsWith('/')) {
    fail(path, `${path} must be a multiaddr string such as /ip4/0.0.0.0/tcp/4001, got ${describe(v)}`)
  }
  let names: Array<{ name: string, value?: string }>
  try {
    names = multiaddr(v).getComponents()
  } catch {
    fail(path, `${path} is not a valid multiaddr: ${describe(v)}`)
  }
  if (!names.some((c) => c.name === 'tcp')) fail(path, `${path} must be a TCP address (the node speaks TCP): ${describe(v)}`)
  if (kind === 'bootstrap') {
    const last = names[names.length - 1]
    if (last?.name !== 'p2p' || last.value == null) fail(path, `${path} must end in /p2p/<peer id>: ${describe(v)}`)
    try {
      peerIdFromString(last.value)
    } catch {
      fail(path, `${path} has an invalid peer id: ${describe(last.value)}`)
    }
  }
  return v
}

function host (v: unknown, path: string): string {
  if (typeof v !== 'string' || (isIP(v) === 0 && !/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(v))) {
    fail(path, `${path} must be an IP address or a host name, got ${describe(v)}`)
  }
  return v
}

/** Most named networks `chain.networks` may hold. */
const MAX_NETWORKS = 16
/** `chain.fallbackEndpoints`: more than a few nodes of one chain adds nothing but slower failures */
const MAX_FALLBACK_ENDPOINTS = 8

/** `chain.networks`: names (`local`, `test`, `finney`, ...) to ws(s):// endpoints. */
function networkTable (v: unknown): Record<string, string> {
  if (v == null) return {}
  const t = obj(v, 'chain.networks')
  const names = Object.keys(t).filter((k) => k !== COMMENT_KEY)
  if (names.length > MAX_NETWORKS) fail('chain.networks', `chain.networks holds at most ${MAX_NETWORKS} networks`)
  const out: Record<string, string> = {}
  for (const name of names) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) fail(`chain.networks.${name.slice(0, 40)}`, 'network names are lowercase words (letters, digits, -)')
    out[name] = wsUrl(t[name], `chain.networks.${name}`)
  }
  return out
}

function networkChoices (networks: Record<string, string>): string {
  return `${Object.keys(networks).join(', ')}${Object.keys(networks).length > 0 ? ' or ' : ''}a ws:// or wss:// URL`
}

function wsUrl (v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length > CONFIG_LIMITS.maxString) fail(path, `${path} must be a ws:// or wss:// URL, got ${describe(v)}`)
  let u: URL
  try {
    u = new URL(v)
  } catch {
    fail(path, `${path} must be a ws:// or wss:// URL, got ${describe(v)}`)
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') fail(path, `${path} must be a ws:// or wss:// URL, got ${describe(v)}`)
  return v
}

function ss58 (v: unknown, path: string): string {
  if (typeof v !== 'string' || v.startsWith('0x') || v.length > 64) fail(path, `${path} must be an ss58 address, got ${describe(v)}`)
  try {
    decodeSs58(v)
  } catch {
    fail(path, `${path} is not a valid ss58 address (bad characters or checksum): ${describe(v)}`)
  }
  return v
}

/** Amounts are integers in base units (rao); as strings, because they may exceed 2^53. */
/** an offer's price: what the market's own validation takes (1 to 2^63 - 1 rao), or the supplier stops at start */
function price (v: unknown, path: string): string {
  const re = new RegExp(`^[1-9][0-9]{0,${CONFIG_LIMITS.maxPriceDigits - 1}}$`)
  if (typeof v !== 'string' || !re.test(v)) fail(path, `${path} must be a decimal integer string of base units (rao), got ${describe(v)}`)
  if (BigInt(v) > MAX_U64) fail(path, `${path} must be at most ${MAX_U64} rao (2^63 - 1), got ${v}`)
  return v
}

function hex (v: unknown, path: string, bytes: number): string {
  if (typeof v !== 'string' || v.length !== bytes * 2 || !/^[0-9a-f]+$/.test(v)) fail(path, `${path} must be lowercase hex of ${bytes} bytes, got ${describe(v)}`)
  return v
}
