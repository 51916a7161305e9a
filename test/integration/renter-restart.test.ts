/**
 * A renter daemon that dies mid-job and is started again on the same home: its per-escrow voucher
 * key was sealed before the escrow opened, and the restarted daemon settles the escrow on the last
 * voucher the supplier stored. Supplier, arbiter and renter are daemon nodes (BazaarNode with its
 * roles, as `bazaar node start` builds it) of this process sharing one
 * embedded ledger; the renter's death is its network and chain dropping at once (the host stops,
 * every connection is aborted and every chain call fails), then the daemon is closed and a new one opens the same home. The same
 * with a real SIGKILL and a real chain is test/e2e/network.test.ts.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BazaarNode } from '../../src/node/bazaar-node.js'
import { loadConfig, type PartialConfig, type Role } from '../../src/node/config/index.js'
import { homePaths } from '../../src/node/home.js'
import { initHome, loadOrCreateEnclaveKey, openKeystore, readApiToken, VoucherKeyVault } from '../../src/node/keystore/index.js'
import { silentLogger } from '../../src/node/logger.js'
import { parseRentBody } from '../../src/node/rent-input.js'
import { EmbeddedLedger, verifyVoucher, type ChainPort } from '../../src/escrow/index.js'
import { decodeRecord } from '../../src/escrow/chain/records.js'
import { waitFor } from '../helpers/wait.js'

const FAST = { N: 2 ** 10, r: 8, p: 1 }
const PW = 'correct horse'
const LONG_JOB = 'setInterval(() => console.log("working"), 300)'

/** A chain port that fails every call once `crash()` is called, as a dead process's would. */
function crashable (inner: ChainPort): { chain: ChainPort, crash: () => void } {
  let dead = false
  const fail = async (): Promise<never> => { throw Object.assign(new Error('process gone'), { code: 'GONE' }) }
  const chain: ChainPort = {
    info: async () => dead ? await fail() : await inner.info(),
    open: async (t, p, o) => dead ? await fail() : await inner.open(t, p, o),
    approve: async (s, a, o) => dead ? await fail() : await inner.approve(s, a, o),
    get: async (id, o) => dead ? await fail() : await inner.get(id, o),
    balance: async (a, o) => dead ? await fail() : await inner.balance(a, o),
    close: async () => {}
  }
  return { chain, crash: () => { dead = true } }
}

