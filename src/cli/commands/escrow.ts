import type { Command } from '../command.js'
import { flag, str, subcommand } from '../command.js'
import { UsageError } from '../../util/errors.js'
import { ApiClient } from '../client.js'
import { alpha, table } from '../format.js'
import type { EscrowDetail, EscrowSummary } from '../../escrow/index.js'
import type { EscrowJson } from '../../node/daemon-routes.js'

const usage = `usage: bazaar escrow <ls|show <id>|close <id> [--arbiter]|refund <id>> [options]

The escrows the running node takes part in (as payer, payee or arbiter), read from the chain.
  ls              the escrows with their status, amount, balance and latest voucher, the latest
                  first (the thousand this node stored last)
  show <id>       one escrow with its on-chain records (block numbers and hashes)
  close <id>      approve the cooperative close on the latest voucher (it executes once the other
                  party approves the same settlement); --arbiter: as the payee, close with the
                  arbiter on the latest voucher when the renter is gone
  refund <id>     as the payer, refund everything with the arbiter (only after the escrow expired);
                  where the arbiter co-signed the supplier's close on a voucher, that close is
                  approved instead (the supplier is paid the voucher, the rest comes back). A
                  renter node does this by itself 10 min after expiry
Amounts are shown in alpha; --json prints them as decimal strings of base units (rao).

options:
  --home <dir>  --api <host:port>  --json  -h, --help`

const ID_RE = /^0x[0-9a-f]{64}$/

/** `bazaar escrow`: list, show, close or refund escrows through a running node. */
export const escrowCommand: Command = {
  name: 'escrow',
  usage,
  allowPositionals: true,
  options: { home: { type: 'string' }, api: { type: 'string' }, json: { type: 'boolean' }, arbiter: { type: 'boolean' } },
  async run (args, ctx) {
    const { sub, operands: [given] } = subcommand('escrow', args, ['ls', 'show', 'close', 'refund'] as const, 'bazaar escrow ls|show <id>|close <id>|refund <id>', { show: 1, close: 1, refund: 1 })
    // an agreement id as `bazaar jobs` prints it (64 hex digits, no 0x) names its escrow too
    const id = given != null && /^[0-9a-fA-F]{64}$/.test(given) ? `0x${given.toLowerCase()}` : given?.toLowerCase()
    if (sub !== 'ls' && id == null) throw new UsageError(`escrow ${sub} needs an escrow id`)
    if (id != null && !ID_RE.test(id)) throw new UsageError('an escrow id is 64 hex digits, with or without 0x')
    if (flag(args, 'arbiter') && sub !== 'close') throw new UsageError('--arbiter goes with escrow close')
    const json = flag(args, 'json')
    const api = await ApiClient.fromHome({ home: str(args, 'home'), env: ctx.env, api: str(args, 'api') })
    if (sub === 'ls') {
      const list = await api.call<Array<EscrowJson<EscrowSummary>>>('GET', '/v1/escrows')
      if (json) { ctx.out(JSON.stringify(list)); return 0 }
      if (list.length === 0) { ctx.out('no escrows'); return 0 }
      ctx.out(table(['escrow', 'role', 'status', 'amount α', 'balance α', 'voucher α', 'expires'], list.map((e) => [
        e.escrowId.slice(0, 14) + '…', e.role, e.status, alpha(e.amount), alpha(e.balance), e.latestVoucher != null ? alpha(e.latestVoucher.cumulative) : '', e.expiresAt
      ])))
      return 0
    }
    if (sub === 'show') {
      const e = await api.call<EscrowJson<EscrowDetail>>('GET', `/v1/escrows/${id!}`)
      if (json) { ctx.out(JSON.stringify(e)); return 0 }
      ctx.out(`escrow    ${e.escrowId}`)
      ctx.out(`role      ${e.role}    status ${e.status}`)
      ctx.out(`amount    ${alpha(e.amount)} α    balance ${alpha(e.balance)} α    netuid ${e.netuid}${e.asset != null ? `    asset ${e.asset.kind}` : ''}`)
      ctx.out(`payer     ${e.payer}`)
      ctx.out(`payee     ${e.payee}`)
      ctx.out(`arbiter   ${e.arbiter}`)
      ctx.out(`expires   ${e.expiresAt}`)
      if (e.latestVoucher != null) ctx.out(`voucher   ${alpha(e.latestVoucher.cumulative)} α (sequence ${e.latestVoucher.sequence})`)
      for (const r of e.records) ctx.out(`record    ${r.kind.padEnd(6)} block #${r.blockNumber} ${r.blockHash} tx ${r.txHash}`)
      return 0
    }
    const route = sub === 'close' ? `/v1/escrows/${id!}/close` : `/v1/escrows/${id!}/refund`
    const body = sub === 'close' ? { mode: flag(args, 'arbiter') ? 'arbiter' : 'cooperative' } : {}
    // wall time: a bound on the HTTP request (the daemon waits on the chain meanwhile: the arbiter's
    // approval may take DEFAULT_ARBITER_DECISION_MS, then this node's own approval its blocks)
    const r = await api.call<{ executed: boolean, settlement: { kind: string, payouts: Array<{ to: string, amount: string }> }, record?: { blockNumber: number, blockHash: string }, fees?: Array<{ op: string, account: string, fee: string }>, already?: 'approved' | 'settled' }>('POST', route, body, { timeoutMs: 360_000 })
    if (json) { ctx.out(JSON.stringify(r)); return 0 }
    const payouts = r.settlement.payouts.map((p) => `${alpha(p.amount)} α to ${p.to}`).join(', ')
    // a refund the arbiter refused because it co-signed the payee's close on a voucher: the daemon
    // approved that close instead (it pays the supplier what the voucher says, the rest comes back)
    if (sub === 'refund' && r.settlement.kind === 'voucher') ctx.out('the arbiter had co-signed the supplier\'s close on a voucher, so that close was approved instead of a refund')
    const block = r.record != null ? ` (block #${r.record.blockNumber} ${r.record.blockHash})` : ''
    // a close asked for again: this node's approval was given before and still waits for the other
    // party's, or the escrow settled meanwhile (how, as its record says)
    if (r.already === 'settled') ctx.out(`${id!} was already ${r.settlement.kind === 'refund' ? 'refunded' : `closed (${r.settlement.kind === 'voucher' ? 'on a voucher, with the arbiter' : r.settlement.kind})`}: ${payouts}${block}`)
    else if (r.already === 'approved') ctx.out(`already approved the ${r.settlement.kind} settlement of ${id!} (${payouts}); it executes once the other party approves it`)
    else {
      ctx.out(r.executed
        ? `${r.settlement.kind === 'refund' ? 'refunded' : 'closed'} ${id!}: ${payouts}${block}`
        : `approved the ${r.settlement.kind} settlement of ${id!} (${payouts}); it executes once the other party approves it`)
    }
    // every transaction fee this node paid for it, as the chain charged it (rao of TAO)
    for (const f of r.fees ?? []) ctx.out(`  fee ${f.op.padEnd(13)} ${f.fee} rao (TAO) paid by ${f.account}`)
    return 0
  }
}
