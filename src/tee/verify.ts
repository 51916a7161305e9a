import type { X509Certificate } from 'node:crypto'
import { AttestationErrorCode, fail } from './errors.js'
import { toHex } from '../util/hex.js'
import { isCertTable, parseSnpCertTable } from './snp/certs.js'
import { verifySnpReport } from './snp/verify.js'
import { verifyTdxQuote } from './tdx/verify.js'
import type { SignedTcbInfo } from './tdx/collateral.js'
import type { Crl } from './x509/crl.js'
import { verifySimulatedEvidence } from './simulated/verify.js'
import { loadCertificates } from './x509/load.js'
import type { Evidence, EvidenceVerifier, VerifiedEvidence } from './types.js'

/** Most certificate blobs accepted beside one piece of evidence. */
export const MAX_CERT_BLOBS = 8
/** Largest evidence accepted (a TDX quote with its chain is about 5 KiB). */
export const MAX_EVIDENCE_SIZE = 64 * 1024

export interface VerifyEvidenceOptions {
  /** verification time for certificate validity; default now */
  at?: Date
  /** raw ed25519 keys trusted to sign simulated evidence; any key when absent */
  simulatedKeys?: readonly Uint8Array[]
  /**
   * TDX: TCB info collateral (see loadTcbInfoCollateral), or one per platform (FMSPC); the TCB
   * status is evaluated where one is for the quote's platform
   */
  tdxCollateral?: SignedTcbInfo | readonly SignedTcbInfo[]
  /** CRLs (see x509/crl.ts): AMD's ARK CRL for SEV-SNP, Intel's for TDX; with any, revocation is checked */
  crls?: readonly Crl[]
}

const hex = (b: Uint8Array | undefined): string | null => b == null ? null : toHex(b)
const big = (n: bigint | undefined): string | null => n == null ? null : '0x' + n.toString(16).padStart(16, '0')

function certsFrom (blobs: readonly Uint8Array[]): X509Certificate[] {
  if (blobs.length > MAX_CERT_BLOBS) fail(AttestationErrorCode.MALFORMED, `over ${MAX_CERT_BLOBS} certificate blobs`)
  return blobs.flatMap((b) => isCertTable(b) ? parseSnpCertTable(b) : loadCertificates(b))
}

/**
 * Verifies evidence of any kind cryptographically and returns its normalised claims. Throws
 * AttestationError with a stable code. Policy is judged separately by `checkPolicy`.
 */
