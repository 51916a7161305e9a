/**
 * The daemon's roles as a user runs them.
 *
 * 1. Daemons in separate processes (`bazaar supply`, `bazaar node start --role renter`) on the
 *    default embedded chain: the supplier's offer reaches the renter's book, the routes answer, and
 *    a rent is refused at once: an embedded ledger lives in one process, so no escrow the renter
 *    could open would be visible to the supplier.
 * 2. Daemons that share one ledger: supplier, renter and arbiter nodes built from their homes in
 *    this process by BazaarNode.init, as `bazaar node start` builds them (each a real node with its control API on TCP), driven by the real CLI in child
 *    processes: `bazaar rent` streams a job and settles, `bazaar jobs` and `bazaar escrow` show it,
 *    Ctrl-C cancels a rent and the escrow still closes.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bazaar, CliProcess, ensureBuilt } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'
import { BazaarNode } from '../../src/node/bazaar-node.js'
import type { AgreementView, JobView } from '../../src/node/daemon-routes.js'
import { loadConfig, type PartialConfig, type Role } from '../../src/node/config/index.js'
import { homePaths } from '../../src/node/home.js'
import { loadOrCreateEnclaveKey, openKeystore, readApiToken } from '../../src/node/keystore/index.js'
import { silentLogger } from '../../src/node/logger.js'
import { EmbeddedLedger, type EscrowDetail, type EscrowSummary } from '../../src/escrow/index.js'
import type { RentSummary } from '../../src/node/roles/renter.js'
import { AGREEMENT_RETENTION_MS } from '../../src/market/constants.js'

const PASSPHRASE = 'correct horse'
const env = { BAZAAR_PASSPHRASE: PASSPHRASE }

/** a supplier/renter config of a devnet: configured GPUs, simulated enclaves accepted */
function writeConfig (home: string, extra: Record<string, unknown> = {}): void {
  writeFileSync(homePaths(home).config, JSON.stringify({
    gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 2 }],
    tee: { provider: 'simulated', allowSimulated: true },
    market: { teeKinds: ['simulated'], minDurationS: 10, republishS: 5 },
    metering: { tickS: 1, graceS: 3 },
    ...extra
  }))
}

/** runs the CLI without blocking this process (whose daemons must keep serving) */
async function cli (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const p = new CliProcess(args, { env })
  const code = await p.exited
  return { code, stdout: p.stdout, stderr: p.stderr }
}

const JOB = `
const fs = require('node:fs')
let i = 0
const t = setInterval(() => {
  console.log('tick ' + (++i))
  if (i === 3) { clearInterval(t); fs.writeFileSync('out.txt', 'done after ' + i + ' ticks\\n'); console.error('bye') }
}, 700)
`
/** 1 alpha per GPU-hour, 1 GPU, 2 minutes, rounded up to a whole rao */
const BUDGET = ((1_000_000_000n * 120n + 3599n) / 3600n).toString()
const LONG_JOB = `setInterval(() => console.log('working'), 500)`

