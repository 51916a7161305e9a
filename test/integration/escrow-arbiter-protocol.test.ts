/**
 * /bazaar/arbiter/2.0.0 between two real libp2p nodes (tcp + noise + yamux on 127.0.0.1): the payee's
 * EscrowService closes through a RemoteArbiter; refusals, malformed requests and the per-peer budget
 * come back as typed reasons.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { Arbiter } from '../../src/escrow/arbiter/service.js'
import { EmbeddedLedger } from '../../src/escrow/chain/embedded/ledger.js'
import { EscrowError } from '../../src/escrow/errors.js'
import { closeSettlement, refundSettlement } from '../../src/escrow/rules/settlement.js'
import { signArbiterRequest } from '../../src/escrow/arbiter/request-signature.js'
import { EscrowService } from '../../src/escrow/service.js'
import { EscrowDb } from '../../src/escrow/store/db.js'
import { RemoteArbiter } from '../../src/protocols/arbiter/client.js'
import { ARBITER_PROTOCOL } from '../../src/protocols/arbiter/constants.js'
import { registerArbiterHandler } from '../../src/protocols/arbiter/handler.js'
import { ArbiterResponse } from '../../src/wire/arbiter.js'
import { ManualClock } from '../../src/util/clock.js'
import { NETUID, parties, signer, T0, tempDir, terms as mkTerms } from '../unit/escrow/fixtures.js'

const p = await parties()
const t = mkTerms(p)
const FUNDS = 5_000_000_000n
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function node (): Promise<Libp2p> {
  const n = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  cleanups.push(async () => { await n.stop() })
  return n
}

async function setup (requestsPerWindow = 10): Promise<{ ledger: EmbeddedLedger, clock: ManualClock, payee: EscrowService, payer: EscrowService, remote: RemoteArbiter, client: Libp2p, server: Libp2p }> {
  const clock = new ManualClock(T0)
  const ledger = await EmbeddedLedger.open({ netuid: NETUID, clock, genesis: [{ address: p.payer.address, amount: FUNDS }] })
  cleanups.push(async () => { await ledger.close() })
  await ledger.open(t, p.payer)
  const server = await node()
  const client = await node()
  await registerArbiterHandler(server, { arbiter: new Arbiter({ chain: ledger, key: p.arbiter, clock }), clock, requestsPerWindow })
  const remote = new RemoteArbiter(client, server.getMultiaddrs())
  const dirs = [await tempDir(), await tempDir()]
  const dbs = [await EscrowDb.open(dirs[0].path), await EscrowDb.open(dirs[1].path)]
  cleanups.push(async () => { for (const d of dbs) await d.close(); for (const d of dirs) await d.cleanup() })
  const payee = new EscrowService({ chain: ledger, escrows: dbs[0].escrows, vouchers: dbs[0].vouchers, account: p.payee, arbiter: remote, clock })
  const payer = new EscrowService({ chain: ledger, escrows: dbs[1].escrows, vouchers: dbs[1].vouchers, account: p.payer, arbiter: remote, clock })
  await payee.track(t)
  await payer.track(t)
  await dbs[0].vouchers.put(signer().sign({ escrowId: t.escrowId, cumulative: 250_000_000n, sequence: 25n }))
  return { ledger, clock, payee, payer, remote, client, server }
}

describe('arbiter protocol over TCP', () => {
  it('the payee closes with a remote arbiter and the latest voucher', async () => {
    const { ledger, payee } = await setup()
    const r = await payee.close(t.escrowId, { mode: 'arbiter' })
    expect(r.executed).toBe(true)
    expect(await ledger.balance(p.payee.address)).toBe(250_000_000n)
    expect(await ledger.balance(p.payer.address)).toBe(FUNDS - 250_000_000n)
  })

  it('carries refusals as typed reasons, and the record when the arbiter executes', async () => {
    const { ledger, clock, payer, remote } = await setup()
    const early = await payer.refund(t.escrowId).catch((e: EscrowError) => e)
    expect((early as EscrowError).code).toBe('ARBITER_REFUSED')
    expect((early as EscrowError).detail).toEqual({ reason: 'NOT_EXPIRED' })
    clock.set(t.expiresAt)
    // the payer approves first; the arbiter's approval then executes and the record comes back
    await ledger.approve(refundSettlement(t), p.payer)
    // a request its party did not sign is refused (the signature travels as the request's field 4)
    expect(await remote.request({ terms: t, settlement: refundSettlement(t) })).toEqual({ approved: false, reason: 'UNSIGNED_REQUEST' })
    const r = await remote.request(signArbiterRequest({ terms: t, settlement: refundSettlement(t) }, p.payer))
    expect(r).toMatchObject({ approved: true, executed: true, record: { kind: 'refund', escrowId: t.escrowId } })
    expect(await remote.request({ terms: t, settlement: closeSettlement(t, undefined, 'cooperative') })).toEqual({ approved: false, reason: 'ESCROW_NOT_OPEN' })
  })

  it('answers undecodable requests with MALFORMED_REQUEST', async () => {
    const { client, server } = await setup()
    const stream = await client.dialProtocol(server.getMultiaddrs(), ARBITER_PROTOCOL)
    const lp = lpStream(stream)
    // field 1 (terms) claims 2 bytes holding a field that claims a byte it does not have
    await lp.write(Uint8Array.from([0x0a, 0x02, 0x0a, 0x01]))
    const res = ArbiterResponse.decode(await lp.read())
    expect(res).toMatchObject({ approved: false, reason: 'MALFORMED_REQUEST' })
    // an invalid wire type (protons throws a plain Error for it) is answered the same way, not reset
    const again = lpStream(await client.dialProtocol(server.getMultiaddrs(), ARBITER_PROTOCOL))
    await again.write(Uint8Array.of(0x7f))
    expect(ArbiterResponse.decode(await again.read())).toMatchObject({ approved: false, reason: 'MALFORMED_REQUEST' })
  })

  it('answers ARBITER_UNAVAILABLE when the arbiter itself fails', async () => {
    const server = await node()
    const client = await node()
    const errors: unknown[] = []
    await registerArbiterHandler(server, { arbiter: { request: async () => { throw new Error('chain down') } }, onError: (e) => errors.push(e) })
    const r = await new RemoteArbiter(client, server.getMultiaddrs()).request({ terms: t, settlement: refundSettlement(t) })
    expect(r).toEqual({ approved: false, reason: 'ARBITER_UNAVAILABLE' })
    expect(errors).toHaveLength(1)
  })

  it('waits for a decision longer than a message may take (a chain approval takes blocks), and no longer than its decision deadline', async () => {
    const server = await node()
    const client = await node()
    // a chain that answers 1.5 s after the request reaches it, three times the 500 ms each message
    // may take on the wire (a bound on an exchange on a loaded two-core machine: at 100 ms, the
    // exchange itself missed it and the stream was reset, once in 32 runs)
    const timers: NodeJS.Timeout[] = []
    cleanups.push(async () => { for (const x of timers) clearTimeout(x) })
    const slowChain = async (): Promise<void> => { await new Promise<void>((resolve) => { timers.push(setTimeout(resolve, 1_500)) }) }
    const errors: unknown[] = []
    await registerArbiterHandler(server, { arbiter: { request: async () => { await slowChain(); return { approved: false, reason: 'NOT_EXPIRED' } } }, timeoutMs: 500, decisionMs: 5_000, onError: (e) => errors.push(e) })
    const req = signArbiterRequest({ terms: t, settlement: refundSettlement(t) }, p.payer)
    // connected first: the 500 ms per message is about the exchange, not a TCP and noise handshake
    // on a loaded machine (the client's dial shares that bound)
    await client.dial(server.getMultiaddrs())
    expect(await new RemoteArbiter(client, server.getMultiaddrs(), 500, 5_000).request(req)).toEqual({ approved: false, reason: 'NOT_EXPIRED' })
    expect(errors).toEqual([])

    // an arbiter that never decides (and ignores its signal) is given up at the decision deadline
    const stuck = await node()
    await registerArbiterHandler(stuck, { arbiter: { request: async () => await new Promise<never>(() => {}) }, timeoutMs: 500, decisionMs: 1_000, onError: (e) => errors.push(e) })
    await client.dial(stuck.getMultiaddrs())
    expect(await new RemoteArbiter(client, stuck.getMultiaddrs(), 500, 5_000).request(req)).toEqual({ approved: false, reason: 'ARBITER_UNAVAILABLE' })
    expect(errors).toHaveLength(1)
  })

  it('ends a stream whose request does not arrive in time', async () => {
    const server = await node()
    const client = await node()
    const outcomes: Array<string | undefined> = []
    await registerArbiterHandler(server, { arbiter: { request: async () => ({ approved: false, reason: 'NOT_EXPIRED' }) }, timeoutMs: 200, onOutcome: (o) => outcomes.push(o.reason) })
    const stream = await client.dialProtocol(server.getMultiaddrs(), ARBITER_PROTOCOL)
    await expect(lpStream(stream).read()).rejects.toBeInstanceOf(Error)
    expect(outcomes).toEqual(['TIMEOUT'])
  })

  it('answers a peer over its budget with RATE_LIMITED', async () => {
    const { remote } = await setup(2)
    const req = signArbiterRequest({ terms: t, settlement: refundSettlement(t) }, p.payer)
    const reasons = []
    for (let i = 0; i < 3; i++) reasons.push((await remote.request(req)) as { reason?: string })
    expect(reasons.map((r) => r.reason)).toEqual(['NOT_EXPIRED', 'NOT_EXPIRED', 'RATE_LIMITED'])
  })
})
