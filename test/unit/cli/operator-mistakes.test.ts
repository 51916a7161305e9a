/**
 * Operator mistakes that need no running node, through the CLI's entry point in this process: each is
 * one line on stderr (no stack, no progress note before it), the right exit code, and a message that
 * names the mistake rather than a consequence of it. test/e2e/operator-errors.test.ts walks the
 * mistakes that need the built CLI or a daemon.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commandFirst, main } from '../../../src/cli/main.js'
import { createApiToken } from '../../../src/node/keystore/api-token.js'
import { FAST, MNEMONICS, keyFromMnemonic, writeWallet } from '../../helpers/btcli-wallet.js'

interface Run { code: number, out: string[], err: string[] }

async function run (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(...l.split('\n')), env })
  return { code, out, err }
}

/** exactly one line on stderr, matching `line`, and the exit code */
function expectOneLine (r: Run, code: number, line: RegExp): void {
  expect(r.err, r.err.join('\n')).toHaveLength(1)
  expect(r.err[0]).toMatch(line)
  expect(r.err[0]).not.toMatch(/internal error/)
  expect(r.code).toBe(code)
}

/** a port nothing listens on: one the system gave, then closed */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  return port
}

describe('operator mistakes without a node: one line, the right exit code', () => {
  let dir = ''
  let home = ''
  let file = ''
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bazaar-mistakes-unit-'))
    home = path.join(dir, 'home')
    await mkdir(home)
    await createApiToken(home, { overwrite: true })
    file = path.join(dir, 'a-file')
    await writeFile(file, 'not a home\n')
  })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('a GPU index past 63 is a usage error, not a stack', async () => {
    for (const gpu of ['64', '99']) {
      expectOneLine(await run(['attest', 'fetch-rims', '--dir', path.join(dir, 'rims'), '--gpu', gpu]), 2, /^bazaar attest: --gpu expects a GPU index \(0\.\.63\): /)
    }
  })

  it('an --api that is not host:port is a usage error; the URL a node writes is taken', async () => {
    for (const api of ['junk', '', '127.0.0.1:99999', '127.0.0.1:0', 'http://http://127.0.0.1:7545', 'ws://127.0.0.1:7545']) {
      expectOneLine(await run(['status', '--home', home, '--api', api]), 2, /^bazaar status: --api expects host:port, e\.g\. 127\.0\.0\.1:7545, got "/)
    }
    const port = await closedPort()
    // the form of api.json and of the node's start line, and an IPv6 host
    for (const api of [`http://127.0.0.1:${port}`, `127.0.0.1:${port}/`]) {
      expectOneLine(await run(['status', '--home', home, '--api', api]), 1, new RegExp(`^bazaar status: cannot reach the node's control API at http://127\\.0\\.0\\.1:${port} \\(connection refused: no node listens there; is it running\\?\\)$`))
    }
    expectOneLine(await run(['peers', '--home', home, '--api', `[::1]:${port}`]), 1, new RegExp(`control API at http://\\[::1\\]:${port} \\(`))
  })

  it('an api.json whose url is no http address says so, instead of fetching it', async () => {
    const h = path.join(dir, 'ftp-home')
    await mkdir(h)
    await createApiToken(h, { overwrite: true })
    await writeFile(path.join(h, 'api.json'), JSON.stringify({ url: 'ftp://x', pid: process.pid }))
    expectOneLine(await run(['status', '--home', h]), 1, /api\.json holds no API address/)
  })

  it('`help <no such command>` is an unknown command, not the help of all', async () => {
    const r = await run(['help', 'stauts'])
    expectOneLine(r, 2, /^bazaar: unknown command 'stauts' \(see bazaar --help\)$/)
    expect(r.out).toEqual([])
    expect((await run(['help', 'help'])).code).toBe(0)
  })

  it('options written before the command go to it, as git and docker take them', async () => {
    expect(commandFirst(['--home', '/n', 'status'])).toEqual(['status', '--home', '/n'])
    expect(commandFirst(['--json', 'book', '--gpu', 'h100'])).toEqual(['book', '--json', '--gpu', 'h100'])
    // a flag's value that is also a command's name stays the flag's value
    expect(commandFirst(['--role', 'arbiter', 'node', 'start'])).toEqual(['node', '--role', 'arbiter', 'start'])
    expect(commandFirst(['--home=/n', 'jobs'])).toEqual(['jobs', '--home=/n'])
    // nothing past `--` is read as a command
    expect(commandFirst(['--gpu', 'h100', '--', 'status'])).toEqual(['--gpu', 'h100', '--', 'status'])
    expect(commandFirst(['status', '--home', '/n'])).toEqual(['status', '--home', '/n'])
    // through the entry point: the command's own parser judges the options it was given
    const h = await mkdtemp(path.join(tmpdir(), 'bazaar-first-'))
    try {
      expectOneLine(await run(['--home', h, 'status']), 1, /^bazaar status: no API token at .*bazaar-first-/)
      expectOneLine(await run(['--frob', 'status']), 2, /^bazaar status: .*--frob/)
      expectOneLine(await run(['--home', h]), 2, /^bazaar: unknown command '--home' \(see bazaar --help\)$/)
    } finally {
      await rm(h, { recursive: true, force: true })
    }
  })

  it('an argument a sub-command does not take is named, not answered with the command\'s usage line', async () => {
    expectOneLine(await run(['wallet', 'import', '/w', '--btcli']), 2, /^bazaar wallet: unexpected argument '\/w' after wallet import \(see bazaar wallet --help\)$/)
    expectOneLine(await run(['offer', 'cancel', 'a', 'b']), 2, /^bazaar offer: unexpected argument 'b' after offer cancel/)
    expectOneLine(await run(['bid', 'ls', 'x']), 2, /^bazaar bid: unexpected argument 'x' after bid ls/)
    expectOneLine(await run(['escrow', 'show', 'a', 'b']), 2, /^bazaar escrow: unexpected argument 'b' after escrow show/)
    expectOneLine(await run(['escrow', 'ls', 'a']), 2, /^bazaar escrow: unexpected argument 'a' after escrow ls/)
    expectOneLine(await run(['offer', 'frob']), 2, /^bazaar offer: expected bazaar offer publish\|cancel\|ls \(see bazaar offer --help\)$/)
    expectOneLine(await run(['escrow', 'close']), 2, /^bazaar escrow: escrow close needs an escrow id$/)
  })

  it('init: a flag\'s mistake is a usage error, said before the home\'s state and before any passphrase', async () => {
    const h = await mkdtemp(path.join(tmpdir(), 'bazaar-init-flags-'))
    try {
      // no passphrase anywhere: a prompt would come first were the flags not judged before it
      expectOneLine(await run(['init', '--home', h, '--template', 'nope']), 2, /^bazaar init: --template: unknown config template "nope" \(one of .*local-supplier/)
      expectOneLine(await run(['init', '--home', h, '--mnemonic', 'one two three']), 2, /^bazaar init: --mnemonic: the mnemonic is not a valid BIP-39 phrase/)
      expectOneLine(await run(['init', '--home', h, '--dev', 'alice', '--mnemonic', 'x']), 2, /exclude each other$/)
      // from the environment, as a bad config value: exit 1, and nothing of the phrase echoed
      const r = await run(['init', '--home', h], { BAZAAR_MNEMONIC: 'secret words here' })
      expectOneLine(r, 1, /^bazaar init: the mnemonic is not a valid BIP-39 phrase/)
      expect(r.err[0]).not.toMatch(/secret/)
      expect(await readdir(h)).toEqual([])
    } finally {
      await rm(h, { recursive: true, force: true })
    }
  })

  it('a misspelt flag is named without node\'s hint about positional arguments', async () => {
    expectOneLine(await run(['escrow', 'ls', '--hme', home]), 2, /^bazaar escrow: Unknown option '--hme' \(see bazaar escrow --help\)$/)
  })

  it('a home that is a file, or under one, is said to be no directory (not a config file or keystore missing)', async () => {
    const env = { BAZAAR_PASSPHRASE: 'pw' }
    expectOneLine(await run(['node', 'start', '--home', file], env), 1, new RegExp(`^bazaar node: the node home ${file} is not a directory$`))
    expectOneLine(await run(['keys', 'show', '--home', file], env), 1, new RegExp(`^bazaar keys: the node home ${file} is not a directory$`))
    expectOneLine(await run(['keys', 'show', '--home', path.join(file, 'x')], env), 1, /^bazaar keys: the node home .*a-file\/x is not a directory: a file is on its path$/)
    // a home that is not there still says how to make one
    expectOneLine(await run(['keys', 'show', '--home', path.join(dir, 'nowhere')], env), 1, /no keystore in .*nowhere \(run bazaar init\)/)
  })

  it('an empty --passphrase-file (an unset variable) is a usage error', async () => {
    expectOneLine(await run(['keys', 'show', '--home', home, '--passphrase-file', '']), 2, /^bazaar keys: --passphrase-file is empty/)
  })

  it('init --dev whose home cannot be made prints the failure alone, without the dev-key warning', async () => {
    expectOneLine(await run(['init', '--home', file, '--dev', 'alice'], { BAZAAR_PASSPHRASE: 'pw' }), 1, /^bazaar init: cannot create the node home .*a-file: ENOTDIR/)
  })

  it('empty --config, --dir and --path (unset variables) are usage errors, never the working directory', async () => {
    expectOneLine(await run(['node', 'start', '--home', path.join(dir, 'cfg-home'), '--config', ''], { BAZAAR_PASSPHRASE: 'pw' }), 2, /^bazaar node: --config is empty/)
    expectOneLine(await run(['devnet', '--dir', '']), 2, /^bazaar devnet: --dir is empty/)
    expectOneLine(await run(['init', '--home', path.join(dir, 'w-home'), '--from-btcli', '--path', '']), 2, /^bazaar init: --path is empty/)
    expectOneLine(await run(['wallet', 'import', '--btcli', '--home', home, '--path', ' ']), 2, /^bazaar wallet: --path is empty/)
    // the fetch commands would write into the working directory
    expectOneLine(await run(['attest', 'fetch-crls', '--dir', '']), 2, /^bazaar attest: --dir is empty/)
    expectOneLine(await run(['attest', 'fetch-tdx-collateral', '--fmspc', 'b0c06f000000', '--dir', '']), 2, /^bazaar attest: --dir is empty/)
    expectOneLine(await run(['attest', 'fetch-rims', '--dir', '', '--id', 'NV_GPU_DRIVER_GH100_550.90.07']), 2, /^bazaar attest: --dir is empty/)
    expectOneLine(await run(['chain', 'start', '--spec', '']), 2, /^bazaar chain: --spec is empty/)
  })

  it('a btcli wallet that is missing, or whose password cannot be had, is its one line (no note of a slow open first)', async () => {
    const wallets = path.join(dir, 'wallets')
    await writeWallet(wallets, 'w', 'default', { coldkey: await keyFromMnemonic(MNEMONICS[0]), hotkey: await keyFromMnemonic(MNEMONICS[2]), coldFormat: 'nacl', password: 'x', limits: FAST })
    const h = path.join(dir, 'btcli-home')
    expectOneLine(await run(['init', '--home', h, '--from-btcli', '--path', wallets, '--wallet', 'nope']), 1, /^bazaar init: no coldkeypub\.txt at .*nope\/coldkeypub\.txt$/)
    expectOneLine(await run(['init', '--home', h, '--from-btcli', '--path', wallets, '--wallet', 'w']), 1, /^bazaar init: .*w\/coldkey is encrypted: run on a terminal to type its password, or set BT_PW_/)
  })

  it('a flag value too long for the node\'s HTTP bounds is named as such, not "HTTP 431"', async () => {
    // node's own HTTP server refuses headers past 16 KiB before any route, as the control API's does
    const server = createHttpServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('[]') })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    try {
      const api = `127.0.0.1:${(server.address() as AddressInfo).port}`
      expect((await run(['offer', 'ls', '--home', home, '--api', api, '--gpu', 'h100'])).code).toBe(0)
      expectOneLine(await run(['offer', 'ls', '--home', home, '--api', api, '--gpu', 'a'.repeat(20_000)]), 2, /^bazaar offer: a flag value is too long for the node \(it answered HTTP 431, request too large\)$/)
    } finally {
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  })

  it('a token the node refuses names the file it came from', async () => {
    const server = createHttpServer((_req, res) => { res.writeHead(401, { 'content-type': 'application/json' }); res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'missing or wrong bearer token' } })) })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    try {
      const api = `127.0.0.1:${(server.address() as AddressInfo).port}`
      expectOneLine(await run(['jobs', '--home', home, '--api', api]), 1, new RegExp(`^bazaar jobs: the node at http://${api} refused the token of ${path.join(home, 'api-token')}: is --api the node of another home\\?`))
    } finally {
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  })

  it('a chain spec that is a directory is not called missing', async () => {
    const specDir = path.join(dir, 'spec-dir')
    await mkdir(specDir)
    expectOneLine(await run(['chain', 'start', '--spec', specDir]), 2, /^bazaar chain: the chain spec .*spec-dir is not a file/)
    expectOneLine(await run(['chain', 'start', '--spec', path.join(dir, 'absent.json')]), 2, /^bazaar chain: no chain spec at /)
    // a file that is no chain spec is its one line, without "starting chopsticks" before it
    await writeFile(path.join(dir, 'not-a-spec.json'), '{"name": "x"}')
    expectOneLine(await run(['chain', 'start', '--spec', path.join(dir, 'not-a-spec.json')]), 1, /^bazaar chain: chain spec .*not-a-spec\.json has neither genesis\.raw nor genesis\.runtimeGenesis/)
    await writeFile(path.join(dir, 'yaml-spec.json'), 'name: x\n')
    expectOneLine(await run(['chain', 'start', '--spec', path.join(dir, 'yaml-spec.json')]), 1, /^bazaar chain: chain spec .*yaml-spec\.json is not JSON$/)
  })

  it('an empty --listen or --enclave-listen (an unset variable) is a usage error, not a node listening nowhere', async () => {
    expectOneLine(await run(['node', 'start', '--home', home, '--listen', '']), 2, /^bazaar node: --listen names no address \(give a multiaddr/)
    expectOneLine(await run(['supply', '--home', home, '--listen', ' , ']), 2, /^bazaar supply: --listen names no address/)
    expectOneLine(await run(['node', 'start', '--home', home, '--enclave-listen', '']), 2, /^bazaar node: --enclave-listen names no address/)
  })

  it('book --limit out of its range says the range, before any node is asked', async () => {
    for (const limit of ['99999999999', '0', '10001', '-3']) {
      expectOneLine(await run(['book', '--home', home, '--api', `127.0.0.1:${await closedPort()}`, `--limit=${limit}`]), 2, /^bazaar book: --limit: expected a whole number from 1 to 10000, got /)
    }
  })

  it('chain start --fork of an endpoint that refuses the connection says so at once, not after its 30 s bound', async () => {
    const fork = `ws://127.0.0.1:${await closedPort()}`
    // a port of its own: another local chain may hold the default 9944
    const r = await run(['chain', 'start', '--fork', fork, '--port', String(await closedPort())])
    expect(r.code).toBe(1)
    expect(r.err).toEqual([`starting a local fork of ${fork} ...`, `bazaar chain: cannot reach ${fork}: the websocket connection failed`])
  }, 20_000)

  it('--version prints the package version and Node\'s', async () => {
    const r = await run(['--version'])
    expect(r.code).toBe(0)
    expect(r.err).toEqual([])
    expect(r.out).toEqual([`bazaar ${JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')).version as string} (node ${process.versions.node})`])
  })
})
