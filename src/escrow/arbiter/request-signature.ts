/**
 * Who may ask the arbiter for a settlement, and how the request proves it. The arbiter is the
 * remedy of a party whose counterpart is gone (DESIGN.md, "Flow" 7): the payee closes with its
 * latest voucher, the payer refunds after expiry. Each request is signed by that party's account.
 *
 * Why: the payer holds the voucher key, so it can sign a fresh voucher for any amount. Were a
 * close on a voucher open to any requester, the payer could have the arbiter co-sign a close that
 * pays the payee one rao, then approve it itself (two of three signatures) and take back what the
 * job earned. Only the payee asks for a close on a voucher, and it asks with its highest one.
 *
 * The signed bytes: the UTF-8 of `bazaar-arbiter-request-v1:` followed by the 32-byte BLAKE2b-256 of
 * the settlement bytes (chain/settlement-bytes.ts), signed with sr25519 by the party's account. The
 * domain tag keeps the signature from ever counting as an approval of the settlement itself.
 */
import { blake2b256 } from '../../util/blake2.js'
import { concatBytes } from '../../util/bytes.js'
import { fromHex, toHex0x } from '../../util/hex.js'
import { decodeSs58 } from '../../util/ss58.js'
import { sr25519Verify, type AccountPair } from '../../util/sr25519.js'
import { settlementBytes } from '../chain/settlement-bytes.js'
import { ARBITER_REQUEST_DOMAIN } from '../constants.js'
import type { EscrowTerms, Settlement } from '../types.js'
import type { ArbiterRefusal, ArbiterRequest } from './rules.js'

const DOMAIN = new TextEncoder().encode(`${ARBITER_REQUEST_DOMAIN}:`)

/** the bytes the requesting party signs for `settlement` */
export function arbiterRequestBytes (settlement: Settlement): Uint8Array {
  return concatBytes([DOMAIN, blake2b256(settlementBytes(settlement))])
}

/** the party whose remedy a settlement of this kind is: the payee for a close on a voucher, the payer for a refund */
export function requesterOf (kind: Settlement['kind'], terms: Pick<EscrowTerms, 'payer' | 'payee'>): string | undefined {
  if (kind === 'voucher') return terms.payee
  if (kind === 'refund') return terms.payer
  return undefined
}

/** `req` signed by `account` (which must be the requesting party, see `requesterOf`) */
export function signArbiterRequest (req: ArbiterRequest, account: AccountPair): ArbiterRequest {
  return { ...req, signature: toHex0x(account.sign(arbiterRequestBytes(req.settlement))) }
}

/**
 * Why `req` is not signed by the party whose remedy it asks for (as its terms name that party;
 * the arbiter then checks the terms against the chain), or undefined when it is.
 */
export function checkRequestSignature (req: ArbiterRequest): ArbiterRefusal | undefined {
  const party = requesterOf(req.settlement.kind, req.terms)
  // a cooperative close is never arbitrated: the rules name that refusal
  if (party == null) return undefined
  // [REJECT] no signature, or one that is not the party's over this settlement
  if (req.signature == null) return 'UNSIGNED_REQUEST'
  try {
    return sr25519Verify(arbiterRequestBytes(req.settlement), fromHex(req.signature), decodeSs58(party).accountId) ? undefined : 'UNSIGNED_REQUEST'
  } catch {
    return 'UNSIGNED_REQUEST' // not hex, or the terms name no ss58 account
  }
}