describe('renter restarted mid-job (embedded ledger)', () => {
  let dir = ''
  const home = (n: string): string => path.join(dir, n)
  let ledger: EmbeddedLedger
  const daemons: BazaarNode[] = []

  async function startDaemon (h: string, role: Role, flags: PartialConfig, chain: ChainPort, vault?: VoucherKeyVault): Promise<BazaarNode> {
    const config = await loadConfig({
      home: home(h),
      env: {},
      flags: {
        listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, api: { host: '127.0.0.1', port: 0 }, role,
        gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }],
        tee: { provider: 'simulated', allowSimulated: true },
        market: { teeKinds: ['simulated'], minDurationS: 10, republishS: 5 },
        metering: { tickS: 1, graceS: 3 },
        ...flags
      }
    })
    const identity = await openKeystore(home(h), PW)
    const enclave = role === 'supplier' ? await loadOrCreateEnclaveKey(home(h), PW, { scrypt: FAST }) : undefined
    const daemon = await BazaarNode.init({
      config, identity, home: home(h), apiToken: await readApiToken(home(h)), enclaveKey: enclave, logger: silentLogger, chain, runNvidiaSmi: async () => ({ absent: true }),
      ...(vault != null ? { voucherKeys: vault } : {})
    })
    daemons.push(daemon)
    return daemon
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bazaar-renter-restart-'))
    for (const [h, dev] of [['alice', 'alice'], ['bob', 'bob'], ['ferdie', 'ferdie']]) {
      await initHome({ home: home(h), passphrase: PW, dev, scrypt: FAST, supplier: h === 'alice' })
    }
    const bob = (await openKeystore(home('bob'), PW)).hotkey.address
    ledger = await EmbeddedLedger.open({ netuid: 1, genesis: [{ address: bob, amount: 1_000_000_000_000n }] })
  }, 60_000)

  afterAll(async () => {
    for (const d of daemons.reverse()) await d.close().catch(() => {})
    await ledger?.close()
    await rm(dir, { recursive: true, force: true })
  }, 120_000)

  it('the restarted renter settles on the last voucher with its persisted key; locked = paid + refunded', async () => {
    const arbiter = await startDaemon('ferdie', 'arbiter', {}, ledger)
    const chainCfg = { arbiter: arbiter.identity.hotkey.address, arbiterPeer: arbiter.host.getMultiaddrs()[0].toString() }
    const supplier = await startDaemon('alice', 'supplier', { chain: chainCfg, bootstrap: [chainCfg.arbiterPeer] }, ledger)
    const boot = [chainCfg.arbiterPeer, supplier.host.getMultiaddrs()[0].toString()]
    const vault = new VoucherKeyVault(home('bob'), PW, { scrypt: FAST })
    const dying = crashable(ledger)
    const renter = await startDaemon('bob', 'renter', { chain: chainCfg, bootstrap: boot }, dying.chain, vault)
    await waitFor(() => renter.market.book.offers().length > 0, 30_000, 'the offer in the renter book')

    const parsed = parseRentBody({ gpu: 'h100', count: 1, maxPricePerGpuHour: '1000000000', durationS: 120, teeKinds: ['simulated'], command: process.execPath, args: ['-e', LONG_JOB], outputDir: path.join(dir, 'out') },
      { config: renter.config, home: home('bob'), now: Date.now() })
    let escrowId = ''
    const rent = renter.rent(parsed, { onEvent: (e) => { if (e.type === 'escrow') escrowId = e.id } }).then(() => 'resolved', () => 'rejected')
    // a few vouchers paid: the renter stored each before sending it, the supplier before its ack
    await waitFor(async () => escrowId !== '' && ((await supplier.escrowDb!.vouchers.latest(escrowId))?.sequence ?? 0n) >= 3n, 60_000, 'three stored vouchers')
    expect(await vault.list()).toEqual([escrowId])

    // the renter dies: chain and network gone at once, nothing it does from here reaches anyone
    dying.crash()
    for (const c of renter.host.getConnections()) c.abort(new Error('process gone'))
    await rent
    await renter.close()
    daemons.splice(daemons.indexOf(renter), 1)
    expect((await ledger.get(escrowId))?.status).toBe('open')

    // a key whose escrow was never recorded (a stop between the two writes) goes at the restart
    await vault.create('0x' + 'ee'.repeat(32))
    // the same home again, on the real chain: the key is still there and the escrow settles
    const again = await startDaemon('bob', 'renter', { chain: chainCfg, bootstrap: boot }, ledger, new VoucherKeyVault(home('bob'), PW, { scrypt: FAST }))
    const resumed = await again.resumed
    expect(resumed).toHaveLength(1)
    expect(resumed[0]).toMatchObject({ escrowId, key: true, status: 'closed' })

    const onChain = (await ledger.get(escrowId))!
    expect(onChain.status).toBe('closed')
    expect(onChain.balance).toBe(0n)
    const close = onChain.records.find((r) => r.kind === 'close')!
    const doc = decodeRecord(close.remark)!
    expect(doc.kind).toBe('close')
    const payouts = doc.kind === 'open' ? [] : doc.payouts
    const paid = payouts.filter((p) => p.to === onChain.terms.payee).reduce((a, p) => a + BigInt(p.amount), 0n)
    const refunded = payouts.filter((p) => p.to === onChain.terms.payer).reduce((a, p) => a + BigInt(p.amount), 0n)
    expect(paid + refunded).toBe(onChain.terms.amount)
    // paid is exactly the supplier's last stored voucher, which the renter's key signed
    const supplierLatest = (await supplier.escrowDb!.vouchers.latest(escrowId))!
    expect(paid).toBe(supplierLatest.cumulative)
    expect(verifyVoucher(supplierLatest, onChain.terms.voucherKey)).toBe(true)
    expect(supplierLatest.sequence).toBeGreaterThanOrEqual(3n)
    // the settled escrow's key is gone; the renter's job record ended (here the dying daemon could
    // still write it: a SIGKILLed one leaves it running, and the restart ends it, see the e2e test)
    expect(await vault.list()).toEqual([])
    expect(await readdir(homePaths(home('bob')).voucherKeys)).toEqual([])
    const jobs = await again.jobs.list({ role: 'renter' })
    expect(jobs.map((j) => j.state)).toEqual(['failed'])
  }, 180_000)
})
