import { createServer, type Server } from 'node:http'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Libp2p } from 'libp2p'
import type { Stream } from '@libp2p/interface'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SessionEvidence } from '../../src/wire/session.js'
import { MAX_EVIDENCE_MESSAGE_SIZE, MAX_HELLO_SIZE, SESSION_PROTOCOL, SESSION_VERSION } from '../../src/protocols/session/constants.js'
import { openAttestedSession, SessionError } from '../../src/protocols/session/index.js'
import { validateHello } from '../../src/protocols/session/validate.js'
import { Wire } from '../../src/protocols/session/wire.js'
import { ed25519KeyOf } from '../../src/protocols/session/peer-key.js'
import { sessionReportData } from '../../src/tee/binding.js'
import { AttestationErrorCode } from '../../src/tee/errors.js'
import { evidenceVerifier } from '../../src/tee/verify.js'
import type { AttestationPolicy } from '../../src/tee/policy.js'
import type { EvidenceVerifier } from '../../src/tee/types.js'
import { TdxCollateralKeeper } from '../../src/node/services/tdx-collateral-keeper.js'
import { tdxCollateralFile } from '../../src/node/tdx-collateral-fetch.js'
import { createLogger } from '../../src/node/logger.js'
import { ManualClock } from '../../src/util/clock.js'
import { sessionNode } from '../helpers/session-nodes.js'
import { fixture, haveTeeFixtures } from '../helpers/tee-fixtures.js'

/**
 * A renter meets a TDX platform it holds no TCB info for: dcap-qvl's real quote (FMSPC
 * b0c06f000000, UpToDate against Intel's TCB info of 19 June 2025), served by an enclave over a
 * real session on 127.0.0.1, and that TCB info served by a local server answering as Intel PCS.
 * A real quote binds another session than the test's, so the verifier (the real one: signatures,
 * PCK chain to the pinned Intel root, TCB) hands back the report data the session expects.
 */
const AT = Date.parse('2025-07-01T00:00:00Z')
const FMSPC = 'b0c06f000000'

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { expect(err).toBeInstanceOf(SessionError); return (err as SessionError).code }
  return undefined
}

