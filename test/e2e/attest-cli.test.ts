import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { TEE_FIXTURES, haveTeeFixtures, manifest } from '../helpers/tee-fixtures.js'
import { ensureBuilt } from '../helpers/cli.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const f = (rel: string) => path.join(TEE_FIXTURES, rel)

function bazaar (...args: string[]): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/bazaar.js'), ...args], { encoding: 'utf8', cwd: repo })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe.skipIf(!haveTeeFixtures)('bazaar attest verify', () => {
  beforeAll(() => {
    ensureBuilt()
  }, 240_000)

  const m = haveTeeFixtures ? manifest() : { snp: [], tdx: [] }

  it.each(m.snp.filter((e) => e.fields.policy !== '0xb0000').map((e) => [e.file, e] as const))('SNP %s: valid at its pinned time, --json fields', (_n, e) => {
    const r = bazaar('attest', 'verify', f(e.file), '--kind', 'sev-snp', '--certs', f(e.vek), '--certs', f(e.chain), '--at', e.pinAt, '--json')
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.ok).toBe(true)
    expect(out.kind).toBe('sev-snp')
    expect(out.measurement).toBe(e.fields.measurement)
    expect(out.reportData).toBe(e.fields.report_data)
  })

  it('SNP debug guest: refused by default (exit 1, one line), valid with --allow-debug', () => {
    const e = m.snp.find((x) => x.fields.policy === '0xb0000')!
    const base = ['attest', 'verify', f(e.file), '--kind', 'sev-snp', '--certs', f(e.vek), '--at', e.pinAt]
    const refused = bazaar(...base, '--json')
    expect(refused.code).toBe(1)
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, code: 'DEBUG_REFUSED', measurement: e.fields.measurement })
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    const ok = bazaar(...base, '--allow-debug')
    expect(ok.code).toBe(0)
    // no real report is migratable (a changed policy bit breaks its signature): the flag is taken,
    // and a guest that is not migratable passes with or without it
    expect(ok.stdout).toContain('migratable: false')
    expect(bazaar(...base, '--allow-debug', '--allow-migratable').code).toBe(0)
    expect(ok.stdout).toContain('verdict: valid')
    expect(ok.stdout).toContain(`measurement: ${e.fields.measurement}`)
  })

  it.each(m.tdx.filter((e) => e.role === 'DEV').map((e) => [e.file, e] as const))('TDX %s: valid at its pinned time', (_n, e) => {
    const r = bazaar('attest', 'verify', f(e.file), '--kind', 'tdx', '--at', e.pinAt!, '--json')
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({ ok: true, kind: 'tdx', mrTd: e.body!.mrtd, rtmr0: e.body!.rtmr0, rtmr3: e.body!.rtmr3, reportData: e.body!.report_data })
  })

  it('TDX with Intel TCB info collateral: prints the TCB status', () => {
    const r = bazaar('attest', 'verify', f('dcap-qvl/tdx_quote'), '--kind', 'tdx', '--collateral', f('dcap-qvl/tdx_quote_collateral.json'), '--at', '2025-07-01T00:00:00Z', '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).fields).toMatchObject({ tcbStatus: 'UpToDate', tdxModuleStatus: 'UpToDate' })
    const expired = bazaar('attest', 'verify', f('dcap-qvl/tdx_quote'), '--kind', 'tdx', '--collateral', f('dcap-qvl/tdx_quote_collateral.json'), '--at', '2026-01-01T00:00:00Z', '--json')
    expect(expired.code).toBe(1)
    expect(JSON.parse(expired.stdout)).toMatchObject({ ok: false, code: 'STALE' })
  })

  it('TDX with Intel CRLs given by --crl: revocation is checked; a CRL from no issuer of the chain is refused', () => {
    const r = bazaar('attest', 'verify', f('dcap-qvl/tdx_quote'), '--kind', 'tdx', '--crl', f('dcap-qvl/tdx_quote_collateral.root_ca_crl.der'), '--crl', f('dcap-qvl/tdx_quote_collateral.pck_crl.der'), '--at', '2025-07-01T00:00:00Z', '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).fields).toMatchObject({ revocationChecked: true })
    const snp = m.snp[0]
    const wrong = bazaar('attest', 'verify', f(snp.file), '--kind', 'sev-snp', '--certs', f(snp.vek), '--crl', f('dcap-qvl/tdx_quote_collateral.pck_crl.der'), '--at', snp.pinAt, '--json')
    expect(wrong.code).toBe(1)
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, code: 'CERT_MISSING' })
  })

  it('invalid evidence: exit 1 with a typed reason', () => {
    const tdx = m.tdx.find((e) => e.role === 'DEV')!
    const expired = bazaar('attest', 'verify', f(tdx.file), '--kind', 'tdx', '--at', '2060-01-01T00:00:00Z', '--json')
    expect(expired.code).toBe(1)
    expect(JSON.parse(expired.stdout)).toMatchObject({ ok: false, code: 'CERT_EXPIRED' })
    const sgx = m.tdx.find((e) => e.role === 'EXTRA')!
    const wrong = bazaar('attest', 'verify', f(sgx.file), '--kind', 'tdx')
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('WRONG_TEE_TYPE')
    const snp = m.snp[1]
    const nocert = bazaar('attest', 'verify', f(snp.file), '--kind', 'sev-snp', '--at', snp.pinAt, '--json')
    expect(nocert.code).toBe(1)
    expect(JSON.parse(nocert.stdout).code).toBe('CERT_MISSING')
  })

  it.each([
    [['attest']],
    [['attest', 'verify']],
    [['attest', 'verify', 'x.bin']],
    [['attest', 'verify', 'x.bin', '--kind', 'sgx']],
    [['attest', 'verify', 'x.bin', '--kind', 'tdx', '--at', 'yesterday']],
    [['attest', 'verify', 'x.bin', '--kind', 'tdx', '--bogus']],
    [['attest', 'verify', 'x.bin', '--kind', 'sev-snp', '--collateral', 'c.json']]
  ])('usage error %j: exit 2', (args) => {
    expect(bazaar(...args).code).toBe(2)
  })
})
