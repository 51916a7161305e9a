import type { Command } from '../command.js'
import { flag, str, strs, subcommand } from '../command.js'
import { UsageError } from '../../util/errors.js'
import { ApiClient, CLIENT_OPTIONS } from '../client.js'
import { alpha, parseDuration, table } from '../format.js'
import { parseAmountArg } from '../amount.js'
import type { BidView } from '../../node/market-json.js'

const usage = `usage: bazaar bid <publish|cancel|ls> [options]

Publishes a signed job bid through the running node (on /bazaar/bids/1), replaces it (same --id),
cancels it, or lists the valid bids the node holds.

publish options:
  --id <id>              bid slot id (default: "default")
  --gpu <model|class>    GPU model (h100-80gb) or class prefix (h100); default any
  --min-memory <MiB>     minimum GPU memory
  --count <n>            GPUs (default 1)
  --max-price <alpha/h>  highest price per GPU-hour in alpha (required)
  --duration <d>         rental duration, e.g. 30m, 2h (default 1h)
  --tee <kind>           accepted TEE kind (repeatable; default any)
  --region <r>           accepted region (repeatable; default any)
  --ttl <d>              life of the publication
cancel:  bazaar bid cancel <id>  (or --id <id>)
common:
  --home <dir>  --api <host:port>  --json  -h, --help`

function int (v: string | undefined, name: string): number | undefined {
  if (v == null) return undefined
  if (!/^[0-9]{1,9}$/.test(v)) throw new UsageError(`--${name} expects a whole number`)
  return Number(v)
}

/** `bazaar bid`: publish, cancel or list bids through a running node. */
export const bidCommand: Command = {
  name: 'bid',
  usage,
  allowPositionals: true,
  options: {
    ...CLIENT_OPTIONS,
    id: { type: 'string' },
    gpu: { type: 'string' },
    'min-memory': { type: 'string' },
    count: { type: 'string' },
    'max-price': { type: 'string' },
    duration: { type: 'string' },
    tee: { type: 'string', multiple: true },
    region: { type: 'string', multiple: true },
    ttl: { type: 'string' }
  },
  async run (args, ctx) {
    // `bid cancel <id>` is `bid cancel --id <id>`
    const { sub, operands } = subcommand('bid', args, ['publish', 'cancel', 'ls'] as const, 'bazaar bid publish|cancel|ls', { cancel: 1 })
    const api = await ApiClient.fromHome({ home: str(args, 'home'), env: ctx.env, api: str(args, 'api') })
    if (sub === 'ls') {
      const bids = await api.call<BidView[]>('GET', '/v1/bids')
      if (flag(args, 'json')) { ctx.out(JSON.stringify(bids)); return 0 }
      if (bids.length === 0) { ctx.out('no bids'); return 0 }
      ctx.out(table(['renter', 'id', 'gpu', 'count', 'max alpha/gpu-h', 'duration', 'expires'], bids.map((b) => [
        b.renter.slice(0, 10) + '…', b.id, b.requirements.gpu === '' ? 'any' : b.requirements.gpu, String(b.requirements.count), alpha(b.maxPricePerGpuHour), `${b.durationS}s`, b.expiresAt
      ])))
      return 0
    }
    if (sub === 'cancel') {
      if (operands.length > 0 && str(args, 'id') != null) throw new UsageError(`give the id once: --id ${str(args, 'id')!} or ${operands[0]!}`)
      const id = operands[0] ?? str(args, 'id')
      if (id == null) throw new UsageError('--id is required')
      await api.call('DELETE', `/v1/bids/${encodeURIComponent(id)}`)
      ctx.out(flag(args, 'json') ? JSON.stringify({ ok: true, id }) : `cancelled bid ${id}`)
      return 0
    }
    const maxPrice = str(args, 'max-price')
    if (maxPrice == null) throw new UsageError('--max-price is required')
    let maxRao: string
    maxRao = parseAmountArg(maxPrice, { flag: 'max-price', dflt: 'alpha', allow: ['alpha'] }).rao.toString()
    let durationS: number | undefined
    let ttlS: number | undefined
    try {
      const d = str(args, 'duration'); if (d != null) durationS = parseDuration(d)
      const t = str(args, 'ttl'); if (t != null) ttlS = parseDuration(t)
    } catch { throw new UsageError('--duration and --ttl expect a duration like 90s, 15m, 2h') }
    const bid = await api.call<BidView>('POST', '/v1/bids', {
      id: str(args, 'id'),
      gpu: str(args, 'gpu'),
      minMemoryMib: int(str(args, 'min-memory'), 'min-memory'),
      count: int(str(args, 'count'), 'count'),
      maxPricePerGpuHour: maxRao,
      durationS,
      teeKinds: strs(args, 'tee'),
      regions: strs(args, 'region'),
      ttlS
    }, {
      flags: { id: '--id', gpu: '--gpu', minMemoryMib: '--min-memory', count: '--count', maxPricePerGpuHour: '--max-price', durationS: '--duration', teeKinds: '--tee', regions: '--region', ttlS: '--ttl' }
    })
    if (flag(args, 'json')) ctx.out(JSON.stringify(bid))
    else ctx.out(`published bid ${bid.id} (sequence ${bid.sequence}, expires ${bid.expiresAt})`)
    return 0
  }
}
