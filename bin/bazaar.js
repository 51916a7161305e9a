#!/usr/bin/env node
// The `bazaar` command. The TypeScript sources are compiled to dist/ by `npm run build` (and by
// `npm pack` / `npm install` from a checkout, through the prepack script).
//
// This file is kept to syntax every Node since 14 parses, and checks the version before anything
// imports libp2p: libp2p 3 needs Node 22 (Promise.withResolvers), and on an older Node it would
// fail deep inside with `Promise.withResolvers is not a function`.
const MIN_NODE_MAJOR = 22
const major = Number(process.versions.node.split('.')[0])
if (!(major >= MIN_NODE_MAJOR)) {
  process.stderr.write(`bazaar: needs Node.js ${MIN_NODE_MAJOR} or newer, this is ${process.version} (${process.execPath}); install Node.js 24 LTS, or from a checkout run \`source scripts/ensure-node.sh\` to use the one in .tools/\n`)
  process.exit(1)
}

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
