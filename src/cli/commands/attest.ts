import { randomBytes } from 'node:crypto'
import { flag, str, strs, type Command, type CommandContext, type ParsedArgs } from '../command.js'
import { UsageError, UserError } from '../../util/errors.js'
import { BoundedReadError, readBoundedFile } from '../../util/fs.js'
import { AttestationError, AttestationErrorCode } from '../../tee/errors.js'
import { toHex } from '../../util/hex.js'
import { verifyEvidence } from '../../tee/verify.js'
import { loadTcbInfoCollateral } from '../../tee/tdx/collateral.js'
import { loadCrls } from '../../tee/x509/crl.js'
import { verifyGpuEvidence } from '../../tee/gpu-verify.js'
import { crlSourceNames, fetchCrls } from '../../node/crl-fetch.js'
import { INTEL_PCS_URL, checkFmspcs, fetchTdxCollateral } from '../../node/tdx-collateral-fetch.js'
import { NVIDIA_RIM_SERVICE, checkRimIds, fetchRims } from '../../node/rim-fetch.js'
import { GPU_NONCE_LENGTH } from '../../tee/binding.js'
import { parseGpuReport } from '../../tee/nvidia/parse-report.js'
import { parseGpuOpaqueData } from '../../tee/nvidia/parse-opaque.js'
import { gpuRimIds } from '../../tee/nvidia/rim-ids.js'
import { nvidiaGpuProvider } from '../../tee/providers/nvidia-gpu.js'
import type { TeeKind, VerifiedEvidence, VerifiedGpuEvidence } from '../../tee/types.js'

