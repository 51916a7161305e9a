import type { Command } from '../command.js'
import { flag, str } from '../command.js'
import { ApiClient } from '../client.js'
import { table } from '../format.js'
import { formatAmount } from '../amount.js'
import type { PeerView } from '../../node/bazaar-node.js'

/** a score figure: two decimals at most, no negative zero */
function num (v: number): string {
  const r = Math.round(v * 100) / 100
  return String(r === 0 ? 0 : r)
}

/** `bazaar peers`: connected peers of a running node. */
export const peersCommand: Command = {
  name: 'peers',
  usage: `usage: bazaar peers [--home <dir>] [--api <host:port>] [--json]

Lists the peers the running node is connected to (through its control API): whether the node
keeps the peer (a bootstrap peer or one dialled on request, dialled again when its connection
drops), the state of each gossip link (both streams up, or one way) and the peer's gossipsub
score with its parts: P1 time in mesh, P2 first message deliveries, P3 mesh delivery deficit,
P3b mesh failures, P4 invalid messages (REJECT verdicts), P6 IP colocation, P7 behaviour penalty.`,
  options: { home: { type: 'string' }, api: { type: 'string' }, json: { type: 'boolean' } },
  async run (args, ctx) {
    const api = await ApiClient.fromHome({ home: str(args, 'home'), env: ctx.env, api: str(args, 'api') })
    const peers = await api.call<PeerView[]>('GET', '/v1/peers')
    if (flag(args, 'json')) { ctx.out(JSON.stringify(peers)); return 0 }
    if (peers.length === 0) { ctx.out('no connected peers'); return 0 }
    ctx.out(table(
      ['peer id', 'address', 'direction', 'streams', 'kept', 'gossip', 'score', 'mesh', 'P1', 'P2', 'P3', 'P3b', 'P4', 'P6', 'P7'],
      peers.map((p) => {
        const g = p.gossip
        const parts = g == null ? [] : [g.timeInMesh, g.firstMessageDeliveries, g.meshMessageDeliveries, g.meshFailurePenalty, g.invalidMessageDeliveries, g.ipColocation, g.behaviourPenalty]
        return [
          p.peerId, p.addrs[0] ?? '', p.direction, String(p.streams), p.kept ? 'yes' : 'no',
          g == null ? '-' : g.inbound && g.outbound ? 'both ways' : g.inbound ? 'inbound only' : g.outbound ? 'outbound only' : 'down',
          g == null ? '-' : num(g.score),
          g == null ? '-' : String(g.meshTopics.length),
          ...(g == null ? Array(7).fill('-') as string[] : parts.map(num))
        ]
      })
    ))
    return 0
  }
}

/** `bazaar status`: what a running node says of itself. */
export const statusCommand: Command = {
  name: 'status',
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
    // the escrow account's funds get a line of their own, in their asset
    const { account, funds, fees, ...chainLine } = (chain ?? {}) as { account?: string, funds?: string, fees?: { free?: unknown, needed?: unknown } }
    if (chain != null) s.chain = chainLine
    for (const [k, v] of Object.entries(s)) ctx.out(`${k.padEnd(12)} ${show(v)}`)
    if (account != null) {
      const asset = chain?.asset === 'tao' ? 'tao' : 'alpha'
      const held = funds != null && /^[0-9]{1,40}$/.test(funds) ? formatAmount(BigInt(funds), asset) : 'not read (the chain did not answer)'
      const hint = chain?.adapter === 'subtensor' ? '; bazaar wallet fund and withdraw move them' : ''
      ctx.out(`${'funds'.padEnd(12)} ${held} in the hotkey account ${account} (escrows are paid from it, earnings into it${hint})`)
    }
    const rao = (v: unknown): bigint | undefined => typeof v === 'string' && /^[0-9]{1,40}$/.test(v) ? BigInt(v) : undefined
    const free = rao(fees?.free)
    const needed = rao(fees?.needed)
    if (free != null && needed != null) {
      const short = free < needed ? `: short of the ${formatAmount(needed, 'tao')} closing an escrow needs (bazaar wallet fund --fees ${formatAmount(needed, 'tao').split(' ')[0]})` : ''
      ctx.out(`${'fees'.padEnd(12)} ${formatAmount(free, 'tao')} free in that account for fees and deposits${short}`)
    }
    return 0
  }
}