describe('daemon roles', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-daemon-roles-'))
  const home = (n: string): string => path.join(dir, n)

  beforeAll(() => {
    ensureBuilt()
    for (const [h, dev] of [['a-alice', 'alice'], ['a-bob', 'bob'], ['b-alice', 'alice'], ['b-bob', 'bob'], ['b-ferdie', 'ferdie']]) {
      const r = bazaar(['init', '--home', home(h), '--dev', dev, '--json'], { env })
      expect(r.code, r.stderr).toBe(0)
      writeConfig(home(h), h === 'a-bob' || h === 'a-alice' ? { chain: { arbiter: '5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy' } } : {})
    }
  }, 120_000)

  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

  it('separate processes on the embedded chain: offers travel, routes answer, a rent is refused at once', async () => {
    const alice = new CliProcess(['supply', '--home', home('a-alice'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'], { env })
    let bob: CliProcess | undefined
    try {
      const [, addr] = await alice.waitFor(/listening (\S+)/)
      await alice.waitFor(/supplying from enclave/)
      await alice.waitFor(/control API/)
      expect(alice.stdout).toMatch(/role supplier, .* chain embedded \(in this process only/)
      bob = new CliProcess(['node', 'start', '--role', 'renter', '--home', home('a-bob'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns', '--bootstrap', addr], { env })
      await bob.waitFor(/control API/)

      // the supplier's offer (its configured GPUs, its enclave's TEE kind) reaches the renter's book;
      // waited for through the control API (a CLI run per poll costs seconds on a busy machine)
      const api = JSON.parse(readFileSync(path.join(home('a-bob'), 'api.json'), 'utf8')) as { url: string }
      const token = await readApiToken(home('a-bob'))
      await waitFor(async () => {
        const r = await fetch(`${api.url}/v1/book?gpu=h100`, { headers: { authorization: `Bearer ${token}` } })
        return r.ok && ((await r.json()) as { offers: unknown[] }).offers.length > 0
      }, 30_000, "the supplier's offer in the renter's book")
      expect(bazaar(['book', '--home', home('a-bob'), '--discover', 'h100', '--json']).code).toBe(0)
      const book = JSON.parse(bazaar(['book', '--home', home('a-bob'), '--json']).stdout) as { offers: Array<{ id: string, gpus: unknown[], teeKinds: string[] }> }
      expect(book.offers[0]).toMatchObject({ id: 'h100-80gb', gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 2 }], teeKinds: ['simulated'] })

      for (const h of ['a-alice', 'a-bob']) {
        const jobs = bazaar(['jobs', '--home', home(h), '--json'])
        expect(jobs.code, jobs.stderr).toBe(0)
        expect(JSON.parse(jobs.stdout)).toEqual([])
        const escrows = bazaar(['escrow', 'ls', '--home', home(h), '--json'])
        expect(escrows.code, escrows.stderr).toBe(0)
        expect(JSON.parse(escrows.stdout)).toEqual([])
      }
      const agreements = await fetch(`${api.url}/v1/agreements`, { headers: { authorization: `Bearer ${token}` } })
      expect(await agreements.json()).toEqual([])
      const unknown = await fetch(`${api.url}/v1/escrows/0x${'00'.repeat(32)}`, { headers: { authorization: `Bearer ${token}` } })
      expect(unknown.status).toBe(404)
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('UNKNOWN_ESCROW')
      const refused = await fetch(`${api.url}/v1/rent`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ gpu: 'h100', count: 1, maxPricePerGpuHour: '2000000000', durationS: 60, command: 'true' })
      })
      expect(refused.status).toBe(409)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('CHAIN_NOT_SHARED')

      // through the CLI: one line, non-zero; usage mistakes exit 2
      const rent = bazaar(['rent', '--home', home('a-bob'), '--gpu', 'h100', '--max-price', '2', '--duration', '1m', '--', 'true'])
      expect(rent.code).toBe(1)
      expect(rent.stderr.trim().split('\n')).toHaveLength(1)
      expect(bazaar(['rent', '--home', home('a-bob'), '--max-price', '2', '--duration', '1m', '--', 'true']).code).toBe(2)
      expect(bazaar(['rent', '--home', home('a-bob'), '--gpu', 'h100', '--max-price', '2', '--duration', '1m']).code).toBe(2)
      expect(bazaar(['escrow', 'show', '0xnope', '--home', home('a-bob')]).code).toBe(2)
      expect(bazaar(['escrow', 'frobnicate', '--home', home('a-bob')]).code).toBe(2)
    } finally {
      await bob?.stop()
      expect(await alice.stop()).toBe(0)
    }
  // two daemon starts and a dozen CLI runs: two minutes on a busy 2-core machine
  }, 240_000)

  it('bazaar arbiter runs a node with the arbiter role and stops cleanly', async () => {
    const arbiter = new CliProcess(['arbiter', '--home', home('a-bob'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'], { env })
    try {
      await arbiter.waitFor(/control API/)
      expect(arbiter.stdout).toMatch(/role arbiter, hotkey 5\S+, chain embedded/)
      expect(arbiter.stdout).not.toMatch(/supplying/)
      const jobs = bazaar(['jobs', '--home', home('a-bob'), '--json'])
      expect(JSON.parse(jobs.stdout)).toEqual([])
    } finally {
      expect(await arbiter.stop('SIGINT')).toBe(0)
    }
  }, 60_000)

  describe('daemons sharing one ledger, driven by the CLI', () => {
    const daemons: BazaarNode[] = []
    let ledger: EmbeddedLedger
    let bobApi = ''
    let aliceApi = ''

    async function startDaemon (h: string, role: Role, flags: PartialConfig, chain: EmbeddedLedger): Promise<BazaarNode> {
      const config = await loadConfig({ home: home(h), env: {}, flags: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, api: { host: '127.0.0.1', port: 0 }, role, ...flags } })
      const identity = await openKeystore(home(h), PASSPHRASE)
      const enclave = role === 'supplier' || role === 'both' ? await loadOrCreateEnclaveKey(home(h), PASSPHRASE) : undefined
      // the routes of the roles are registered by the root, before its control API listens
      const daemon = await BazaarNode.init({ config, identity, home: home(h), apiToken: await readApiToken(home(h)), enclaveKey: enclave, logger: silentLogger, chain, runNvidiaSmi: async () => ({ absent: true }) })
      daemons.push(daemon)
      return daemon
    }

    beforeAll(async () => {
      const bobHotkey = (await openKeystore(home('b-bob'), PASSPHRASE)).hotkey.address
      ledger = await EmbeddedLedger.open({ netuid: 1, genesis: [{ address: bobHotkey, amount: 1_000_000_000_000n }] })
      const arbiter = await startDaemon('b-ferdie', 'arbiter', {}, ledger)
      const chain = { arbiter: arbiter.identity.hotkey.address, arbiterPeer: arbiter.host.getMultiaddrs()[0].toString() }
      const alice = await startDaemon('b-alice', 'supplier', { chain, bootstrap: [chain.arbiterPeer] }, ledger)
      const bob = await startDaemon('b-bob', 'renter', { chain, bootstrap: [chain.arbiterPeer, alice.host.getMultiaddrs()[0].toString()] }, ledger)
      aliceApi = `127.0.0.1:${alice.apiAddress!.port}`
      bobApi = `127.0.0.1:${bob.apiAddress!.port}`
      await waitFor(() => bob.market.book.offers().length > 0, 30_000, 'an offer in the book')
    }, 120_000)

    afterAll(async () => {
      for (const d of daemons.reverse()) await d.close()
      await ledger?.close()
    }, 120_000)

    it('bazaar rent runs the job, fetches its output and settles; jobs, escrow and agreements show it', async () => {
      const outDir = path.join(dir, 'out')
      mkdirSync(outDir)
      const r = await cli(['rent', '--home', home('b-bob'), '--api', bobApi, '--gpu', 'h100', '--max-price', '2', '--duration', '2m', '--tee', 'simulated',
        '--output', 'out.txt', '--output', 'never.txt', '--output-dir', outDir, '--', process.execPath, '-e', JOB])
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toMatch(/matched supplier \S+ \(offer h100-80gb\) at 1 α\/GPU-hour, tee simulated/)
      expect(r.stdout).toMatch(/escrow 0x[0-9a-f]{64} opened: 0\.033333334 α locked \(alpha\)/)
      expect(r.stdout).toMatch(/WARNING: a SIMULATED enclave was accepted/)
      expect(r.stdout).toMatch(/ {2}\| tick 3/)
      expect(r.stdout).toMatch(/ {2}! bye/)
      expect(r.stdout).toMatch(/ {2}\[0:0[0-9]\] spent [0-9.]+ α/)
      const file = readFileSync(path.join(outDir, 'out.txt'))
      expect(file.toString()).toBe('done after 3 ticks\n')
      expect(r.stdout).toContain(`output out.txt (${file.byteLength} bytes) sha256 ${createHash('sha256').update(file).digest('hex')}`)
      // an output asked for and never written is named as such
      expect(r.stdout).toMatch(/output never\.txt(: not written by the job| → \(not written\))/)
      const settled = /settled: paid ([0-9.]+) α to the supplier, refunded ([0-9.]+) α/.exec(r.stdout)
      expect(settled).not.toBeNull()

      const json = (res: { code: number | null, stdout: string, stderr: string }): unknown => {
        expect(res.code, res.stderr).toBe(0)
        return JSON.parse(res.stdout)
      }
      const renterJobs = json(await cli(['jobs', '--home', home('b-bob'), '--api', bobApi, '--json'])) as JobView[]
      expect(renterJobs).toHaveLength(1)
      expect(renterJobs[0]).toMatchObject({ role: 'renter', state: 'succeeded', exitCode: 0, reason: 'exited', outputs: [{ name: 'out.txt' }], settledBy: 'cooperative' })
      // the renter's record keeps what the escrow paid and returned: all of the budget
      expect(BigInt(renterJobs[0].paid!) + BigInt(renterJobs[0].refunded!)).toBe(BigInt(BUDGET))
      const supplierJobs = json(await cli(['jobs', '--home', home('b-alice'), '--api', aliceApi, '--json'])) as JobView[]
      expect(supplierJobs).toHaveLength(1)
      expect(supplierJobs[0]).toMatchObject({ role: 'supplier', state: 'succeeded', agreementId: renterJobs[0].agreementId, settledBy: 'cooperative', paid: renterJobs[0].paid })
      // and so does the supplier's, which a restart reads back (the view of this run is in memory)
      const aliceNode = daemons.find((d) => d.apiAddress?.port === Number(aliceApi.split(':')[1]))!
      expect((await aliceNode.jobs.list({ role: 'supplier' }))[0].settlement).toEqual({ paid: renterJobs[0].paid, settledBy: 'cooperative' })

      const escrows = json(await cli(['escrow', 'ls', '--home', home('b-bob'), '--api', bobApi, '--json'])) as EscrowSummary[]
      expect(escrows).toHaveLength(1)
      expect(escrows[0]).toMatchObject({ escrowId: '0x' + renterJobs[0].agreementId!, role: 'payer', status: 'closed', amount: BUDGET })
      // the supplier was paid its latest voucher, the same one the renter stored
      expect(escrows[0].latestVoucher?.cumulative).toBe(supplierJobs[0].paid)
      const detail = json(await cli(['escrow', 'show', escrows[0].escrowId, '--home', home('b-alice'), '--api', aliceApi, '--json'])) as EscrowDetail
      expect(detail.role).toBe('payee')
      expect(detail.records.map((x) => x.kind)).toEqual(['open', 'close'])
      // closing it again says how it closed, in one line: no error
      const again = await cli(['escrow', 'close', escrows[0].escrowId, '--home', home('b-bob'), '--api', bobApi])
      expect(again.code, again.stderr).toBe(0)
      expect(again.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${escrows[0].escrowId} was already closed \\(cooperative\\): .* \\(block #\\d+ 0x[0-9a-f]+\\)$`))])
      // a close with the arbiter of it is refused, in one line
      const arbiter = await cli(['escrow', 'close', escrows[0].escrowId, '--arbiter', '--home', home('b-alice'), '--api', aliceApi])
      expect(arbiter.code).toBe(1)
      expect(arbiter.stderr.trim().split('\n')).toHaveLength(1)

      const token = await readApiToken(home('b-bob'))
      const agreements = await (await fetch(`http://${bobApi}/v1/agreements`, { headers: { authorization: `Bearer ${token}` } })).json() as AgreementView[]
      expect(agreements).toHaveLength(1)
      expect(agreements[0]).toMatchObject({ id: renterJobs[0].agreementId, role: 'renter', gpuModel: 'h100-80gb', gpuCount: 1, pricePerGpuHour: '1000000000', budget: BUDGET, teeKind: 'simulated' })
    }, 120_000)

    it('Ctrl-C on bazaar rent cancels the job on the supplier and the escrow still closes', async () => {
      const p = new CliProcess(['rent', '--home', home('b-bob'), '--api', bobApi, '--gpu', 'h100', '--max-price', '2', '--duration', '2m', '--tee', 'simulated', '--', process.execPath, '-e', LONG_JOB], { env })
      await p.waitFor(/ {2}\| working/, 60_000)
      await p.waitFor(/spent [0-9.]*[1-9][0-9]* α/, 30_000)
      p.child.kill('SIGINT')
      expect(await p.exited).toBe(130)
      expect(p.stdout).toMatch(/cancelled; escrow 0x[0-9a-f]{64} is closed, latest voucher [0-9.]+ α/)
      const token = await readApiToken(home('b-bob'))
      await waitFor(async () => {
        const jobs = await (await fetch(`http://${bobApi}/v1/jobs`, { headers: { authorization: `Bearer ${token}` } })).json() as JobView[]
        return jobs.some((j) => j.state === 'cancelled')
      }, 30_000, 'the cancelled job in the renter daemon')
      const aliceToken = await readApiToken(home('b-alice'))
      const supplied = await (await fetch(`http://${aliceApi}/v1/jobs`, { headers: { authorization: `Bearer ${aliceToken}` } })).json() as JobView[]
      expect(supplied.map((j) => j.state).sort()).toEqual(['cancelled', 'succeeded'])
    }, 120_000)

    it('bazaar rent --json prints one object: the rental summary', async () => {
      const r = await cli(['rent', '--home', home('b-bob'), '--api', bobApi, '--gpu', 'h100-80gb', '--max-price', '1.5', '--duration', '1m', '--tee', 'any', '--json',
        '--', process.execPath, '-e', 'console.log("hi")'])
      expect(r.code, r.stderr).toBe(0)
      const lines = r.stdout.trim().split('\n')
      expect(lines).toHaveLength(1)
      const s = JSON.parse(lines[0]) as RentSummary
      expect(s.attestation).toMatchObject({ ok: true, kind: 'simulated' })
      expect(s.job).toMatchObject({ exitCode: 0, reason: 'exited', outputs: [] })
      expect(BigInt(s.escrow.paid) + BigInt(s.escrow.refunded)).toBe(BigInt(s.escrow.locked))
      expect(s.escrow.status).toBe('closed')
      expect(s.escrow.records.map((x) => x.kind)).toEqual(['open', 'close'])
    }, 120_000)

    it('a daemon prunes dormant agreements past the retention and keeps the active ones', async () => {
      const bob = daemons[daemons.length - 1]
      const active = await bob.agreements.list({ status: 'active' })
      expect(active.length).toBeGreaterThan(0)
      // a proposal that lapsed long ago (made up: terms are stored as bytes)
      const stale = await bob.agreements.put({ terms: new Uint8Array([1, 2, 3]), renterCert: undefined, renterSignature: new Uint8Array(), supplierCert: undefined, supplierSignature: new Uint8Array() },
        'renter', 'lapsed', bob.clock.now() - AGREEMENT_RETENTION_MS - 60_000)
      expect(await bob.pruneAgreements()).toBe(1)
      expect(await bob.agreements.get(stale)).toBeUndefined()
      expect((await bob.agreements.list({ status: 'active' })).map((r) => r.hash)).toEqual(active.map((r) => r.hash))
    })
  })
})