const USAGE = `usage: bazaar attest verify <file> --kind sev-snp|tdx|nvidia-gpu [--certs <file>]... [--collateral <file>]... [--rim <file>]... [--nonce <hex>] [--crl <file>]... [--ocsp <file>]... [--require-revocation] [--at <ISO time>] [--allow-debug] [--allow-migratable] [--json]

Verifies an SEV-SNP attestation report, a TDX quote or an NVIDIA GPU attestation report against
the AMD, Intel and NVIDIA roots pinned in this program, at a given time (certificates expire;
default now), and prints the parsed fields and the verdict.

  --kind sev-snp|tdx|nvidia-gpu   the evidence format. nvidia-gpu: the SPDM GET_MEASUREMENTS
                       request and response as the NVIDIA driver returns them (binary, or hex text
                       as nvtrust saves it)
  --certs <file>       SNP: the VCEK or VLEK, and optionally ASK/ARK (PEM bundle, DER, or a
                       configfs-tsm auxblob certificate table); repeatable. A TDX quote carries its
                       own PCK chain.
  --collateral <file>  TDX: Intel TCB info to evaluate the TCB status with (a QuoteCollateralV3 JSON,
                       or a PCS tcbInfo response plus its issuer chain PEM); repeatable. It must be
                       valid at --at. CRLs in it (root_ca_crl, pck_crl) or given as DER/PEM files
                       are checked against the quote's PCK chain: then each link needs a current
                       CRL from its issuer, and a revoked certificate is refused.
  --rim <file>         nvidia-gpu: a driver or VBIOS reference integrity manifest (NVIDIA's signed
                       SWID tag); repeatable. With both, every golden measurement must match
                       (gpu.measurementsMatched); without, the measurements are not compared.
  --nonce <hex>        nvidia-gpu: the 32-byte nonce the report must answer (unchecked without it)
  --crl <file>         a CRL (DER or PEM): SNP, AMD's CRL of the product (KDS /vcek/v1/<product>/crl,
                       signed by the ARK), and then the chain's ASK or ASVK must not be listed; TDX,
                       Intel's root CA or PCK CRL, as above; nvidia-gpu, NVIDIA's CRLs of the
                       device and RIM chains (with any, every link needs a status: a CRL or an
                       OCSP answer). It must be current at --at; repeatable.
  --ocsp <file>        nvidia-gpu: an OCSP answer (DER) about a certificate of the device or RIM
                       chains, as a supplier staples it; checked when given; repeatable
  --require-revocation nvidia-gpu: every link but the alias leaf needs a status (--crl, --ocsp)
  --at <ISO time>      verification time, e.g. 2026-03-25T12:55:28Z
  --allow-debug        accept a guest with debugging enabled (refused by default)
  --allow-migratable   accept a guest its host may migrate (SEV-SNP MIGRATE_MA, TDX MIGRATABLE;
                       refused by default, as a renter's policy refuses it without tee.allowMigratable)
  --json               print one JSON object

exit status: 0 valid, 1 invalid (one-line reason), 2 usage error

usage: bazaar attest fetch-crls --dir <dir> [--source <name>]... [--url <name>=<url>]... [--at <ISO time>] [--json]

Downloads AMD's and Intel's CRLs, checks each against the vendor keys pinned in this program
(AMD: the product's ARK; Intel: the SGX root CA, or the PCK CA whose chain PCS sends, up to that
root) and that it is current, and writes it as <dir>/<source>.crl, for tee.crlFiles to list. A
file is replaced only by a newer CRL, atomically; a failed source leaves its file as it was. Run it
from a timer (contrib/systemd/bazaar-crl-fetch.timer), or let a renter daemon keep them (tee.crlDir). NVIDIA's status comes by OCSP, stapled by
suppliers to their GPU evidence (tee.gpuOcsp).

  --dir <dir>          where the files go (made if missing)
  --source <name>      only these sources (repeatable): ${crlSourceNames().join(', ')}
  --url <name>=<url>   fetch a source from this URL instead (a PCCS or caching proxy); repeatable
  --at <ISO time>      the time each CRL must be current at (default now)
  --json               print one JSON object per source

exit status: 0 every source updated or kept, 1 any failed (one line each), 2 usage error

usage: bazaar attest fetch-tdx-collateral --dir <dir> --fmspc <hex>... [--pcs-url <url>] [--at <ISO time>] [--json]

Downloads Intel's TDX TCB info of a platform family from Intel PCS API v4, or a PCCS
(<url>/tdx/certification/v4/tcb?fmspc=<hex>), checks it (its signing chain, sent in the
TCB-Info-Issuer-Chain header, leads to the Intel SGX root pinned in this program; the signature
covers it; it is TDX TCB info for that FMSPC; it is current at --at) and writes it as
<dir>/<fmspc>.json, for tee.tdxCollateralFiles to list. A file is replaced only by a newer TCB
info (a later TCB evaluation, or a later issue of the same one), atomically; a failed FMSPC leaves
its file as it was. A renter daemon with tee.tdxCollateralDir keeps such a directory itself.
The FMSPC of a TDX quote is in bazaar attest verify --kind tdx's output (fmspc).

  --dir <dir>          where the files go (made if missing)
  --fmspc <hex>        the platform family: 12 hex digits, e.g. b0c06f000000; repeatable
  --pcs-url <url>      Intel PCS or a PCCS (default ${INTEL_PCS_URL})
  --at <ISO time>      the time the TCB info must be current at (default now)
  --json               print one JSON object per FMSPC

exit status: 0 every FMSPC updated or kept, 1 any failed (one line each), 2 usage error

usage: bazaar attest fetch-rims --dir <dir> (--report <file> | --gpu <index> | --id <RIM id>...) [--url <base URL>] [--python <path>] [--at <ISO time>] [--json]

Downloads a GPU's driver and VBIOS reference integrity manifests from NVIDIA's RIM service
(${NVIDIA_RIM_SERVICE}<id>), checks each (signed by a chain to the NVIDIA RIM root pinned in this
program, valid at --at, and the manifest of the driver or VBIOS its id names), and writes it as
<dir>/<id>.xml. A supplier lists the files in tee.gpuRimFiles and sends them with its GPU
evidence, so renters compare the measurements without reaching NVIDIA. Run it again after a driver
or VBIOS update. A file is replaced only by different bytes that verify, atomically; a failed RIM
leaves its file as it was.

  --report <file>      the ids from this GPU attestation report's signed opaque data (driver
                       version, VBIOS version, project, SKUs, chip); binary or hex text
  --gpu <index>        the ids from a fresh report of this GPU (NVML, inside the confidential VM)
  --id <RIM id>        this RIM, e.g. NV_GPU_DRIVER_GH100_550.90.07; repeatable
  --url <base URL>     fetch <base URL><id> instead (a caching proxy)
  --python <path>      --gpu: the Python interpreter that has nvidia-ml-py (default python3)
  --at <ISO time>      the time each RIM's signing chain must be valid at (default now)
  --json               print one JSON object per RIM

exit status: 0 every RIM updated or kept, 1 any failed (one line each), 2 usage error`

