/**
 * A renter daemon that dies mid-job and is started again on the same home: its per-escrow voucher
 * key was sealed before the escrow opened, the supplier keeps the job running for its renter, and
 * the restarted daemon takes the job up again (a new attested session, `attach` on the job
 * protocol), pays on with that key, receives the job's exit and outputs and settles the escrow
 * cooperatively on the last voucher. Once the job's stream is over, a later attach is refused with
 * ATTACH_JOB_ENDED, and one from another peer at its session's hello (UNKNOWN_AGREEMENT). Supplier, arbiter and renter are daemon nodes (BazaarNode with its
 * roles, as `bazaar node start` builds it) of this process sharing one
 * embedded ledger; the renter's death is its network and chain dropping at once (the host stops,
 * every connection is aborted and every chain call fails), then the daemon is closed and a new one opens the same home. The same
 * with a real SIGKILL and a real chain is test/e2e/network.test.ts.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
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
import { EmbeddedLedger, verifyVoucher, VoucherSigner, type ChainPort, type EscrowTermsOnChain } from '../../src/escrow/index.js'
import { reattachRental, type RenterRoleInit, type RentSummary } from '../../src/node/roles/renter.js'
import { roleMetrics } from '../../src/node/roles/metrics.js'
import { attestationPolicyFromConfig } from '../../src/node/config/policy.js'
import { decodeRecord } from '../../src/escrow/chain/records.js'
import { waitFor } from '../helpers/wait.js'
import { multiaddr } from '@multiformats/multiaddr'
import { TOPIC_OFFERS } from '../../src/protocols/gossip/topics.js'

const FAST = { N: 2 ** 10, r: 8, p: 1 }
const PW = 'correct horse'
/** prints "working" until the file $GO exists, then writes out.txt and exits */
const JOB = 'const fs = require("fs"); const t = setInterval(() => { console.log("working"); if (fs.existsSync(process.env.GO)) { fs.writeFileSync("out.txt", "done\\n"); clearInterval(t) } }, 300)'
/** JOB, and as its process exits it writes the file $EXITED */
const JOB_TELLING_EXIT = `process.on("exit", () => require("fs").writeFileSync(process.env.EXITED, "")); ${JOB}`

