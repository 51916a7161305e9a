import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ON_DEMAND_MAX, TdxCollateralKeeper } from '../../../src/node/services/tdx-collateral-keeper.js'
import { REFRESH_MAX_MS, REFRESH_MIN_MS, RETRY_FIRST_MS } from '../../../src/node/services/refresh-loop.js'
import { tdxCollateralFile, type FetchTdxCollateralOptions, type FetchedTdxCollateral } from '../../../src/node/tdx-collateral-fetch.js'
import { createLogger } from '../../../src/node/logger.js'
import { AttestationErrorCode } from '../../../src/tee/errors.js'
import { ManualClock } from '../../../src/util/clock.js'
import { fixture, haveTeeFixtures } from '../../helpers/tee-fixtures.js'
import { loadTcbInfoCollateral } from '../../../src/tee/tdx/collateral.js'

const HOUR = 3600_000
const DAY = 24 * HOUR
const A = 'b0c06f000000'
const B = '50806f000000'

const settle = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve() }

/** a fetch the test answers by hand; an answer that succeeds writes real collateral where the file goes */
function fakeFetch (): { fetch: (opts: FetchTdxCollateralOptions) => Promise<FetchedTdxCollateral[]>, calls: Array<{ opts: FetchTdxCollateralOptions, answer: (r: FetchedTdxCollateral[]) => void }> } {
  const calls: Array<{ opts: FetchTdxCollateralOptions, answer: (r: FetchedTdxCollateral[]) => void }> = []
  return {
    calls,
    fetch: async (opts) => await new Promise<FetchedTdxCollateral[]>((resolve, reject) => {
      calls.push({
        opts,
        answer: (r) => {
          for (const x of r) if (x.result !== 'failed') writeFileSync(x.file, fixture('dcap-qvl/tdx_quote_collateral.json'))
          resolve(r)
        }
      })
      opts.signal?.addEventListener('abort', () => { reject(opts.signal?.reason) }, { once: true })
    })
  }
}