const MAX_FILE = 256 * 1024

async function readInput (file: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readBoundedFile(file, MAX_FILE))
  } catch (err) {
    if (err instanceof BoundedReadError && err.code === 'TOO_LARGE') throw new UserError(`${what} ${file} is over ${MAX_FILE} bytes`)
    if (err instanceof BoundedReadError) throw new UserError(`cannot read ${what} ${file}: not a regular file`, { code: 'UNREADABLE' })
    throw new UserError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { code: 'UNREADABLE' })
  }
}

function measurementFields (v: VerifiedEvidence): Record<string, string> {
  if (v.kind === 'tdx') {
    const [r0, r1, r2, r3] = v.rtmrs ?? []
    return { mrTd: toHex(v.measurement), rtmr0: toHex(r0), rtmr1: toHex(r1), rtmr2: toHex(r2), rtmr3: toHex(r3) }
  }
  return { measurement: toHex(v.measurement) }
}

/** A GPU report file: binary, or hex text (nvtrust saves reports that way). */
function gpuReportBytes (b: Uint8Array): Uint8Array {
  const text = Buffer.from(b).toString('latin1').trim()
  if (text.length > 0 && text.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(text)) return new Uint8Array(Buffer.from(text, 'hex'))
  return b
}

function gpuSummary (v: VerifiedGpuEvidence): { model: string, driverVersion: string | null, vbiosVersion: string | null, ccMode: string, measurementsMatched: boolean } {
  return { model: v.model, driverVersion: v.driverVersion, vbiosVersion: v.vbiosVersion, ccMode: v.ccMode, measurementsMatched: v.measurementsMatched }
}

async function verifyGpu (file: string, args: ParsedArgs, ctx: CommandContext, at: Date, json: boolean, nonceText: string | undefined): Promise<number> {
  const report = gpuReportBytes(await readInput(file, 'evidence'))
  const certs = await Promise.all(strs(args, 'certs').map(async (f) => await readInput(f, 'certificates')))
  const rims = await Promise.all(strs(args, 'rim').map(async (f) => await readInput(f, 'RIM')))
  const crlFiles = await Promise.all(strs(args, 'crl').map(async (f) => await readInput(f, 'CRL')))
  const ocsp = await Promise.all(strs(args, 'ocsp').map(async (f) => await readInput(f, 'OCSP answer')))
  const nonce = nonceText == null ? undefined : new Uint8Array(Buffer.from(nonceText.replace(/^0x/, ''), 'hex'))
  let verified: VerifiedGpuEvidence | undefined
  let error: AttestationError | undefined
  try {
    verified = verifyGpuEvidence({ kind: 'nvidia-gpu', report, certs, rims, ocsp }, { at, nonce, crls: crlFiles.flatMap(loadCrls), requireRevocation: flag(args, 'require-revocation') })
  } catch (err) {
    if (!(err instanceof AttestationError)) throw err
    error = err
  }
  if (json) {
    ctx.out(JSON.stringify({
      ok: error == null,
      kind: 'nvidia-gpu',
      at: at.toISOString(),
      ...(verified != null ? { reportData: toHex(verified.nonce), chain: verified.chain, fields: verified.fields, gpu: gpuSummary(verified) } : {}),
      ...(error != null ? { code: error.code, reason: error.message } : {})
    }))
  } else {
    if (verified != null) {
      ctx.out('kind: nvidia-gpu')
      for (const [k, v] of Object.entries(verified.fields)) ctx.out(`${k}: ${v === null ? '-' : String(v)}`)
      ctx.out(`chain: ${verified.chain.join(' <- ')}`)
      if (nonce == null) ctx.out('nonce: not checked (--nonce): this report could be a replay')
      if (!verified.measurementsMatched) ctx.out('measurements: not matched against a driver and a VBIOS RIM (--rim)')
      if (verified.fields.revocationChecked !== true) ctx.out('revocation: not every certificate had a status (--ocsp, --crl; --require-revocation refuses that)')
      ctx.out(`verified at: ${at.toISOString()}`)
    }
    if (error == null) ctx.out('verdict: valid')
  }
  if (error != null) {
    ctx.err(`bazaar attest: invalid (${error.code}): ${error.message}`)
    return 1
  }
  return 0
}

