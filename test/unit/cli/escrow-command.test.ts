/**
 * What `bazaar escrow close|refund` prints for each answer of the daemon's control API: the API is
 * a local HTTP server here that answers as the daemon does (its JSON shapes), so the test is about
 * the command's words, not the settlement (test/integration/escrow-paths.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/main.js'
import { standInApi, type StandInApi } from '../../helpers/stand-in-api.js'

const ID = '0x' + 'ab'.repeat(32)
const PAYER = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'
const PAYEE = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty'

describe('bazaar escrow close|refund', () => {
  let stand: StandInApi
  let home = ''
  let api = ''
  let answer: unknown = {}
  beforeAll(async () => {
    stand = await standInApi(() => ({ contentType: 'application/json', body: JSON.stringify(answer) }))
    home = stand.home
    api = stand.api
  })
  afterAll(async () => { await stand?.close() })

  async function run (sub: string, id = ID): Promise<{ code: number, out: string[] }> {
    const out: string[] = []
    const code = await main(['escrow', sub, id, '--home', home, '--api', api], { out: (l) => out.push(l), err: (l) => out.push(l), env: {} })
    return { code, out }
  }

  it('takes an agreement id as bazaar jobs prints it (no 0x, any case) for its escrow', async () => {
    answer = { executed: true, settlement: { kind: 'refund', payouts: [{ to: PAYER, amount: '1000000000' }] }, record: { blockNumber: 12, blockHash: '0x01' } }
    expect(await run('refund', ID.slice(2).toUpperCase())).toEqual({ code: 0, out: [`refunded ${ID}: 1 α to ${PAYER} (block #12 0x01)`] })
    expect((await run('refund', 'ab'.repeat(31))).code).toBe(2)
  })

  it('a refund says refunded, with the payout', async () => {
    answer = { executed: true, settlement: { kind: 'refund', payouts: [{ to: PAYER, amount: '1000000000' }] }, record: { blockNumber: 12, blockHash: '0x01' } }
    expect(await run('refund')).toEqual({ code: 0, out: [`refunded ${ID}: 1 α to ${PAYER} (block #12 0x01)`] })
  })

  it('a refund that became the close on the supplier\'s voucher the arbiter co-signed says so, and says closed', async () => {
    answer = {
      executed: true,
      settlement: { kind: 'voucher', payouts: [{ to: PAYEE, amount: '300000000' }, { to: PAYER, amount: '700000000' }] },
      record: { blockNumber: 13, blockHash: '0x02' }
    }
    const r = await run('refund')
    expect(r.code).toBe(0)
    expect(r.out).toEqual([
      'the arbiter had co-signed the supplier\'s close on a voucher, so that close was approved instead of a refund',
      `closed ${ID}: 0.3 α to ${PAYEE}, 0.7 α to ${PAYER} (block #13 0x02)`
    ])
  })

  it('an approval that waits for the other party says what it waits for', async () => {
    answer = { executed: false, settlement: { kind: 'cooperative', payouts: [{ to: PAYEE, amount: '1' }, { to: PAYER, amount: '999999999' }] } }
    const r = await run('close')
    expect(r.code).toBe(0)
    expect(r.out).toHaveLength(1)
    expect(r.out[0]).toMatch(/^approved the cooperative settlement of 0xab.* it executes once the other party approves it$/)
  })

  it('a close asked for again while this node\'s approval is pending says so, as the first did: not an error', async () => {
    answer = { executed: false, settlement: { kind: 'cooperative', payouts: [{ to: PAYEE, amount: '1' }, { to: PAYER, amount: '999999999' }] }, already: 'approved' }
    const r = await run('close')
    expect(r.code).toBe(0)
    expect(r.out).toHaveLength(1)
    expect(r.out[0]).toMatch(/^already approved the cooperative settlement of 0xab.* it executes once the other party approves it$/)
  })

  it('a close of an escrow that settled meanwhile says how it settled, with its block', async () => {
    answer = { executed: false, settlement: { kind: 'cooperative', payouts: [{ to: PAYEE, amount: '300000000' }, { to: PAYER, amount: '700000000' }] }, record: { blockNumber: 14, blockHash: '0x03' }, already: 'settled' }
    expect(await run('close')).toEqual({ code: 0, out: [`${ID} was already closed (cooperative): 0.3 α to ${PAYEE}, 0.7 α to ${PAYER} (block #14 0x03)`] })
    answer = { executed: false, settlement: { kind: 'voucher', payouts: [{ to: PAYEE, amount: '300000000' }, { to: PAYER, amount: '700000000' }] }, record: { blockNumber: 15, blockHash: '0x04' }, already: 'settled' }
    expect((await run('close')).out).toEqual([`${ID} was already closed (on a voucher, with the arbiter): 0.3 α to ${PAYEE}, 0.7 α to ${PAYER} (block #15 0x04)`])
    answer = { executed: false, settlement: { kind: 'refund', payouts: [{ to: PAYER, amount: '1000000000' }] }, record: { blockNumber: 16, blockHash: '0x05' }, already: 'settled' }
    expect((await run('close')).out).toEqual([`${ID} was already refunded: 1 α to ${PAYER} (block #16 0x05)`])
  })
})
