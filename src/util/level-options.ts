/**
 * The LevelDB settings every database of a node opens with (the node's own, the escrow store, the
 * embedded ledger).
 *
 * LevelDB's defaults, an 8 MiB block cache and a 4 MiB write buffer per database, suit a database
 * of gigabytes. A node's databases hold kilobytes to a few megabytes: its publications and their
 * sequences, escrows and vouchers. Both buffers live in the C library's heap, and what they grew to
 * stays there after the traffic that filled them: a daemon publishing 3,000 offers through its
 * control API kept 12 MiB more of it at rest than one that only received them (`npm run
 * bench:daemon`, its RSS after the offers). At 1 MiB each, the cache still holds every block such
 * a database reads often, and the write buffer still takes about a thousand publications before
 * LevelDB writes a table; reads that miss the cache come from the system's page cache.
 */
export const LEVEL_OPTIONS = {
  cacheSize: 1024 * 1024,
  writeBufferSize: 1024 * 1024
} as const
