/**
 * The configuration of a node, after defaults, the home's config.json, the environment and flags
 * have been layered and validated (see load.ts). Documented defaults: config/default.json.
 */
export interface BazaarConfig {
  /** multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/4001` */
  listen: string[]
  /** multiaddrs of bootstrap peers; each must end in `/p2p/<peer id>` */
  bootstrap: string[]
  /** discover peers on the local network with mDNS */
  mdns: boolean
  api: ApiConfig
  log: LogConfig
  role: Role
  chain: ChainConfig
  market: MarketConfig
  /** GPU inventory override; when absent the supplier detects its GPUs */
  gpus?: GpuConfig[]
  tee: TeeConfig
  metering: MeteringConfig
  jobs: JobsConfig
}

export type Role = 'supplier' | 'renter' | 'both' | 'arbiter'
export const ROLES: readonly Role[] = ['supplier', 'renter', 'both', 'arbiter']

/** The control API (HTTP + JSON, bearer token). */
export interface ApiConfig {
  host: string
  /** 0 picks a free port */
  port: number
  /** listen on a non-loopback host; refused unless set, the token is the only guard */
  allowRemote: boolean
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent']
export type LogFormat = 'json' | 'pretty'
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty']

export interface LogConfig {
  level: LogLevel
  format: LogFormat
}

export type ChainAdapter = 'embedded' | 'subtensor'
export const CHAIN_ADAPTERS: readonly ChainAdapter[] = ['embedded', 'subtensor']

export interface ChainConfig {
  /** default: `subtensor` where `network` or `endpoint` is given, else `embedded` */
  adapter: ChainAdapter
  /**
   * ws:// or wss:// endpoint of a Substrate node; required for `subtensor`. Where `network` is
   * given, the endpoint it names.
   */
  endpoint?: string
  /**
   * more nodes of the same chain, tried in this order after `endpoint`: when it does not answer at
   * start, goes away, or stops answering on its socket (never another network: each is checked as
   * the chain first opened)
   */
  fallbackEndpoints?: string[]
  /**
   * the subtensor network as the config named it: `local`, `test`, `finney` (or another key of
   * `chain.networks`, whose endpoints are written once in config/default.json), or a ws(s):// URL
   */
  network?: string
  /** the subnet whose alpha denominates escrows */
  netuid: number
  /** ss58 address of the arbiter co-signing escrow closes */
  arbiter?: string
  /**
   * where that arbiter's node listens (a multiaddr ending in /p2p/<peer id>); closes and refunds
   * without the other party go there over /bazaar/arbiter/2.0.0
   */
  arbiterPeer?: string
  /**
   * how often, in seconds, a daemon sweeps its settled escrows (`EscrowService.sweep`: stale
   * approvals cancelled, an arbiter's per-escrow keys emptied); 0 never
   */
  sweepS: number
  /**
   * the first block the subtensor adapter reads escrow records from (default: the last 1200 blocks
   * before the head): an escrow opened earlier is found only from here
   */
  scanFromBlock?: number
}

export interface MarketConfig {
  /** free-form region label advertised in offers and matched by bids, e.g. `eu-west` */
  region: string
  /** price per GPU-hour in base units (rao, 10^-9 alpha), a decimal integer string */
  pricePerGpuHour: string
  minDurationS: number
  maxDurationS: number
  /** lifetime of a published offer */
  offerTtlS: number
  /** re-publish period of our standing offers and bids (each at most this long after its last sending); must be below offerTtlS */
  republishS: number
  /** how often the node pulls the order book from one random peer (anti-entropy, beside the pull on every new connection); 0: only on connection */
  bookSyncS: number
  /** TEE kinds this node offers (supplier) or accepts (renter) */
  teeKinds: TeeKind[]
}

export type TeeKind = 'sev-snp' | 'tdx' | 'simulated'
export const TEE_KINDS: readonly TeeKind[] = ['sev-snp', 'tdx', 'simulated']

export interface GpuConfig {
  model: string
  memoryMib: number
  count: number
  /** overrides market.pricePerGpuHour for this GPU model */
  pricePerGpuHour?: string
}

export interface TeeConfig {
  /** how this node (as a supplier) produces attestation evidence */
  provider: TeeKind
  /** accept `simulated` evidence from suppliers (devnets only) */
  allowSimulated: boolean
  /**
   * Renter: accept guests that may be migrated to another host (SEV-SNP POLICY MIGRATE_MA, TDX
   * TD_ATTRIBUTES MIGRATABLE); false refuses them (MIGRATION_REFUSED)
   */
  allowMigratable: boolean
  /**
   * Launch measurements accepted per TEE kind, lowercase hex of 48 bytes (SEV-SNP MEASUREMENT,
   * TDX MRTD, simulated measurement). Same meaning as the attestation policy's `measurements`
   * (src/tee/policy.ts): a kind absent here accepts any measurement; a kind with an empty list
   * accepts none.
   */
  allowedMeasurements: Partial<Record<TeeKind, string[]>>
  /** evidence older than this is refused */
  maxEvidenceAgeS: number
  /**
   * Renter: the lowest TCB accepted. SEV-SNP: each component of the report's REPORTED_TCB at
   * least the one given (firmware revoked by AMD's TCB updates stays refused); TDX: each byte of
   * TEE_TCB_SVN at least that of this 16-byte lowercase hex. Absent or empty: any TCB.
   */
  minTcb: { 'sev-snp'?: Partial<Record<'bootloader' | 'tee' | 'snp' | 'microcode' | 'fmc', number>>, tdx?: string }
  /** Renter: the highest SEV-SNP VMPL accepted (0 the most privileged); absent: any */
  snpMaxVmpl?: number
  /**
   * Renter: Intel's TCB info for TDX platforms, one QuoteCollateralV3 JSON file per platform
   * (FMSPC), as a PCCS or Intel's PCS gives it: a session's quote is evaluated against the one for
   * its platform (its TCB status, and its CRLs for the PCK chain). Read at each rental.
   */
  tdxCollateralFiles: string[]
  /**
   * Renter: the TDX TCB statuses accepted (Intel's names: UpToDate, SWHardeningNeeded, ...); a quote
   * whose platform has no collateral in `tdxCollateralFiles` is refused too. Absent: any status.
   */
  tdxTcbStatuses?: string[]
  /**
   * CRL files (DER or PEM) the renter checks supplier evidence against: AMD's CRL of each product
   * (KDS `/vcek/v1/<product>/crl`) and Intel's root CA and PCK CRLs (PCS). With any, every session's
   * certificate chain must be covered by a current CRL, so list them for every kind accepted and
   * refresh the files before their next update; they are read at each rental. Empty: no revocation
   * check.
   */
  crlFiles: string[]
  /**
   * Renter: a directory the daemon keeps the vendors' CRLs current in (`<dir>/<source>.crl`,
   * fetched at start and refreshed on its own schedule, see CrlRefresher). Its CRLs are checked
   * beside `crlFiles`; a rental is refused while it holds none (CRL_NOT_FETCHED). Absent: the
   * daemon fetches nothing.
   */
  crlDir?: string
  /** Renter, with `crlDir`: the CRL sources fetched there (`bazaar attest fetch-crls` names them); default all */
  crlSources: string[]
  /** Renter, with `crlDir`: a URL per source in place of the vendor's (a PCCS or caching proxy) */
  crlUrls: Record<string, string>
  /**
   * Renter: a directory the daemon keeps Intel's TDX TCB info current in (`<dir>/<fmspc>.json`,
   * see TdxCollateralKeeper): every platform held there is refreshed on its own schedule, and a
   * session whose verified quote names a platform without one fetches it then (refused with
   * COLLATERAL_NOT_FETCHED when it cannot). Read at each rental beside `tdxCollateralFiles`.
   * Absent: the daemon fetches none.
   */
  tdxCollateralDir?: string
  /** Renter, with `tdxCollateralDir`: Intel PCS or a PCCS (`<url>/tdx/certification/v4/tcb`); default Intel's */
  tdxPcsUrl?: string
  /**
   * Renter: NVIDIA's CRL files (DER or PEM) for GPU evidence: those of the device identity chain
   * (root, GH100/GB100 identity and provisioner CAs) and of the RIM signing chain. With any, both
   * chains of every GPU report need a current CRL, and a listed certificate is refused
   * (CERT_REVOKED). Kept apart from `crlFiles` so that AMD and Intel CRLs do not demand NVIDIA's;
   * read at each rental. Empty: no GPU revocation check.
   */
  gpuCrlFiles: string[]
  /**
   * Renter: GPU confidential-computing evidence beside the CPU evidence. `required`: a supplier
   * without valid GPU evidence is refused (GPU_EVIDENCE_MISSING, seen by both sides); `optional`:
   * asked for, and judged when sent; `off` (default): not asked for.
   */
  gpu: 'required' | 'optional' | 'off'
  /** Renter: GPU driver and VBIOS versions accepted (lists, exact) or minimums; absent: any */
  gpuAccept: GpuAcceptConfig
  /** Supplier: how this node's GPU attests (`none`, `nvidia-gpu` through NVML, or `simulated-gpu` for devnets) */
  gpuProvider: 'none' | 'nvidia-gpu' | 'simulated-gpu'
  /** Supplier: the GPU's driver and VBIOS RIM files (from NVIDIA's RIM service), sent with nvidia-gpu evidence */
  gpuRimFiles: string[]
  /**
   * Supplier, nvidia-gpu: `staple` (default) sends NVIDIA's OCSP answers about the GPU's device
   * certificates and the RIM signers with its evidence, fetched from `gpuOcspUrl` and kept until
   * they age; `off` sends none (renters that require revocation then refuse the GPU)
   */
  gpuOcsp: 'staple' | 'off'
  /** Supplier: NVIDIA's OCSP responder, or a caching proxy in front of it */
  gpuOcspUrl: string
  /**
   * supplier: where the enclave endpoint (the libp2p host of attested sessions) listens; absent:
   * on the IP addresses of `listen`, each with a free port (see enclaveListenAddrs)
   */
  enclaveListen?: string[]
}

export interface GpuAcceptConfig {
  driverVersions?: string[]
  minDriverVersion?: string
  vbiosVersions?: string[]
  minVbiosVersion?: string
  /** nvidia-gpu evidence must have matched a driver and a VBIOS RIM (absent: true) */
  requireRimMatch?: boolean
  /**
   * nvidia-gpu: every certificate of the device and RIM chains must have a current revocation
   * status, from `gpuCrlFiles` or the OCSP answers the supplier stapled (absent: false; what is sent
   * is checked either way)
   */
  requireRevocation?: boolean
}

export interface MeteringConfig {
  /** period of usage reports and vouchers */
  tickS: number
  /** how long vouchers may lag before the supplier pauses the job; at least one tick */
  graceS: number
  /** supplier: how long a job whose renter went away waits for it to re-attach; 0 stops it at once */
  reattachS: number
}

/**
 * Supplier: how jobs run. As processes (`runtime` process), with per-job limits set through
 * prlimit(1) on the job's first process and inherited by everything it starts (soft and hard limit
 * alike, so the job cannot raise them); or in containers (`runtime` container), with the same
 * limits as ulimits and the memory bound by the container's cgroup.
 */
export interface JobsConfig {
  /** process: the job's command on the host; container: the job's image in docker or podman */
  runtime: 'process' | 'container'
  /** container: which engine (auto: docker where `docker info` works, else podman) */
  engine: 'auto' | 'docker' | 'podman'
  /** container: the images jobs may name, exact or a prefix ending in `*`; empty: any */
  images: string[]
  /** container: pull a missing image (missing) or run only images already here (never) */
  pull: 'missing' | 'never'
  /** container: the memory of each job in MiB (--memory, no swap on top); 0: no limit */
  memoryMib: number
  /** RLIMIT_NPROC: processes and threads of the supplier's user beyond which the job cannot fork; 0: no limit */
  processes: number
  /** RLIMIT_NOFILE: open file descriptors per process */
  openFiles: number
  /** RLIMIT_FSIZE in MiB: the largest file the job may write; 0: no limit */
  fileMib: number
}

/** Any subset of the config, as a file, the environment or flags give it. */
export type PartialConfig = DeepPartial<BazaarConfig>

export type DeepPartial<T> = T extends Array<infer U>
  ? Array<U>
  : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T
