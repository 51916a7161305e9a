/**
 * Whether a party's account can pay for settling escrows. A payee's approval of a close costs a fee
 * and, as a first approval (the close with the arbiter), a multisig deposit; the arbiter moves a
 * deposit and fees to a key of its own for each escrow it co-signs. All of it is TAO from the
 * node's hotkey account, whatever the escrows hold.
 */
import type { ChainPort } from '../escrow/index.js'
import { formatUnits } from '../escrow/amount.js'

const CONSEQUENCE = {
  supplier: 'the jobs it runs earn nothing it can collect until it holds that',
  arbiter: 'every close or refund it co-signs fails until it holds that'
} as const

/**
 * Why `account` cannot pay for settling, where it cannot, as one line naming the account, what it
 * holds, what a close needs and the command that sends it TAO. Undefined where it holds enough,
 * the chain charges nothing (the embedded ledger), or the chain did not answer.
 */
export async function cannotSettle (chain: Pick<ChainPort, 'feeFunds'>, account: string, party: keyof typeof CONSEQUENCE, signal?: AbortSignal): Promise<string | undefined> {
  if (chain.feeFunds == null) return undefined
  const f = await chain.feeFunds(account, signal != null ? { signal } : {}).catch(() => undefined)
  if (f == null || f.free >= f.needed) return undefined
  return `the ${party}'s hotkey account ${account} holds ${formatUnits(f.free)} τ free, and closing an escrow needs about ${formatUnits(f.needed)} τ (a multisig deposit, returned after, and fees): ${CONSEQUENCE[party]} (bazaar wallet fund --fees ${formatUnits(f.needed)} sends it TAO from the coldkey)`
}
