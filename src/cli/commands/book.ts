import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { UsageError } from '../../util/errors.js'
import { ApiClient, CLIENT_OPTIONS } from '../client.js'
import { alpha, table } from '../format.js'
import { parseAmountArg } from '../amount.js'
import { runtimeText, type BookRow } from '../../market/book/format.js'
import { MAX_IMAGE_LENGTH } from '../../market/validation/constants.js'
import { isImageReference } from '../../util/image-ref.js'
import { BOOK_LIMIT_MAX } from '../../node/market-input.js'

const usage = `usage: bazaar book [options]

Shows the running node's order book: the offers it holds, best first by the matching rule
(cheapest, then earliest, then supplier id).

options:
  --gpu <model|class>    only offers of this GPU model or class prefix (h100 matches h100-80gb)
  --tee <kind>           only offers with this TEE kind
  --gpu-cc               only offers whose GPUs provide confidential-computing evidence (NVIDIA CC);
                         the attested session then verifies it
  --region <region>      only offers in this region
  --max-price <alpha/h>  only offers at or below this price per GPU-hour
  --runtime <kind>       only offers whose jobs run this way: process or container
  --image <ref>          only offers that would run a job in this container image (rent --image):
                         container offers whose image patterns allow it
  --limit <n>            at most n rows, 1 to 10000 (default 50)
  --discover <class>     first look up suppliers of this GPU class in the DHT and fetch their offers
  --home <dir>  --api <host:port>
  --json                 print {offers: [...], bids: n}
  -h, --help`

/** the query's fields → the flags that set them */
const BOOK_FLAGS = { gpu: '--gpu', tee: '--tee', gpuCc: '--gpu-cc', region: '--region', maxPrice: '--max-price', runtime: '--runtime', image: '--image', limit: '--limit' } as const

/** `bazaar book`: the order book of a running node. */
export const bookCommand: Command = {
  name: 'book',
  usage,
  options: {
    ...CLIENT_OPTIONS,
    gpu: { type: 'string' },
    tee: { type: 'string' },
    'gpu-cc': { type: 'boolean' },
    region: { type: 'string' },
    'max-price': { type: 'string' },
    runtime: { type: 'string' },
    image: { type: 'string' },
    limit: { type: 'string' },
    discover: { type: 'string' }
  },
  async run (args, ctx) {
    const q = new URLSearchParams()
    for (const [k, name] of [['gpu', 'gpu'], ['tee', 'tee'], ['region', 'region']] as const) {
      const v = str(args, k); if (v != null) q.set(name, v)
    }
    if (flag(args, 'gpu-cc')) q.set('gpuCc', '1')
    const mp = str(args, 'max-price')
    if (mp != null) {
      q.set('maxPrice', parseAmountArg(mp, { flag: 'max-price', dflt: 'alpha', allow: ['alpha'] }).rao.toString())
    }
    const runtime = str(args, 'runtime')
    if (runtime != null) {
      if (runtime !== 'process' && runtime !== 'container') throw new UsageError(`--runtime expects process or container, got ${runtime.slice(0, 64)}`)
      q.set('runtime', runtime)
    }
    const image = str(args, 'image')
    if (image != null) {
      if (image.length > MAX_IMAGE_LENGTH || !isImageReference(image)) throw new UsageError(`--image expects a container image reference like ghcr.io/org/name:tag, got ${image.slice(0, 64)}`)
      if (runtime === 'process') throw new UsageError('--image lists offers of runtime container: it does not go with --runtime process')
      q.set('image', image)
    }
    const limit = str(args, 'limit') ?? '50'
    if (!/^[0-9]{1,5}$/.test(limit) || Number(limit) < 1 || Number(limit) > BOOK_LIMIT_MAX) throw new UsageError(`--limit: expected a whole number from 1 to ${BOOK_LIMIT_MAX}, got ${limit.slice(0, 24)}`)
    q.set('limit', limit)
    // flags are checked before the node is reached: a usage mistake is exit 2 whether or not it runs
    const api = await ApiClient.fromHome({ home: str(args, 'home'), env: ctx.env, api: str(args, 'api') })
    const discover = str(args, 'discover')
    // a value the node refuses is the flag's mistake, as one the CLI checks itself: exit 2, named by the flag
    if (discover != null) await api.call('POST', '/v1/discover', { gpu: discover }, { flags: { gpu: '--discover' } })
    const res = await api.call<{ offers: BookRow[], bids: number }>('GET', `/v1/book?${q.toString()}`, undefined, { flags: BOOK_FLAGS })
    if (flag(args, 'json')) { ctx.out(JSON.stringify(res)); return 0 }
    if (res.offers.length === 0) { ctx.out(`no offers in the book (${res.bids} bids)`); return 0 }
    ctx.out(table(['#', 'supplier', 'offer', 'gpus', 'tee', 'runtime', 'region', 'alpha/gpu-h', 'duration', 'expires'], res.offers.map((o, i) => [
      String(i + 1), o.supplier.slice(0, 12) + '…', o.id, o.gpus.map((g) => `${g.count}x${g.model}`).join(','),
      o.teeKinds.join(',') + (o.gpuCc ? '+gpu-cc' : ''), runtimeText(o), o.region, alpha(o.pricePerGpuHour), `${o.minDurationS}-${o.maxDurationS}s`, o.expiresAt
    ])))
    ctx.out(`${res.offers.length} offers, ${res.bids} bids`)
    return 0
  }
}
