import { beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Keyring } from '@polkadot/keyring'
import { compactToU8a } from '@polkadot/util'
import {
  blake2AsU8a, createKeyMulti, cryptoWaitReady, mnemonicGenerate, mnemonicToMiniSecret as polkadotMiniSecret,
  mnemonicValidate, signatureVerify, sr25519PairFromSeed
} from '@polkadot/util-crypto'
import { blake2b256, compactLength, multisigAccountId } from '../../../src/util/blake2.js'
import { DEV_PHRASE, generateMnemonic, isValidMnemonic, mnemonicToMiniSecret } from '../../../src/util/mnemonic.js'
import { schnorrkelWasmAvailable, sr25519VerifyWasm } from '../../../src/util/schnorrkel-wasm.js'
import {
  derivationJunctions, junctionChainCode, sr25519FromSecret, sr25519FromSeed, sr25519Pair, sr25519Sign, sr25519Verify, WASM_VERIFY_MAX_MESSAGE
} from '../../../src/util/sr25519.js'
import { arbiterEscrowKey, arbiterPath } from '../../../src/escrow/chain/subtensor/keys.js'
import { deriveAccounts } from '../../../src/node/keystore/accounts.js'

// The node's own sr25519, BIP-39 and BLAKE2 code (util/) against polkadot-js, which btcli-made and
// polkadot-js-made keys come from: every key, address, signature and hash must be the same.

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

beforeAll(async () => { await cryptoWaitReady() })

describe('sr25519 keys', () => {
  it('a seed gives the keys polkadot-js gives, and the 64-byte secret gives the same public key back', () => {
    fc.assert(fc.property(bytes32, (seed) => {
      const ours = sr25519FromSeed(seed)
      const theirs = sr25519PairFromSeed(seed)
      expect(hex(ours.publicKey)).toBe(hex(theirs.publicKey))
      expect(hex(ours.secretKey)).toBe(hex(theirs.secretKey))
      expect(hex(sr25519FromSecret(ours.secretKey).publicKey)).toBe(hex(ours.publicKey))
    }), { numRuns: 40 })
  })

  it('refuses seeds and secrets of the wrong length', () => {
    expect(() => sr25519FromSeed(new Uint8Array(31))).toThrow(/32 bytes/)
    expect(() => sr25519FromSecret(new Uint8Array(32))).toThrow(/64 bytes/)
  })

  it('derives the dev accounts and their hotkeys as polkadot-js Keyring does', async () => {
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 })
    for (const name of ['Alice', 'Bob', 'Charlie', 'A234567890123456789012345678901']) {
      const { coldkey, hotkey } = await deriveAccounts({ kind: 'dev', name })
      expect(coldkey.address).toBe(keyring.addFromUri(`//${name}`).address)
      expect(hotkey.address).toBe(keyring.addFromUri(`//${name}//hot`).address)
    }
    // Substrate's published address of //Alice
    expect((await deriveAccounts({ kind: 'dev', name: 'Alice' })).coldkey.address).toBe('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY')
  })

  it('derives a mnemonic\'s coldkey and hotkey as polkadot-js Keyring does', async () => {
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 })
    for (let i = 0; i < 4; i++) {
      const phrase = mnemonicGenerate(i % 2 === 0 ? 12 : 24)
      const { coldkey, hotkey } = await deriveAccounts({ kind: 'mnemonic', mnemonic: phrase })
      expect(coldkey.address).toBe(keyring.addFromUri(phrase).address)
      expect(hotkey.address).toBe(keyring.addFromUri(`${phrase}//hot`).address)
    }
  })

  it('derives along hard, soft, numeric, 0x-hex and long junctions as polkadot-js does', () => {
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 })
    const seed = new Uint8Array(32).fill(7)
    const theirs = keyring.addFromSeed(seed)
    const ours = sr25519Pair(sr25519FromSeed(seed))
    const escrowId = '0x' + 'ab'.repeat(32)
    for (const path of ['//hot', '/soft', '//7', '/18446744073709551615', '//0x0102', `/bazaar-escrow/${escrowId}`,
      '//a-junction-whose-scale-encoding-is-longer-than-32-bytes', '//x/y//z/0']) {
      expect(ours.derive(path).address, path).toBe(theirs.derive(path).address)
    }
    // the arbiter's per-escrow key: the secret's soft child is the one the public key derives to
    expect(ours.derive(arbiterPath(escrowId)).address).toBe(arbiterEscrowKey(ours.address, escrowId))
  })

  it('pads a short junction\'s encoding to 32 bytes and hashes a long one', () => {
    expect(hex(junctionChainCode('hot'))).toBe('0c686f74' + '00'.repeat(28))
    const long = 'x'.repeat(40)
    expect(hex(junctionChainCode(long))).toBe(hex(blake2AsU8a(Uint8Array.from([...compactToU8a(40), ...Buffer.from(long)]), 256)))
    expect(() => junctionChainCode('18446744073709551616')).toThrow(/2\^64/)
  })

  it('reads a derivation path as //hard and /soft junctions and refuses anything else', () => {
    expect(derivationJunctions('//a/b//c')).toEqual([{ hard: true, junction: 'a' }, { hard: false, junction: 'b' }, { hard: true, junction: 'c' }])
    expect(derivationJunctions('')).toEqual([])
    for (const bad of ['a', '//', '//a//', '//a///password', '///x']) expect(() => derivationJunctions(bad), bad).toThrow(RangeError)
  })
})

