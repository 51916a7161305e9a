import { readFileSync } from 'node:fs'

/**
 * This package's version, from its package.json (two levels above both `src/util` and
 * `dist/util`). Read once, bounded by the file being the package's own; a package.json that cannot
 * be read (a copied `dist/` alone) gives `unknown` rather than failing the command that asked.
 */
export function packageVersion (): string {
  try {
    const json = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: unknown, version?: unknown }
    if (json.name === 'gpu-bazaar' && typeof json.version === 'string' && /^[0-9A-Za-z.+-]{1,64}$/.test(json.version)) return json.version
  } catch {}
  return 'unknown'
}
