import { X509Certificate, createHash } from 'node:crypto'
import { AttestationError } from '../tee/errors.js'
import { NVIDIA_DEVICE_ROOT } from '../tee/roots/nvidia.js'
import { verifyRim } from '../tee/nvidia/verify-rim.js'
import { verifyChain } from '../tee/x509/chain.js'
import { loadCertificates } from '../tee/x509/load.js'
import { MAX_OCSP_RESPONSE_SIZE, checkOcspStatus, ocspAnswersFor, ocspRequest, parseOcspResponse } from '../tee/x509/ocsp.js'
import type { GpuAttestationProvider, GpuEvidence } from '../tee/types.js'
import type { Clock } from '../util/clock.js'
import type { Logger } from './logger.js'
import { download, downloadSignal, errorLine } from './download.js'
import { MAX_GPU_OCSP } from '../protocols/session/constants.js'

/**
 * Supplier side of GPU revocation: NVIDIA's OCSP answers about the GPU's device certificates (all
 * but the alias leaf) and the signers of its RIMs, stapled to the evidence. An answer is signed by
 * NVIDIA, so the renter checks it against the chain it verified and needs no connection to NVIDIA.
 *
 * Answers are kept per certificate and reused until half of their window (thisUpdate to
 * nextUpdate) has passed; then the next attestation fetches a fresh one in the background and
 * staples the one it has. One missing at attestation is fetched within a short bound, so the first
 * session of a boot carries them; one whose fetch failed is not asked for again for a while. An answer that does not check (another certificate, a signer the
 * chain does not vouch for, outside its window) is not stapled; a revoked certificate's answer is,
 * and logged: hiding it would only make the GPU look unchecked.
 */

/** Bound on fetching the answers an attestation lacks (it runs inside the session's handshake). */
export const OCSP_WAIT_MS = 3_000
/** Bound on one background refresh. */
export const OCSP_REFRESH_TIMEOUT_MS = 20_000
/**
 * After a failed fetch, the same certificate is not asked about again for this long: a CVM without
 * a route to NVIDIA would otherwise wait OCSP_WAIT_MS in every session and log every link each time.
 */
export const OCSP_RETRY_AFTER_MS = 5 * 60_000
/** Certificates whose answers are kept (a node's GPUs share all but their BROM certificates). */
const MAX_KEPT = 64

interface Kept {
  der: Uint8Array
  /** when the answer should be refreshed: half its window */
  refreshAt: number
  nextUpdate: number
}

interface Link { key: string, path: readonly X509Certificate[], i: number }

export interface OcspStaplerInit {
  url: string
  clock: Clock
  logger?: Logger
  /** trust anchors of the device chain; NVIDIA's pinned root when absent (tests replace it) */
  deviceRoots?: readonly X509Certificate[]
  /** a fetch in place of the HTTP POST (tests) */
  post?: (url: string, body: Uint8Array, signal: AbortSignal) => Promise<Uint8Array>
}

export class OcspStapler {
  private readonly kept = new Map<string, Kept>()
  /** the links of each evidence's chains, by the SHA-256 of its certificates and RIMs (a RIM's check is costly) */
  private readonly linksOf = new Map<string, Link[]>()
  private readonly inFlight = new Map<string, Promise<void>>()
  /** links whose last fetch failed, and when they may be asked about again */
  private readonly failedUntil = new Map<string, number>()
  private readonly roots: readonly X509Certificate[]
  private readonly post: (url: string, body: Uint8Array, signal: AbortSignal) => Promise<Uint8Array>
  /** fetches started since start */
  fetches = 0

  constructor (private readonly init: OcspStaplerInit) {
    this.roots = init.deviceRoots ?? [new X509Certificate(NVIDIA_DEVICE_ROOT)]
    this.post = init.post ?? postOcsp
  }

  /** The evidence with the answers about its chains that are at hand (nvidia-gpu only). */
  async staple (ev: GpuEvidence, signal?: AbortSignal): Promise<GpuEvidence> {
    if (ev.kind !== 'nvidia-gpu') return ev
    const links = this.links(ev)
    const now = this.init.clock.now()
    const missing = links.filter((l) => this.current(l.key, now) == null && !this.resting(l.key, now))
    if (missing.length > 0) {
      // bounded even where a background refresh of the same answer, with its longer bound, is running
      const wait = downloadSignal(OCSP_WAIT_MS, signal)
      const waited = new Promise<void>((resolve) => { wait.addEventListener('abort', () => { resolve() }, { once: true }) })
      await Promise.race([Promise.all(missing.map(async (l) => { await this.refresh(l, wait) })), waited])
      signal?.throwIfAborted()
    }
    // answers aging past half their window: refreshed for the next session, this one gets the kept one
    for (const l of links) {
      const k = this.kept.get(l.key)
      if (k != null && now >= k.refreshAt && !this.inFlight.has(l.key) && !this.resting(l.key, now)) void this.refresh(l, downloadSignal(OCSP_REFRESH_TIMEOUT_MS))
    }
    // the device chain's first, then the RIM signers'; a renter takes at most MAX_GPU_OCSP per GPU
    const answers = links.map((l) => this.current(l.key, this.init.clock.now())).filter((d): d is Uint8Array => d != null).slice(0, MAX_GPU_OCSP)
    return answers.length > 0 ? { ...ev, ocsp: answers } : ev
  }