describe('sr25519 signatures', () => {
  it('polkadot-js verifies ours, we verify polkadot-js\'s, and a changed byte fails both ways', () => {
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 })
    fc.assert(fc.property(bytes32, fc.uint8Array({ maxLength: 300 }), (seed, message) => {
      const ours = sr25519Pair(sr25519FromSeed(seed))
      const theirs = keyring.addFromSeed(seed)
      expect(ours.address).toBe(theirs.address)
      const sig = ours.sign(message)
      expect(signatureVerify(message, sig, theirs.address).isValid).toBe(true)
      expect(sr25519Verify(message, theirs.sign(message), ours.publicKey)).toBe(true)
      const bad = Uint8Array.from(sig)
      bad[17] ^= 0x40
      expect(sr25519Verify(message, bad, ours.publicKey)).toBe(false)
      expect(signatureVerify(message, bad, theirs.address).isValid).toBe(false)
    }), { numRuns: 25 })
  })

  it('puts the sr25519 type byte before a signature made withType, as an extrinsic carries it', () => {
    const pair = sr25519Pair(sr25519FromSeed(new Uint8Array(32).fill(1)))
    const typed = pair.sign(Uint8Array.of(1, 2, 3), { withType: true })
    expect(typed.length).toBe(65)
    expect(typed[0]).toBe(1)
    expect(sr25519Verify(Uint8Array.of(1, 2, 3), typed.subarray(1), pair.publicKey)).toBe(true)
  })

  it('answers false, never throws, for malformed signatures and keys', () => {
    const keys = sr25519FromSeed(new Uint8Array(32).fill(3))
    const sig = sr25519Sign(keys, Uint8Array.of(9))
    expect(sr25519Verify(Uint8Array.of(9), sig.subarray(0, 63), keys.publicKey)).toBe(false)
    expect(sr25519Verify(Uint8Array.of(9), sig, keys.publicKey.subarray(0, 31))).toBe(false)
    // 32 bytes that are not a point on the curve
    expect(sr25519Verify(Uint8Array.of(9), sig, new Uint8Array(32).fill(0xff))).toBe(false)
    // a signature without schnorrkel's marker bit
    const unmarked = Uint8Array.from(sig)
    unmarked[63] &= 0x7f
    expect(sr25519Verify(Uint8Array.of(9), unmarked, keys.publicKey)).toBe(false)
  })

  it('verifies a message longer than the wasm verifier takes, in JS, with the same verdicts', () => {
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 })
    const theirs = keyring.addFromSeed(new Uint8Array(32).fill(5))
    const message = new Uint8Array(WASM_VERIFY_MAX_MESSAGE * 8).fill(0x33)
    const sig = theirs.sign(message)
    expect(sr25519Verify(message, sig, theirs.publicKey)).toBe(true)
    const changed = Uint8Array.from(message)
    changed[WASM_VERIFY_MAX_MESSAGE * 4] ^= 1
    expect(sr25519Verify(changed, sig, theirs.publicKey)).toBe(false)
  })

  it('verifies on schnorrkel\'s wasm, with the same verdicts as the pure-JS verifier', () => {
    expect(schnorrkelWasmAvailable()).toBe(true)
    fc.assert(fc.property(bytes32, fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 63 }), (seed, message, flip) => {
      const keys = sr25519FromSeed(seed)
      const sig = sr25519Sign(keys, message)
      expect(sr25519VerifyWasm(sig, message, keys.publicKey)).toBe(true)
      const bad = Uint8Array.from(sig)
      bad[flip] ^= 1
      expect(sr25519VerifyWasm(bad, message, keys.publicKey)).toBe(signatureVerify(message, bad, keys.publicKey).isValid)
    }), { numRuns: 40 })
  })
})

