/**
 * A network on one machine, as the README's "A network on one machine" runs it: for each real
 * Bittensor runtime in ../shared/chain, `bazaar chain start`, then `bazaar arbiter`, `bazaar supply`
 * and `bazaar node start --role renter` as separate OS processes from the local templates, and
 * `bazaar rent ... -- <command>` end to end. Every amount is checked with this test's own queries
 * of chain storage and events (System.Account, SubtensorModule Alpha/TotalHotkeyAlpha/
 * TotalHotkeyShares, Multisig.Multisigs, Remarked, Transfer, StakeAdded/StakeRemoved,
 * TransactionFeePaid), never through the adapter. Then the renter daemon is SIGKILLed mid-job and
 * started again: it takes the job up again, the job completes and its output arrives, and the escrow
 * settles on the last voucher the supplier stored, nothing lost.
 *
 * Skips, saying so, where ../shared/chain is absent.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiPromise } from '@polkadot/api'
import { Keyring } from '@polkadot/keyring'
import { createKeyMulti, encodeAddress } from '@polkadot/util-crypto'
import type { EventRecord } from '@polkadot/types/interfaces'
import { bazaar, CliProcess, ensureBuilt, REPO } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'
import { alphaOf, connectApi, remarksInBlock, sameAccount } from '../chain/harness.js'
import { decodeRecord } from '../../src/escrow/chain/records.js'
import { readApiToken } from '../../src/node/keystore/index.js'

const SHARED_CHAIN = path.resolve(REPO, '..', 'shared', 'chain')
const SPECS = ['raonet-218.json', 'aura-dev-293.json'].map((f) => path.join(SHARED_CHAIN, f)).filter((f) => existsSync(f))
if (SPECS.length === 0) console.warn(`network e2e skipped: no chain specs in ${SHARED_CHAIN} (../shared/chain is absent)`)

const PASSPHRASE = 'local network'
const NETUID = 1
/** a job of a few seconds: a supplier at 10 alpha per GPU-hour earns 2.78 million rao a second */
const SHORT_JOB = 'for i in 1 2 3; do echo tick $i; sleep 1; done; echo done > out.txt'
/** a job of 20 s that writes an output at its end: the renter is killed during it, and comes back for it */
const LONG_JOB = 'for i in $(seq 1 20); do echo tick $i; sleep 1; done; echo done > out.txt'

/** the ports this file handed out: none twice */
const handedOut = new Set<number>()

/**
 * A port free now, below Linux's ephemeral range (32768 and up), which the daemons bind tens of
 * seconds later: a port taken from that range (`listen(0)`) may meanwhile become the local port of
 * another test's outgoing connection or port-0 listener (seen: the supplier's control API port
 * "in use" in one CI run). Below it, only a bind to that very number can take it, and no test binds
 * one in 21000..31999.
 */
async function freePort (): Promise<number> {
  for (;;) {
    const port = 21_000 + Math.floor(Math.random() * 11_000)
    if (handedOut.has(port)) continue
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer()
      s.once('error', () => { resolve(false) })
      s.listen(port, '127.0.0.1', () => { s.close(() => { resolve(true) }) })
    })
    if (!free) continue
    handedOut.add(port)
    return port
  }
}

/** What the chain's own events say about one account over a range of blocks. */
interface Flows {
  /** TransactionFeePaid: actual fee + tip */
  fees: bigint
  /** balances.Transfer in minus out, by counterparty */
  transfers: Map<string, bigint>
  /** balances.Transfer out, in all */
  sent: bigint
  /** alpha credited (StakeAdded) minus removed (StakeRemoved) as coldkey */
  alpha: bigint
  /** alpha removed (StakeRemoved), negative */
  alphaOut: bigint
  /** net alpha moved per block number */
  alphaByBlock: Map<number, bigint>
}

/** TAO (free + reserved) and alpha (under the subnet hotkey) of an account, read from storage. */
interface Holding { tao: bigint, alpha: bigint }