/** a TCP port nothing listens on now */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  return port
}

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

  /**
   * An arbiter, a supplier bootstrapped to it and a renter bootstrapped to both (the renter on
   * `renterChain`, the ledger by default), once the supplier's offer is in the renter's book.
   */
  async function network (names: { arbiter: string, supplier: string, renter: string }, opts: { supplier?: PartialConfig, renter?: PartialConfig, renterChain?: ChainPort, vault?: VoucherKeyVault } = {}): Promise<{ arbiter: BazaarNode, supplier: BazaarNode, renter: BazaarNode, chainCfg: { arbiter: string, arbiterPeer: string }, boot: string[] }> {
    const arbiter = await startDaemon(names.arbiter, 'arbiter', {}, ledger)
    const chainCfg = { arbiter: arbiter.identity.hotkey.address, arbiterPeer: arbiter.host.getMultiaddrs()[0].toString() }
    const supplier = await startDaemon(names.supplier, 'supplier', { chain: chainCfg, bootstrap: [chainCfg.arbiterPeer], ...opts.supplier }, ledger)
    const boot = [chainCfg.arbiterPeer, supplier.host.getMultiaddrs()[0].toString()]
    const renter = await startDaemon(names.renter, 'renter', { chain: chainCfg, bootstrap: boot, ...opts.renter }, opts.renterChain ?? ledger, opts.vault)
    await waitFor(() => renter.market.book.offers().length > 0, 30_000, 'the offer in the renter book')
    return { arbiter, supplier, renter, chainCfg, boot }
  }

  /** the escrow as the ledger holds it, checked closed and empty, with its close record's payouts to each side */
  async function closed (escrowId: string): Promise<{ settlement: string | undefined, paid: bigint, refunded: bigint, amount: bigint, terms: EscrowTermsOnChain }> {
    const onChain = (await ledger.get(escrowId))!
    expect(onChain.status).toBe('closed')
    expect(onChain.balance).toBe(0n)
    const doc = decodeRecord(onChain.records.find((r) => r.kind === 'close')!.remark)!
    expect(doc.kind).toBe('close')
    const payouts = doc.kind === 'open' ? [] : doc.payouts
    const paid = payouts.filter((p) => p.to === onChain.terms.payee).reduce((a, p) => a + BigInt(p.amount), 0n)
    const refunded = payouts.filter((p) => p.to === onChain.terms.payer).reduce((a, p) => a + BigInt(p.amount), 0n)
    return { settlement: doc.kind === 'open' ? undefined : doc.settlement, paid, refunded, amount: onChain.terms.amount, terms: onChain.terms }
  }

  /**
   * Rents JOB from `renter` (a never-ending job unless `$GO` is written: `<dir>/go-<tag>`, outputs in
   * `<dir>/out-<tag>`) and resolves once the supplier stored three vouchers; `seen` names the
   * escrow and the enclave, and counts the job's output lines.
   */
  async function rentUntilPaying (renter: BazaarNode, supplier: BazaarNode, h: string, tag: string, script = JOB): Promise<{ rent: Promise<RentSummary>, seen: { escrowId: string, enclave: string, enclaveAddrs: string[], lines: number }, go: string, exited: string, outputDir: string, stored: () => Promise<bigint> }> {
    const go = path.join(dir, `go-${tag}`)
    const exited = path.join(dir, `exited-${tag}`)
    const outputDir = path.join(dir, `out-${tag}`)
    const parsed = parseRentBody({ gpu: 'h100', count: 1, maxPricePerGpuHour: '1000000000', durationS: 120, teeKinds: ['simulated'], command: process.execPath, args: ['-e', script], env: { GO: go, EXITED: exited }, outputs: ['out.txt'], outputDir },
      { config: renter.config, home: home(h), now: Date.now() })
    const seen = { escrowId: '', enclave: '', enclaveAddrs: [] as string[], lines: 0 }
    const rent = renter.rent(parsed, {
      onEvent: (e) => {
        if (e.type === 'escrow') seen.escrowId = e.id
        if (e.type === 'attested') { seen.enclave = e.enclave; seen.enclaveAddrs = e.addrs }
        if (e.type === 'stdout') seen.lines++
      }
    })
    const stored = async (): Promise<bigint> => (await supplier.escrowDb!.vouchers.latest(seen.escrowId))?.sequence ?? 0n
    await waitFor(async () => seen.escrowId !== '' && await stored() >= 3n, 60_000, 'three stored vouchers')
    return { rent, seen, go, exited, outputDir, stored }
  }

  /**
   * The renter's session to `enclave` breaks while its dials wait, and the supplier's role restarts
   * (its running jobs go with it); returns what lets the renter's dials through again.
   */
  async function breakAndRestart (renter: BazaarNode, supplier: BazaarNode, enclave: string): Promise<() => void> {
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    const dial = renter.host.dial.bind(renter.host)
    Object.assign(renter.host, { dial: async (...a: Parameters<typeof dial>) => { await gate; return await dial(...a) } })
    for (const c of renter.host.getConnections().filter((c) => c.remotePeer.toString() === enclave)) c.abort(new Error('network gone'))
    await supplier.services.supplier!.restart()
    return open
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

  it('the restarted renter takes its job up again: it pays on, the job completes, its outputs arrive, then it settles; locked = paid + refunded', async () => {
    // vouchers may lag 3 s: the job is paused while its renter is away, and goes on once it pays again
    const vault = new VoucherKeyVault(home('bob'), PW, { scrypt: FAST })
    const dying = crashable(ledger)
    // this renter does not take its job up within the process (metering.reattachS 0): it is to die
    const { arbiter, supplier, renter, chainCfg, boot } = await network({ arbiter: 'ferdie', supplier: 'alice', renter: 'bob' },
      { renter: { metering: { tickS: 1, graceS: 3, reattachS: 0 } }, renterChain: dying.chain, vault })

    const go = path.join(dir, 'go')
    const outputDir = path.join(dir, 'out')
    const parsed = parseRentBody({ gpu: 'h100', count: 1, maxPricePerGpuHour: '1000000000', durationS: 120, teeKinds: ['simulated'], command: process.execPath, args: ['-e', JOB], env: { GO: go }, outputs: ['out.txt'], outputDir },
      { config: renter.config, home: home('bob'), now: Date.now() })
    let escrowId = ''
    let startedSeen = 0
    const rent = renter.rent(parsed, {
      onEvent: (e) => {
        if (e.type === 'escrow') escrowId = e.id
        if (e.type === 'started') startedSeen = Date.now()
      }
    }).then((s) => s.escrow.status, () => 'rejected')
    // a few vouchers paid: the renter stored each before sending it, the supplier before its ack
    await waitFor(async () => escrowId !== '' && ((await supplier.escrowDb!.vouchers.latest(escrowId))?.sequence ?? 0n) >= 3n, 60_000, 'three stored vouchers')
    expect(await vault.list()).toEqual([escrowId])
    // the record keeps the job's own start (not the attestation's): a restart's metering counts from it
    const running = (await renter.jobs.list({ role: 'renter' })).find((j) => j.state === 'running')
    expect(startedSeen).toBeGreaterThan(0)
    expect(running?.startedAt).toBeGreaterThanOrEqual(startedSeen)
    expect(running?.attach?.startedAt).toBe(running?.startedAt)

    // the renter dies: chain and network gone at once, nothing it does from here reaches anyone
    dying.crash()
    // as with a SIGKILL, nothing it writes after this lands: its job record stays "running"
    const gone = async (): Promise<never> => { throw new Error('process gone') }
    Object.assign(renter.jobs, { put: gone, transition: gone })
    for (const c of renter.host.getConnections()) c.abort(new Error('process gone'))
    // the rental ends without settling: the escrow's state cannot be read, and it stays for the restart
    expect(await rent).toBe('unknown')
    await renter.close()
    daemons.splice(daemons.indexOf(renter), 1)
    expect((await ledger.get(escrowId))?.status).toBe('open')
    // the supplier's job goes on without its renter
    expect(supplier.supplier!.jobs.find((j) => j.agreementId === escrowId.slice(2))?.reason).toBeUndefined()
    const paidBefore = (await supplier.escrowDb!.vouchers.latest(escrowId))!

    // a key whose escrow was never recorded (a stop between the two writes) goes at the restart
    await vault.create('0x' + 'ee'.repeat(32))
    // the same home again, on the real chain, its config now accepting another TEE kind than the
    // rental's: it takes the job up again, attesting the agreement's kind
    const again = await startDaemon('bob', 'renter', { chain: chainCfg, bootstrap: boot, market: { teeKinds: ['tdx'], minDurationS: 10, republishS: 5 } }, ledger, new VoucherKeyVault(home('bob'), PW, { scrypt: FAST }))
    await waitFor(() => /bazaar_sessions_total\{result="reattached",role="supplier"\} 1/.test(supplier.metrics.render()), 60_000, 'the renter re-attached')
    // it pays on from its last voucher: the supplier stores new ones
    await waitFor(async () => (await supplier.escrowDb!.vouchers.latest(escrowId))!.sequence > paidBefore.sequence, 60_000, 'a voucher after the restart')
    // the job finishes: its output comes back to the restarted renter
    writeFileSync(go, '')
    const resumed = await again.resumed
    expect(resumed).toHaveLength(1)
    expect(resumed[0]).toMatchObject({ escrowId, key: true, status: 'closed' })
    expect(resumed[0].job).toMatchObject({ reason: 'exited', exitCode: 0 })
    expect(resumed[0].job!.outputs.map((o) => o.name)).toEqual(['out.txt'])
    expect(readFileSync(path.join(outputDir, 'out.txt'), 'utf8')).toBe('done\n')

    const { settlement, paid, refunded, amount, terms: escrowTerms } = await closed(escrowId)
    // a cooperative close: the two approvals agreed
    expect(settlement).toBe('cooperative')
    expect(paid + refunded).toBe(amount)
    // paid is exactly the supplier's last stored voucher, signed by the renter's sealed key after the restart
    const supplierLatest = (await supplier.escrowDb!.vouchers.latest(escrowId))!
    expect(paid).toBe(supplierLatest.cumulative)
    expect(paid).toBeGreaterThan(paidBefore.cumulative)
    expect(verifyVoucher(supplierLatest, escrowTerms.voucherKey)).toBe(true)
    // the supplier ran one job, which exited, and settled it cooperatively
    await waitFor(() => supplier.supplier!.jobs.find((j) => j.agreementId === escrowId.slice(2))?.settledBy != null, 30_000, 'the supplier settled')
    expect(supplier.supplier!.jobs.filter((j) => j.agreementId === escrowId.slice(2))).toMatchObject([{ reason: 'exited', exitCode: 0, settledBy: 'cooperative' }])
    // the settled escrow's key is gone; the renter's job record shows the job's outcome
    expect(await vault.list()).toEqual([])
    expect(await readdir(homePaths(home('bob')).voucherKeys)).toEqual([])
    const jobs = await again.jobs.list({ role: 'renter' })
    expect(jobs).toHaveLength(1)
    expect(jobs[0]).toMatchObject({ state: 'succeeded', exitCode: 0, reason: 'exited', agreementId: escrowId.slice(2) })
    expect(jobs[0].outputs?.map((o) => o.name)).toEqual(['out.txt'])

    // the job's stream is over: a later attach is refused with a code, and so is another peer's
    const rental = { agreementId: escrowId.slice(2), startedAt: jobs[0].startedAt!, ...jobs[0].attach! }
    const init: RenterRoleInit = {
      node: again, chain: ledger, escrowDb: again.escrowDb!, agreements: again.agreements, account: again.identity.hotkey,
      arbiterAddress: chainCfg.arbiter, policy: attestationPolicyFromConfig(again.config), logger: silentLogger
    }
    const signer = VoucherSigner.generate()
    const terms = { ...escrowTerms, voucherKey: signer.publicKeyHex }
    const metrics = roleMetrics(again.metrics)
    await expect(reattachRental({ init, metrics, logger: silentLogger }, rental, terms, signer)).rejects.toMatchObject({ code: 'REMOTE_REJECTED', remoteCode: 'ATTACH_JOB_ENDED' })
    // another peer is refused at its session's hello, before the enclave shows any evidence: the
    // agreement's hash is public, in the escrow's open record
    await expect(reattachRental({ init: { ...init, node: arbiter as never }, metrics, logger: silentLogger }, rental, terms, signer)).rejects.toMatchObject({ code: 'SESSION_FAILED', cause: { code: 'UNKNOWN_AGREEMENT' } })
  }, 180_000)

  it('a renter whose session breaks mid-job takes the job up again without a restart: it pays on, the job completes, its outputs arrive, it settles; locked = paid + refunded', async () => {
    // a network of its own: the daemons of the test before leave it
    for (const d of daemons.splice(0).reverse()) await d.close()
    for (const [h, dev] of [['charlie', 'charlie'], ['dave', 'dave'], ['eve', 'eve']]) {
      await initHome({ home: home(h), passphrase: PW, dev, scrypt: FAST, supplier: h === 'dave' })
    }
    await ledger.mint((await openKeystore(home('charlie'), PW)).hotkey.address, 1_000_000_000_000n)
    const { supplier, renter } = await network({ arbiter: 'eve', supplier: 'dave', renter: 'charlie' }, { vault: new VoucherKeyVault(home('charlie'), PW, { scrypt: FAST }) })

    const { rent, seen, go, outputDir, stored } = await rentUntilPaying(renter, supplier, 'charlie', 'break')
    const { escrowId, enclave } = seen

    // the network breaks under the session: every connection between the renter and the enclave drops
    const toEnclave = renter.host.getConnections().filter((c) => c.remotePeer.toString() === enclave)
    expect(toEnclave.length).toBeGreaterThan(0)
    for (const c of toEnclave) c.abort(new Error('network gone'))
    // the same daemon takes the job up again on a new attested session
    await waitFor(() => /bazaar_sessions_total\{result="reattached",role="supplier"\} 1/.test(supplier.metrics.render()), 60_000, 'the renter re-attached')
    expect(renter.metrics.render()).toMatch(/bazaar_sessions_total\{result="reattached",role="renter"\} 1/)
    // it pays on, and the job's live output goes on reaching the rental
    const seqAfter = await stored()
    const linesAfter = seen.lines
    await waitFor(async () => await stored() >= seqAfter + 2n && seen.lines > linesAfter, 60_000, 'vouchers and output after the break')
    writeFileSync(go, '')
    const summary = await rent

    expect(summary.job).toMatchObject({ reason: 'exited', exitCode: 0 })
    expect(summary.job.outputs.map((o) => o.name)).toEqual(['out.txt'])
    expect(readFileSync(path.join(outputDir, 'out.txt'), 'utf8')).toBe('done\n')
    // the ledger's own view: closed cooperatively on the supplier's last stored voucher, nothing left
    const { settlement, paid, refunded, amount } = await closed(escrowId)
    expect(settlement).toBe('cooperative')
    expect(paid + refunded).toBe(amount)
    const supplierLatest = (await supplier.escrowDb!.vouchers.latest(escrowId))!
    expect(paid).toBe(supplierLatest.cumulative)
    expect(supplierLatest.sequence).toBeGreaterThanOrEqual(seqAfter + 2n)
    expect(summary.escrow.paid).toBe(paid.toString())
    // one job at the supplier, which exited and was settled cooperatively; the renter counted one job
    await waitFor(() => supplier.supplier!.jobs.find((j) => j.agreementId === escrowId.slice(2))?.settledBy != null, 30_000, 'the supplier settled')
    expect(supplier.supplier!.jobs.filter((j) => j.agreementId === escrowId.slice(2))).toMatchObject([{ reason: 'exited', exitCode: 0, settledBy: 'cooperative' }])
    expect(renter.metrics.render()).toMatch(/bazaar_jobs_total\{reason="exited",role="renter"\} 1/)
  }, 180_000)

  it('a renter away when its job exits pays for the job up to the exit once it re-attaches, and gets the exit and outputs', async () => {
    // the homes of the test before, with daemons of their own; a grace window longer than the
    // renter's absence, so that the unpaid job is not paused before it exits
    for (const d of daemons.splice(0).reverse()) await d.close()
    const { supplier, renter } = await network({ arbiter: 'eve', supplier: 'dave', renter: 'charlie' }, {
      supplier: { metering: { tickS: 1, graceS: 60 } },
      renter: { metering: { tickS: 1, graceS: 60 } },
      vault: new VoucherKeyVault(home('charlie'), PW, { scrypt: FAST })
    })
    const { rent, seen: { escrowId, enclave }, go, exited, outputDir, stored } = await rentUntilPaying(renter, supplier, 'charlie', 'exit-away', JOB_TELLING_EXIT)
    // the renter's dials wait while its session is broken and the job exits
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    const dial = renter.host.dial.bind(renter.host)
    Object.assign(renter.host, { dial: async (...a: Parameters<typeof dial>) => { await gate; return await dial(...a) } })
    for (const c of renter.host.getConnections().filter((c) => c.remotePeer.toString() === enclave)) c.abort(new Error('network gone'))
    writeFileSync(go, '')
    // the job's process is gone (it wrote $EXITED as it exited): only then may the renter come back
    await waitFor(() => existsSync(exited), 30_000, 'the job exiting with its renter away')
    // what the supplier holds now: no voucher can reach it while the renter is away, and no usage
    // report is made after the exit but the last one
    const beforeExit = (await supplier.escrowDb!.vouchers.latest(escrowId))!
    open()
    const summary = await rent

    expect(summary.job).toMatchObject({ reason: 'exited', exitCode: 0 })
    expect(readFileSync(path.join(outputDir, 'out.txt'), 'utf8')).toBe('done\n')
    expect(renter.metrics.render()).toMatch(/bazaar_sessions_total\{result="reattached",role="renter"\} 1/)
    // the supplier's last voucher answers a report made after the break: the job's last report, up
    // to its exit (before, a renter away at the exit paid up to the last report it had answered)
    const last = (await supplier.escrowDb!.vouchers.latest(escrowId))!
    expect(last.sequence).toBeGreaterThan(beforeExit.sequence)
    expect(last.cumulative).toBeGreaterThan(beforeExit.cumulative)
    expect(await stored()).toBe(last.sequence)
    const { settlement, paid, refunded, amount } = await closed(escrowId)
    expect(settlement).toBe('cooperative')
    expect(paid).toBe(last.cumulative)
    expect(paid + refunded).toBe(amount)
    expect(summary.escrow.paid).toBe(paid.toString())
  }, 180_000)

  it('a renter that cannot reach the enclave again gives up once its metering.reattachS passed: the job counts as failed and the escrow settles on the last voucher', async () => {
    // the homes of the test before, with daemons of its own
    for (const d of daemons.splice(0).reverse()) await d.close()
    // both sides wait briefly: the supplier 2 s for its renter, the renter 3 s for the enclave
    const { supplier, renter } = await network({ arbiter: 'eve', supplier: 'dave', renter: 'charlie' }, {
      supplier: { metering: { tickS: 1, graceS: 3, reattachS: 2 } },
      renter: { metering: { tickS: 1, graceS: 3, reattachS: 3 } },
      vault: new VoucherKeyVault(home('charlie'), PW, { scrypt: FAST })
    })
    const { rent, seen: { escrowId, enclave } } = await rentUntilPaying(renter, supplier, 'charlie', 'never')
    // the way to the enclave is gone for good: its connections drop and no dial gets through
    Object.assign(renter.host, { dial: async (): Promise<never> => { throw new Error('no route to host') } })
    for (const c of renter.host.getConnections().filter((c) => c.remotePeer.toString() === enclave)) c.abort(new Error('network gone'))
    const summary = await rent
    expect(summary.job.reason).toBe('failed')
    // how the session broke, then the last attempt's failure and the window it was tried in
    expect(summary.job.detail).toMatch(/^[A-Z_]+, not taken up again: the enclave's session was refused: .+, tried for 3 s \(metering\.reattachS\)$/)
    expect(summary.job.outputs).toEqual([])
    // it tried: each new session was refused (no route), none re-attached
    const refused = Number(/bazaar_sessions_total\{result="refused",role="renter"\} (\d+)/.exec(renter.metrics.render())?.[1] ?? 0)
    expect(refused).toBeGreaterThanOrEqual(1)
    expect(renter.metrics.render()).not.toMatch(/result="reattached",role="renter"/)
    // the supplier stopped the job once its own wait passed; the escrow closed on the last voucher, nothing left
    const { paid, refunded, amount } = await closed(escrowId)
    expect(paid + refunded).toBe(amount)
    expect(paid).toBe((await supplier.escrowDb!.vouchers.latest(escrowId))!.cumulative)
    expect(summary.escrow.paid).toBe(paid.toString())
  }, 180_000)

  it('a renter whose supplier restarted under a broken session stops at the enclave\'s refusal: one attempt, the job counts as failed, the escrow settles', async () => {
    // the homes of the tests before, with daemons of their own; the renter's window is the default 120 s
    for (const d of daemons.splice(0).reverse()) await d.close()
    // the enclave listens where it did before the restart, so the renter reaches it and hears its answer
    const port = await freePort()
    const { supplier, renter } = await network({ arbiter: 'eve', supplier: 'dave', renter: 'charlie' }, {
      supplier: { tee: { provider: 'simulated', allowSimulated: true, enclaveListen: [`/ip4/127.0.0.1/tcp/${port}`] } },
      vault: new VoucherKeyVault(home('charlie'), PW, { scrypt: FAST })
    })
    const { rent, seen: { escrowId, enclave } } = await rentUntilPaying(renter, supplier, 'charlie', 'refused')
    // the renter's dials wait while the session breaks and the supplier's role restarts (its running jobs go with it)
    const open = await breakAndRestart(renter, supplier, enclave)
    open()
    const summary = await rent
    expect(summary.job.reason).toBe('failed')
    // one new session, refused by the restarted enclave (UNKNOWN_AGREEMENT: its recovery closed the
    // agreement), and no second try although the renter's window (120 s) was far from over
    expect(renter.metrics.render()).toMatch(/bazaar_sessions_total\{result="refused",role="renter"\} 1\n/)
    expect(renter.metrics.render()).not.toMatch(/result="reattached",role="renter"/)
    const { paid, refunded, amount } = await closed(escrowId)
    expect(paid + refunded).toBe(amount)
  }, 180_000)

  it('a renter whose supplier restarted with its enclave on a new port dials the port its re-published offer gives: refused by the enclave, the job counts as failed and says why', async () => {
    // the homes of the tests before, with daemons of their own; the enclave on a free port (the default), the renter's window the default 120 s
    for (const d of daemons.splice(0).reverse()) await d.close()
    const { supplier, renter } = await network({ arbiter: 'eve', supplier: 'dave', renter: 'charlie' }, {
      vault: new VoucherKeyVault(home('charlie'), PW, { scrypt: FAST })
    })
    const { rent, seen: { escrowId, enclave, enclaveAddrs: before } } = await rentUntilPaying(renter, supplier, 'charlie', 'moved')
    expect(before.length).toBeGreaterThan(0)
    // the rental took the offer's only GPU: the renter's book holds it again once it is re-published
    const enclaveAddrsInBook = (): string[] => renter.market.book.offers().flatMap((e) => e.offer.addrs.map((a) => multiaddr(a).toString())).filter((a) => a.endsWith(`/p2p/${enclave}`))
    // the renter's dials wait while the session breaks and the supplier's role restarts: its enclave comes back elsewhere
    const open = await breakAndRestart(renter, supplier, enclave)
    // the re-published offer reaches the renter's book with the enclave's new address
    await waitFor(() => enclaveAddrsInBook().some((a) => !before.includes(a)), 30_000, 'the offer with the enclave\'s new address')
    open()
    const summary = await rent
    expect(summary.job.reason).toBe('failed')
    // how the session broke, then why the rental gave up
    expect(summary.job.detail).toMatch(/^[A-Z_]+, not taken up again: the enclave answered UNKNOWN_AGREEMENT: its supplier restarted or ended the agreement$/)
    // an attempt made while the dials waited may have gone to the old address (refused by the
    // system); the next goes to the new one and ends it. The code before dialled the old address
    // until the renter's 120 s had passed (15 attempts)
    const refused = Number(/bazaar_sessions_total\{result="refused",role="renter"\} (\d+)/.exec(renter.metrics.render())?.[1] ?? 0)
    expect(refused).toBeGreaterThanOrEqual(1)
    expect(refused).toBeLessThanOrEqual(2)
    expect(renter.metrics.render()).not.toMatch(/result="reattached",role="renter"/)
    const { paid, refunded, amount } = await closed(escrowId)
    expect(paid + refunded).toBe(amount)
  }, 180_000)

  it('a renter that missed its supplier\'s re-published offer asks the supplier\'s node for it once the enclave\'s old port refuses: refused by the enclave, the job counts as failed and says why', async () => {
    for (const d of daemons.splice(0).reverse()) await d.close()
    // the enclave on a free port (the default); the supplier re-publishes only as it restarts
    const { arbiter, supplier, renter } = await network({ arbiter: 'eve', supplier: 'dave', renter: 'charlie' }, {
      supplier: { market: { teeKinds: ['simulated'], minDurationS: 10, republishS: 600, offerTtlS: 3600 } },
      vault: new VoucherKeyVault(home('charlie'), PW, { scrypt: FAST })
    })
    const { rent, seen: { escrowId, enclave, enclaveAddrs: before } } = await rentUntilPaying(renter, supplier, 'charlie', 'missed')
    const movedIn = (n: BazaarNode): boolean => n.market.book.offers().some((e) => e.offer.addrs.map((a) => multiaddr(a).toString()).some((a) => a.endsWith(`/p2p/${enclave}`) && !before.includes(a)))
    // the renter hears no offers while its supplier restarts: the re-publication passes it by, and
    // it listens again once no peer holds that message for gossip any more
    const pubsub = renter.host.services.pubsub
    pubsub.unsubscribe(TOPIC_OFFERS)
    const open = await breakAndRestart(renter, supplier, enclave)
    await waitFor(() => movedIn(arbiter), 30_000, 'the re-published offer at the arbiter')
    // (bids go on being published: only offers count)
    const gossiped = (n: BazaarNode): number => [...(n.host.services.pubsub as unknown as { mcache: { msgs: Map<string, { message: { topic: string } }> } }).mcache.msgs.values()].filter((r) => r.message.topic === TOPIC_OFFERS).length
    await waitFor(() => gossiped(arbiter) === 0 && gossiped(supplier) === 0, 30_000, 'the re-publication out of the gossip caches')
    pubsub.subscribe(TOPIC_OFFERS)
    expect(movedIn(renter)).toBe(false)
    open()
    const summary = await rent
    expect(summary.job.reason).toBe('failed')
    // the old port refused, the supplier's node gave its offer, and the enclave at the new port
    // answered. The code before dialled the old address until a later publication of the offer
    // reached the renter by gossip (9 refused attempts)
    expect(summary.job.detail).toMatch(/^[A-Z_]+, not taken up again: the enclave answered UNKNOWN_AGREEMENT: its supplier restarted or ended the agreement$/)
    expect(movedIn(renter)).toBe(true)
    const refused = Number(/bazaar_sessions_total\{result="refused",role="renter"\} (\d+)/.exec(renter.metrics.render())?.[1] ?? 0)
    expect(refused).toBeGreaterThanOrEqual(1)
    expect(refused).toBeLessThanOrEqual(2)
    const { paid, refunded, amount } = await closed(escrowId)
    expect(paid + refunded).toBe(amount)
  }, 180_000)

  it('a renter daemon takes back an escrow its supplier left open past its expiry, once, and forgets its voucher key', async () => {
    // the daemons of the test before: charlie rents from dave with eve as arbiter, keys in charlie's vault
    const [arbiter, supplier, renter] = daemons
    const vault = new VoucherKeyVault(home('charlie'), PW, { scrypt: FAST })
    const escrowId = '0x' + randomBytes(32).toString('hex')
    const key = await vault.create(escrowId)
    const terms = {
      escrowId, agreementHash: '0x' + randomBytes(32).toString('hex'), payer: renter!.identity.hotkey.address, payee: supplier!.identity.hotkey.address,
      arbiter: arbiter!.identity.hotkey.address, amount: 250_000_000n, netuid: 1, voucherKey: key.publicKeyHex,
      expiresAt: Date.now() + 1_000
    }
    const before = await ledger.balance(terms.payer)
    await renter!.renter!.escrow.open(terms)
    expect(await ledger.balance(terms.payer)).toBe(before - terms.amount)
    // before expiry, and within the grace after it, the escrow is the supplier's to close
    expect(await renter!.services.renter!.refundExpired({ graceMs: 0 })).toEqual([])
    await waitFor(() => Date.now() > terms.expiresAt, 10_000, 'the escrow\'s expiry')
    expect(await renter!.services.renter!.refundExpired()).toEqual([])
    // the supplier never closed it: with the grace over (0 here), the money comes back
    const done = await renter!.services.renter!.refundExpired({ graceMs: 0 })
    expect(done).toEqual([{ escrowId, kind: 'refund', paid: '0', refunded: '250000000', executed: true }])
    expect(await ledger.get(escrowId)).toMatchObject({ status: 'refunded', balance: 0n })
    expect(await ledger.balance(terms.payer)).toBe(before)
    expect(await vault.list()).not.toContain(escrowId)
    expect(await renter!.services.renter!.refundExpired()).toEqual([])
  })

  it('an escrow whose rental ended with it still open is followed: once the supplier settles it, its key goes and the job record says how, before any expiry', async () => {
    // the daemons of the test before
    const [, supplier, renter] = daemons
    const vault = new VoucherKeyVault(home('charlie'), PW, { scrypt: FAST })
    const escrowId = '0x' + randomBytes(32).toString('hex')
    const key = await vault.create(escrowId)
    const terms = {
      escrowId, agreementHash: '0x' + randomBytes(32).toString('hex'), payer: renter!.identity.hotkey.address, payee: supplier!.identity.hotkey.address,
      arbiter: daemons[0]!.identity.hotkey.address, amount: 250_000_000n, netuid: 1, voucherKey: key.publicKeyHex,
      expiresAt: Date.now() + 3_600_000
    }
    await renter!.renter!.escrow.open(terms)
    const now = Date.now()
    await renter!.jobs.put({ id: 'job-later', role: 'renter', state: 'failed', agreementId: escrowId.slice(2), command: 'true', args: [], gpuCount: 1, createdAt: now, updatedAt: now, exitCode: -1, reason: 'failed' })
    // the rental ended with its close approved (nothing used: all of it back), waiting for the supplier
    expect((await renter!.renter!.escrow.close(escrowId, { mode: 'cooperative' })).executed).toBe(false)
    expect(await renter!.services.renter!.refundExpired()).toEqual([])
    expect(await vault.list()).toContain(escrowId)
    expect((await renter!.jobs.get('renter', 'job-later'))?.settlement).toBeUndefined()
    // the supplier approves it an hour before the escrow's expiry: it executes
    await supplier!.supplier!.escrow.track(terms)
    expect((await supplier!.supplier!.escrow.close(escrowId, { mode: 'cooperative' })).executed).toBe(true)
    // the next look finds it settled; before, its key and the job record waited for the expiry
    expect(await renter!.services.renter!.refundExpired()).toEqual([])
    expect(await vault.list()).not.toContain(escrowId)
    expect((await renter!.jobs.get('renter', 'job-later'))?.settlement).toEqual({ paid: '0', refunded: '250000000', settledBy: 'cooperative' })
    expect(await ledger.get(escrowId)).toMatchObject({ status: 'closed', balance: 0n })
  })
})