export function verifyEvidence (ev: Evidence, opts: VerifyEvidenceOptions = {}): VerifiedEvidence {
  if (ev.evidence.byteLength > MAX_EVIDENCE_SIZE) fail(AttestationErrorCode.MALFORMED, `evidence over ${MAX_EVIDENCE_SIZE} bytes`)
  const at = opts.at ?? new Date()
  switch (ev.kind) {
    case 'sev-snp': {
      const v = verifySnpReport(ev.evidence, { certs: certsFrom(ev.certs), at, crls: opts.crls })
      const r = v.report
      return {
        kind: 'sev-snp',
        reportData: r.reportData,
        measurement: r.measurement,
        debug: r.debug,
        migratable: r.migratable,
        snpTcb: r.reportedTcbParts,
        chain: v.chain,
        fields: {
          product: v.product,
          signer: v.signer,
          version: r.version,
          guestSvn: r.guestSvn,
          policy: '0x' + r.policy.toString(16),
          debug: r.debug,
          migratable: r.migratable,
          vmpl: r.vmpl,
          signingKey: r.signingKey,
          platformInfo: '0x' + r.platformInfo.toString(16),
          currentTcb: big(r.currentTcb),
          reportedTcb: big(r.reportedTcb),
          reportedTcbBootloader: r.reportedTcbParts.bootloader,
          reportedTcbTee: r.reportedTcbParts.tee,
          reportedTcbSnp: r.reportedTcbParts.snp,
          reportedTcbMicrocode: r.reportedTcbParts.microcode,
          committedTcb: big(r.committedTcb),
          launchTcb: big(r.launchTcb),
          firmware: `${r.currentMajor}.${r.currentMinor}.${r.currentBuild}`,
          cpuidFamId: r.cpuidFamId ?? null,
          cpuidModId: r.cpuidModId ?? null,
          cpuidStep: r.cpuidStep ?? null,
          measurement: toHex(r.measurement),
          hostData: toHex(r.hostData),
          reportData: toHex(r.reportData),
          familyId: toHex(r.familyId),
          imageId: toHex(r.imageId),
          idKeyDigest: toHex(r.idKeyDigest),
          authorKeyDigest: toHex(r.authorKeyDigest),
          reportId: toHex(r.reportId),
          chipId: toHex(r.chipId),
          launchMitVector: big(r.launchMitVector),
          currentMitVector: big(r.currentMitVector),
          revocationChecked: v.revocationChecked
        }
      }
    }
    case 'tdx': {
      const v = verifyTdxQuote(ev.evidence, { at, collateral: opts.tdxCollateral, crls: opts.crls })
      const q = v.quote
      const b = q.body
      return {
        kind: 'tdx',
        reportData: b.reportData,
        measurement: b.mrTd,
        rtmrs: [b.rtmr0, b.rtmr1, b.rtmr2, b.rtmr3],
        debug: b.debug,
        migratable: b.migratable,
        tdxTcbSvn: b.teeTcbSvn,
        tdxTcbStatus: v.tcb?.status,
        chain: v.chain,
        fields: {
          version: q.header.version,
          bodyType: q.bodyType ?? null,
          qeVendorId: toHex(q.header.qeVendorId),
          teeTcbSvn: toHex(b.teeTcbSvn),
          mrSeam: toHex(b.mrSeam),
          mrSignerSeam: toHex(b.mrSignerSeam),
          seamAttributes: toHex(b.seamAttributes),
          tdAttributes: toHex(b.tdAttributes),
          debug: b.debug,
          migratable: b.migratable,
          xfam: toHex(b.xfam),
          mrTd: toHex(b.mrTd),
          mrConfigId: toHex(b.mrConfigId),
          mrOwner: toHex(b.mrOwner),
          mrOwnerConfig: toHex(b.mrOwnerConfig),
          rtmr0: toHex(b.rtmr0),
          rtmr1: toHex(b.rtmr1),
          rtmr2: toHex(b.rtmr2),
          rtmr3: toHex(b.rtmr3),
          reportData: toHex(b.reportData),
          teeTcbSvn2: hex(b.teeTcbSvn2),
          mrServiceTd: hex(b.mrServiceTd),
          qeMrEnclave: toHex(q.qeReport.mrEnclave),
          qeMrSigner: toHex(q.qeReport.mrSigner),
          qeIsvProdId: q.qeReport.isvProdId,
          qeIsvSvn: q.qeReport.isvSvn,
          fmspc: toHex(v.platform.fmspc),
          pceId: toHex(v.platform.pceId),
          pckTcbComponents: v.platform.tcbComponents.join('.'),
          pckPceSvn: v.platform.pceSvn,
          pckCpuSvn: toHex(v.platform.cpuSvn),
          tcbStatus: v.tcb?.status ?? null,
          tcbAdvisoryIds: v.tcb == null ? null : v.tcb.advisoryIds.join(','),
          tcbDate: v.tcb?.tcbDate ?? null,
          tdxModuleStatus: v.tcb?.moduleStatus ?? null,
          tcbInfoIssueDate: v.tcb?.tcbEvaluationIssueDate ?? null,
          revocationChecked: v.revocationChecked
        }
      }
    }
    case 'simulated': {
      const s = verifySimulatedEvidence(ev.evidence, { trustedKeys: opts.simulatedKeys })
      return {
        kind: 'simulated',
        reportData: s.reportData,
        measurement: s.measurement,
        debug: false,
        migratable: false,
        producedAt: s.producedAt,
        chain: [],
        fields: {
          simulated: true,
          producedAt: new Date(s.producedAt).toISOString(),
          measurement: toHex(s.measurement),
          reportData: toHex(s.reportData),
          signerKey: toHex(s.signerKey)
        }
      }
    }
    default:
      fail(AttestationErrorCode.UNSUPPORTED_VERSION, `unknown evidence kind ${String((ev as { kind: unknown }).kind)}`)
  }
}

/** The default verifier: all three kinds, with the given options. */
export function evidenceVerifier (opts: Omit<VerifyEvidenceOptions, 'at'> = {}): EvidenceVerifier {
  return { verify: (ev, o) => verifyEvidence(ev, { ...opts, at: o?.at, crls: o?.crls ?? opts.crls, tdxCollateral: o?.tdxCollateral ?? opts.tdxCollateral }) }
}
