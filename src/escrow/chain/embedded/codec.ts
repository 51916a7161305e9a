/**
 * Persistence encoding of the embedded ledger's state: JSON in which every bigint is written as
 * {"$n":"<decimal>"}, so amounts never pass through a float. Internal to the ledger's level store.
 */
export function toJson (v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => typeof x === 'bigint' ? { $n: x.toString() } : x)
}

export function fromJson<T> (s: string): T {
  return JSON.parse(s, (_k, x: unknown) => {
    if (x != null && typeof x === 'object' && !Array.isArray(x)) {
      const o = x as Record<string, unknown>
      const keys = Object.keys(o)
      if (keys.length === 1 && keys[0] === '$n' && typeof o.$n === 'string') return BigInt(o.$n)
    }
    return x
  }) as T
}
