/**
 * The value of every absent `bytes` field in a decoded message (`npm run proto` writes it into the
 * generated decoders in place of protons' `alloc(0)`). One shared, frozen, zero-length array: a
 * decode allocates nothing for the fields it does not find, where protons' default allocated a
 * Buffer and a view of it per field, before reading the fields that replace them.
 */
export const EMPTY_BYTES = Object.freeze(new Uint8Array(0)) as Uint8Array<ArrayBuffer>
