import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { AttestationError, AttestationErrorCode, fail } from '../errors.js'
import { bytesEqual } from '../../util/bytes.js'
import { GPU_NONCE_LENGTH } from '../binding.js'
import { parseGpuReport } from '../nvidia/parse-report.js'
import { MAX_RIM_SIZE } from '../nvidia/verify-rim.js'
import { MAX_RIMS } from '../nvidia/verify-report.js'
import type { GpuAttestationProvider, GpuEvidence } from '../types.js'

/** Largest helper output read (a report and its chain in base64 are about 12 KiB). */
const MAX_HELPER_OUTPUT = 256 * 1024

/**
 * Asks NVML, through its Python binding (nvidia-ml-py, which nvtrust installs), for the GPU's
 * confidential-computing state, its SPDM attestation report on a nonce and its attestation key
 * chain. Offline: NVML talks to the driver only. argv: nonce hex, GPU index.
 */
const NVML_HELPER = `
import base64, json, sys
try:
    import pynvml
except Exception as e:
    print("pynvml (nvidia-ml-py) is not installed: " + str(e), file=sys.stderr); sys.exit(3)
try:
    pynvml.nvmlInit()
except Exception as e:
    print("NVML unavailable (no NVIDIA driver or GPU): " + str(e), file=sys.stderr); sys.exit(3)
i = int(sys.argv[2])
if i >= pynvml.nvmlDeviceGetCount():
    print("no GPU at index %d" % i, file=sys.stderr); sys.exit(3)
st = pynvml.nvmlSystemGetConfComputeState()
if getattr(st, "ccFeature", 0) != 1:
    print("confidential computing is off on this system (nvidia-smi conf-compute -f)", file=sys.stderr); sys.exit(4)
h = pynvml.nvmlDeviceGetHandleByIndex(i)
rep = pynvml.nvmlDeviceGetConfComputeGpuAttestationReport(h, bytes.fromhex(sys.argv[1]))
cert = pynvml.nvmlDeviceGetConfComputeGpuCertificate(h)
print(json.dumps({
    "devTools": getattr(st, "devToolsMode", 0),
    "report": base64.b64encode(bytes(rep.attestationReport[:rep.attestationReportSize])).decode(),
    "chain": base64.b64encode(bytes(cert.attestationCertChain[:cert.attestationCertChainSize])).decode()
}))
`

/** Runs the helper; injectable so tests can stand in for a GPU. */
export type NvmlRunner = (python: string, args: string[], opts: { signal?: AbortSignal }) => Promise<{ stdout: string }>

export interface NvidiaGpuProviderInit {
  /** the GPU to attest when a request names none (NVML index); default 0 */
  gpuIndex?: number
  /** the Python interpreter that has nvidia-ml-py; default python3 */
  python?: string
  /**
   * the driver and VBIOS RIMs of this GPU (files), sent with the evidence so that a renter without
   * internet can compare the measurements (`bazaar attest fetch-rims` gets them from NVIDIA's RIM
   * service)
   */
  rimFiles?: readonly string[]
  run?: NvmlRunner
}

const defaultRun: NvmlRunner = async (python, args, opts) => await new Promise((resolve, reject) => {
  // wall time: a bound on a child process (the vendor's helper), which runs on real time
  execFile(python, args, { signal: opts.signal, maxBuffer: MAX_HELPER_OUTPUT, timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
    if (err != null) reject(Object.assign(err, { stderr }))
    else resolve({ stdout })
  })
})

function unavailable (err: unknown): never {
  const e = err as { code?: unknown, stderr?: unknown }
  if (e.code === 'ENOENT') fail(AttestationErrorCode.UNAVAILABLE, 'nvidia-gpu: no Python interpreter to reach NVML (set the provider\'s python)', err)
  const line = typeof e.stderr === 'string' ? e.stderr.trim().split('\n').at(-1)?.slice(0, 200) : undefined
  fail(AttestationErrorCode.UNAVAILABLE, `nvidia-gpu: no CC-capable GPU evidence: ${line ?? (err as Error)?.message ?? 'helper failed'}`, err)
}

