import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bazaar, CliProcess, ensureBuilt } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'
import { DAEMON_MALLOC_TUNABLES, DAEMON_SEMI_SPACE_MIB } from '../../src/node/daemon-heap.js'

async function freePort (): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => { resolve(p) }) })
  })
}

describe('bazaar node start (the daemon, as a user runs it)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-node-'))
  const homeA = path.join(dir, 'a')
  const homeB = path.join(dir, 'b')
  const env = { BAZAAR_PASSPHRASE: 'correct horse' }

  beforeAll(() => {
    ensureBuilt()
    for (const [home, dev] of [[homeA, 'alice'], [homeB, 'bob']]) {
      const r = bazaar(['init', '--home', home, '--dev', dev, '--json'], { env })
      expect(r.code, r.stderr).toBe(0)
    }
  }, 120_000)

  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

  it('keeps its peer id and address across a restart, and stops cleanly on SIGTERM', async () => {
    const port = await freePort()
    const args = ['node', 'start', '--home', homeA, '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--api', '127.0.0.1:0', '--no-mdns']
    const first = new CliProcess(args, { env })
    const [, id1] = await first.waitFor(/peer id (\S+)/)
    await first.waitFor(/control API/)
    // bin/bazaar.js bounded libp2p's own length prefixes before the daemon loaded libp2p (the
    // daemon warns at start where it did not: test/unit/node/lp-guard.test.ts tests the bound)
    expect(first.stderr).not.toMatch(/length-prefixed readers are not bounded/)
    // the bin re-executed itself (same pid) with the daemon's young generation
    const cmdline = `/proc/${first.child.pid}/cmdline`
    if (existsSync(cmdline) && typeof process.execve === 'function' && !/--max-semi-space-size/.test(process.env.NODE_OPTIONS ?? '')) {
      expect(readFileSync(cmdline, 'latin1').split('\0')).toContain(`--max-semi-space-size=${DAEMON_SEMI_SPACE_MIB}`)
      // and glibc's malloc tunables, unless the environment had its own (glibc, parsing them as the
      // process starts, cuts the string it read at the first ':', so only its start is compared)
      if ((process.env.GLIBC_TUNABLES ?? '') === '') {
        const seen = readFileSync(`/proc/${first.child.pid}/environ`, 'latin1').split('\0').find((v) => v.startsWith('GLIBC_TUNABLES=')) ?? ''
        expect(seen.length).toBeGreaterThan('GLIBC_TUNABLES=glibc.'.length)
        expect(`GLIBC_TUNABLES=${DAEMON_MALLOC_TUNABLES}`.startsWith(seen)).toBe(true)
      }
    }
    expect(await first.stop('SIGTERM')).toBe(0)
    expect(first.stdout).toContain('stopping')

    const second = new CliProcess(args, { env })
    const [, id2] = await second.waitFor(/peer id (\S+)/)
    const [, addr] = await second.waitFor(/listening (\S+)/)
    expect(id2).toBe(id1)
    expect(addr).toBe(`/ip4/127.0.0.1/tcp/${port}/p2p/${id1}`)
    await second.waitFor(/control API/)
    expect(await second.stop('SIGINT')).toBe(0)
  })

  it('an offer published on one daemon is listed by another, then cancelled', async () => {
    const port = await freePort()
    const a = new CliProcess(['node', 'start', '--home', homeA, '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--api', '127.0.0.1:0', '--no-mdns'], { env })
    const [, idA] = await a.waitFor(/peer id (\S+)/)
    await a.waitFor(/control API/)
    const b = new CliProcess(['node', 'start', '--home', homeB, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns',
      '--bootstrap', `/ip4/127.0.0.1/tcp/${port}/p2p/${idA}`], { env })
    await b.waitFor(/control API/)
    try {
      await waitFor(() => JSON.parse(bazaar(['peers', '--home', homeB, '--json']).stdout).length > 0, 20_000)
      // publish once A knows that B subscribed to the offers topic
      await waitFor(() => JSON.parse(bazaar(['status', '--home', homeA, '--json']).stdout).topicPeers.offers > 0, 20_000)
      const pub = bazaar(['offer', 'publish', '--home', homeA, '--id', 'h100s', '--gpu', 'h100-80gb:81920:2', '--price', '1.5', '--tee', 'simulated', '--json'])
      expect(pub.code, pub.stderr).toBe(0)
      expect(JSON.parse(pub.stdout)).toMatchObject({ id: 'h100s', pricePerGpuHour: '1500000000' })
      // /metrics, as a scraper reads it with the metrics token: the publication's time inside the
      // daemon, and the process's own figures
      const api = JSON.parse(readFileSync(path.join(homeA, 'api.json'), 'utf8')) as { url: string }
      const scraped = await (await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${readFileSync(path.join(homeA, 'metrics-token'), 'utf8').trim()}` } })).text()
      expect(scraped).toMatch(/^bazaar_api_request_seconds_count\{method="POST",route="\/v1\/offers",status="201"\} 1$/m)
      expect(scraped).toMatch(/^bazaar_event_loop_delay_seconds_count \d+$/m)
      expect(Number(/^process_resident_memory_bytes (\d+)$/m.exec(scraped)?.[1])).toBeGreaterThan(2 ** 20)
      await waitFor(() => JSON.parse(bazaar(['offer', 'ls', '--home', homeB, '--json']).stdout).length === 1, 20_000)
      const listed = JSON.parse(bazaar(['offer', 'ls', '--home', homeB, '--json']).stdout)
      expect(listed[0]).toMatchObject({ id: 'h100s', gpus: [{ model: 'h100-80gb', memoryMib: 81920, count: 2 }], teeKinds: ['simulated'] })
      // the id as the cancel's argument, and the home written before the command
      const cancel = bazaar(['--home', homeA, 'offer', 'cancel', 'h100s'])
      expect(cancel.code, cancel.stderr).toBe(0)
      expect(cancel.stdout.trim()).toBe('cancelled offer h100s')
      await waitFor(() => JSON.parse(bazaar(['offer', 'ls', '--home', homeB, '--json']).stdout).length === 0, 20_000)
      // a bad flag is a usage error (exit 2, one line)
      const bad = bazaar(['offer', 'publish', '--home', homeA, '--gpu', 'nonsense'])
      expect(bad.code).toBe(2)
      expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    } finally {
      await b.stop()
      await a.stop()
    }
  // two daemon starts and a dozen CLI runs: over a minute on a busy 2-core machine
  }, 240_000)

  it('on an IPv6 loopback API address, api.json holds a URL the commands reach', async () => {
    const a = new CliProcess(['node', 'start', '--home', homeA, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '[::1]:0', '--no-mdns'], { env })
    try {
      const [, url] = await a.waitFor(/control API (\S+)/)
      expect(url).toMatch(/^http:\/\/\[::1\]:\d+$/)
      expect((JSON.parse(readFileSync(path.join(homeA, 'api.json'), 'utf8')) as { url: string }).url).toBe(url)
      const status = bazaar(['status', '--home', homeA, '--json'])
      expect(status.code, status.stderr).toBe(0)
      expect(JSON.parse(status.stdout)).toMatchObject({ status: 'running' })
    } finally {
      await a.stop()
    }
  }, 120_000)

  it('refuses a wrong passphrase with one line and a non-zero exit', () => {
    const r = bazaar(['node', 'start', '--home', homeA, '--no-mdns'], { env: { ...env, BAZAAR_PASSPHRASE: 'wrong' } })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/passphrase/i)
  })
})
