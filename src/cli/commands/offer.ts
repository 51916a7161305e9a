import type { Command } from '../command.js'
import { flag, str, strs, subcommand } from '../command.js'
import { UsageError } from '../../util/errors.js'
import { ApiClient, CLIENT_OPTIONS } from '../client.js'
import { alpha, parseDuration, table } from '../format.js'
import { parseAmountArg } from '../amount.js'
import type { OfferView } from '../../node/market-json.js'

const usage = `usage: bazaar offer <publish|cancel|ls> [options]

Publishes a signed GPU offer through the running node (on /bazaar/offers/1), replaces it (publish
again with the same --id: a higher sequence replaces it), cancels it, or lists the valid offers
the node holds. The node re-publishes its active offers before they expire.

publish options:
  --id <id>              offer slot id (default: "default"); [a-z0-9._-], up to 64 chars
  --gpu <model:memMiB:count>  GPUs offered, e.g. h100-80gb:81920:4 (repeatable)
  --price <alpha/h>      price per GPU-hour in alpha, e.g. 0.5 (default: config market.pricePerGpuHour)
  --tee <kind>           TEE kind offered (default: the node's tee.provider, the only kind it attests as)
  --region <region>      region label (default: config market.region)
  --min-duration <d>     shortest rental, e.g. 60s, 15m (default: config)
  --max-duration <d>     longest rental (default: config)
  --ttl <d>              life of each publication (default: config market.offerTtlS)
cancel:  bazaar offer cancel <id>  (or --id <id>)
ls options:
  --gpu <class>  --region <r>  --tee <kind>   filters
common:
  --home <dir>  --api <host:port>  --json  -h, --help`

function parseGpu (s: string): { model: string, memoryMib: number, count: number } {
  const m = /^([a-z0-9][a-z0-9.-]*):([0-9]+):([0-9]+)$/.exec(s)
  if (m == null) throw new UsageError(`--gpu expects model:memoryMiB:count, got ${s}`)
  return { model: m[1], memoryMib: Number(m[2]), count: Number(m[3]) }
}

function durationFlag (v: string | undefined, name: string): number | undefined {
  if (v == null) return undefined
  try { return parseDuration(v) } catch { throw new UsageError(`--${name} expects a duration like 90s, 15m, 2h`) }
}

export function printOffers (offers: OfferView[], out: (l: string) => void): void {
  if (offers.length === 0) { out('no offers'); return }
  out(table(['supplier', 'id', 'gpus', 'tee', 'region', 'alpha/gpu-h', 'expires'], offers.map((o) => [
    o.supplier.slice(0, 10) + '…', o.id, o.gpus.map((g) => `${g.count}x${g.model}`).join(','), o.teeKinds.join(','), o.region, alpha(o.pricePerGpuHour), o.expiresAt
  ])))
}

/** `bazaar offer`: publish, cancel or list offers through a running node. */
export const offerCommand: Command = {
  name: 'offer',
  usage,
  allowPositionals: true,
  options: {
    ...CLIENT_OPTIONS,
    id: { type: 'string' },
    gpu: { type: 'string', multiple: true },
    price: { type: 'string' },
    tee: { type: 'string', multiple: true },
    region: { type: 'string' },
    'min-duration': { type: 'string' },
    'max-duration': { type: 'string' },
    ttl: { type: 'string' }
  },
  async run (args, ctx) {
    // `offer cancel <id>` is `offer cancel --id <id>`
    const { sub, operands } = subcommand('offer', args, ['publish', 'cancel', 'ls'] as const, 'bazaar offer publish|cancel|ls', { cancel: 1 })
    const api = await ApiClient.fromHome({ home: str(args, 'home'), env: ctx.env, api: str(args, 'api') })
    if (sub === 'ls') {
      const q = new URLSearchParams()
      for (const k of ['gpu', 'region', 'tee'] as const) { const v = k === 'region' ? str(args, k) : strs(args, k)[0]; if (v != null) q.set(k, v) }
      const offers = await api.call<OfferView[]>('GET', `/v1/offers${q.size > 0 ? '?' + q.toString() : ''}`, undefined, { flags: { gpu: '--gpu', region: '--region', tee: '--tee' } })
      if (flag(args, 'json')) ctx.out(JSON.stringify(offers))
      else printOffers(offers, ctx.out)
      return 0
    }
    if (sub === 'cancel') {
      if (operands.length > 0 && str(args, 'id') != null) throw new UsageError(`give the id once: --id ${str(args, 'id')!} or ${operands[0]!}`)
      const id = operands[0] ?? str(args, 'id')
      if (id == null) throw new UsageError('--id is required')
      await api.call('DELETE', `/v1/offers/${encodeURIComponent(id)}`)
      ctx.out(flag(args, 'json') ? JSON.stringify({ ok: true, id }) : `cancelled offer ${id}`)
      return 0
    }
    const gpus = strs(args, 'gpu').map(parseGpu)
    if (gpus.length === 0) throw new UsageError('--gpu is required (model:memoryMiB:count)')
    const price = str(args, 'price')
    let priceRao: string | undefined
    if (price != null) {
      priceRao = parseAmountArg(price, { flag: 'price', dflt: 'alpha', allow: ['alpha'] }).rao.toString()
    }
    const body = {
      id: str(args, 'id'),
      gpus,
      pricePerGpuHour: priceRao,
      teeKinds: strs(args, 'tee').length > 0 ? strs(args, 'tee') : undefined,
      region: str(args, 'region'),
      minDurationS: durationFlag(str(args, 'min-duration'), 'min-duration'),
      maxDurationS: durationFlag(str(args, 'max-duration'), 'max-duration'),
      ttlS: durationFlag(str(args, 'ttl'), 'ttl')
    }
    const offer = await api.call<OfferView>('POST', '/v1/offers', body, {
      flags: { id: '--id', gpus: '--gpu', model: '--gpu', memoryMib: '--gpu', count: '--gpu', pricePerGpuHour: '--price', teeKinds: '--tee', region: '--region', minDurationS: '--min-duration', maxDurationS: '--max-duration', ttlS: '--ttl' }
    })
    if (flag(args, 'json')) ctx.out(JSON.stringify(offer))
    else ctx.out(`published offer ${offer.id} (sequence ${offer.sequence}, expires ${offer.expiresAt})`)
    return 0
  }
}