describe.skipIf(SPECS.length === 0).each(SPECS.length > 0 ? SPECS : ['no chain spec'])('a network on one machine: %s', (spec) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-network-'))
  const home = (n: string): string => path.join(dir, n)
  const env = { BAZAAR_PASSPHRASE: PASSPHRASE }
  const procs: CliProcess[] = []
  let chainProc: CliProcess
  let api: ApiPromise
  let ws = ''
  let asset = ''
  let subnetHotkey = ''
  const accounts: Record<string, { coldkey: string, hotkey: string }> = {}
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 })
  const ferdieHot = keyring.addFromUri('//Ferdie//hot')
  let renter: CliProcess
  const daemonEnv = (): NodeJS.ProcessEnv => ({ ...env, BAZAAR_NETWORK: ws })

  const spawnDaemon = (args: string[]): CliProcess => {
    const p = new CliProcess([...args, '--no-mdns'], { env: daemonEnv() })
    procs.push(p)
    return p
  }
  // printed once the roles run, the chain connection included
  const whenReady = async (p: CliProcess): Promise<CliProcess> => { await p.waitFor(/control API/, 180_000); return p }
  const startDaemon = async (args: string[]): Promise<CliProcess> => await whenReady(spawnDaemon(args))

  const holding = async (addr: string): Promise<Holding> => {
    const acc = await api.query.system.account(addr) as unknown as { data: { free: { toBigInt: () => bigint }, reserved: { toBigInt: () => bigint } } }
    return {
      tao: acc.data.free.toBigInt() + acc.data.reserved.toBigInt(),
      alpha: asset === 'alpha' ? await alphaOf(api, subnetHotkey, addr, NETUID) : 0n
    }
  }

  const head = async (): Promise<number> => (await api.rpc.chain.getHeader()).number.toNumber()

  /** Every watched account's flows in blocks (from, to], from the chain's events. */
  const flowsIn = async (from: number, to: number, watched: string[]): Promise<Map<string, Flows>> => {
    const out = new Map<string, Flows>(watched.map((a) => [a, { fees: 0n, transfers: new Map(), sent: 0n, alpha: 0n, alphaOut: 0n, alphaByBlock: new Map() }]))
    const of = (raw: string): Flows | undefined => { const a = watched.find((w) => sameAccount(w, raw)); return a != null ? out.get(a) : undefined }
    for (let n = from + 1; n <= to; n++) {
      const hash = await api.rpc.chain.getBlockHash(n)
      const events = await (await api.at(hash)).query.system.events() as unknown as EventRecord[]
      for (const { event: e } of events) {
        const d = e.data.map((x) => x.toString())
        if (e.section === 'transactionPayment' && e.method === 'TransactionFeePaid') {
          const f = of(d[0]); if (f != null) f.fees += BigInt(d[1]) + BigInt(d[2])
        } else if (e.section === 'balances' && e.method === 'Transfer') {
          const [from, to, amount] = [d[0], d[1], BigInt(d[2])]
          const a = of(from); if (a != null) { a.transfers.set(to, (a.transfers.get(to) ?? 0n) - amount); a.sent += amount }
          const b = of(to); if (b != null) b.transfers.set(from, (b.transfers.get(from) ?? 0n) + amount)
        } else if (e.section === 'subtensorModule' && (e.method === 'StakeAdded' || e.method === 'StakeRemoved')) {
          const f = of(d[0])
          if (f != null) {
            const moved = (e.method === 'StakeAdded' ? 1n : -1n) * BigInt(d[3])
            f.alpha += moved
            if (moved < 0n) f.alphaOut += moved
            f.alphaByBlock.set(n, (f.alphaByBlock.get(n) ?? 0n) + moved)
          }
        }
      }
    }
    return out
  }

  /** The escrow account: 2-of-3 multisig of payer, payee and the arbiter's key derived for the escrow. */
  const escrowAccounts = (escrowId: string): { escrow: string, arbiterKey: string } => {
    const arbiterKey = ferdieHot.derive(`/bazaar-escrow/${escrowId}`).address
    const escrow = encodeAddress(createKeyMulti([accounts.bob.hotkey, accounts.alice.hotkey, arbiterKey], 2), 42)
    return { escrow, arbiterKey }
  }

  /**
   * The settlement of `escrowId` as the chain shows it, and the books of every account involved
   * balanced to the rao over blocks (from, now].
   */
  const checkSettled = async (escrowId: string, from: number, before: Map<string, Holding>): Promise<{ locked: bigint, paid: bigint, refunded: bigint }> => {
    const { escrow, arbiterKey } = escrowAccounts(escrowId)
    const to = await head()
    // the open and close records, found by the test in the blocks' extrinsics and Remarked events
    const docs: Array<{ sender: string, doc: NonNullable<ReturnType<typeof decodeRecord>>, blockNumber: number }> = []
    for (let n = from + 1; n <= to; n++) {
      for (const r of await remarksInBlock(api, (await api.rpc.chain.getBlockHash(n)).toHex())) {
        const doc = decodeRecord(r.remark)
        if (doc?.escrowId === escrowId) docs.push({ sender: r.sender, doc, blockNumber: r.blockNumber })
      }
    }
    expect(docs.map((d) => d.doc.kind)).toEqual(['open', 'close'])
    const [open, close] = docs
    expect(sameAccount(open.sender, accounts.bob.hotkey)).toBe(true)
    expect(sameAccount(close.sender, escrow)).toBe(true)
    const locked = open.doc.kind === 'open' ? BigInt(open.doc.amount) : -1n
    const payouts = close.doc.kind !== 'open' ? close.doc.payouts : []
    const paid = payouts.filter((p) => sameAccount(p.to, accounts.alice.hotkey)).reduce((a, p) => a + BigInt(p.amount), 0n)
    const refunded = payouts.filter((p) => sameAccount(p.to, accounts.bob.hotkey)).reduce((a, p) => a + BigInt(p.amount), 0n)
    expect(payouts.every((p) => sameAccount(p.to, accounts.alice.hotkey) || sameAccount(p.to, accounts.bob.hotkey))).toBe(true)
    // locked = paid + refunded, to the rao
    expect(paid + refunded).toBe(locked)

    const watched = [...Object.values(accounts).flatMap((a) => [a.coldkey, a.hotkey]), escrow, arbiterKey]
    const flows = await flowsIn(from, to, watched)
    // what left the escrow is exactly the payouts (in its asset)
    const esc = flows.get(escrow)!
    if (asset === 'alpha') expect(-esc.alphaOut >= locked).toBe(true)
    else expect(esc.sent).toBe(locked)
    for (const a of watched) {
      const f = flows.get(a)!
      const b = before.get(a) ?? { tao: 0n, alpha: 0n }
      const now = await holding(a)
      const transfers = [...f.transfers.values()].reduce((x, y) => x + y, 0n)
      // no account changed but by its transfers, its stake moves and the fees the chain charged it
      expect(now.tao - b.tao, `TAO of ${a}`).toBe(transfers - f.fees)
      // alpha moves only with stake events: in each block that moved stake of the account, its alpha
      // (read at that block and the one before) changed by exactly what the events say
      for (const [n, moved] of f.alphaByBlock) {
        const at = async (k: number): Promise<bigint> => await alphaOf(await api.at(await api.rpc.chain.getBlockHash(k)) as unknown as ApiPromise, subnetHotkey, a, NETUID)
        expect(await at(n) - await at(n - 1), `alpha of ${a} in block ${n}`).toBe(moved)
      }
      if (a === escrow) continue
      // and every transfer of a party is with the escrow, or the arbiter with its per-escrow key
      for (const [peer, amount] of f.transfers) {
        if (amount === 0n) continue
        const allowed = [escrow, arbiterKey, ...(a === arbiterKey ? [accounts.ferdie.hotkey] : [])]
        expect(allowed.some((x) => sameAccount(x, peer)), `transfer between ${a} and ${peer}`).toBe(true)
      }
    }
    // parties without a role in this escrow moved nothing: the coldkeys only lose fees (none here)
    for (const n of ['alice', 'bob', 'ferdie']) {
      expect(flows.get(accounts[n].coldkey)!.transfers.size).toBe(0)
      expect(flows.get(accounts[n].coldkey)!.alpha).toBe(0n)
    }
    if (asset === 'tao') {
      // TAO escrows: the payee got exactly what it was paid, the payer exactly its refund
      expect(flows.get(accounts.alice.hotkey)!.transfers.get(escrow) ?? 0n).toBe(paid)
      expect(-(flows.get(accounts.bob.hotkey)!.transfers.get(escrow) ?? 0n)).toBe(locked - refunded)
    } else {
      // alpha escrows: the payee's share moves as stake, or, below two minimum stakes (a short
      // job's few vouchers), is carried into the refund (the close record's `moved` and `carried`,
      // see the adapter); nothing of it is lost
      const record = close.doc.kind !== 'open' ? close.doc : undefined
      const carried = BigInt(record?.carried ?? '0')
      const movedToPayee = (record?.moved ?? []).filter((m) => sameAccount(m.to, accounts.alice.hotkey)).reduce((a, m) => a + BigInt(m.amount), 0n)
      expect(movedToPayee + carried).toBe(paid)
      // what moved arrives less the subnet pool's swap fee, never more
      const payee = flows.get(accounts.alice.hotkey)!.alpha
      console.log(`[network] alpha escrow: locked ${locked}, paid ${paid} (moved ${movedToPayee}, carried into the refund ${carried}), refunded ${refunded}; the payee's stake grew by ${payee}`)
      expect(payee <= movedToPayee && payee * 1000n >= movedToPayee * 990n, `payee received ${payee} alpha rao for ${movedToPayee} moved (paid ${paid}, carried ${carried}, locked ${locked}, refunded ${refunded})`).toBe(true)
    }
    // the escrow account is empty: no TAO, no alpha, no multisig operation (its deposit returned)
    const after = await holding(escrow)
    expect(after).toEqual({ tao: 0n, alpha: 0n })
    expect((await api.query.multisig.multisigs.entries(escrow)).length).toBe(0)
    // the arbiter's per-escrow key holds nothing either (any top-up was swept back)
    expect((await holding(arbiterKey)).tao).toBe(0n)
    return { locked, paid, refunded }
  }

  const snapshot = async (escrowIdHint?: string): Promise<Map<string, Holding>> => {
    const out = new Map<string, Holding>()
    for (const a of Object.values(accounts).flatMap((x) => [x.coldkey, x.hotkey])) out.set(a, await holding(a))
    if (escrowIdHint != null) {
      const { escrow, arbiterKey } = escrowAccounts(escrowIdHint)
      out.set(escrow, await holding(escrow))
      out.set(arbiterKey, await holding(arbiterKey))
    }
    return out
  }

  beforeAll(async () => {
    ensureBuilt()
    const chainPort = await freePort()
    chainProc = new CliProcess(['chain', 'start', '--spec', spec, '--port', String(chainPort), '--fund', 'alice,bob,ferdie', '--json'], { env })
    const [line] = await chainProc.waitFor(/^\{.*"ws".*\}$/m, 300_000)
    const ready = JSON.parse(line) as { ws: string, asset: string, subnetHotkey?: string, funded: Array<{ name: string, coldkey: string, hotkey: string }> }
    ws = ready.ws
    asset = ready.asset
    subnetHotkey = ready.subnetHotkey ?? ''
    for (const f of ready.funded) accounts[f.name] = { coldkey: f.coldkey, hotkey: f.hotkey }
    api = await connectApi(ws)

    // the templates as written, on free ports (this machine runs other tests at the same time)
    const ports = { 4101: await freePort(), 4102: await freePort(), 4103: await freePort(), 7601: await freePort(), 7602: await freePort(), 7603: await freePort() }
    for (const [h, dev, template] of [['arbiter', 'ferdie', 'arbiter'], ['supplier', 'alice', 'local-supplier'], ['renter', 'bob', 'local-renter']]) {
      const r = bazaar(['init', '--home', home(h), '--dev', dev, '--template', template], { env })
      expect(r.code, r.stderr).toBe(0)
      const file = path.join(home(h), 'config.json')
      let text = readFileSync(file, 'utf8')
      // one pass over the template's ports: a free port written in place of 4101 may begin with 4102,
      // and a second pass would rewrite its prefix
      text = text.replace(/(tcp\/|"port": )(4101|4102|4103|7601|7602|7603)(?![0-9])/g, (_m, lead: string, from: string) => `${lead}${ports[Number(from) as keyof typeof ports]}`)
      writeFileSync(file, text)
    }
    // each daemon spends most of its start loading the runtime's metadata, so they start together
    // once the arbiter (the others' bootstrap peer) listens
    const arbiter = spawnDaemon(['arbiter', '--home', home('arbiter')])
    // an arbiter that exits (a port taken meanwhile) or starts slowly says why: its stderr goes with the failure
    let arbiterExit: number | null | undefined
    void arbiter.exited.then((code) => { arbiterExit = code })
    await waitFor(() => {
      if (arbiterExit !== undefined) throw new Error(`the arbiter exited (${String(arbiterExit)}): ${arbiter.stderr.slice(-2000)}`)
      return /node started/.test(arbiter.stderr)
    }, 120_000, 'the arbiter listening').catch((err: Error) => { throw new Error(`${err.message}; its stderr: ${arbiter.stderr.slice(-2000)}`) })
    const supplier = spawnDaemon(['supply', '--home', home('supplier')])
    renter = spawnDaemon(['node', 'start', '--role', 'renter', '--home', home('renter')])
    await Promise.all([arbiter, supplier, renter].map(whenReady))
    expect(supplier.stdout).toMatch(/simulated: attests nothing, devnets only\): 2x h100-80gb from config gpus/)
    // asked through the control API (a CLI run per poll costs seconds on a busy machine); the CLI
    // shows the same book below
    const renterApi = JSON.parse(readFileSync(path.join(home('renter'), 'api.json'), 'utf8')) as { url: string }
    const renterToken = await readApiToken(home('renter'))
    const offersHeld = async (): Promise<number> => {
      const res = await fetch(`${renterApi.url}/v1/status`, { headers: { authorization: `Bearer ${renterToken}` } })
      return res.ok ? ((await res.json()) as { offers: number }).offers : 0
    }
    await waitFor(async () => await offersHeld() > 0, 120_000, 'the supplier offer in the renter book').catch((err: Error) => {
      // what the daemons said is the only trace of why gossip did not carry it
      const tail = (p: CliProcess): string => (p.stdout + p.stderr).split('\n').slice(-25).join('\n')
      throw new Error(`${err.message}\n--- supplier:\n${tail(supplier)}\n--- renter:\n${tail(renter)}\n--- arbiter:\n${tail(arbiter)}`)
    })
    const book = bazaar(['book', '--home', home('renter'), '--json'], { env })
    expect(book.code, book.stderr).toBe(0)
    expect((JSON.parse(book.stdout) as { offers: unknown[] }).offers.length).toBeGreaterThan(0)
  }, 600_000)

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop('SIGINT')
    await api?.disconnect()
    await chainProc?.stop('SIGINT')
    rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  it('bazaar rent runs a job end to end and settles on chain: locked = paid + refunded, escrow empty, nothing else moved', async () => {
    const from = await head()
    const before = await snapshot()
    const r = bazaar(['rent', '--home', home('renter'), '--gpu', 'h100', '--max-price', '10', '--duration', '1m', '--output', 'out.txt',
      '--output-dir', path.join(dir, 'out'), '--json', '--', 'sh', '-c', SHORT_JOB], { env, timeoutMs: 240_000 })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const summary = JSON.parse(r.stdout) as { job: { exitCode: number }, escrow: { id: string, asset: string, locked: string, paid: string, refunded: string, status: string } }
    expect(summary.job.exitCode).toBe(0)
    expect(readFileSync(path.join(dir, 'out', 'out.txt'), 'utf8')).toBe('done\n')
    expect(summary.escrow.status).toBe('closed')
    expect(summary.escrow.asset).toBe(asset)
    const { escrow, arbiterKey } = escrowAccounts(summary.escrow.id)
    before.set(escrow, { tao: 0n, alpha: 0n })
    before.set(arbiterKey, { tao: 0n, alpha: 0n })
    const s = await checkSettled(summary.escrow.id, from, before)
    expect(s).toEqual({ locked: BigInt(summary.escrow.locked), paid: BigInt(summary.escrow.paid), refunded: BigInt(summary.escrow.refunded) })
    expect(s.paid > 0n).toBe(true)
    expect(readdirSync(path.join(home('renter'), 'voucher-keys'))).toEqual([])
  }, 300_000)

  it('the renter daemon SIGKILLed mid-job and restarted: it takes the job up again, the job completes, its output arrives, the escrow settles cooperatively, nothing lost', async () => {
    const from = await head()
    const before = await snapshot()
    const outDir = path.join(dir, 'out-kill')
    const rent = new CliProcess(['rent', '--home', home('renter'), '--gpu', 'h100', '--max-price', '10', '--duration', '2m', '--output', 'out.txt', '--output-dir', outDir, '--', 'sh', '-c', LONG_JOB], { env })
    const [, escrowId] = await rent.waitFor(/escrow (0x[0-9a-f]{64}) opened/, 180_000)
    // before the escrow opened, the rent showed its price: the budget, and the fees of open and close
    const quoted = rent.stdout.slice(0, rent.stdout.search(/escrow 0x[0-9a-f]{64} opened/))
    expect(quoted).toMatch(/before anything is locked:\n {2}budget {7}at most \S+/)
    expect(quoted).toMatch(/open fee {5}\S+ τ \(payer\)/)
    expect(quoted).toMatch(/close fees {3}\S+ τ first approval \+ \S+ τ executing approval/)
    if (asset === 'alpha') expect(quoted).toMatch(/TAO value {4}\S+ τ at /)
    // a few vouchers paid: the story shows a non-zero amount spent
    await rent.waitFor(/spent 0\.0*[1-9]/, 120_000)
    await rent.waitFor(/tick 5\b/, 60_000)
    expect(readdirSync(path.join(home('renter'), 'voucher-keys'))).toEqual([escrowId.slice(2) + '.key'])
    renter.child.kill('SIGKILL')
    await renter.exited
    expect(await rent.exited).not.toBe(0)
    procs.splice(procs.indexOf(renter), 1)

    renter = await startDaemon(['node', 'start', '--role', 'renter', '--home', home('renter')])
    const { escrow, arbiterKey } = escrowAccounts(escrowId)
    before.set(escrow, { tao: 0n, alpha: 0n })
    before.set(arbiterKey, { tao: 0n, alpha: 0n })
    // settled once the job completed: by this renter's approval and the supplier's, cooperatively
    let scanned = from
    let closed: ReturnType<typeof decodeRecord>
    await waitFor(async () => {
      const to = await head()
      for (; scanned < to && closed == null; scanned++) {
        const remarks = await remarksInBlock(api, (await api.rpc.chain.getBlockHash(scanned + 1)).toHex())
        closed = remarks.map((r) => decodeRecord(r.remark)).find((d) => d?.escrowId === escrowId && d.kind === 'close')
      }
      return closed != null
    }, 300_000, 'the close record of the escrow on chain')
    expect(closed!.kind !== 'open' && closed!.settlement).toBe('cooperative')
    await waitFor(() => /escrow of an interrupted rental/.test(renter.stderr), 120_000, 'the renter resumed the escrow')
    // the restarted renter took the job up again (a new attested session, attach) and it completed
    expect(renter.stderr).toMatch(/taking up the job of an interrupted rental/)
    expect(renter.stderr).toMatch(/job of an interrupted rental ended/)
    expect(readFileSync(path.join(outDir, 'out.txt'), 'utf8')).toBe('done\n')
    const s = await checkSettled(escrowId, from, before)
    // paid is the last voucher the supplier stored, which is what bazaar jobs shows it was paid
    const cliJson = (args: string[]): unknown => {
      const r = bazaar(args, { env, timeoutMs: 120_000 })
      expect(r.code, `bazaar ${args.join(' ')}: ${r.stderr}`).toBe(0)
      return JSON.parse(r.stdout)
    }
    const jobs = cliJson(['jobs', '--home', home('supplier'), '--json']) as Array<{ agreementId?: string, paid?: string }>
    const job = jobs.find((j) => j.agreementId === escrowId.slice(2))
    expect(job?.paid).toBe(s.paid.toString())
    expect(s.paid > 0n).toBe(true)
    // the renter's record of the job shows it completed, and the settled escrow's key is gone
    const mine = cliJson(['jobs', '--home', home('renter'), '--json']) as Array<{ role: string, state: string, exitCode?: number, agreementId?: string }>
    expect(mine.find((j) => j.role === 'renter' && j.agreementId === escrowId.slice(2))).toMatchObject({ state: 'succeeded', exitCode: 0 })
    await waitFor(() => readdirSync(path.join(home('renter'), 'voucher-keys')).length === 0, 60_000, 'the voucher key removed')
  }, 600_000)
})
