import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** /work/shared/fixtures/tee, resolved from the repository as ../shared/fixtures/tee */
export const TEE_FIXTURES = path.resolve(repoRoot, '../shared/fixtures/tee')
export const haveTeeFixtures = existsSync(path.join(TEE_FIXTURES, 'manifest.json'))
if (!haveTeeFixtures) console.warn(`skipping TEE fixture tests: ${TEE_FIXTURES} is absent`)

export function fixture (rel: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(TEE_FIXTURES, rel)))
}

export interface SnpManifestEntry {
  file: string
  role: string
  vek: string
  chain: string
  pinAt: string
  fields: Record<string, unknown> & { measurement: string, report_data: string, chip_id: string, host_data: string, policy: string, version: number, signing_key: number, vmpl: number, reported_tcb: string, reported_tcb_fields: { bootloader: number, tee: number, snp: number, microcode: number } }
}

export interface TdxManifestEntry {
  file: string
  role: 'DEV' | 'EXTRA' | 'NEGATIVE'
  pinAt?: string
  quote_len: number
  header: { version: number, att_key_type: number, tee_type: string, qe_vendor_id: string, user_data: string }
  body_type: number | null
  body: Record<string, string> | null
  qe_report?: Record<string, unknown>
  pck_fmspc?: string | null
  pck_tcb?: Record<string, number | string>
}

export interface TeeManifest {
  snp: SnpManifestEntry[]
  tdx: TdxManifestEntry[]
}

export function manifest (): TeeManifest {
  return JSON.parse(readFileSync(path.join(TEE_FIXTURES, 'manifest.json'), 'utf8')) as TeeManifest
}
