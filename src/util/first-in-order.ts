/**
 * The first `limit` of `items` in `order` (a sort's comparator), read as they come and holding at
 * most twice `limit` at a time: a listing's page of a store read whole, without the whole store in
 * memory or a sort per item. The sort is stable, so items `order` finds equal keep the order they
 * came in.
 */
export async function firstInOrder<T> (items: AsyncIterable<T>, limit: number, order: (a: T, b: T) => number): Promise<T[]> {
  let kept: T[] = []
  for await (const item of items) {
    kept.push(item)
    if (kept.length >= 2 * limit) kept = kept.sort(order).slice(0, limit)
  }
  return kept.sort(order).slice(0, limit)
}
