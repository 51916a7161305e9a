/**
 * Who controls an escrow account, as a pure function of the escrow terms.
 *
 * A pallet_multisig account id is `blake2_256("modlpallet_multisig" ++ sorted signatories ++
 * threshold)`: it depends on the signatory set and the threshold only. Two escrows between the same
 * payer, payee and arbiter would therefore share one account, and their funds and close batches
 * would mix. Each escrow gets its own account by making the arbiter's signatory a key derived per
 * escrow: the arbiter's sr25519 key soft-derived with the junctions `/bazaar-escrow/<escrowId>`.
 *
 * Why soft derivation (and not a hard `//bazaar-escrow//<id>` key, nor `utility.asDerivative`):
 * - a soft-derived sr25519 public key is computable from the arbiter's public key alone
 *   (Schnorrkel's public derivation, `sr25519DerivePublic`), so payer and payee know the escrow
 *   account from the terms with no round trip to the arbiter; a hard-derived key would need the
 *   arbiter to publish one key per escrow before the open, a new message and a new term;
 * - the escrow id is 32 random bytes, so accounts never collide; `utility.asDerivative` takes a
 *   u16 index (65,536 accounts per party set), which collides by the birthday bound and would need
 *   an on-chain search for a free index;
 * - only the arbiter can sign for the derived key (it needs the arbiter's secret). The usual caveat
 *   of soft derivation (a leaked child secret plus the parent public key reveals the parent secret)
 *   does not add exposure: the child secret lives where the parent secret lives.
 * Payer and payee sign with their own keys, so their funds pay the approval deposits and fees; the
 * arbiter's derived account is topped up by the arbiter when it has to act (see adapter).
 */
import { u8aToHex, u8aCmp } from '@polkadot/util'
import { createKeyMulti, decodeAddress, encodeAddress, keyExtractPath, sr25519DerivePublic } from '@polkadot/util-crypto'
import { SubtensorError } from './errors.js'

export const SS58_PREFIX = 42
export const ESCROW_THRESHOLD = 2

/** The derivation path of the arbiter's per-escrow key. */
export function arbiterPath (escrowId: string): string {
  if (!/^0x[0-9a-f]{64}$/.test(escrowId)) throw new SubtensorError('TERMS_INVALID', 'escrow id must be 32 bytes of lowercase 0x-hex')
  return `/bazaar-escrow/${escrowId}`
}

/** The arbiter's per-escrow public key, derived from its ss58 address without any secret. */
export function arbiterEscrowKey (arbiter: string, escrowId: string): string {
  let pub = decodeAddress(arbiter)
  for (const j of keyExtractPath(arbiterPath(escrowId)).path) {
    // [spec] Schnorrkel soft derivation is the only kind that works on a public key
    if (j.isHard) throw new SubtensorError('TERMS_INVALID', 'arbiter path must be soft')
    pub = sr25519DerivePublic(pub, j.chainCode)
  }
  return encodeAddress(pub, SS58_PREFIX)
}

export interface EscrowSignatories {
  payer: string
  payee: string
  /** the arbiter's per-escrow key */
  arbiter: string
  /** the escrow account: 2-of-3 multisig of the three above */
  account: string
}

export function escrowSignatories (t: { escrowId: string, payer: string, payee: string, arbiter: string }): EscrowSignatories {
  const arbiter = arbiterEscrowKey(t.arbiter, t.escrowId)
  const keys = [t.payer, t.payee, arbiter].map((a) => u8aToHex(decodeAddress(a)))
  if (new Set(keys).size !== 3) throw new SubtensorError('TERMS_INVALID', 'payer, payee and arbiter must be three different accounts')
  const account = encodeAddress(createKeyMulti([t.payer, t.payee, arbiter], ESCROW_THRESHOLD), SS58_PREFIX)
  return { payer: t.payer, payee: t.payee, arbiter, account }
}

/** pallet_multisig wants the other signatories sorted by account id bytes. */
export function otherSignatories (all: string[], me: string): string[] {
  const mine = u8aToHex(decodeAddress(me))
  return all
    .filter((a) => u8aToHex(decodeAddress(a)) !== mine)
    .map((a) => decodeAddress(a))
    .sort(u8aCmp)
    .map((a) => encodeAddress(a, SS58_PREFIX))
}
