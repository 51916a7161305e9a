import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { ApiClient } from '../client.js'
import { table } from '../format.js'

/** `bazaar peers`: connected peers of a running node. */
export const peersCommand: Command = {
  name: 'peers',
  summary: 'show the connected peers of a running node',
  usage: `usage: bazaar peers [--home <dir>] [--api <host:port>] [--json]

Lists the peers the running node is connected to (through its control API).`,
  options: { home: { type: 'string' }, api: { type: 'string' }, json: { type: 'boolean' } },
  async run (args, ctx) {
    const api = await ApiClient.fromHome({ home: str(args, 'home'), env: ctx.env, api: str(args, 'api') })
    const peers = await api.call<Array<{ peerId: string, addrs: string[], direction: string, streams: number }>>('GET', '/v1/peers')
    if (flag(args, 'json')) { ctx.out(JSON.stringify(peers)); return 0 }
    if (peers.length === 0) { ctx.out('no connected peers'); return 0 }
    ctx.out(table(['peer id', 'address', 'direction', 'streams'], peers.map((p) => [p.peerId, p.addrs[0] ?? '', p.direction, String(p.streams)])))
    return 0
  }
}

/** `bazaar status`: what a running node says of itself. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'show the status of a running node',
  usage: `usage: bazaar status [--home <dir>] [--api <host:port>] [--json]`,
  options: { home: { type: 'string' }, api: { type: 'string' }, json: { type: 'boolean' } },
  async run (args, ctx) {
    const api = await ApiClient.fromHome({ home: str(args, 'home'), env: ctx.env, api: str(args, 'api') })
    const s = await api.call<Record<string, unknown>>('GET', '/v1/status')
    // a daemon also says which chain it settles on (network, runtime version, asset); a bare node has no chain
    const chain = await api.call<Record<string, unknown>>('GET', '/v1/chain').catch((err: unknown) => {
      if ((err as { code?: string }).code === 'HTTP_404' || (err as { code?: string }).code === 'NOT_FOUND') return undefined
      throw err
    })
    if (chain != null) s.chain = chain
    if (flag(args, 'json')) { ctx.out(JSON.stringify(s)); return 0 }
    const show = (v: unknown): string => Array.isArray(v)
      ? v.join(' ')
      : v != null && typeof v === 'object' ? Object.entries(v).map(([a, b]) => `${a}=${String(b)}`).join(' ') : String(v)
    for (const [k, v] of Object.entries(s)) ctx.out(`${k.padEnd(12)} ${show(v)}`)
    return 0
  }
}
