/**
 * The bound on libp2p's own length prefixes (src/node/lp-guard.ts), in child processes: the guard
 * patches `@libp2p/utils` as Node loads it, so it must be installed before anything imports libp2p,
 * which this test process has long done.
 */
import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ensureBuilt, REPO } from '../../helpers/cli.js'

const GUARD = pathToFileURL(path.join(REPO, 'dist/node/lp-guard.js')).href

/**
 * runs `script` as an ES module in a fresh Node from the repository root. `onLine` gets each stdout
 * line starting with `@`; `stdin` ends when `release` resolves. Resolves with the last JSON line.
 */
async function child (script: string, opts: { onLine?: (line: string) => void, release?: Promise<void> } = {}): Promise<any> {
  const p = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  p.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d
    for (const line of d.split('\n')) if (line.startsWith('@')) opts.onLine?.(line.slice(1))
  })
  p.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
  void (opts.release ?? Promise.resolve()).then(() => { p.stdin.end() })
  const code = await new Promise<number | null>((resolve) => { p.on('close', resolve) })
  expect(code, err).toBe(0)
  return JSON.parse(out.split('\n').filter((l) => l.startsWith('{')).at(-1)!)
}

/** a stream as lpStream reads it, fed by hand; `unshifted` is what it gave back unread */
const FAKE_STREAM = `
class Fake extends EventTarget {
  log = Object.assign(() => {}, { error () {}, newScope () { return this } })
  remoteWriteStatus = 'writable'
  readBufferLength = 0
  unshifted = 0
  closeRead () {} send () { return true } push () {} abort () {}
  unshift (list) { this.unshifted = list.byteLength }
  feed (bytes) { const e = new Event('message'); e.data = Uint8Array.from(bytes); this.dispatchEvent(e) }
  end () { this.remoteWriteStatus = 'closed'; this.dispatchEvent(new Event('remoteCloseWrite')) }
}
// the bytes arrive once the reader listens, as a connection's do
const outcome = async (bytes, opts, s = new Fake()) => {
  const lp = lpStream(s, opts)
  s.feed(bytes)
  const r = await lp.read().then((b) => ({ read: b.byteLength }), (e) => ({ error: e.name }))
  lp.unwrap()
  return { ...r, unread: s.unshifted }
}
`

describe('libp2p length prefixes under the guard', () => {
  it('a prefix that never ends is refused after 8 bytes (the caller\'s bound where lower); prefixes that decode read as before', async () => {
    ensureBuilt()
    const r = await child(`
      const guard = await import(${JSON.stringify(GUARD)})
      const installed = guard.installLengthPrefixGuard()
      const { lpStream } = await import('@libp2p/utils')
      ${FAKE_STREAM}
      console.log(JSON.stringify({
        installed,
        endless: await outcome(new Array(1000).fill(0x80)),
        capped: await outcome(new Array(1000).fill(0x80), { maxDataLength: 1024 }),
        protocol: await outcome([0x13, ...Buffer.from('/multistream/1.0.0\\n'), 0x80, 0x80], { maxDataLength: 1024 }),
        twoBytes: await outcome([0xac, 0x02, ...new Array(300).fill(7)]),
        eightBytes: await outcome([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
        status: guard.lengthPrefixGuardStatus()
      }))
    `)
    expect(r.installed).toBe('installed')
    expect(r.status).toBe('patched')
    // 8 bytes read, the rest left unread: not 1,000 reads of one byte until a timeout
    expect(r.endless).toEqual({ error: 'InvalidDataLengthLengthError', unread: 992 })
    // maxDataLength 1024 makes the length at most 2 bytes long (multistream-select's own bound)
    expect(r.capped).toEqual({ error: 'InvalidDataLengthLengthError', unread: 998 })
    expect(r.protocol).toEqual({ read: 19, unread: 2 })
    expect(r.twoBytes).toEqual({ read: 300, unread: 0 })
    // the longest prefix uint8-varint decodes (a zero-length message after 8 bytes of prefix)
    expect(r.eightBytes).toEqual({ read: 0, unread: 0 })
  })

  it('without the guard the same prefix is read to its end (the unbounded behaviour the guard removes)', async () => {
    ensureBuilt()
    const r = await child(`
      const { lpStream } = await import('@libp2p/utils')
      ${FAKE_STREAM}
      const endless = new Fake()
      const read = outcome(new Array(1000).fill(0x80), {}, endless)
      // every byte is read one at a time; the read ends only when the stream does
      await new Promise((resolve) => setImmediate(resolve))
      endless.end()
      console.log(JSON.stringify({ endless: await read }))
    `)
    expect(r.endless).toEqual({ error: 'UnexpectedEOFError', unread: 0 })
  })

  it('a TCP client sending a prefix that never ends has its connection closed at once, not at the upgrade timeout', async () => {
    ensureBuilt()
    let resolveAddr: (port: number) => void = () => {}
    const port = new Promise<number>((resolve) => { resolveAddr = resolve })
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => { release = resolve })
    const node = child(`
      const guard = await import(${JSON.stringify(GUARD)})
      guard.installLengthPrefixGuard()
      const { createLibp2p } = await import('libp2p')
      const { tcp } = await import('@libp2p/tcp')
      const { noise } = await import('@chainsafe/libp2p-noise')
      const { yamux } = await import('@chainsafe/libp2p-yamux')
      // an upgrade timeout far past the test's: only the bound can close the connection in time
      const host = await createLibp2p({
        addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()],
        connectionManager: { inboundUpgradeTimeout: 600_000 }
      })
      console.log('@' + host.getMultiaddrs()[0].toString().split('/')[4])
      process.stdin.resume()
      await new Promise((resolve) => { process.stdin.once('end', resolve) })
      console.log(JSON.stringify({ status: guard.lengthPrefixGuardStatus() }))
      await host.stop()
    `, { onLine: (l) => { resolveAddr(Number(l)) }, release: released })
    try {
      const socket = connect(await port, '127.0.0.1')
      socket.on('error', () => {})
      await new Promise<void>((resolve) => { socket.once('connect', resolve) })
      const closed = new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
      // one write: the node reads 2 bytes of it (multistream-select's bound) and closes
      socket.write(Buffer.alloc(64, 0x80))
      await closed
    } finally {
      release()
    }
    expect(await node).toEqual({ status: 'patched' })
  })
})