describe('BIP-39 phrases', () => {
  it('gives the mini secret polkadot-js gives, with and without a password', () => {
    for (let i = 0; i < 6; i++) {
      const phrase = mnemonicGenerate(([12, 15, 18, 21, 24] as const)[i % 5])
      expect(hex(mnemonicToMiniSecret(phrase))).toBe(hex(polkadotMiniSecret(phrase)))
      expect(hex(mnemonicToMiniSecret(phrase, 'pw'))).toBe(hex(polkadotMiniSecret(phrase, 'pw')))
    }
    expect(hex(mnemonicToMiniSecret(DEV_PHRASE))).toBe(hex(polkadotMiniSecret(DEV_PHRASE)))
  })

  it('generates valid phrases of the asked length, and agrees with polkadot-js on which phrases are valid', () => {
    const phrase = generateMnemonic(12)
    expect(phrase.split(' ')).toHaveLength(12)
    expect(isValidMnemonic(phrase)).toBe(true)
    expect(mnemonicValidate(generateMnemonic(24))).toBe(true)
    const words = phrase.split(' ')
    // another last word almost always breaks the checksum; both must say the same either way
    for (const last of ['abandon', 'zoo', 'legal', 'winner']) {
      const changed = [...words.slice(0, 11), last].join(' ')
      expect(isValidMnemonic(changed), changed).toBe(mnemonicValidate(changed))
    }
    expect(isValidMnemonic('not a phrase at all')).toBe(false)
    expect(() => mnemonicToMiniSecret('not a phrase at all')).toThrow()
  })
})

describe('BLAKE2b-256 and multisig accounts', () => {
  it('hashes as polkadot-js blake2AsU8a(…, 256)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 500 }), (data) => {
      expect(hex(blake2b256(data))).toBe(hex(blake2AsU8a(data, 256)))
    }), { numRuns: 50 })
  })

  it('encodes compact lengths as SCALE does, at each width\'s edges', () => {
    for (const n of [0, 1, 63, 64, 16383, 16384, 2 ** 30 - 1]) expect(hex(compactLength(n)), String(n)).toBe(hex(compactToU8a(n)))
    expect(() => compactLength(2 ** 30)).toThrow(RangeError)
    expect(() => compactLength(-1)).toThrow(RangeError)
  })

  it('derives pallet_multisig\'s account as polkadot-js createKeyMulti, whatever the order of the signatories', () => {
    fc.assert(fc.property(fc.array(bytes32, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 5 }), (who, threshold) => {
      expect(hex(multisigAccountId(who, threshold))).toBe(hex(createKeyMulti(who, threshold)))
      expect(hex(multisigAccountId([...who].reverse(), threshold))).toBe(hex(multisigAccountId(who, threshold)))
    }), { numRuns: 50 })
    expect(() => multisigAccountId([new Uint8Array(31)], 1)).toThrow(RangeError)
    expect(() => multisigAccountId([new Uint8Array(32)], 0)).toThrow(RangeError)
  })
})