function atOf (args: ParsedArgs): Date {
  const atText = str(args, 'at')
  const at = atText == null ? new Date() : new Date(atText)
  if (Number.isNaN(at.getTime()) || (atText != null && !/^\d{4}-\d{2}-\d{2}/.test(atText))) throw new UsageError(`--at: not an ISO time: ${atText}`)
  return at
}

/** --dir of the fetch commands: required, and never "" (an unset variable), which would be the working directory */
function dirArg (args: ParsedArgs): string {
  const dir = str(args, 'dir')
  if (dir == null) throw new UsageError('--dir is required')
  if (dir.trim() === '') throw new UsageError('--dir is empty: name the directory to write to')
  return dir
}

/** `bazaar attest fetch-crls`: the vendors' CRLs into files tee.crlFiles lists */
async function fetchCrlsCommand (args: ParsedArgs, ctx: CommandContext): Promise<number> {
  if (args.positionals.length > 1) throw new UsageError(`unexpected argument '${args.positionals[1]}'`)
  const dir = dirArg(args)
  const known = crlSourceNames()
  const sources = strs(args, 'source')
  for (const n of sources) if (!known.includes(n)) throw new UsageError(`--source: unknown source '${n}' (known: ${known.join(', ')})`)
  const urls: Record<string, string> = {}
  for (const u of strs(args, 'url')) {
    const eq = u.indexOf('=')
    const name = u.slice(0, Math.max(0, eq))
    if (eq < 0 || !known.includes(name) || !/^https?:\/\//.test(u.slice(eq + 1))) throw new UsageError(`--url expects <source>=<http(s) URL>, e.g. intel-root=https://pccs.example/root.crl: ${u}`)
    urls[name] = u.slice(eq + 1)
  }
  const results = await fetchCrls({ dir, sources: sources.length > 0 ? sources : undefined, urls, now: atOf(args), signal: ctx.signal })
  for (const r of results) {
    if (flag(args, 'json')) ctx.out(JSON.stringify(r))
    else if (r.result === 'failed') ctx.err(`bazaar attest: ${r.source}: failed: ${r.error ?? 'error'}`)
    else ctx.out(`${r.source}: ${r.result} ${r.file} (current ${r.thisUpdate ?? '?'} to ${r.nextUpdate ?? '?'}, ${r.revoked ?? 0} revoked)`)
  }
  return results.some((r) => r.result === 'failed') ? 1 : 0
}

/** `bazaar attest fetch-tdx-collateral`: Intel's TDX TCB info into files tee.tdxCollateralFiles lists */
async function fetchTdxCollateralCommand (args: ParsedArgs, ctx: CommandContext): Promise<number> {
  if (args.positionals.length > 1) throw new UsageError(`unexpected argument '${args.positionals[1]}'`)
  const dir = dirArg(args)
  const fmspcs = strs(args, 'fmspc')
  if (fmspcs.length === 0) throw new UsageError('--fmspc is required (12 hex digits, e.g. b0c06f000000)')
  try { checkFmspcs(fmspcs) } catch (err) { throw new UsageError(`--fmspc: ${(err as Error).message}`) }
  const pcsUrl = str(args, 'pcs-url')
  if (pcsUrl != null && !/^https?:\/\/[\x21-\x7e]{1,500}$/.test(pcsUrl)) throw new UsageError(`--pcs-url expects an http(s) base URL, e.g. https://pccs.example:8081: ${pcsUrl.slice(0, 80)}`)
  const results = await fetchTdxCollateral({ dir, fmspcs, ...(pcsUrl != null ? { pcsUrl } : {}), now: atOf(args), signal: ctx.signal })
  for (const { collateral: _, ...r } of results) {
    if (flag(args, 'json')) ctx.out(JSON.stringify(r))
    else if (r.result === 'failed') ctx.err(`bazaar attest: ${r.fmspc}: failed (${r.code ?? 'error'}): ${r.error ?? 'error'}`)
    else ctx.out(`${r.fmspc}: ${r.result} ${r.file} (TCB evaluation ${r.tcbEvaluationDataNumber ?? '?'}, issued ${r.issueDate ?? '?'}, current to ${r.nextUpdate ?? '?'})`)
  }
  const held = results.filter((r) => r.result !== 'failed').map((r) => r.file)
  if (!flag(args, 'json') && held.length > 0) ctx.out(`tee.tdxCollateralFiles: ${JSON.stringify(held)}`)
  return results.some((r) => r.result === 'failed') ? 1 : 0
}

/** The RIM ids a GPU report names (its signed opaque data). */
function rimIdsOfReport (report: Uint8Array, where: string): string[] {
  try {
    const { driver, vbios } = gpuRimIds(parseGpuOpaqueData(parseGpuReport(report).opaque))
    return [driver, vbios]
  } catch (err) {
    if (!(err instanceof AttestationError)) throw err
    throw new UserError(`${where}: ${err.message}`, { code: err.code })
  }
}

/** `bazaar attest fetch-rims`: a GPU's driver and VBIOS RIMs into files tee.gpuRimFiles lists */
async function fetchRimsCommand (args: ParsedArgs, ctx: CommandContext): Promise<number> {
  if (args.positionals.length > 1) throw new UsageError(`unexpected argument '${args.positionals[1]}'`)
  const dir = dirArg(args)
  const reportFile = str(args, 'report')
  const gpu = str(args, 'gpu')
  const given = strs(args, 'id')
  if ([reportFile != null, gpu != null, given.length > 0].filter(Boolean).length !== 1) throw new UsageError('name the RIMs with one of --report, --gpu or --id')
  if (str(args, 'python') != null && gpu == null) throw new UsageError('--python applies to --gpu')
  const urls = strs(args, 'url')
  if (urls.length > 1) throw new UsageError('--url: one base URL')
  const base = urls[0]
  if (base != null && !/^https?:\/\/[^\s]+$/.test(base)) throw new UsageError(`--url expects an http(s) base URL, e.g. https://rim-proxy.example/v1/rim/: ${base}`)
  const at = atOf(args)
  let ids = given
  if (given.length > 0) {
    try { checkRimIds(given) } catch (err) { throw new UsageError(`--id: ${(err as Error).message}`) }
  } else if (reportFile != null) {
    ids = rimIdsOfReport(gpuReportBytes(await readInput(reportFile, 'GPU report')), reportFile)
  } else {
    if (!/^[0-9]{1,2}$/.test(gpu ?? '') || Number(gpu) > 63) throw new UsageError(`--gpu expects a GPU index (0..63): ${gpu}`)
    const provider = nvidiaGpuProvider({ gpuIndex: Number(gpu), python: str(args, 'python') })
    let report: Uint8Array
    try {
      report = (await provider.attest(new Uint8Array(randomBytes(GPU_NONCE_LENGTH)), { signal: ctx.signal })).report
    } catch (err) {
      if (!(err instanceof AttestationError)) throw err
      throw new UserError(`GPU ${gpu}: ${err.message}`, { code: err.code })
    }
    ids = rimIdsOfReport(report, `GPU ${gpu}`)
  }
  const results = await fetchRims({ dir, ids, baseUrl: base, now: at, signal: ctx.signal })
  for (const r of results) {
    if (flag(args, 'json')) ctx.out(JSON.stringify(r))
    else if (r.result === 'failed') ctx.err(`bazaar attest: ${r.id}: failed: ${r.error ?? 'error'}`)
    else ctx.out(`${r.id}: ${r.result} ${r.file} (${r.product ?? '?'} ${r.version ?? '?'}, ${r.measurements ?? 0} measurements, signed until ${r.validTo ?? '?'})`)
  }
  const held = results.filter((r) => r.result !== 'failed').map((r) => r.file)
  if (!flag(args, 'json') && held.length > 0) ctx.out(`tee.gpuRimFiles: ${JSON.stringify(held)}`)
  return results.some((r) => r.result === 'failed') ? 1 : 0
}

/** `bazaar attest verify`: check a piece of real TEE evidence by hand. */
export const attestCommand: Command = {
  name: 'attest',
  usage: USAGE,
  allowPositionals: true,
  options: {
    kind: { type: 'string' },
    certs: { type: 'string', multiple: true },
    collateral: { type: 'string', multiple: true },
    crl: { type: 'string', multiple: true },
    ocsp: { type: 'string', multiple: true },
    'require-revocation': { type: 'boolean' },
    rim: { type: 'string', multiple: true },
    nonce: { type: 'string' },
    at: { type: 'string' },
    dir: { type: 'string' },
    source: { type: 'string', multiple: true },
    url: { type: 'string', multiple: true },
    report: { type: 'string' },
    gpu: { type: 'string' },
    id: { type: 'string', multiple: true },
    python: { type: 'string' },
    fmspc: { type: 'string', multiple: true },
    'pcs-url': { type: 'string' },
    'allow-debug': { type: 'boolean' },
    'allow-migratable': { type: 'boolean' },
    json: { type: 'boolean' }
  },
  async run (args, ctx) {
    const [sub, file, ...extra] = args.positionals
    if (sub === 'fetch-crls') return await fetchCrlsCommand(args, ctx)
    if (sub === 'fetch-rims') return await fetchRimsCommand(args, ctx)
    if (sub === 'fetch-tdx-collateral') return await fetchTdxCollateralCommand(args, ctx)
    if (sub !== 'verify') throw new UsageError(sub == null ? 'missing subcommand (verify, fetch-crls, fetch-tdx-collateral, fetch-rims)' : `unknown subcommand '${sub}'`)
    if (file == null) throw new UsageError('missing evidence file')
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`)
    const kind = str(args, 'kind')
    if (kind !== 'sev-snp' && kind !== 'tdx' && kind !== 'nvidia-gpu') throw new UsageError('--kind must be sev-snp, tdx or nvidia-gpu')
    const at = atOf(args)
    const json = flag(args, 'json')
    const allowDebug = flag(args, 'allow-debug')
    const allowMigratable = flag(args, 'allow-migratable')

    if (strs(args, 'collateral').length > 0 && kind !== 'tdx') throw new UsageError('--collateral applies to --kind tdx')
    if ((strs(args, 'rim').length > 0 || str(args, 'nonce') != null || strs(args, 'ocsp').length > 0 || flag(args, 'require-revocation')) && kind !== 'nvidia-gpu') throw new UsageError('--rim, --nonce, --ocsp and --require-revocation apply to --kind nvidia-gpu')
    const nonceText = str(args, 'nonce')
    if (nonceText != null && !/^(0x)?[0-9a-fA-F]{64}$/.test(nonceText)) throw new UsageError('--nonce: 32 bytes of hex expected')
    if (kind === 'nvidia-gpu') return await verifyGpu(file, args, ctx, at, json, nonceText)

    const evidence = await readInput(file, 'evidence')
    const certs = await Promise.all(strs(args, 'certs').map(async (f) => await readInput(f, 'certificates')))
    const collateralFiles = await Promise.all(strs(args, 'collateral').map(async (f) => await readInput(f, 'collateral')))
    const crlFiles = await Promise.all(strs(args, 'crl').map(async (f) => await readInput(f, 'CRL')))
    let verified: VerifiedEvidence | undefined
    let error: AttestationError | undefined
    try {
      const tdxCollateral = collateralFiles.length > 0 ? loadTcbInfoCollateral(collateralFiles) : undefined
      verified = verifyEvidence({ kind: kind as TeeKind, evidence, certs }, { at, tdxCollateral, crls: crlFiles.flatMap(loadCrls) })
      if (verified.debug && !allowDebug) error = new AttestationError(AttestationErrorCode.DEBUG_REFUSED, 'guest has debugging enabled (--allow-debug to accept)')
      else if (verified.migratable && !allowMigratable) error = new AttestationError(AttestationErrorCode.MIGRATION_REFUSED, 'guest may be migrated by its host (--allow-migratable to accept)')
    } catch (err) {
      if (!(err instanceof AttestationError)) throw err
      error = err
    }
    const ok = error == null
    if (json) {
      ctx.out(JSON.stringify({
        ok,
        kind,
        at: at.toISOString(),
        ...(verified != null ? { reportData: toHex(verified.reportData), ...measurementFields(verified), chain: verified.chain, fields: verified.fields } : {}),
        ...(error != null ? { code: error.code, reason: error.message } : {})
      }))
    } else {
      if (verified != null) {
        ctx.out(`kind: ${kind}`)
        for (const [k, v] of Object.entries(verified.fields)) ctx.out(`${k}: ${v === null ? '-' : String(v)}`)
        if (verified.chain.length > 0) ctx.out(`chain: ${verified.chain.join(' <- ')}`)
        ctx.out(`verified at: ${at.toISOString()}`)
      }
      if (ok) ctx.out('verdict: valid')
    }
    if (error != null) {
      ctx.err(`bazaar attest: invalid (${error.code}): ${error.message}`)
      return 1
    }
    return 0
  }
}
