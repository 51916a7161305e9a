import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bazaar, CliProcess, ensureBuilt, REPO } from '../helpers/cli.js'
import { CONFIGFS_TSM_REPORT } from '../../src/tee/index.js'
import { readApiToken } from '../../src/node/keystore/index.js'

/**
 * Operator mistakes against the built CLI, as a user makes them. Each must give exactly one line on
 * stderr (no stack, no "internal error"), the right exit code (2 for usage, 1 otherwise), and a
 * message that says what went wrong.
 */

async function holdPort (): Promise<{ server: Server, port: number }> {
  const server = createServer()
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', () => { resolve() }) })
  return { server, port: (server.address() as { port: number }).port }
}

interface Mistake {
  what: string
  args: string[]
  env?: NodeJS.ProcessEnv
  code: 1 | 2
  /** the one line must match */
  line: RegExp
  /** and must not match (a hint for the wrong command, a double prefix) */
  not?: RegExp
}

function expectOneLine (r: { code: number | null, stdout: string, stderr: string }, m: Mistake): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '')
  expect(lines, `${m.what}: stderr was ${r.stderr}`).toHaveLength(1)
  expect(lines[0]).toMatch(m.line)
  if (m.not != null) expect(lines[0]).not.toMatch(m.not)
  expect(lines[0]).not.toMatch(/internal error|^\s+at /)
  expect(r.code, m.what).toBe(m.code)
}

