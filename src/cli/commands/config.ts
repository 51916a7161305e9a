import type { Command } from '../command.js'
import { flag } from '../command.js'
import { UsageError } from '../../util/errors.js'
import { CONFIG_FIELDS, defaultConfig, type BazaarConfig } from '../../node/config/index.js'

const usage = `usage: bazaar config describe [--json]

Lists every configuration field: its type, default (config/default.json), the BAZAAR_* environment
variable and the flag that set it, and what it means. Layers, lowest first: the defaults,
<home>/config.json (or --config), the environment, flags. A field that a layer does not know is
refused at start with its name.

options:
  --json      one JSON array of { field, type, default, env, flag, description }
  -h, --help  this help`

/** One row of `bazaar config describe --json`. */
export interface ConfigFieldJson {
  field: string
  type: string
  /** the packaged default; null when the field has none (optional, or an entry of a list) */
  default: unknown
  env: string | null
  flag: string | null
  description: string
}

/** `bazaar config describe`: the configuration schema, as the validator uses it. */
export const configCommand: Command = {
  name: 'config',
  usage,
  allowPositionals: true,
  options: { json: { type: 'boolean' } },
  async run (args, ctx) {
    const [sub, ...extra] = args.positionals
    if (sub !== 'describe' || extra.length > 0) throw new UsageError('expected `bazaar config describe` (see bazaar config --help)')
    const defaults = await defaultConfig()
    const rows: ConfigFieldJson[] = CONFIG_FIELDS.map((f) => ({
      field: f.path,
      type: f.type,
      default: defaultOf(defaults, f.path),
      env: f.env ?? null,
      flag: f.flag ?? null,
      description: f.description
    }))
    if (flag(args, 'json')) { ctx.out(JSON.stringify(rows)); return 0 }
    for (const r of rows) {
      if (r.type === 'object') { ctx.out(`${r.field}: ${r.description}`); continue }
      const where = [r.env != null ? `env ${r.env}` : '', r.flag != null ? `flag ${r.flag}` : ''].filter((x) => x !== '').join(', ')
      ctx.out(`${r.field}  ${r.type}${r.default !== null ? `, default ${JSON.stringify(r.default)}` : ''}${where !== '' ? `; ${where}` : ''}`)
      ctx.out(`    ${r.description}`)
    }
    return 0
  }
}

/** The default at a schema path; null for list entries, map members and absent fields. */
function defaultOf (config: BazaarConfig, path: string): unknown {
  if (path.includes('[]') || path.includes('<')) return null
  let cur: unknown = config
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, part)) return null
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur ?? null
}
