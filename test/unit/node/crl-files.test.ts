import { readFileSync } from 'node:fs'
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_CRL_FILE_SIZE, readCrlFiles, readTdxCollateral, withCrlFiles } from '../../../src/node/crl-files.js'
import { makeGpuPki } from '../../helpers/spdm-gpu.js'
import { UserError } from '../../../src/util/errors.js'
import { haveTeeFixtures, TEE_FIXTURES } from '../../helpers/tee-fixtures.js'

describe('tee.crlFiles are read for each rental', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(path.join(tmpdir(), 'bazaar-crl-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => await p.then(() => undefined, (e: unknown) => e instanceof UserError ? e.code : `untyped ${String(e)}`)

  it('no files: no CRLs', async () => {
    expect(await readCrlFiles([])).toEqual([])
  })

  it('a missing file or one that is not a CRL is a UserError naming it', async () => {
    const notCrl = path.join(dir, 'note.txt')
    await writeFile(notCrl, 'not a CRL')
    expect(await codeOf(readCrlFiles([path.join(dir, 'missing.crl')]))).toBe('CRL_UNREADABLE')
    expect(await codeOf(readCrlFiles([notCrl]))).toBe('CRL_UNREADABLE')
    await expect(readCrlFiles([notCrl])).rejects.toThrow(notCrl)
  })

  it('a file over the size bound is refused before it is read, naming the GPU field', async () => {
    const big = path.join(dir, 'big.crl')
    await writeFile(big, '')
    await truncate(big, MAX_CRL_FILE_SIZE + 1)
    const err = await readCrlFiles([big], 'tee.gpuCrlFiles').then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(UserError)
    expect((err as UserError).code).toBe('CRL_UNREADABLE')
    expect((err as UserError).message).toMatch(/^tee\.gpuCrlFiles: .*big\.crl: over \d+ bytes$/)
  })

  it('a rental policy gets tee.gpuCrlFiles as its GPU CRLs, only when it asks for GPU evidence', async () => {
    const pki = await makeGpuPki()
    const f = path.join(dir, 'gpu.crl')
    await writeFile(f, await pki.crl(['0badf00d']))
    const base = { kinds: ['simulated' as const], allowSimulated: true, maxEvidenceAgeMs: 30_000 }
    const p = await withCrlFiles({ ...base, gpu: { mode: 'required' } }, { crlFiles: [], gpuCrlFiles: [f] })
    expect(p.crls).toEqual([])
    expect(p.gpu?.crls).toHaveLength(1)
    expect([...p.gpu!.crls![0].revoked]).toEqual(['badf00d'])
    expect((await withCrlFiles(base, { crlFiles: [], gpuCrlFiles: [f] })).gpu).toBeUndefined()
    expect(await codeOf(withCrlFiles({ ...base, gpu: { mode: 'required' } }, { crlFiles: [], gpuCrlFiles: [path.join(dir, 'missing.crl')] }))).toBe('CRL_UNREADABLE')
  })

  it.skipIf(!haveTeeFixtures)('a rental policy gets tee.tdxCollateralFiles as its TDX collateral, one per file; a file that is not collateral is a UserError naming it', async () => {
    const f = path.join(TEE_FIXTURES, 'dcap-qvl/tdx_quote_collateral.json')
    const base = { kinds: ['tdx' as const], maxEvidenceAgeMs: 30_000 }
    const p = await withCrlFiles(base, { crlFiles: [], gpuCrlFiles: [], tdxCollateralFiles: [f] })
    expect(p.tdxCollateral).toHaveLength(1)
    expect(JSON.parse(p.tdxCollateral![0].text).fmspc).toMatch(/^[0-9a-fA-F]{12}$/)
    expect((await withCrlFiles(base, { crlFiles: [], gpuCrlFiles: [] })).tdxCollateral).toBeUndefined()
    const notCollateral = path.join(dir, 'collateral.txt')
    await writeFile(notCollateral, 'not json')
    expect(await codeOf(readTdxCollateral([notCollateral]))).toBe('COLLATERAL_UNREADABLE')
    await expect(readTdxCollateral([notCollateral])).rejects.toThrow(`tee.tdxCollateralFiles: ${notCollateral}`)
    expect(await codeOf(readTdxCollateral([path.join(dir, 'missing.json')]))).toBe('COLLATERAL_UNREADABLE')
  })

  it.skipIf(!haveTeeFixtures)('DER files and a PEM file of Intel\'s CRLs', async () => {
    const der = ['root_ca_crl', 'pck_crl'].map((k) => path.join(TEE_FIXTURES, `dcap-qvl/tdx_quote_collateral.${k}.der`))
    const crls = await readCrlFiles(der)
    expect(crls).toHaveLength(2)
    const pem = path.join(dir, 'both.pem')
    await writeFile(pem, der.map((f) => `-----BEGIN X509 CRL-----\n${readFileSync(f).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END X509 CRL-----\n`).join(''))
    expect((await readCrlFiles([pem])).map((c) => c.revoked.size)).toEqual(crls.map((c) => c.revoked.size))
  })
})
