/**
 * The young generation a daemon (`node start`, `supply`, `arbiter`) runs with: V8's
 * `--max-semi-space-size`, in MiB. `bin/bazaar.js` re-executes a daemon with it, and the benches
 * start their nodes with it, so that what they measure is what an operator runs.
 *
 * Why 32 (`npm run bench:gossip -- --skip-propagation --semi-space N`, README "Figures"):
 * - A flood's messages wait for the signature worker pool and so outlive a small young
 *   generation: with 4 MiB per semi-space the collector took 23 µs of the event loop per market
 *   message, with Node's own limit 9 µs. Over nine rounds at 32 MiB one node validated a median
 *   8,426 offers/s (up to 9,925), against 7,867 (up to 8,877) over ten at 4 MiB, and 100,000
 *   offers left at rest cost 69 MiB beyond plain gossipsub instead of 120.
 * - Node's own limit (64 MiB on this kind of machine) flooded about as fast as 32 MiB.
 * - The cap was 4 MiB while a resting daemon kept whatever the young generation had grown to
 *   while it imported its module graph (about 250 MiB RSS at rest uncapped). The MemoryReducer's
 *   collection after start (`settleMs`) gives that back, so a resting daemon holds about the same
 *   RSS at 4, 32 or 64 MiB (`npm run bench:daemon`).
 */
export const DAEMON_SEMI_SPACE_MIB = 32

/**
 * glibc's malloc settings a daemon runs with (`GLIBC_TUNABLES`, read by the C library when the
 * process starts; `bin/bazaar.js` sets them in the same re-execution, unless the operator set
 * `GLIBC_TUNABLES` already). Ignored where the C library is not glibc (musl, macOS).
 *
 * - `arena_max=2`: glibc gives each thread that allocates its own arena (up to 8 per core). A
 *   daemon's threads (V8's compiler and collector helpers, libuv's pool running LevelDB) each
 *   grew one during traffic and kept its free memory afterwards.
 * - `trim_threshold` and `mmap_threshold` at 128 KiB, their defaults before glibc's dynamic
 *   adjustment: free memory at the top of a heap goes back to the system once 128 KiB, and large
 *   blocks are mapped on their own and unmapped when freed, instead of glibc raising both limits
 *   after the first large free and keeping up to 32 MiB.
 *
 * Measured (`npm run bench:daemon -- --daemons 12 --publishers 4 --rate 60 --warmup 1000 --offers
 * 3000 --rest 60 --rest-after 60,120,180,240 --node-options=''`): twelve daemons started with them
 * held a median 126, 135, 134 and 132 MiB at 60, 120, 180 and 240 s after the offers, against 132,
 * 144, 142 and 139 MiB without them (116 to 120 against 116 to 125 MiB before the offers); a
 * flood of 40,000 offers into one node ran as fast (6,990 and 7,949/s against 7,108 and 6,644/s,
 * alternated).
 */
export const DAEMON_MALLOC_TUNABLES = 'glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072'

/** a daemon's environment: the operator's, with `DAEMON_MALLOC_TUNABLES` unless it sets its own */
export function daemonEnv (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.GLIBC_TUNABLES != null && env.GLIBC_TUNABLES !== '' ? env : { ...env, GLIBC_TUNABLES: DAEMON_MALLOC_TUNABLES }
}
