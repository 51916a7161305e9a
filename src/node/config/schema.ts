/**
 * Every configuration field: its path, type, environment variable, flag and meaning. validate.ts
 * accepts exactly the keys listed here at each level (anything else is UNKNOWN_FIELD), so a field
 * cannot be validated without being described; `bazaar config describe` prints this table with the
 * defaults of config/default.json.
 */
export interface ConfigField {
  /** dotted path; `gpus[].model` for a field of each list entry, `tee.allowedMeasurements.<kind>` for a map */
  path: string
  /** the accepted values, in words */
  type: string
  /** the BAZAAR_* variable that sets it, if any */
  env?: string
  /** the command-line flag of node-starting commands that sets it, if any */
  flag?: string
  description: string
}

export const CONFIG_FIELDS: readonly ConfigField[] = Object.freeze([
  { path: 'listen', type: 'list of TCP multiaddrs (at most 64)', env: 'BAZAAR_LISTEN', flag: '--listen', description: 'addresses libp2p listens on, e.g. /ip4/0.0.0.0/tcp/4001; tcp/0 picks a free port' },
  { path: 'bootstrap', type: 'list of TCP multiaddrs ending in /p2p/<peer id>', env: 'BAZAAR_BOOTSTRAP', flag: '--bootstrap', description: 'peers dialled at start to join the network; an empty BAZAAR_BOOTSTRAP clears the list' },
  { path: 'mdns', type: 'boolean', env: 'BAZAAR_MDNS', flag: '--no-mdns', description: 'discover peers on the local network with mDNS' },
  { path: 'api', type: 'object', description: 'the control API: HTTP+JSON with the bearer token of <home>/api-token; GET /metrics (Prometheus) also takes the scrape-only token of <home>/metrics-token' },
  { path: 'api.host', type: 'IP address or host name', env: 'BAZAAR_API', flag: '--api', description: 'address of the control API; loopback unless api.allowRemote (BAZAAR_API and --api take host:port)' },
  { path: 'api.port', type: 'integer 0..65535', env: 'BAZAAR_API', flag: '--api', description: 'port of the control API; 0 picks a free one (bazaar commands find it through <home>/api.json)' },
  { path: 'api.allowRemote', type: 'boolean', env: 'BAZAAR_API_ALLOW_REMOTE', description: 'allow a non-loopback api.host; the token is then the only guard' },
  { path: 'log', type: 'object', description: 'logs on stderr' },
  { path: 'log.level', type: 'trace, debug, info, warn, error or silent', env: 'BAZAAR_LOG_LEVEL', flag: '--log-level', description: 'lowest level written' },
  { path: 'log.format', type: 'json or pretty', env: 'BAZAAR_LOG_FORMAT', flag: '--log-format', description: 'one JSON object per line (for journald and log shippers) or a readable line' },
  { path: 'role', type: 'supplier, renter, both or arbiter', env: 'BAZAAR_ROLE', flag: '--role', description: 'what the daemon does: offer GPUs, rent them, both, or co-sign escrow closes' },
  { path: 'chain', type: 'object', description: 'where escrows live' },
  { path: 'chain.adapter', type: 'embedded or subtensor', env: 'BAZAAR_CHAIN', flag: '--chain', description: 'embedded: an in-process ledger (devnets, tests); subtensor: a Substrate endpoint. BAZAAR_CHAIN and --chain also take a ws(s):// URL, meaning subtensor at that endpoint' },
  { path: 'chain.network', type: 'local, test, finney or a ws(s):// URL', env: 'BAZAAR_NETWORK', flag: '--network', description: 'the subtensor network by name (endpoints in chain.networks); implies the subtensor adapter' },
  { path: 'chain.networks', type: 'object: name → ws(s):// URL', description: 'the endpoints of the named networks, written once in config/default.json (local: ws://127.0.0.1:9944, as bazaar chain start serves it)' },
  { path: 'chain.networks.<name>', type: 'ws:// or wss:// URL', description: 'the endpoint of one named network' },
  { path: 'chain.endpoint', type: 'ws:// or wss:// URL', env: 'BAZAAR_CHAIN_ENDPOINT', description: 'the subtensor node; required with chain.adapter subtensor' },
  { path: 'chain.fallbackEndpoints', type: 'list of ws:// or wss:// URLs (at most 8)', env: 'BAZAAR_CHAIN_FALLBACK', description: 'more nodes of the same chain, tried in this order after chain.endpoint (or the network\'s): when it does not answer at start, goes away, or stops answering. Each is checked to serve the chain first opened (BAZAAR_CHAIN_FALLBACK: comma-separated)' },
  { path: 'chain.netuid', type: 'integer 0..65535', env: 'BAZAAR_NETUID', flag: '--netuid', description: 'the subnet whose alpha denominates escrows' },
  { path: 'chain.arbiter', type: 'ss58 address', env: 'BAZAAR_ARBITER', description: 'the arbiter named in agreements, co-signing closes without the other party; renting needs it' },
  { path: 'chain.arbiterPeer', type: 'TCP multiaddr ending in /p2p/<peer id>', env: 'BAZAAR_ARBITER_PEER', description: "where the arbiter's node listens (/bazaar/arbiter/2.0.0)" },
  { path: 'chain.sweepS', type: 'integer seconds 0..86400', description: 'how often a daemon sweeps its settled escrows on a subtensor chain: approvals of its own that never executed are cancelled (their deposits come back), and an arbiter takes back what its per-escrow keys hold; 0 turns the timer off' },
  { path: 'chain.scanFromBlock', type: 'block number 1..4294967295', env: 'BAZAAR_CHAIN_SCAN_FROM', description: 'the first block a subtensor daemon reads escrow records from; by default the last 1200 blocks (about 4 hours), or earlier where an escrow the daemon holds opened earlier and may still be in play (it keeps their open blocks). Set it to the open block of an older escrow the daemon does not find (its log says so); every block from there is read at start' },
  { path: 'market', type: 'object', description: 'what a supplier offers and a renter accepts' },
  { path: 'market.region', type: 'a-z, 0-9 and - (at most 32)', env: 'BAZAAR_REGION', description: 'region advertised in offers and matched by bids' },
  { path: 'market.pricePerGpuHour', type: 'decimal integer string, rao (10^-9 alpha), 1 to 2^63 - 1', env: 'BAZAAR_PRICE', description: 'default price per GPU-hour of offers' },
  { path: 'market.minDurationS', type: 'integer seconds 1..2592000 (30 days)', description: 'shortest rental a supplier accepts' },
  { path: 'market.maxDurationS', type: 'integer seconds 1..2592000 (30 days)', description: 'longest rental a supplier accepts' },
  { path: 'market.offerTtlS', type: 'integer seconds 10..86400', description: 'lifetime of a published offer' },
  { path: 'market.republishS', type: 'integer seconds 1..86400, below market.offerTtlS', description: 'how often each standing offer and bid is published again: at most this long after it was last sent' },
  { path: 'market.bookSyncS', type: 'integer seconds 0..86400', description: 'how often the node pulls a peer\'s whole book (anti-entropy, /bazaar/book-sync/1.0.0) besides on every new connection; 0 turns the timer off' },
  { path: 'market.teeKinds', type: 'list of sev-snp, tdx, simulated', description: 'TEE kinds a renter accepts by default (a supplier offers only tee.provider)' },
  { path: 'gpus', type: 'list of objects (at most 64); absent: detect with nvidia-smi', description: 'GPU inventory override of a supplier' },
  { path: 'gpus[].model', type: 'printable ASCII, 1..128 characters', description: 'GPU model, e.g. h100-80gb' },
  { path: 'gpus[].memoryMib', type: 'integer MiB', description: 'memory of one GPU' },
  { path: 'gpus[].count', type: 'integer 1..1024', description: 'how many of this model' },
  { path: 'gpus[].pricePerGpuHour', type: 'decimal integer string, rao, 1 to 2^63 - 1', description: 'price of this model instead of market.pricePerGpuHour' },
  { path: 'tee', type: 'object', description: 'attestation' },
  { path: 'tee.provider', type: 'sev-snp, tdx or simulated', env: 'BAZAAR_TEE_PROVIDER', description: 'how this node attests as a supplier: sev-snp and tdx need configfs-tsm (/sys/kernel/config/tsm/report) inside a confidential VM; simulated is for devnets' },
  { path: 'tee.allowSimulated', type: 'boolean', env: 'BAZAAR_ALLOW_SIMULATED', description: 'accept simulated evidence from suppliers (devnets only)' },
  { path: 'tee.allowMigratable', type: 'boolean', description: 'renter: accept guests that may be migrated to another host (SEV-SNP policy MIGRATE_MA, TDX TD_ATTRIBUTES MIGRATABLE); false (the default) refuses them (MIGRATION_REFUSED)' },
  { path: 'tee.allowedMeasurements', type: 'object: kind → list of 48-byte lowercase hex', description: 'launch measurements accepted per kind; a kind left out accepts any, an empty list accepts none' },
  { path: 'tee.allowedMeasurements.<kind>', type: 'list of 48-byte lowercase hex (at most 256)', description: 'SEV-SNP MEASUREMENT, TDX MRTD or simulated measurement values accepted' },
  { path: 'tee.maxEvidenceAgeS', type: 'integer seconds 1..604800', description: 'evidence older than this is refused' },
  { path: 'tee.minTcb', type: 'object: sev-snp, tdx', description: 'renter: the lowest TCB accepted per kind; absent or empty accepts any' },
  { path: 'tee.minTcb.sev-snp', type: 'object: bootloader, tee, snp, microcode, fmc (integers 0..255)', description: 'each component of the SEV-SNP report\'s REPORTED_TCB must be at least the one given (TCB_TOO_LOW)' },
  { path: 'tee.minTcb.tdx', type: '16-byte lowercase hex', description: 'each byte of the TDX quote\'s TEE_TCB_SVN must be at least this one\'s (TCB_TOO_LOW)' },
  { path: 'tee.snpMaxVmpl', type: 'integer 0..3', description: 'renter: the highest SEV-SNP VMPL accepted (0 is the most privileged; a paravisor runs the guest at 1 or more); absent accepts any' },
  { path: 'tee.tdxCollateralFiles', type: 'list of file paths (at most 16)', description: 'renter: Intel TCB info for TDX platforms, one QuoteCollateralV3 JSON file per platform (FMSPC), from a PCCS or Intel PCS; a TDX quote is evaluated against the one for its platform (TCB status, and its CRLs for the PCK chain); read at each rental' },
  { path: 'tee.tdxTcbStatuses', type: 'list of UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, Revoked', description: 'renter: the TDX TCB statuses accepted; a quote whose platform has no collateral in tee.tdxCollateralFiles is refused too (TCB_TOO_LOW); absent accepts any' },
  { path: 'tee.crlFiles', type: 'list of file paths (at most 16)', description: 'AMD and Intel CRLs (DER or PEM) every session chain is checked against; read at each rental (bazaar attest fetch-crls downloads and refreshes them)' },
  { path: 'tee.crlDir', type: 'directory path', env: 'BAZAAR_CRL_DIR', description: 'renter: a directory the daemon keeps the AMD and Intel CRLs current in (fetched at start, then refreshed at half each CRL\'s time left, between an hour and a day); every session chain is checked against them beside tee.crlFiles, and a rental is refused while it holds none' },
  { path: 'tee.crlSources', type: 'list of CRL source names', description: 'renter, with tee.crlDir: which CRLs the daemon fetches (amd-milan, amd-genoa, amd-turin, intel-root, intel-pck-platform, intel-pck-processor; default all)' },
  { path: 'tee.crlUrls', type: 'object: source name → http(s) URL', description: 'renter, with tee.crlDir: where to fetch a source instead of the vendor (a PCCS or caching proxy)' },
  { path: 'tee.crlUrls.<source>', type: 'http(s) URL', description: 'the URL of that source\'s CRL' },
  { path: 'tee.tdxCollateralDir', type: 'directory path', env: 'BAZAAR_TDX_COLLATERAL_DIR', description: 'renter: a directory the daemon keeps Intel\'s TDX TCB info current in, one <fmspc>.json per platform (refreshed at start, then at half its time left, between an hour and a day); a session whose verified quote names a platform without one fetches it then, at most 8 new platforms an hour, and is refused (COLLATERAL_NOT_FETCHED) when it cannot; read at each rental beside tee.tdxCollateralFiles' },
  { path: 'tee.tdxPcsUrl', type: 'http(s) URL', description: 'renter, with tee.tdxCollateralDir: Intel PCS or a PCCS, which serves <url>/tdx/certification/v4/tcb?fmspc= (default https://api.trustedservices.intel.com)' },
  { path: 'tee.gpuCrlFiles', type: 'list of file paths (at most 16)', env: 'BAZAAR_GPU_CRL_FILES', flag: '--gpu-crl', description: 'renter: NVIDIA CRLs (DER or PEM) of the GPU device and RIM chains; with any, both chains need current ones and a listed certificate is refused (CERT_REVOKED); read at each rental' },
  { path: 'tee.gpu', type: 'required, optional or off', description: 'renter: whether suppliers must also send NVIDIA GPU confidential-computing evidence, bound to the same session' },
  { path: 'tee.gpuAccept', type: 'object', description: 'renter: GPU driver and VBIOS versions accepted' },
  { path: 'tee.gpuAccept.driverVersions', type: 'list of driver versions', description: 'exact driver versions accepted; none listed accepts any' },
  { path: 'tee.gpuAccept.minDriverVersion', type: 'driver version', description: 'the lowest driver version accepted' },
  { path: 'tee.gpuAccept.vbiosVersions', type: 'list of VBIOS versions', description: 'exact VBIOS versions accepted; none listed accepts any' },
  { path: 'tee.gpuAccept.minVbiosVersion', type: 'VBIOS version', description: 'the lowest VBIOS version accepted' },
  { path: 'tee.gpuAccept.requireRimMatch', type: 'boolean', description: 'the measurements must match the driver and VBIOS reference integrity manifests (default true)' },
  { path: 'tee.gpuAccept.requireRevocation', type: 'boolean', description: 'every certificate of the GPU device and RIM chains must have a current revocation status, from tee.gpuCrlFiles or the OCSP answers the supplier stapled (default false; what is sent is checked either way)' },
  { path: 'tee.gpuProvider', type: 'none, nvidia-gpu or simulated-gpu', description: 'supplier: how the GPU attests; nvidia-gpu reads the SPDM report through NVML inside the confidential VM, simulated-gpu is for devnets' },
  { path: 'tee.enclaveListen', type: 'list of TCP multiaddrs (at most 8); absent: the IPs of listen with tcp/0', env: 'BAZAAR_ENCLAVE_LISTEN', flag: '--enclave-listen', description: 'supplier: where the attested enclave endpoint listens for renters\' sessions; offers advertise it. Give a fixed port (e.g. /ip4/0.0.0.0/tcp/4002) to open it in a firewall' },
  { path: 'tee.gpuRimFiles', type: 'list of file paths (at most 4)', description: 'supplier: the GPU driver and VBIOS RIM files sent with its evidence; bazaar attest fetch-rims --gpu 0 fetches and verifies them' },
  { path: 'tee.gpuOcsp', type: 'staple or off', description: 'supplier, nvidia-gpu: send NVIDIA\'s OCSP answers about the GPU\'s device certificates and the RIM signers with its evidence (default staple), fetched from tee.gpuOcspUrl and reused until half their validity is gone' },
  { path: 'tee.gpuOcspUrl', type: 'http(s) URL', description: 'supplier: NVIDIA\'s OCSP responder (default https://ocsp.ndis.nvidia.com/), or a caching proxy in front of it' },
  { path: 'metering', type: 'object', description: 'usage vouchers' },
  { path: 'metering.tickS', type: 'integer seconds 1..3600', description: 'period of usage reports and vouchers' },
  { path: 'metering.graceS', type: 'integer seconds, at least metering.tickS', description: 'how long vouchers may lag before the supplier pauses the job' },
  { path: 'metering.reattachS', type: 'integer seconds 0..86400', description: "supplier: how long a job whose renter's session dropped waits for the renter to re-attach (paused once its vouchers lag past metering.graceS), and how long an ended job's exit and outputs wait for it; 0 stops the job at once" },
  { path: 'jobs', type: 'object', description: 'supplier: how jobs run (as processes or in containers) and the limits of each' },
  { path: 'jobs.runtime', type: 'process or container', description: 'supplier: process runs the job\'s command on the host under prlimit(1) (jobs naming an image are refused); container runs the job\'s image in docker or podman with no network, no capabilities and the limits below (jobs naming no image are refused). Default process' },
  { path: 'jobs.engine', type: 'auto, docker or podman', description: 'supplier, container: the engine (auto: docker where `docker info` works, else podman); the daemon refuses to start where it does not work' },
  { path: 'jobs.images', type: 'list of image references (at most 16, of at most 256 characters each), exact or a prefix ending in *', description: 'supplier, container: the images jobs may name, matched as the renter writes them (docker.io/pytorch/pytorch:* allows every tag of it); empty: any. Offers state the list, so only renters whose image it allows match' },
  { path: 'jobs.pull', type: 'missing or never', description: 'supplier, container: pull an image that is not here yet (missing; its pull counts as the job\'s time) or run only images already pulled (never)' },
  { path: 'jobs.memoryMib', type: 'integer MiB 0..16777216', description: 'supplier, container: the memory of each job (--memory, and no swap on top); a job past it is killed (exit 137). 0: no limit. The process runtime cannot bound memory, so it refuses a value here' },
  { path: 'jobs.processes', type: 'integer 0..4194304', description: 'supplier: RLIMIT_NPROC, the processes and threads of the supplier\'s user past which a job cannot fork (a fork bomb stops there; not enforced for root); 0: no limit' },
  { path: 'jobs.openFiles', type: 'integer 64..1048576', description: 'supplier: RLIMIT_NOFILE, the open files of each job process (lowered to the daemon\'s own hard limit where that is lower)' },
  { path: 'jobs.fileMib', type: 'integer MiB 0..16777216', description: 'supplier: RLIMIT_FSIZE, the largest file a job may write (it gets SIGXFSZ past it); 0: no limit' },
] satisfies ConfigField[])

/**
 * The keys of the object at `path` (`''` for the top level, `gpus[]` for a list entry), in schema
 * order: what validate.ts accepts there.
 */
export function configKeys (path: string): string[] {
  const prefix = path === '' ? '' : path + '.'
  return CONFIG_FIELDS
    .map((f) => f.path)
    .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('.') && !p.slice(prefix.length).startsWith('<'))
    .map((p) => p.slice(prefix.length).replace(/\[\]$/, ''))
}