describe.skipIf(!haveTeeFixtures)('the daemon\'s TDX collateral keeper (tee.tdxCollateralDir)', () => {
  const dirs: string[] = []
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

  async function started (held: string[]): Promise<{ clock: ManualClock, f: ReturnType<typeof fakeFetch>, lines: Array<Record<string, unknown>>, k: TdxCollateralKeeper, dir: string }> {
    const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-tdx-keeper-'))
    dirs.push(dir)
    for (const h of held) writeFileSync(tdxCollateralFile(dir, h), fixture('dcap-qvl/tdx_quote_collateral.json'))
    // not a platform's file: left alone
    writeFileSync(path.join(dir, 'notes.txt'), 'x')
    const clock = new ManualClock()
    const f = fakeFetch()
    const lines: Array<Record<string, unknown>> = []
    const k = new TdxCollateralKeeper({ dir, pcsUrl: 'http://pccs.example:8081', clock, logger: createLogger({ level: 'debug', write: (l) => { lines.push(JSON.parse(l) as Record<string, unknown>) } }), fetch: f.fetch })
    await k.start()
    return { clock, f, lines, k, dir }
  }
  const ok = (dir: string, fmspc: string, nextUpdate: number): FetchedTdxCollateral =>
    ({ fmspc, file: tdxCollateralFile(dir, fmspc), result: 'updated', issueDate: new Date(nextUpdate - 30 * DAY).toISOString(), nextUpdate: new Date(nextUpdate).toISOString(), tcbEvaluationDataNumber: 17 })
  const failed = (dir: string, fmspc: string): FetchedTdxCollateral => ({ fmspc, file: tdxCollateralFile(dir, fmspc), result: 'failed', code: 'UNREACHABLE', error: 'cannot fetch http://pccs.example:8081/tdx/certification/v4/tcb?fmspc=x: ECONNREFUSED' })

  it('refreshes every platform held at start, then at half its time left (an hour to a day); a failure retries from 5 minutes, doubling, with one warning naming the FMSPC', async () => {
    const { clock, f, lines, k, dir } = await started([A, B])
    clock.advance(0)
    expect(f.calls).toHaveLength(1)
    expect(f.calls[0]!.opts).toMatchObject({ dir, fmspcs: [B, A], pcsUrl: 'http://pccs.example:8081', now: new Date(clock.now()) })
    const t0 = clock.now()
    f.calls[0]!.answer([ok(dir, B, t0 + 30 * DAY), failed(dir, A)])
    await settle()
    expect(lines.find((l) => l.msg === 'TDX collateral updated')).toMatchObject({ fmspc: B, nextLookInS: REFRESH_MAX_MS / 1000 })
    const warnings = lines.filter((l) => l.level === 'warn')
    expect(warnings).toEqual([expect.objectContaining({ msg: 'TDX collateral fetch failed; the file keeps what it held', fmspc: A, code: 'UNREACHABLE', retryInS: RETRY_FIRST_MS / 1000 })])
    // A again after 5 minutes, alone
    clock.advance(RETRY_FIRST_MS - 1)
    expect(f.calls).toHaveLength(1)
    clock.advance(1)
    expect(f.calls[1]!.opts.fmspcs).toEqual([A])
    f.calls[1]!.answer([failed(dir, A)])
    await settle()
    expect(lines.filter((l) => l.level === 'warn').at(-1)).toMatchObject({ fmspc: A, retryInS: 2 * RETRY_FIRST_MS / 1000 })
    clock.advance(2 * RETRY_FIRST_MS)
    expect(f.calls[2]!.opts.fmspcs).toEqual([A])
    // next update in 90 minutes: looked at again in an hour (the least), not 45 minutes
    f.calls[2]!.answer([ok(dir, A, clock.now() + 90 * 60_000)])
    await settle()
    expect(lines.filter((l) => l.msg === 'TDX collateral updated').at(-1)).toMatchObject({ fmspc: A, nextLookInS: REFRESH_MIN_MS / 1000 })
    await k.stop()
    expect(clock.pending).toBe(0)
  })

  it('a rental\'s platform without TCB info: one fetch shared by concurrent rentals, then kept current like the others', async () => {
    const { clock, f, k, dir } = await started([])
    clock.advance(0)
    const first = k.collateralFor(A)
    const second = k.collateralFor(A.toUpperCase())
    expect(f.calls).toHaveLength(1)
    expect(f.calls[0]!.opts.fmspcs).toEqual([A])
    f.calls[0]!.answer([ok(dir, A, clock.now() + 20 * DAY)])
    const [c1, c2] = await Promise.all([first, second])
    expect(JSON.parse(c1.text).fmspc).toBe('B0C06F000000')
    expect(c2.text).toBe(c1.text)
    expect(k.fmspcs()).toEqual([A])
    // refreshed a day later, like a platform held at start
    clock.advance(DAY)
    expect(f.calls).toHaveLength(2)
    expect(f.calls[1]!.opts.fmspcs).toEqual([A])
    f.calls[1]!.answer([ok(dir, A, clock.now() + 20 * DAY)])
    await settle()
    await k.stop()
  })

  it('a failed fetch refuses the rental (COLLATERAL_NOT_FETCHED, one line naming the platform and why), and its platform is refused at once for 5 minutes', async () => {
    const { clock, f, lines, k, dir } = await started([])
    clock.advance(0)
    const p = k.collateralFor(A)
    f.calls[0]!.answer([failed(dir, A)])
    await expect(p).rejects.toMatchObject({ code: AttestationErrorCode.COLLATERAL_NOT_FETCHED, message: expect.stringMatching(/^no TCB info for TDX platform b0c06f000000: the fetch failed \(UNREACHABLE\): cannot fetch .*ECONNREFUSED$/) })
    expect(lines.filter((l) => l.level === 'warn')).toEqual([expect.objectContaining({ fmspc: A, code: 'UNREACHABLE' })])
    clock.advance(RETRY_FIRST_MS - 1)
    await expect(k.collateralFor(A)).rejects.toMatchObject({ code: AttestationErrorCode.COLLATERAL_NOT_FETCHED })
    expect(f.calls).toHaveLength(1)
    clock.advance(1)
    const again = k.collateralFor(A)
    expect(f.calls).toHaveLength(2)
    f.calls[1]!.answer([ok(dir, A, clock.now() + 20 * DAY)])
    await expect(again).resolves.toMatchObject({ text: expect.stringContaining('B0C06F000000') })
    await k.stop()
  })

  it('a platform fetched for one session is answered from memory until its next update: no request and no slot of the hour, however often a session asks (a re-attach reads the policy of its rental\'s start)', async () => {
    const { clock, f, k, dir } = await started([])
    clock.advance(0)
    const first = k.collateralFor(A)
    f.calls[0]!.answer([ok(dir, A, clock.now() + 20 * DAY)])
    await first
    for (let i = 0; i <= ON_DEMAND_MAX; i++) expect(JSON.parse((await k.collateralFor(A)).text).fmspc).toBe('B0C06F000000')
    expect(f.calls).toHaveLength(1)
    // the hour's other slots are there for a platform met for the first time
    const other = k.collateralFor(B)
    expect(f.calls).toHaveLength(2)
    f.calls[1]!.answer([failed(dir, B)])
    await expect(other).rejects.toMatchObject({ code: AttestationErrorCode.COLLATERAL_NOT_FETCHED })
    // a refresh that brings a newer document replaces the copy in memory: it lasts to the new next update
    clock.advance(DAY)
    expect(f.calls.at(-1)!.opts.fmspcs).toEqual([A])
    f.calls.at(-1)!.answer([{ ...ok(dir, A, clock.now() + 40 * DAY), collateral: loadTcbInfoCollateral([new Uint8Array(fixture('dcap-qvl/tdx_quote_collateral.json'))]) }])
    await settle()
    clock.advance(20 * DAY)
    await settle()
    const held = f.calls.length
    await k.collateralFor(A)
    expect(f.calls).toHaveLength(held)
    // past its next update it is asked for again
    clock.advance(20 * DAY)
    await settle()
    const calls = f.calls.length
    const again = k.collateralFor(A)
    expect(f.calls).toHaveLength(calls + 1)
    f.calls.at(-1)!.answer([failed(dir, A)])
    await expect(again).rejects.toMatchObject({ code: AttestationErrorCode.COLLATERAL_NOT_FETCHED })
    await k.stop()
  })

  it(`at most ${ON_DEMAND_MAX} platforms fetched on demand an hour`, async () => {
    const { clock, f, k, dir } = await started([])
    clock.advance(0)
    const asked = Array.from({ length: ON_DEMAND_MAX }, (_, i) => k.collateralFor(`00000000000${i.toString(16)}`))
    expect(f.calls).toHaveLength(ON_DEMAND_MAX)
    await expect(k.collateralFor('0000000000ff')).rejects.toMatchObject({ code: AttestationErrorCode.COLLATERAL_NOT_FETCHED, message: expect.stringMatching(/8 new platforms were fetched in the last 60 minutes/) })
    expect(f.calls).toHaveLength(ON_DEMAND_MAX)
    for (const c of f.calls) c.answer([failed(dir, c.opts.fmspcs[0]!)])
    await Promise.allSettled(asked)
    clock.advance(HOUR)
    const later = k.collateralFor('0000000000ff')
    expect(f.calls).toHaveLength(ON_DEMAND_MAX + 1)
    f.calls.at(-1)!.answer([failed(dir, '0000000000ff')])
    await expect(later).rejects.toMatchObject({ code: AttestationErrorCode.COLLATERAL_NOT_FETCHED })
    await k.stop()
  })
})
