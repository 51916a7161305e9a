/**
 * The LevelDB settings every database of a node opens with (the node's own, the escrow store, the
 * embedded ledger).
 *
 * LevelDB's defaults, an 8 MiB block cache and a 4 MiB write buffer per database, suit a database
 * of gigabytes. A node's databases hold kilobytes to a few megabytes: its publications and their
 * sequences, escrows and vouchers. A daemon opens up to three: at the defaults their write buffers
 * alone could hold 12 MiB of recent writes, and each cache as much of its data as was read, up to
 * 8 MiB. This bounds both at 1 MiB per database.
 *
 * It did not lower what `npm run bench:daemon` measures after traffic. A publisher's main C heap
 * (`[heap]` in smaps) grew by 12, 8 and 2.4 MiB over 3,000 offers with LevelDB's defaults, 1 MiB
 * and 64 KiB, but its RSS 60 to 120 s afterwards was 123 to 129 MiB in each. `malloc_trim(0)`,
 * called in the publisher through a debugger, gave back 13 MiB at 1 MiB and 15 MiB at 64 KiB. So
 * what a publisher keeps after traffic is free memory inside glibc's arenas, not LevelDB's.
 *
 * At 1 MiB each, the cache still holds every block such a database reads often, and the write
 * buffer still takes about a thousand publications before LevelDB writes a table; reads that miss
 * the cache come from the system's page cache. The metering round that writes each voucher durably
 * ran as fast (`npm run bench:escrow`, alternated: 1,530 and 1,418 rounds/s against 1,649 and 1,356
 * with the defaults).
 */
export const LEVEL_OPTIONS = {
  cacheSize: 1024 * 1024,
  writeBufferSize: 1024 * 1024
} as const
