/**
 * The LevelDB settings every database of a node opens with (the node's own, the escrow store, the
 * embedded ledger).
 *
 * LevelDB's defaults, an 8 MiB block cache and a 4 MiB write buffer per database, suit a database
 * of gigabytes. A node's databases hold kilobytes to a few megabytes: its publications and their
 * sequences, escrows and vouchers. Both buffers live in the C library's heap, where what a burst
 * of traffic grew stays after it: a daemon publishing 3,000 offers through its control API ended
 * with its main heap (`[heap]` in smaps) 12 MiB larger with the defaults and 8 MiB larger with these
 * (`npm run bench:daemon`, one run each; a receiver's, 0 to 2 MiB). What stays is free memory
 * glibc keeps inside its heap: `malloc_trim(0)`, called in the publisher through a debugger, took
 * that heap from 23 to 10 MiB.
 *
 * At 1 MiB each, the cache still holds every block such a database reads often, and the write
 * buffer still takes about a thousand publications before LevelDB writes a table; reads that miss
 * the cache come from the system's page cache. The
 * metering round that writes each voucher durably ran as fast (`npm run bench:escrow`, alternated:
 * 1,530 and 1,418 rounds/s against 1,649 and 1,356 with the defaults).
 */
export const LEVEL_OPTIONS = {
  cacheSize: 1024 * 1024,
  writeBufferSize: 1024 * 1024
} as const
