#!/usr/bin/env node
// The `bazaar` command. The TypeScript sources are compiled to dist/ by `npm run build` (and by
// `npm pack` / `npm install` from a checkout, through the prepack script).
//
// This file is kept to syntax every Node since 14 parses, and checks the version before anything
// imports libp2p: libp2p 3 needs Node 22 (Promise.withResolvers), and on an older Node it would
// fail deep inside with `Promise.withResolvers is not a function`.
import { fileURLToPath } from 'node:url'

const MIN_NODE_MAJOR = 22
const major = Number(process.versions.node.split('.')[0])
if (!(major >= MIN_NODE_MAJOR)) {
  process.stderr.write(`bazaar: needs Node.js ${MIN_NODE_MAJOR} or newer, this is ${process.version} (${process.execPath}); install Node.js 24 LTS, or from a checkout run \`source scripts/ensure-node.sh\` to use the one in .tools/\n`)
  process.exit(1)
}

// A daemon (`node start`, `supply`, `arbiter`) runs with V8's young generation capped per semi-space
// (DAEMON_SEMI_SPACE_MIB, dist/node/daemon-heap.js says why that size). V8 reads the flag only when
// the process starts, so the process replaces itself with one that has it (process.execve: the same
// pid, so signals, systemd and stdio are unchanged). A --max-semi-space-size of the operator's own
// (NODE_OPTIONS or a node flag) wins. The same re-execution sets glibc's malloc tunables
// (daemonEnv: fewer arenas, free memory given back sooner), unless the operator set GLIBC_TUNABLES.
// Without dist/ the import below says what to do.
const args = process.argv.slice(2)
const isDaemon = (args[0] === 'node' && args[1] === 'start') || args[0] === 'supply' || args[0] === 'arbiter'
const wantsHelp = args.indexOf('--help') >= 0 || args.indexOf('-h') >= 0
const hasOwnSemiSpace = /--max-semi-space-size/.test(process.execArgv.join(' ') + ' ' + (process.env.NODE_OPTIONS || ''))
if (isDaemon && !wantsHelp && !hasOwnSemiSpace && typeof process.execve === 'function') {
  const heap = await import('../dist/node/daemon-heap.js').catch(() => null)
  if (heap != null) {
    const script = fileURLToPath(import.meta.url)
    process.execve(process.execPath, [process.execPath, '--max-semi-space-size=' + heap.DAEMON_SEMI_SPACE_MIB].concat(process.execArgv, [script], args), heap.daemonEnv(process.env))
  }
}

// libp2p's own length-prefixed readers get a bound on their prefix before anything loads them
// (dist/node/lp-guard.js says why); without dist/ the import below says what to do
const guard = await import('../dist/node/lp-guard.js').catch(() => null)
if (guard != null) guard.installLengthPrefixGuard()

let cli
try {
  cli = await import('../dist/cli/main.js')
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/cli/main.js')) {
    process.stderr.write('bazaar: the compiled CLI (dist/) is missing: run `npm run build` in the checkout\n')
    process.exit(1)
  }
  throw err
}
cli.main(process.argv.slice(2)).then((code) => { process.exitCode = code })
