/**
 * An envelope as a node serves it in anti-entropy: its bytes, or an entry that reads them when a
 * page is cut (`OrderBook.offerEnvelopeSources`), so that the snapshot an exchange holds costs a
 * reference per envelope, not a copy of each. undefined bytes: nothing to send for it.
 */
export type EnvelopeSource = Uint8Array | { readonly envelope: Uint8Array | undefined }

export function envelopeOf (source: EnvelopeSource): Uint8Array | undefined {
  return source instanceof Uint8Array ? source : source.envelope
}
