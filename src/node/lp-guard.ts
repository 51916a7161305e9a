import * as nodeModule from 'node:module'

/**
 * A bound on the length prefixes libp2p's own protocols read.
 *
 * multistream-select (on every new connection, before noise, and on every stream), identify and
 * kad-dht read their messages with `lpStream` of `@libp2p/utils` 7.4.1. It reads a varint length
 * prefix one byte at a time and, while the prefix does not decode, reads another byte: its
 * `maxLengthLength` check runs only once a prefix has decoded, and `uint8-varint` never decodes
 * more than 8 bytes. A prefix of 0x80 bytes that never ends is therefore read byte by byte until
 * the connection's upgrade timeout: one unauthenticated TCP client sending 0x80 kept a node's event
 * loop busy and grew its heap by about 200 MB in 10 s (about 130 bytes of heap per byte read).
 *
 * The library offers no option for it and its readers are plain functions inside an ES module, so
 * the bound goes in where the module is loaded: a module hook (`module.registerHooks`, Node 22.15
 * and later) adds one statement to `stream-utils.js` as Node loads it. A prefix still undecoded
 * after 8 bytes, or after the caller's `maxLengthLength`, ends the read with the library's own
 * `InvalidDataLengthLengthError`, as a decoded prefix over the bound already did. Nothing else in
 * the file changes. The hook checks the exact text it replaces: after an upgrade of
 * `@libp2p/utils` that changes it, nothing is patched and `lengthPrefixGuardStatus()` says
 * `unmatched` (the daemon then warns at start, and `test/unit/node/lp-guard.test.ts` fails).
 *
 * `bin/bazaar.js` installs it before anything imports libp2p. A process that loaded the module
 * before the install is not patched (`lengthPrefixGuardStatus()` stays `installed`).
 */

/** the module patched, by the end of its URL */
const TARGET = '/node_modules/@libp2p/utils/dist/src/stream-utils.js'

/** the statement after which a prefix that does not decode reads another byte */
const NEEDLE = `                    if (err instanceof RangeError) {
                        continue;
                    }`

/** the same, bounded: 8 bytes is the most `uint8-varint` decodes, so a longer prefix never will */
const BOUNDED = `                    if (err instanceof RangeError) {
                        if (lengthBuffer.byteLength >= Math.min(opts?.maxLengthLength ?? 8, 8)) {
                            throw new InvalidDataLengthLengthError(\`Message length length too long - \${lengthBuffer.byteLength} bytes without a length\`);
                        }
                        continue;
                    }`

export type LengthPrefixGuardStatus =
  /** not installed in this process */
  | 'off'
  /** this Node has no `module.registerHooks` (before 22.15) */
  | 'unsupported'
  /** installed; `stream-utils.js` not loaded since */
  | 'installed'
  /** `stream-utils.js` loaded with the bound */
  | 'patched'
  /** `stream-utils.js` loaded without the text the bound replaces: left as it was */
  | 'unmatched'

let status: LengthPrefixGuardStatus = 'off'

/** Where the guard stands in this process. */
export function lengthPrefixGuardStatus (): LengthPrefixGuardStatus { return status }

type LoadResult = { source?: string | ArrayBuffer | NodeJS.TypedArray, format?: string | null, shortCircuit?: boolean }

/** Installs the load hook (process-wide, once). Returns the status after the install. */
export function installLengthPrefixGuard (): LengthPrefixGuardStatus {
  if (status !== 'off') return status
  const register = (nodeModule as { registerHooks?: (hooks: { load: (url: string, context: unknown, next: (url: string, context: unknown) => LoadResult) => LoadResult }) => unknown }).registerHooks
  if (typeof register !== 'function') { status = 'unsupported'; return status }
  register({
    load (url, context, next) {
      const result = next(url, context)
      if (!url.endsWith(TARGET) || result.source == null) return result
      const text = typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8')
      const at = text.indexOf(NEEDLE)
      // the text must appear once: a second copy would be another reader this bound was not written for
      if (at === -1 || text.indexOf(NEEDLE, at + 1) !== -1) { status = 'unmatched'; return result }
      status = 'patched'
      return { ...result, source: text.slice(0, at) + BOUNDED + text.slice(at + NEEDLE.length) }
    }
  })
  status = 'installed'
  return status
}