  /** Resolves once no fetch is running (a background refresh included). */
  async settled (): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()])
  }

  private resting (key: string, now: number): boolean {
    return now < (this.failedUntil.get(key) ?? 0)
  }

  private current (key: string, now: number): Uint8Array | undefined {
    const k = this.kept.get(key)
    return k != null && now <= k.nextUpdate ? k.der : undefined
  }

  /** The links whose status NVIDIA publishes: the device chain but its alias leaf, and each RIM chain. */
  private links (ev: GpuEvidence): Link[] {
    const h = createHash('sha256')
    for (const b of [...ev.certs, ...ev.rims]) h.update(b)
    const key = h.digest('hex')
    let links = this.linksOf.get(key)
    if (links == null) {
      links = this.findLinks(ev)
      if (this.linksOf.size >= MAX_KEPT) this.linksOf.clear()
      this.linksOf.set(key, links)
    }
    return links
  }

  private findLinks (ev: GpuEvidence): Link[] {
    const at = new Date(this.init.clock.now())
    const out: Link[] = []
    const add = (path: readonly X509Certificate[], from: number): void => {
      for (let i = from; i + 1 < path.length; i++) {
        const key = `${path[i + 1].fingerprint256}/${path[i].serialNumber}`
        // the driver's and the VBIOS's RIM signers share their CAs: one answer a certificate
        if (!out.some((l) => l.key === key)) out.push({ key, path, i })
      }
    }
    try {
      const certs = ev.certs.flatMap(loadCertificates)
      if (certs[0] != null) add(verifyChain(certs[0], certs.slice(1), this.roots, at), 1)
    } catch (err) {
      this.init.logger?.warn(`gpu ocsp: the device chain does not verify, nothing to staple for it: ${errorLine(err)}`)
    }
    for (const r of ev.rims) {
      try {
        add(verifyRim(r, { at }).signerPath, 0)
      } catch (err) {
        this.init.logger?.warn(`gpu ocsp: a RIM does not verify, nothing to staple for its signers: ${errorLine(err)}`)
      }
    }
    return out
  }

  /** Fetches and keeps the answer about one link; never throws (a failure is logged). */
  private async refresh (l: Link, signal: AbortSignal): Promise<void> {
    const running = this.inFlight.get(l.key)
    if (running != null) { await running; return }
    const job = (async () => {
      this.fetches++
      const cert = l.path[l.i]
      try {
        const der = await this.post(this.init.url, ocspRequest(cert, l.path[l.i + 1]), signal)
        const answer = parseOcspResponse(der)
        const now = this.init.clock.now()
        try {
          checkOcspStatus(answer, l.path, l.i, new Date(now))
        } catch (err) {
          // [REJECT] not an answer the renter would take, except a revocation, which it must see
          if (!(err instanceof AttestationError) || err.code !== 'CERT_REVOKED') throw err
          this.init.logger?.error(`gpu ocsp: NVIDIA says ${err.message}; renters will refuse this GPU`)
        }
        // checked above: the answer speaks of this certificate, each statement with a nextUpdate
        const singles = ocspAnswersFor(answer, cert, l.path[l.i + 1])
        const from = Math.max(...singles.map((s) => s.thisUpdate.getTime()))
        const to = Math.min(...singles.map((s) => s.nextUpdate?.getTime() ?? from))
        if (this.kept.size >= MAX_KEPT && !this.kept.has(l.key)) this.kept.delete(this.kept.keys().next().value as string)
        this.kept.set(l.key, { der, refreshAt: from + (to - from) / 2, nextUpdate: to })
        this.failedUntil.delete(l.key)
      } catch (err) {
        if (this.failedUntil.size >= MAX_KEPT && !this.failedUntil.has(l.key)) this.failedUntil.clear()
        this.failedUntil.set(l.key, this.init.clock.now() + OCSP_RETRY_AFTER_MS)
        this.init.logger?.warn(`gpu ocsp: no answer about ${cert.subject.split('\n').at(-1) ?? 'a certificate'} from ${this.init.url} (asked again in ${OCSP_RETRY_AFTER_MS / 60_000} min): ${errorLine(err)}`)
      }
    })()
    this.inFlight.set(l.key, job)
    try { await job } finally { this.inFlight.delete(l.key) }
  }
}

/** POST application/ocsp-request (RFC 6960 Appendix A.1), the answer bounded. */
async function postOcsp (url: string, body: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
  const res = await download(url, { max: MAX_OCSP_RESPONSE_SIZE, signal, method: 'POST', body, headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' } })
  return res.body
}

/** A GPU provider whose nvidia-gpu evidence carries the stapler's answers. */
export function withOcspStapling (provider: GpuAttestationProvider, stapler: OcspStapler): GpuAttestationProvider {
  return {
    kind: provider.kind,
    async attest (nonce, opts) {
      return await stapler.staple(await provider.attest(nonce, opts), opts?.signal)
    }
  }
}
