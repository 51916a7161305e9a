import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AttestationErrorCode } from '../../../src/tee/errors.js'
import { configfsProvider } from '../../../src/tee/providers/configfs.js'
import { simulatedProvider } from '../../../src/tee/providers/simulated.js'
import { verifyEvidence } from '../../../src/tee/verify.js'
import { ManualClock } from '../../../src/util/clock.js'
import { fixture, haveTeeFixtures, manifest } from '../../helpers/tee-fixtures.js'

const codeOfAsync = async (p: Promise<unknown>): Promise<string | undefined> => { try { await p } catch (err) { return (err as { code?: string }).code } return undefined }

describe('simulated provider', () => {
  it('produces evidence that verifies and carries the report data and measurement', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1))
    const p = simulatedProvider({ measurement: new Uint8Array(48).fill(5), clock })
    const rd = new Uint8Array(64).fill(0xab)
    const ev = await p.attest(rd)
    const v = verifyEvidence(ev, { simulatedKeys: [p.publicKey] })
    expect(v.kind).toBe('simulated')
    expect(v.reportData).toEqual(rd)
    expect(v.measurement).toEqual(new Uint8Array(48).fill(5))
    expect(v.producedAt).toBe(clock.now())
  })
  it('is refused when altered, signed by an untrusted key, or truncated', async () => {
    const p = simulatedProvider()
    const ev = await p.attest(new Uint8Array(64))
    for (let i = 8; i < ev.evidence.byteLength; i += 11) {
      const t = ev.evidence.slice()
      t[i] ^= 1
      expect([AttestationErrorCode.SIGNATURE_INVALID, AttestationErrorCode.UNSUPPORTED_VERSION], `byte ${i}`)
        .toContain(await codeOfAsync(Promise.resolve().then(() => verifyEvidence({ ...ev, evidence: t }))))
    }
    expect(await codeOfAsync(Promise.resolve().then(() => verifyEvidence(ev, { simulatedKeys: [simulatedProvider().publicKey] })))).toBe(AttestationErrorCode.CHAIN_INVALID)
    expect(await codeOfAsync(Promise.resolve().then(() => verifyEvidence({ ...ev, evidence: ev.evidence.slice(0, 100) })))).toBe(AttestationErrorCode.TRUNCATED)
  })
  it('refuses report data of the wrong length', async () => {
    expect(await codeOfAsync(simulatedProvider().attest(new Uint8Array(32)))).toBe(AttestationErrorCode.MALFORMED)
  })
})

describe.skipIf(!haveTeeFixtures)('configfs-tsm provider against a fake tree', () => {
  let root: string
  beforeEach(async () => { root = await mkdtemp(path.join(tmpdir(), 'tsm-')) })
  afterEach(async () => { await rm(root, { recursive: true, force: true }) })

  /** mimics a report entry after the kernel produced it: provider, generation, outblob, auxblob */
  async function fakeEntry (entry: string, driver: string, outblob: Uint8Array, auxblob?: Uint8Array): Promise<void> {
    const dir = path.join(root, entry)
    await mkdir(dir)
    await writeFile(path.join(dir, 'provider'), driver + '\n')
    await writeFile(path.join(dir, 'generation'), '1\n')
    await writeFile(path.join(dir, 'outblob'), outblob)
    if (auxblob != null) await writeFile(path.join(dir, 'auxblob'), auxblob)
  }

  it('SEV-SNP: writes the report data to inblob, returns outblob and the auxblob certificates', async () => {
    const e = manifest().snp.find((x) => x.file === 'go-sev-guest/attestation.bin')!
    const report = fixture(e.file)
    await fakeEntry('r', 'sev_guest', report, fixture(e.vek))
    const p = configfsProvider({ kind: 'sev-snp', root, entry: 'r' })
    const rd = Buffer.from(e.fields.report_data, 'hex')
    const ev = await p.attest(new Uint8Array(rd))
    expect(new Uint8Array(await readFile(path.join(root, 'r', 'inblob')))).toEqual(new Uint8Array(rd))
    expect(ev.evidence).toEqual(report)
    const v = verifyEvidence(ev, { at: new Date(e.pinAt) })
    expect(Buffer.from(v.measurement).toString('hex')).toBe(e.fields.measurement)
  })

  it('TDX: returns the quote from outblob', async () => {
    const e = manifest().tdx.find((x) => x.role === 'DEV')!
    await fakeEntry('q', 'tdx_guest', fixture(e.file))
    const ev = await configfsProvider({ kind: 'tdx', root, entry: 'q' }).attest(new Uint8Array(Buffer.from(e.body!.report_data, 'hex')))
    expect(ev.kind).toBe('tdx')
    expect(verifyEvidence(ev, { at: new Date(e.pinAt!) }).fields.mrTd).toBe(e.body!.mrtd)
  })

  it('refuses an outblob that does not carry the requested report data (stale or foreign)', async () => {
    const e = manifest().snp[0]
    await fakeEntry('r', 'sev_guest', fixture(e.file))
    expect(await codeOfAsync(configfsProvider({ kind: 'sev-snp', root, entry: 'r' }).attest(new Uint8Array(64).fill(0xee)))).toBe(AttestationErrorCode.REPORT_DATA_MISMATCH)
  })

  it('fails UNAVAILABLE when configfs-tsm is absent or the driver is of another kind', async () => {
    expect(await codeOfAsync(configfsProvider({ kind: 'tdx', root: path.join(root, 'absent') }).attest(new Uint8Array(64)))).toBe(AttestationErrorCode.UNAVAILABLE)
    await fakeEntry('x', 'sev_guest', new Uint8Array(0))
    expect(await codeOfAsync(configfsProvider({ kind: 'tdx', root, entry: 'x' }).attest(new Uint8Array(64)))).toBe(AttestationErrorCode.UNAVAILABLE)
  })

  it('creates its own entry and fails UNAVAILABLE when the kernel did not populate it', async () => {
    expect(await codeOfAsync(configfsProvider({ kind: 'sev-snp', root }).attest(new Uint8Array(64)))).toBe(AttestationErrorCode.UNAVAILABLE)
  })
})
