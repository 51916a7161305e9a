/**
 * The unit of every amount in JSON output and the control API: a decimal string of rao, 10^-9 of
 * the asset it is held in (the subnet's alpha, or TAO where the object says so, e.g. `asset: "tao"`
 * or a field named `tao`). Each JSON object that carries amounts names it in a `unit` field beside
 * them, as payment APIs put a currency beside integer amounts in the smallest unit: exact for any
 * amount (no float rounding), and unambiguous to a reader that sees only that object.
 */
export const AMOUNT_UNIT = 'rao' as const
export type AmountUnit = typeof AMOUNT_UNIT
