import { describe, expect, it } from 'vitest'
import { AttestationErrorCode } from '../../../src/tee/errors.js'
import { loadTcbInfoCollateral, verifyTcbInfo } from '../../../src/tee/tdx/collateral.js'
import { verifyTdxQuote } from '../../../src/tee/tdx/verify.js'
import { checkPolicy } from '../../../src/tee/policy.js'
import { evidenceVerifier, verifyEvidence } from '../../../src/tee/verify.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'

const codeOf = (fn: () => unknown): string | undefined => { try { fn() } catch (err) { return (err as { code?: string }).code } return undefined }

// Times inside every window involved (PCK chain, TCB signing chain, TCB info issueDate..nextUpdate).
const DCAP_AT = new Date('2025-07-01T00:00:00Z')
const SPR_AT = new Date('2023-07-01T00:00:00Z')

describe.skipIf(!haveTeeFixtures)('TDX TCB status from Intel TCB info', () => {
  const dcapCollateral = () => loadTcbInfoCollateral([fixture('dcap-qvl/tdx_quote_collateral.json')])
  const sprCollateral = () => loadTcbInfoCollateral([fixture('go-tdx-guest/sample_tcbInfo_response'), fixture('go-tdx-guest/tcbinfo_issuer_chain.pem')])

  it('dcap-qvl tdx_quote with its collateral (QuoteCollateralV3 form): UpToDate, module TDX_01 UpToDate', () => {
    const v = verifyTdxQuote(fixture('dcap-qvl/tdx_quote'), { at: DCAP_AT, collateral: dcapCollateral() })
    expect(v.tcb).toMatchObject({ status: 'UpToDate', moduleStatus: 'UpToDate', advisoryIds: [] })
  })

  it('SPR quote with the go-tdx-guest sample (PCS response form): no TCB level matches', () => {
    const v = verifyTdxQuote(fixture('go-tdx-guest/tdx_prod_quote_SPR_E4.dat'), { at: SPR_AT, collateral: sprCollateral() })
    // the manifest's evaluator calls this NoMatch; Intel's QVL returns TCB_NOT_SUPPORTED
    expect(v.tcb?.status).toBe('NotSupported')
    expect(v.tcb?.moduleStatus).toBe('UpToDate')
  })

  it('a list of collateral, one per platform (a renter\'s tee.tdxCollateralFiles): each quote is judged by its own platform\'s', () => {
    const both = [sprCollateral(), dcapCollateral()]
    const verifier = evidenceVerifier()
    expect(verifier.verify({ kind: 'tdx', evidence: fixture('dcap-qvl/tdx_quote'), certs: [] }, { at: DCAP_AT, tdxCollateral: both }).fields.tcbStatus).toBe('UpToDate')
    expect(verifyTdxQuote(fixture('go-tdx-guest/tdx_prod_quote_SPR_E4.dat'), { at: SPR_AT, collateral: both }).tcb?.status).toBe('NotSupported')
    // none for its platform: the status is left unevaluated, which a policy demanding one refuses
    const other = verifier.verify({ kind: 'tdx', evidence: fixture('dcap-qvl/tdx_quote'), certs: [] }, { at: DCAP_AT, tdxCollateral: [sprCollateral()] })
    expect(other.fields.tcbStatus ?? null).toBeNull()
    expect(codeOf(() => checkPolicy(other, { kinds: ['tdx'], tdxTcbStatuses: ['UpToDate'] }, { now: DCAP_AT.getTime() }))).toBe(AttestationErrorCode.TCB_TOO_LOW)
  })

  it('refuses collateral for another platform family (FMSPC)', () => {
    expect(codeOf(() => verifyTdxQuote(fixture('go-tdx-guest/tdx_prod_quote_SPR_E4.dat'), { at: DCAP_AT, collateral: dcapCollateral() }))).toBe(AttestationErrorCode.CERT_MISMATCH)
  })

  it('refuses expired collateral and collateral with a flipped byte or a foreign chain', () => {
    expect(codeOf(() => verifyTcbInfo(dcapCollateral(), new Date('2025-08-01T00:00:00Z')))).toBe(AttestationErrorCode.STALE)
    const c = dcapCollateral()
    expect(codeOf(() => verifyTcbInfo({ ...c, text: c.text.replace('"UpToDate"', '"UpToDatf"') }, DCAP_AT))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
    const sig = c.signature.slice()
    sig[10] ^= 1
    expect(codeOf(() => verifyTcbInfo({ ...c, signature: sig }, DCAP_AT))).toBe(AttestationErrorCode.SIGNATURE_INVALID)
    // the 2018 TCB signing certificate had expired by mid-2025
    expect(codeOf(() => verifyTcbInfo({ ...c, chain: sprCollateral().chain }, DCAP_AT))).toBe(AttestationErrorCode.CERT_EXPIRED)
    expect(codeOf(() => loadTcbInfoCollateral([fixture('go-tdx-guest/sample_tcbInfo_response')]))).toBe(AttestationErrorCode.CERT_MISSING)
    expect(codeOf(() => loadTcbInfoCollateral([new TextEncoder().encode('not json')]))).toBe(AttestationErrorCode.MALFORMED)
  })

  it('a policy can demand UpToDate; evidence without evaluated TCB is refused by it', () => {
    const policy = { kinds: ['tdx' as const], tdxTcbStatuses: ['UpToDate'] }
    const good = verifyEvidence({ kind: 'tdx', evidence: fixture('dcap-qvl/tdx_quote'), certs: [] }, { at: DCAP_AT, tdxCollateral: dcapCollateral() })
    expect(good.fields.tcbStatus).toBe('UpToDate')
    expect(() => checkPolicy(good, policy, { now: DCAP_AT.getTime() })).not.toThrow()
    const none = verifyEvidence({ kind: 'tdx', evidence: fixture('dcap-qvl/tdx_quote'), certs: [] }, { at: DCAP_AT })
    expect(codeOf(() => checkPolicy(none, policy, { now: DCAP_AT.getTime() }))).toBe(AttestationErrorCode.TCB_TOO_LOW)
    const spr = verifyEvidence({ kind: 'tdx', evidence: fixture('go-tdx-guest/tdx_prod_quote_SPR_E4.dat'), certs: [] }, { at: SPR_AT, tdxCollateral: sprCollateral() })
    expect(codeOf(() => checkPolicy(spr, policy, { now: SPR_AT.getTime() }))).toBe(AttestationErrorCode.TCB_TOO_LOW)
  })
})

describe.skipIf(!haveTeeFixtures)('evaluateTdxTcb rules (real quote, edited TCB info)', async () => {
  const { evaluateTdxTcb } = await import('../../../src/tee/tdx/tcb-status.js')
  const { parseTdxQuote } = await import('../../../src/tee/tdx/parse.js')
  const base = () => JSON.parse(new TextDecoder().decode(fixture('dcap-qvl/tdx_quote_collateral.tcb_info.json')))
  const quote = () => parseTdxQuote(fixture('dcap-qvl/tdx_quote'))
  const platform = () => verifyTdxQuote(fixture('dcap-qvl/tdx_quote'), { at: DCAP_AT }).platform

  it.each([
    ['as published', (_i: any) => {}, 'UpToDate'],
    ['first level needs a higher SGX component: the next level decides', (i: any) => { i.tcbLevels[0].tcb.sgxtcbcomponents[0].svn = 255 }, i => i.tcbLevels[1].tcbStatus],
    ['first level needs a higher PCESVN', (i: any) => { i.tcbLevels[0].tcb.pcesvn = 1000 }, i => i.tcbLevels[1].tcbStatus],
    ['first level needs a higher TDX component (index 2+)', (i: any) => { i.tcbLevels[0].tcb.tdxtcbcomponents[2].svn = 255 }, i => i.tcbLevels[1].tcbStatus],
    ['TDX components 0 and 1 are the module\'s, skipped when its version is set', (i: any) => { i.tcbLevels[0].tcb.tdxtcbcomponents[0].svn = 255 }, 'UpToDate'],
    ['no level matches', (i: any) => { for (const l of i.tcbLevels) l.tcb.pcesvn = 1000 }, 'NotSupported'],
    ['module identity out of date drags UpToDate down', (i: any) => { for (const m of i.tdxModuleIdentities) for (const l of m.tcbLevels) l.tcbStatus = 'OutOfDate' }, 'OutOfDate'],
    ['module identity missing', (i: any) => { i.tdxModuleIdentities = [] }, 'NotSupported']
  ] as Array<[string, (i: any) => void, string | ((i: any) => string)]>)('%s', (_n, edit, want) => {
    const info = base()
    edit(info)
    const expected = typeof want === 'function' ? want(info) : want
    expect(evaluateTdxTcb(quote(), platform(), info).status).toBe(expected)
  })

  it('a module signed by someone else is refused', () => {
    const info = base()
    for (const m of info.tdxModuleIdentities) m.mrsigner = 'ab'.repeat(48)
    expect(codeOf(() => evaluateTdxTcb(quote(), platform(), info))).toBe(AttestationErrorCode.CERT_MISMATCH)
  })
})