/**
 * Supplier side: GPU evidence collected inside the confidential VM through the NVIDIA driver (NVML),
 * answering the session's GPU nonce. Fails with UNAVAILABLE and one clear line where there is no
 * NVIDIA driver, no GPU, or confidential computing is off (or in developer-tools mode).
 */
export function nvidiaGpuProvider (init: NvidiaGpuProviderInit = {}): GpuAttestationProvider {
  const run = init.run ?? defaultRun
  const defaultIndex = init.gpuIndex ?? 0
  if (!Number.isSafeInteger(defaultIndex) || defaultIndex < 0 || defaultIndex > 63) throw new TypeError('gpuIndex must be 0..63')
  if ((init.rimFiles?.length ?? 0) > MAX_RIMS) throw new TypeError(`at most ${MAX_RIMS} RIM files`)
  return {
    kind: 'nvidia-gpu',
    async attest (nonce: Uint8Array, opts?: { signal?: AbortSignal, index?: number }): Promise<GpuEvidence> {
      opts?.signal?.throwIfAborted()
      if (nonce.byteLength !== GPU_NONCE_LENGTH) fail(AttestationErrorCode.MALFORMED, `gpu nonce of ${nonce.byteLength} bytes`)
      // a multi-GPU agreement asks for each of its GPUs by NVML index
      const index = opts?.index ?? defaultIndex
      if (!Number.isSafeInteger(index) || index < 0 || index > 63) fail(AttestationErrorCode.MALFORMED, `gpu index ${index}`)
      let out: { stdout: string }
      try {
        out = await run(init.python ?? 'python3', ['-c', NVML_HELPER, Buffer.from(nonce).toString('hex'), String(index)], { signal: opts?.signal })
      } catch (err) {
        unavailable(err)
      }
      let parsed: { devTools?: unknown, report?: unknown, chain?: unknown }
      try {
        if (out.stdout.length > MAX_HELPER_OUTPUT) throw new Error('too long')
        parsed = JSON.parse(out.stdout) as typeof parsed
      } catch (err) {
        fail(AttestationErrorCode.MALFORMED, 'nvidia-gpu: the NVML helper printed no evidence', err)
      }
      if (typeof parsed.report !== 'string' || typeof parsed.chain !== 'string') fail(AttestationErrorCode.MALFORMED, 'nvidia-gpu: the NVML helper printed no report or chain')
      // [REJECT] developer-tools mode leaves the GPU debuggable: not confidential
      if (parsed.devTools === 1) fail(AttestationErrorCode.GPU_CC_OFF, 'nvidia-gpu: the GPU is in developer-tools mode')
      const report = new Uint8Array(Buffer.from(parsed.report, 'base64'))
      // [REJECT] the driver answered another request
      if (!bytesEqual(parseGpuReport(report).requestNonce, nonce)) fail(AttestationErrorCode.REPORT_DATA_MISMATCH, 'nvidia-gpu: the report does not answer the nonce asked for')
      const rims: Uint8Array[] = []
      for (const f of init.rimFiles ?? []) {
        try {
          const b = await readFile(f)
          if (b.byteLength > MAX_RIM_SIZE) fail(AttestationErrorCode.MALFORMED, `nvidia-gpu: RIM ${f} over ${MAX_RIM_SIZE} bytes`)
          rims.push(new Uint8Array(b))
        } catch (err) {
          if (err instanceof AttestationError) throw err
          fail(AttestationErrorCode.UNAVAILABLE, `nvidia-gpu: cannot read RIM ${f}`, err)
        }
      }
      return { kind: 'nvidia-gpu', report, certs: [new Uint8Array(Buffer.from(parsed.chain, 'base64'))], rims }
    }
  }
}
