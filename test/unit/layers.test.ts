/**
 * The import layering of DESIGN.md, checked on the sources: dependencies point down.
 *
 *   wire, util              the bottom: import nothing of the project above them
 *   market, escrow, tee, jobs  the domains: util and wire (and one another, without cycles); no libp2p
 *   protocols               adapts the domains to libp2p: not node, cli or bench
 *   node                    the composition root: not cli or bench
 *   cli, bench              the top
 *
 * It reads the import and export-from lines (static and dynamic) of every file under src/.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SRC = path.join(ROOT, 'src')

const DOMAINS = ['market', 'escrow', 'tee', 'jobs']
/** the floor of each top-level folder of src; an import may only reach the same floor or below */
const FLOOR: Record<string, number> = {
  wire: 0, util: 0, market: 1, escrow: 1, tee: 1, jobs: 1, protocols: 2, node: 3, cli: 4, bench: 5
}
/** packages that are libp2p or its transport plumbing, which the domains must not know */
const LIBP2P = /^(libp2p$|@libp2p\/|@chainsafe\/libp2p|@multiformats\/|multiformats($|\/)|it-)/

interface Import { file: string, spec: string }

function sourceFiles (dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...sourceFiles(p))
    else if (e.name.endsWith('.ts')) out.push(p)
  }
  return out
}

/** the module specifiers a file imports or re-exports; comments are dropped first */
function importsOf (text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  const specs: string[] = []
  const re = /(?:^|[;\n])\s*(?:import|export)\b[^;'"`]*?\bfrom\s*['"]([^'"]+)['"]|(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g
  for (const m of code.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3])
  return specs
}

/** the top-level folder of src a path lies in, or undefined outside src */
function topOf (file: string): string | undefined {
  const rel = path.relative(SRC, file)
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined
  const parts = rel.split(path.sep)
  return parts.length > 1 ? parts[0] : undefined
}

/** why the import breaks the layering, or undefined when it does not */
function violation (file: string, spec: string): string | undefined {
  const from = topOf(file)
  if (from === undefined || !(from in FLOOR)) return from === undefined ? undefined : `${from} is not a known layer (add it to FLOOR)`
  if (spec.startsWith('.')) {
    const to = topOf(path.resolve(path.dirname(file), spec))
    if (to === undefined) return `${from} imports outside src`
    if (to === from) return undefined
    if (!(to in FLOOR)) return `${to} is not a known layer (add it to FLOOR)`
    if (FLOOR[from] === 0) return `${from} is the bottom floor and imports ${to}`
    if (FLOOR[to] > FLOOR[from]) return `${from} points up to ${to}`
    if (FLOOR[to] === FLOOR[from] && !DOMAINS.includes(from)) return `${from} imports ${to} on its own floor`
    return undefined
  }
  if ((DOMAINS.includes(from) || FLOOR[from] === 0) && LIBP2P.test(spec)) return `${from} imports the libp2p package ${spec}`
  return undefined
}

function allImports (): Import[] {
  return sourceFiles(SRC).flatMap((file) => importsOf(readFileSync(file, 'utf8')).map((spec) => ({ file, spec })))
}

describe('import layering', () => {
  it('reads the import forms the sources use', () => {
    expect(importsOf([
      "import { a } from './a.js'",
      "import type { B } from '../b.js'",
      'import {\n  c,\n  d\n} from "../c.js"',
      "export { e } from './e.js'",
      "export * from './f.js'",
      "import './side.js'",
      "const g = await import('../g.js')",
      "// import { h } from '../commented.js'",
      "/* import { i } from '../block.js' */"
    ].join('\n'))).toEqual(['./a.js', '../b.js', '../c.js', './e.js', './f.js', './side.js', '../g.js'])
  })

  it.each([
    ['market/x.ts', '../protocols/gossip/y.js', 'market points up to protocols'],
    ['escrow/a/x.ts', '../../node/metrics.js', 'escrow points up to node'],
    ['jobs/x.ts', '../protocols/job/index.js', 'jobs points up to protocols'],
    ['tee/x.ts', '../cli/main.js', 'tee points up to cli'],
    ['market/validation/x.ts', '@libp2p/peer-id', 'market imports the libp2p package @libp2p/peer-id'],
    ['escrow/x.ts', '@multiformats/multiaddr', 'escrow imports the libp2p package @multiformats/multiaddr'],
    ['util/x.ts', '../market/types.js', 'util is the bottom floor and imports market'],
    ['wire/x.ts', '../util/errors.js', 'wire is the bottom floor and imports util'],
    ['protocols/gossip/x.ts', '../../node/metrics.js', 'protocols points up to node'],
    ['node/x.ts', '../cli/main.js', 'node points up to cli'],
    ['protocols/x.ts', '../node/y.js', 'protocols points up to node']
  ])('refuses %s importing %s', (file, spec, why) => {
    expect(violation(path.join(SRC, file), spec)).toBe(why)
  })

  it.each([
    ['market/x.ts', '../util/bytes.js'],
    ['market/x.ts', '../wire/market.js'],
    ['escrow/x.ts', '../market/agreement/terms.js'],
    ['protocols/x.ts', '../market/index.js'],
    ['protocols/x.ts', '@libp2p/interface'],
    ['node/x.ts', '../protocols/gossip/service.js'],
    ['cli/x.ts', '../node/daemon.js'],
    ['market/x.ts', '@polkadot/util-crypto']
  ])('allows %s importing %s', (file, spec) => {
    expect(violation(path.join(SRC, file), spec)).toBeUndefined()
  })

  it('no file under src imports up, and the domains import no libp2p', () => {
    const imports = allImports()
    expect(imports.length).toBeGreaterThan(500)
    const bad = imports.flatMap(({ file, spec }) => {
      const why = violation(file, spec)
      return why === undefined ? [] : [`${path.relative(ROOT, file)}: '${spec}': ${why}`]
    })
    expect(bad).toEqual([])
  })

  it('the domains do not import one another in a cycle', () => {
    const edges = new Map<string, Set<string>>(DOMAINS.map((d) => [d, new Set()]))
    for (const { file, spec } of allImports()) {
      const from = topOf(file)
      if (from === undefined || !DOMAINS.includes(from) || !spec.startsWith('.')) continue
      const to = topOf(path.resolve(path.dirname(file), spec))
      if (to !== undefined && to !== from && DOMAINS.includes(to)) edges.get(from)?.add(to)
    }
    const cycles: string[] = []
    const walk = (at: string, trail: string[]): void => {
      for (const next of edges.get(at) ?? []) {
        if (next === trail[0]) cycles.push([...trail, next].join(' → '))
        else if (!trail.includes(next)) walk(next, [...trail, next])
      }
    }
    for (const d of DOMAINS) walk(d, [d])
    expect(cycles).toEqual([])
  })
})
