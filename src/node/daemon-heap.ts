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