describe('operator mistakes: one line, the right exit code, no stack', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-mistakes-'))
  const home = (n: string): string => path.join(dir, n)
  const env = { BAZAAR_PASSPHRASE: 'correct horse' }
  let held: { server: Server, port: number }
  let daemon: CliProcess | undefined

  beforeAll(async () => {
    ensureBuilt()
    for (const [h, dev] of [['a', 'alice'], ['b', 'bob'], ['apidir', 'charlie'], ['storefile', 'dave']]) {
      const r = bazaar(['init', '--home', home(h), '--dev', dev, '--json'], { env })
      expect(r.code, r.stderr).toBe(0)
    }
    mkdirSync(home('badjson'))
    // where a started node writes its API address, a directory
    mkdirSync(path.join(home('apidir'), 'api.json'))
    // where a node keeps its escrow records, a file
    writeFileSync(path.join(home('storefile'), 'escrow'), 'x')
    mkdirSync(path.join(home('dirkeys'), 'keystore.json'), { recursive: true })
    writeFileSync(path.join(dir, 'bad.json'), '{"listen": [')
    writeFileSync(path.join(dir, 'unknown-field.json'), JSON.stringify({ lisen: [] }))
    writeFileSync(path.join(dir, 'gpu-cc-supplier.json'), JSON.stringify({ tee: { provider: 'simulated', gpuProvider: 'nvidia-gpu' }, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }] }))
    writeFileSync(path.join(dir, 'tdx-supplier.json'), JSON.stringify({ tee: { provider: 'tdx' }, gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }] }))
    held = await holdPort()
    // a renter daemon on home a (embedded chain), for the mistakes that need one running
    daemon = new CliProcess(['node', 'start', '--home', home('a'), '--role', 'renter', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'], { env })
    await daemon.waitFor(/control API/, 60_000)
  }, 120_000)

  afterAll(async () => {
    await daemon?.stop('SIGTERM')
    held?.server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const table = (): Mistake[] => [
    // usage (exit 2)
    { what: 'unknown command', args: ['serve'], code: 2, line: /^bazaar: unknown command 'serve'/ },
    { what: 'unknown flag, prefix once', args: ['rent', '--bogus'], code: 2, line: /^bazaar rent: Unknown option '--bogus'/, not: /rent: rent:/ },
    { what: 'a flag value that starts with a dash', args: ['book', '--limit', '-3'], code: 2, line: /^bazaar book: --limit needs a value; one that starts with a dash goes as --limit=-/ },
    { what: 'node without start', args: ['node', 'begin', '--home', home('b')], code: 2, line: /bazaar node start/ },
    { what: 'a dry run past the daemon\'s GPU count bound', args: ['rent', '--gpu', 'h100', '--count', '100000', '--max-price', '2', '--duration', '1h', '--dry-run'], code: 2, line: /--count expects at most 64 GPUs/ },
    { what: 'a dry run past the longest duration', args: ['rent', '--gpu', 'h100', '--max-price', '2', '--duration', '9999h', '--dry-run'], code: 2, line: /--duration expects 1s to 720h/ },
    { what: 'an empty --home (an unset variable), never the default home', args: ['init', '--home', '', '--dev', 'alice'], env, code: 2, line: /--home is empty/ },
    { what: 'a --home that is a file', args: ['status', '--home', path.join(dir, 'bad.json')], code: 1, line: /no API token|no running node/ },
    { what: 'bad flag value: chain adapter', args: ['node', 'start', '--home', home('b'), '--chain', 'finney'], env, code: 2, line: /chain\.adapter must be one of embedded, subtensor/ },
    { what: 'bad flag value: API port', args: ['node', 'start', '--home', home('b'), '--api', '127.0.0.1:99999'], env, code: 2, line: /api\.port must be an integer/ },
    { what: 'bad multiaddr', args: ['node', 'start', '--home', home('b'), '--listen', '/ip4/1.2.3/tcp/1'], env, code: 2, line: /listen\[0\] is not a valid multiaddr/ },
    { what: 'bootstrap without a peer id', args: ['node', 'start', '--home', home('b'), '--bootstrap', '/ip4/127.0.0.1/tcp/4001'], env, code: 2, line: /bootstrap\[0\] must end in \/p2p\/<peer id>/ },
    { what: 'rent without --gpu', args: ['rent', '--home', home('a'), '--max-price', '1', '--duration', '1m', '--', 'true'], code: 2, line: /--gpu is required/ },
    { what: 'rent without a command', args: ['rent', '--home', home('a'), '--gpu', 'h100', '--max-price', '1', '--duration', '1m'], code: 2, line: /goes after --/ },
    { what: 'rent with a bad price', args: ['rent', '--home', home('a'), '--gpu', 'h100', '--max-price', 'cheap', '--duration', '1m', '--', 'true'], code: 2, line: /--max-price expects an amount, e.g. 0.25α/ },
    { what: 'book with a bad price, no node needed to say so', args: ['book', '--home', home('b'), '--max-price', 'abc'], code: 2, line: /--max-price expects an amount, e\.g\. 0\.25α; got "abc"$/ },
    { what: 'bad escrow id', args: ['escrow', 'show', '0xnope', '--home', home('a')], code: 2, line: /escrow id/ },
    { what: 'attest with an unknown kind', args: ['attest', 'verify', path.join(dir, 'x'), '--kind', 'sgx'], code: 2, line: /--kind/ },
    // everything else (exit 1)
    { what: 'missing home', args: ['keys', 'show', '--home', home('nowhere')], env, code: 1, line: /no keystore in .*nowhere \(run bazaar init\)/ },
    { what: 'wrong passphrase', args: ['keys', 'show', '--home', home('b')], env: { BAZAAR_PASSPHRASE: 'wrong' }, code: 1, line: /wrong passphrase/ },
    { what: 'no passphrase and no terminal', args: ['keys', 'show', '--home', home('b')], env: { BAZAAR_PASSPHRASE: undefined }, code: 1, line: /a passphrase is required/ },
    { what: 'init over existing keys', args: ['init', '--home', home('b'), '--dev', 'bob'], env, code: 1, line: /already holds keys/ },
    { what: 'config file not JSON', args: ['node', 'start', '--home', home('b'), '--config', path.join(dir, 'bad.json')], env, code: 1, line: /is not valid JSON/ },
    { what: 'config file missing', args: ['node', 'start', '--home', home('b'), '--config', path.join(dir, 'absent.json')], env, code: 1, line: /cannot read config file .*ENOENT/ },
    { what: 'config file that is a device', args: ['node', 'start', '--home', home('b'), '--config', '/dev/zero'], env, code: 1, line: /cannot read config file \/dev\/zero: not a regular file/ },
    { what: 'config field misspelt', args: ['node', 'start', '--home', home('b'), '--config', path.join(dir, 'unknown-field.json')], env, code: 1, line: /unknown field lisen/ },
    { what: 'bad environment value', args: ['node', 'start', '--home', home('b')], env: { ...env, BAZAAR_ROLE: 'chef' }, code: 1, line: /role must be one of .* \(from environment\)/ },
    { what: 'daemon not running', args: ['status', '--home', home('b')], code: 1, line: /no running node found for home/ },
    { what: 'evidence file missing', args: ['attest', 'verify', path.join(dir, 'absent.bin'), '--kind', 'tdx'], code: 1, line: /cannot read evidence/ },
    { what: 'evidence that is a device (read whole, it never ends)', args: ['attest', 'verify', '/dev/zero', '--kind', 'sev-snp'], code: 1, line: /cannot read evidence \/dev\/zero: not a regular file/ },
    // the node starts, cannot write api.json, and stops (it was left running, with a stack)
    { what: 'an api.json that cannot be written', args: ['node', 'start', '--home', home('apidir'), '--role', 'renter', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'], env: { ...env, BAZAAR_LOG_LEVEL: 'silent' }, code: 1, line: /cannot write .*apidir\/api\.json: EISDIR \(the client commands find the node through it; the node stopped\)/ },
    { what: 'a store that does not open names its path', args: ['node', 'start', '--home', home('storefile'), '--role', 'renter', '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'], env: { ...env, BAZAAR_LOG_LEVEL: 'silent' }, code: 1, line: /the renter role did not start: Database failed to open: .*storefile\/escrow/ },
    { what: 'a keystore that is a directory', args: ['keys', 'show', '--home', home('dirkeys')], env, code: 1, line: /keystore\.json: not a regular file/ },
    // a daemon is running on home a
    { what: 'same home started twice', args: ['node', 'start', '--home', home('a'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'], env, code: 1, line: /is in use by another process: is a node already running with this home/ },
    { what: 'control API port in use', args: ['node', 'start', '--home', home('b'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', `127.0.0.1:${held.port}`, '--no-mdns'], env, code: 1, line: new RegExp(`control API address 127\\.0\\.0\\.1:${held.port} is in use.*--api`) },
    { what: 'libp2p listen port in use', args: ['node', 'start', '--home', home('b'), '--listen', `/ip4/127.0.0.1/tcp/${held.port}`, '--api', '127.0.0.1:0', '--no-mdns'], env, code: 1, line: new RegExp(`cannot listen on /ip4/127\\.0\\.0\\.1/tcp/${held.port}: the port is in use`) },
    { what: 'passphrase file missing', args: ['keys', 'show', '--home', home('b'), '--passphrase-file', path.join(dir, 'absent-passphrase')], code: 1, line: /cannot read --passphrase-file .*absent-passphrase: ENOENT/ },
    { what: 'a bid value the daemon refuses is the flag\'s mistake', args: ['bid', 'publish', '--home', home('a'), '--gpu', 'ü', '--max-price', '1'], code: 2, line: /^bazaar bid: --gpu: expected a GPU model or class/ },
    { what: 'an offer filter no offer can match is the flag\'s mistake, not an empty market', args: ['offer', 'ls', '--home', home('a'), '--tee', 'sgx'], code: 2, line: /^bazaar offer: --tee: expected one of tdx, sev-snp, simulated$/ },
    { what: 'a book filter no offer can match', args: ['book', '--home', home('a'), '--region', 'EU'], code: 2, line: /^bazaar book: --region: expected a region/ },
    { what: 'a bid duration the daemon refuses', args: ['bid', 'publish', '--home', home('a'), '--gpu', 'h100', '--max-price', '1', '--duration', '0s'], code: 2, line: /^bazaar bid: --duration: / },
    { what: 'a renter publishes an offer', args: ['offer', 'publish', '--home', home('a'), '--gpu', 'h100-80gb:81920:1', '--price', '1', '--tee', 'simulated'], code: 1, line: /role is renter: offers need role supplier or both/ },
    { what: 'a supplier without GPUs', args: ['supply', '--home', home('b'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'], env: { ...env, PATH: '/nonexistent' }, code: 1, line: /no GPUs to supply/ },
    // a supplier never advertises an enclave it cannot attest (only where this machine is no TDX guest)
    ...(existsSync(CONFIGFS_TSM_REPORT)
      ? []
      : [{ what: 'a TDX supplier without configfs-tsm', args: ['supply', '--home', home('b'), '--config', path.join(dir, 'tdx-supplier.json'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'], env, code: 1 as const, line: /tee\.provider is tdx but this machine cannot attest as tdx \(configfs-tsm is not available/ }]),
    // nor confidential-computing GPUs it cannot attest (only where this machine has no NVIDIA GPU)
    ...(existsSync('/dev/nvidiactl')
      ? []
      : [{ what: 'an nvidia-gpu supplier without an NVIDIA GPU', args: ['supply', '--home', home('b'), '--config', path.join(dir, 'gpu-cc-supplier.json'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns'], env, code: 1 as const, line: /tee\.gpuProvider is nvidia-gpu but this machine's GPU cannot attest/ }]),
    // a home the system refuses: a file on its path, and (Linux) procfs, where Node's own recursive
    // mkdir never returned
    { what: 'home under a file', args: ['init', '--home', path.join(dir, 'bad.json', 'home')], env, code: 1, line: /cannot create the node home .*bad\.json\/home: ENOTDIR/ },
    ...(existsSync('/proc/self')
      ? [{ what: 'home in procfs', args: ['init', '--home', '/proc/bazaar-home'], env, code: 1 as const, line: /cannot create the node home \/proc\/bazaar-home: ENOENT/ }]
      : []),
    // a rent value the daemon refuses is the flag's mistake too (its request is checked before the chain)
    { what: 'a rent GPU the daemon refuses', args: ['rent', '--home', home('a'), '--gpu', 'H100', '--max-price', '1', '--duration', '1m', '--', 'true'], code: 2, line: /^bazaar rent: --gpu: expected a GPU model/ },
    { what: 'a rent output outside the job directory', args: ['rent', '--home', home('a'), '--gpu', 'h100', '--max-price', '1', '--duration', '1m', '--output', '../x', '--', 'true'], code: 2, line: /^bazaar rent: --output: output paths must be relative/ },
    // the chain is why renting cannot work; the hint names the daemon's flag, not one rent lacks
    { what: 'rent on an embedded chain', args: ['rent', '--home', home('a'), '--gpu', 'h100', '--max-price', '1', '--duration', '1m', '--', 'true'], code: 1, line: /embedded chain.*bazaar node start --chain ws:\/\//, not: /chain\.arbiter/ }
  ]

  // about 35 runs of the CLI one after another (several start a node): minutes on a busy machine
  it('walks the table', () => {
    for (const m of table()) {
      // an unset variable must be absent for the child, not the string "undefined"
      const childEnv = { ...process.env, ...m.env }
      for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k]
      const r = spawnSync(process.execPath, [path.join(REPO, 'bin/bazaar.js'), ...m.args], { cwd: REPO, encoding: 'utf8', env: childEnv, timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] })
      expectOneLine({ code: r.status, stdout: r.stdout, stderr: r.stderr }, m)
    }
  }, 900_000)

  it('the control API of a renter answers an offer with 409 WRONG_ROLE', async () => {
    const api = JSON.parse(readFileSync(path.join(home('a'), 'api.json'), 'utf8')) as { url: string }
    const res = await fetch(`${api.url}/v1/offers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await readApiToken(home('a'))}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'x', gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 1 }], pricePerGpuHour: '1000000000', teeKinds: ['simulated'] })
    })
    expect(res.status).toBe(409)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('WRONG_ROLE')
  })

  it('a reader that closes early (| head -1) ends nothing with a stack: exit 0, nothing on stderr', () => {
    // stdout is the write end of a FIFO whose only reader is already closed, so every write fails
    // with EPIPE at once, whatever the timing (a real `| head -1` races with the writer)
    const fifo = path.join(dir, 'closed-pipe')
    const script = 'mkfifo "$1" && exec 3<>"$1" 5>"$1" && exec 3<&- && shift && exec "$@" >&5 5>&-'
    for (const args of [['--help'], ['node', '--help'], ['status', '--home', home('a')]]) {
      rmSync(fifo, { force: true })
      const r = spawnSync('bash', ['-c', script, 'bash', fifo, process.execPath, path.join(REPO, 'bin/bazaar.js'), ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 })
      expect(r.stderr, args.join(' ')).toBe('')
      expect(r.status, args.join(' ')).toBe(0)
    }
  }, 120_000)

  it('no command is a usage error with the help on stderr; `help <command>` is that command\'s help', () => {
    const bare = spawnSync(process.execPath, [path.join(REPO, 'bin/bazaar.js')], { cwd: REPO, encoding: 'utf8', timeout: 60_000 })
    expect(bare.status).toBe(2)
    expect(bare.stdout).toBe('')
    expect(bare.stderr).toMatch(/usage: bazaar <command>/)
    const help = spawnSync(process.execPath, [path.join(REPO, 'bin/bazaar.js'), 'help', 'status'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 })
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/^usage: bazaar status/)
  })

  it('an old Node says which Node is needed and how to get it, before anything loads libp2p', (ctx) => {
    // the version check runs on whatever old Node the machine has; without one there is nothing to run
    const old = ['/usr/bin/node', '/usr/local/bin/node'].map((bin) => ({ bin, v: spawnSync(bin, ['--version'], { encoding: 'utf8' }) }))
      .find((x) => x.v.status === 0 && Number(/^v(\d+)/.exec(x.v.stdout)?.[1] ?? 99) < 22)
    if (old == null) { ctx.skip(); return }
    const r = spawnSync(old.bin, [path.join(REPO, 'bin/bazaar.js'), 'status'], { cwd: REPO, encoding: 'utf8' })
    expectOneLine({ code: r.status, stdout: r.stdout, stderr: r.stderr }, { what: 'old node', args: [], code: 1, line: /needs Node\.js 22 or newer.*source scripts\/ensure-node\.sh/ })
  })
})
