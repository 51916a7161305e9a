import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { REPO, ensureBuilt } from '../../helpers/cli.js'

/** runs a script in a child process with the guard from dist installed (or not) */
function run (guard: boolean, body: string): { code: number | null, stderr: string, stdout: string } {
  const script = `
    import { installNetworkErrorGuard, guardedNetworkOperation, pendingNetworkOperations } from ${JSON.stringify(path.join(REPO, 'dist/node/process-guard.js'))}
    import { createLogger } from ${JSON.stringify(path.join(REPO, 'dist/node/logger.js'))}
    import net from 'node:net'
    if (${guard}) installNetworkErrorGuard(createLogger({ level: 'warn', write: (l) => process.stderr.write(l + '\\n') }))
    ${body}
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 })
  return { code: r.status, stderr: r.stderr, stdout: r.stdout }
}

// a socket whose connect fails with nobody listening for 'error': what a peer can cause inside libp2p.
// The socket closes right after its 'error' went out: a process still there to see the close lived
// through the error.
const UNLISTENED = `
  const server = net.createServer().listen(0, '127.0.0.1', () => {
    const port = server.address().port
    server.close(() => {
      net.connect(port, '127.0.0.1').on('close', () => { console.log('still running'); process.exit(0) })
    })
  })
`

describe('network error guard', () => {
  beforeAll(() => { ensureBuilt() }, 120_000)

  it('without it, a peer-caused socket error ends the process', () => {
    const r = run(false, UNLISTENED)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('ECONNREFUSED')
  })

  it('with it, the node logs the error and goes on', () => {
    const r = run(true, UNLISTENED)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('still running')
    expect(JSON.parse(r.stderr.trim().split('\n')[0])).toMatchObject({ level: 'warn', code: 'ECONNREFUSED', syscall: 'connect' })
  })

  it('an escaped error that belongs to a pending dial ends that dial with the error instead of being hidden', () => {
    // the dial never settles by itself (as the dial in the issue hung); its socket error escapes
    const r = run(true, `
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const port = server.address().port
        server.close(() => {
          const dial = guardedNetworkOperation(() => new Promise(() => { net.connect(port, '127.0.0.1') }), { timeoutMs: 600_000, target: { host: '127.0.0.1', port } })
          dial.then(() => console.log('resolved'), (err) => console.log(JSON.stringify({ rejected: err.code, pending: pendingNetworkOperations() })))
        })
      })
    `)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout.trim())).toEqual({ rejected: 'ECONNREFUSED', pending: 0 })
    expect(JSON.parse(r.stderr.trim().split('\n')[0])).toMatchObject({ level: 'warn', code: 'ECONNREFUSED', operations: 1 })
  })

  it('a guarded operation that never settles ends at its timeout', () => {
    const r = run(true, `
      // a daemon's event loop stays alive; this one is kept alive until the outcome is printed
      const alive = setInterval(() => {}, 1000)
      guardedNetworkOperation(() => new Promise(() => {}), { timeoutMs: 50 })
        .then(() => console.log('resolved'), (err) => console.log(JSON.stringify({ rejected: err.name, pending: pendingNetworkOperations() })))
        .finally(() => { clearInterval(alive) })
    `)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout.trim())).toEqual({ rejected: 'TimeoutError', pending: 0 })
  })

  it('any other uncaught error still ends the process with its stack', () => {
    const r = run(true, `setImmediate(() => { throw new TypeError('a bug') })`)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('TypeError: a bug')
  })
})
