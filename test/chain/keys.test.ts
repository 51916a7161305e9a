/** Escrow accounts as a pure function of the terms (no chain needed). */
import { Keyring } from '@polkadot/keyring'
import { createKeyMulti, cryptoWaitReady, encodeAddress } from '@polkadot/util-crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { mergePatch } from '../../src/escrow/chain/subtensor/devchain.js'
import { arbiterEscrowKey, arbiterPath, escrowSignatories } from '../../src/escrow/chain/subtensor/keys.js'

const id = (b: string): string => '0x' + b.repeat(32)

describe('escrow signatories', () => {
  let keyring: Keyring
  beforeAll(async () => {
    await cryptoWaitReady()
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 })
  })

  it('derives the arbiter key from its public key as the arbiter does from its secret', () => {
    const arbiter = keyring.addFromUri('//Charlie')
    for (const e of [id('01'), id('ab'), id('ff')]) {
      expect(arbiterEscrowKey(arbiter.address, e)).toBe(arbiter.derive(arbiterPath(e)).address)
    }
  })

  it('gives each escrow between the same parties its own 2-of-3 account', () => {
    const [payer, payee, arbiter] = ['//Alice', '//Bob', '//Charlie'].map((u) => keyring.addFromUri(u).address) as [string, string, string]
    const a = escrowSignatories({ escrowId: id('01'), payer, payee, arbiter })
    const b = escrowSignatories({ escrowId: id('02'), payer, payee, arbiter })
    expect(a.account).not.toBe(b.account)
    expect(escrowSignatories({ escrowId: id('01'), payer, payee, arbiter }).account).toBe(a.account)
    // the pallet_multisig account of the three signatories, threshold 2
    expect(a.account).toBe(encodeAddress(createKeyMulti([payer, payee, a.arbiter], 2), 42))
    // signatory order does not matter to pallet_multisig
    expect(escrowSignatories({ escrowId: id('01'), payer: payee, payee: payer, arbiter }).account).toBe(a.account)
  })

  it.each([
    ['escrow id not 32 bytes', { escrowId: '0x01' }],
    ['escrow id upper case', { escrowId: '0x' + 'AB'.repeat(32) }],
    ['payer is payee', { payee: 'payer' }]
  ])('rejects terms: %s', (_name, patch) => {
    const [payer, payee, arbiter] = ['//Alice', '//Bob', '//Charlie'].map((u) => keyring.addFromUri(u).address) as [string, string, string]
    const t: Record<string, string> = { escrowId: id('01'), payer, payee, arbiter, ...patch }
    if (t.payee === 'payer') t.payee = payer
    expect(() => escrowSignatories(t as { escrowId: string, payer: string, payee: string, arbiter: string })).toThrow(expect.objectContaining({ code: 'TERMS_INVALID' }))
  })
})

describe('genesis patch merge (RFC 7386)', () => {
  it.each([
    [{ a: 1, b: { c: 2, d: 3 } }, { b: { c: 5, d: null }, e: [1] }, { a: 1, b: { c: 5 }, e: [1] }],
    [{ a: [1, 2] }, { a: [3] }, { a: [3] }],
    [{ a: 1 }, 'x', 'x']
  ])('merge %j with %j', (target, patch, want) => {
    expect(mergePatch(target as never, patch as never)).toEqual(want)
  })
})
