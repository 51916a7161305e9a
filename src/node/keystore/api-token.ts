import { randomBytes, timingSafeEqual } from 'node:crypto'
import { homePaths } from '../home.js'
import { API_TOKEN_BYTES } from './constants.js'
import { KeystoreError, KeystoreErrorCode } from './errors.js'
import { readSmallFile, writeSecretFile } from './files.js'

const TOKEN_RE = new RegExp(`^[0-9a-f]{${API_TOKEN_BYTES * 2}}$`)

/** Writes a new random bearer token (32 bytes, hex) to `<home>/api-token`, mode 0600. */
export async function createApiToken (home: string, opts: { overwrite: boolean }): Promise<boolean> {
  const token = randomBytes(API_TOKEN_BYTES).toString('hex')
  return await writeSecretFile(homePaths(home).apiToken, token + '\n', { exclusive: !opts.overwrite })
}

/** The control API's bearer token of a home; INVALID_API_TOKEN when it is missing or malformed. */
export async function readApiToken (home: string): Promise<string> {
  const file = homePaths(home).apiToken
  const text = await readSmallFile(file, 1024, (why) => new KeystoreError(KeystoreErrorCode.INVALID_API_TOKEN, `${file}: ${why}`))
  if (text == null) throw new KeystoreError(KeystoreErrorCode.INVALID_API_TOKEN, `no API token at ${file} (bazaar node start writes a new one; a node running now keeps its own until it restarts)`)
  return tokenOf(text, file)
}

/**
 * The control token for a starting daemon: `<home>/api-token`, written anew (32 random bytes, hex,
 * mode 0600) when it is missing. Only clients on this machine that can read the home use it, so a
 * lost token is replaced at the next start instead of needing new keys.
 */
export async function readOrCreateApiToken (home: string): Promise<string> {
  return await readOrCreateToken(homePaths(home).apiToken)
}

async function readOrCreateToken (file: string): Promise<string> {
  // exclusive: two starts racing on one home keep whichever token was written first
  await writeSecretFile(file, randomBytes(API_TOKEN_BYTES).toString('hex') + '\n', { exclusive: true })
  const text = await readSmallFile(file, 1024, (why) => new KeystoreError(KeystoreErrorCode.INVALID_API_TOKEN, `${file}: ${why}`))
  return tokenOf(text ?? '', file)
}

function tokenOf (text: string, file: string): string {
  const token = text.trim()
  if (!TOKEN_RE.test(token)) throw new KeystoreError(KeystoreErrorCode.INVALID_API_TOKEN, `${file} does not hold a ${API_TOKEN_BYTES}-byte hex token (delete it, and the next start writes a new one)`)
  return token
}

/**
 * The scrape token of `GET /metrics` (`<home>/metrics-token`, 32 bytes hex, mode 0600), created on
 * first use. It opens `/metrics` and nothing else, so a Prometheus server can hold it without
 * holding the control token, which moves money.
 */
export async function readOrCreateMetricsToken (home: string): Promise<string> {
  return await readOrCreateToken(homePaths(home).metricsToken)
}

/**
 * Whether an HTTP `Authorization` header carries `token` as a bearer token (RFC 6750 section 2.1).
 * Constant time in the token's content.
 */
export function bearerMatches (token: string, authorization: string | undefined): boolean {
  if (authorization == null) return false
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  if (m == null) return false
  const a = Buffer.from(m[1])
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}