describe.skipIf(!haveTeeFixtures)('a session fetches the TCB info of a TDX platform met for the first time', () => {
  let server: Server
  let base = ''
  const requests: string[] = []
  let renter: Libp2p
  let enclave: Libp2p
  let dir = ''
  let expected: Uint8Array = new Uint8Array(64)
  const agreementHash = new Uint8Array(randomBytes(32))
  const real = evidenceVerifier()
  // the real verifier; only the report data is the one the session bound (see above)
  const verifier: EvidenceVerifier = { verify: (ev, o) => ({ ...real.verify(ev, o), reportData: expected }) }

  beforeAll(async () => {
    const dcap = JSON.parse(Buffer.from(fixture('dcap-qvl/tdx_quote_collateral.json')).toString('utf8')) as { tcb_info: string, tcb_info_signature: string, tcb_info_issuer_chain: string }
    server = createServer((req, res) => {
      requests.push(req.url ?? '')
      if (req.url === `/pcs/tdx/certification/v4/tcb?fmspc=${FMSPC}`) {
        res.writeHead(200, { 'content-type': 'application/json', 'TCB-Info-Issuer-Chain': encodeURIComponent(dcap.tcb_info_issuer_chain) })
        res.end(`{"tcbInfo":${dcap.tcb_info},"signature":"${dcap.tcb_info_signature}"}`)
        return
      }
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => { await new Promise((resolve) => server.close(resolve)) })

  beforeEach(async () => {
    [renter, enclave] = await Promise.all([sessionNode(), sessionNode()])
    dir = mkdtempSync(path.join(tmpdir(), 'bazaar-session-tdx-'))
    requests.length = 0
    // an enclave that answers with the real quote, and reads the renter's verdict
    await enclave.handle(SESSION_PROTOCOL, async (stream: Stream) => {
      const wire = new Wire(stream, MAX_EVIDENCE_MESSAGE_SIZE)
      const hello = validateHello((await wire.read(MAX_HELLO_SIZE))!)
      const key = ed25519KeyOf(enclave.peerId)
      expected = sessionReportData(key, hello.nonce, hello.agreementHash)
      await wire.write(SessionEvidence.encode({ version: SESSION_VERSION, kind: 'tdx', evidence: new Uint8Array(fixture('dcap-qvl/tdx_quote')), certs: [], enclaveKey: new Uint8Array(key), nonce: hello.nonce, agreementHash: hello.agreementHash, error: '' }))
      await wire.read(256).catch(() => null)
      await stream.close().catch(() => {})
    })
  })
  afterEach(async () => {
    await Promise.all([renter.stop(), enclave.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  const keeper = (clock: ManualClock, pcsUrl = `${base}/pcs`): TdxCollateralKeeper =>
    new TdxCollateralKeeper({ dir, pcsUrl, clock, logger: createLogger({ level: 'error', write: () => {} }) })
  const policy = (k: TdxCollateralKeeper): AttestationPolicy => ({ kinds: ['tdx'], tdxTcbStatuses: ['UpToDate'], tdxCollateralSource: k })

  it('the quote verified, its platform\'s TCB info is fetched, written, and judges the session (UpToDate)', async () => {
    const clock = new ManualClock(AT)
    const k = keeper(clock)
    const s = await openAttestedSession(renter, enclave.getMultiaddrs()[0]!, { agreementHash, policy: policy(k), verifier, clock })
    expect(s.evidence.fields).toMatchObject({ fmspc: FMSPC, tcbStatus: 'UpToDate' })
    expect(requests).toEqual([`/pcs/tdx/certification/v4/tcb?fmspc=${FMSPC}`])
    expect(existsSync(tdxCollateralFile(dir, FMSPC))).toBe(true)
    expect(k.fmspcs()).toEqual([FMSPC])
    await s.channel.close().catch(() => {})
    await k.stop()
  })

  it('a quote whose PCK chain does not verify (not yet valid in 2024) asks nothing', async () => {
    const clock = new ManualClock(Date.parse('2024-07-01T00:00:00Z'))
    const k = keeper(clock)
    expect(await codeOf(openAttestedSession(renter, enclave.getMultiaddrs()[0]!, { agreementHash, policy: policy(k), verifier, clock }))).toBe(AttestationErrorCode.CERT_EXPIRED)
    expect(requests).toEqual([])
    await k.stop()
  })

  it('a fetch that fails refuses the session with COLLATERAL_NOT_FETCHED, naming the platform and why', async () => {
    const clock = new ManualClock(AT)
    const k = keeper(clock, `${base}/elsewhere`)
    const err = await openAttestedSession(renter, enclave.getMultiaddrs()[0]!, { agreementHash, policy: policy(k), verifier, clock }).catch((e: unknown) => e as SessionError)
    expect(err).toMatchObject({ code: AttestationErrorCode.COLLATERAL_NOT_FETCHED, message: `no TCB info for TDX platform ${FMSPC}: the fetch failed (HTTP_STATUS): HTTP 404 from ${base}/elsewhere/tdx/certification/v4/tcb?fmspc=${FMSPC}` })
    expect(existsSync(tdxCollateralFile(dir, FMSPC))).toBe(false)
    await k.stop()
  })

  it('a source that does not answer in time (or fails untyped) refuses the session with COLLATERAL_NOT_FETCHED, not as a session timeout', async () => {
    const clock = new ManualClock(AT)
    // what the handshake's 8 s wait ends with: the signal's TimeoutError
    const silent = { collateralFor: async () => { throw new DOMException('The operation was aborted due to timeout', 'TimeoutError') } }
    const err = await openAttestedSession(renter, enclave.getMultiaddrs()[0]!, { agreementHash, policy: { kinds: ['tdx'], tdxTcbStatuses: ['UpToDate'], tdxCollateralSource: silent }, verifier, clock }).catch((e: unknown) => e as SessionError)
    expect(err).toMatchObject({ code: AttestationErrorCode.COLLATERAL_NOT_FETCHED, message: `no TCB info for TDX platform ${FMSPC}: Intel PCS or the PCCS did not answer within 8 s` })
  })
})
