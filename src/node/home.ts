import { chmod, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import { makeDirs } from '../util/fs.js'
import { UsageError, UserError } from '../util/errors.js'

/** The default node home when neither `--home` nor `BAZAAR_HOME` is given. */
export const DEFAULT_HOME_DIRNAME = '.bazaar'

/** Mode of the home directory and of every directory holding secrets (owner only). */
export const DIR_MODE = 0o700
/** Mode of every file holding a secret (keystore, enclave key, API token). */
export const SECRET_FILE_MODE = 0o600

/** Every path inside a node home, defined once. */
export interface HomePaths {
  /** the home directory itself (absolute) */
  root: string
  /** encrypted peer key and accounts (see keystore/format.ts) */
  keystore: string
  /** the node's config file, layered over config/default.json */
  config: string
  /** bearer token of the control API */
  apiToken: string
  /** bearer token that opens only GET /metrics (Prometheus) */
  metricsToken: string
  /** encrypted peer key of the simulated enclave (devnets) */
  enclaveKey: string
  /** address of the running node's control API (`{ url, pid }`), written by `bazaar node start` */
  apiAddress: string
  /** sealed per-escrow voucher keys of the renter (`<escrow id>.key`), kept until the escrow settles */
  voucherKeys: string
  /** level database directory */
  db: string
  /** log files directory */
  logs: string
}

/** Paths inside `home`. `home` is resolved to an absolute path. */
export function homePaths (home: string): HomePaths {
  const root = path.resolve(home)
  return {
    root,
    keystore: path.join(root, 'keystore.json'),
    config: path.join(root, 'config.json'),
    apiToken: path.join(root, 'api-token'),
    metricsToken: path.join(root, 'metrics-token'),
    enclaveKey: path.join(root, 'enclave-key'),
    apiAddress: path.join(root, 'api.json'),
    voucherKeys: path.join(root, 'voucher-keys'),
    db: path.join(root, 'db'),
    logs: path.join(root, 'logs')
  }
}

/**
 * The node home: the `--home` flag, else `BAZAAR_HOME`, else `~/.bazaar`. A leading `~/` is expanded
 * because a flag given as `--home=~/x` reaches us unexpanded by the shell.
 */
export function resolveHome (opts: { flag?: string, env?: NodeJS.ProcessEnv } = {}): string {
  // [usage] `--home ""` is an unset variable in a script, not a wish for the default home: taken
  // as one, `init --force` would replace the keys in ~/.bazaar
  if (opts.flag != null && opts.flag.trim() === '') throw new UsageError('--home is empty: name the node home (or leave the flag out for BAZAAR_HOME, else ~/.bazaar)')
  const raw = nonEmpty(opts.flag) ?? nonEmpty(opts.env?.BAZAAR_HOME) ?? path.join(homedir(), DEFAULT_HOME_DIRNAME)
  const expanded = raw === '~' ? homedir() : raw.startsWith('~/') ? path.join(homedir(), raw.slice(2)) : raw
  return path.resolve(expanded)
}

/**
 * Creates the home (and missing parents) owner-only (0700). An existing directory keeps its mode:
 * `--home` may name a directory the user shares on purpose, and every secret file in it is 0600
 * on its own.
 */
export async function ensureHome (home: string): Promise<HomePaths> {
  const p = homePaths(home)
  const created = await makeDirs(p.root, DIR_MODE).catch((err: NodeJS.ErrnoException) => {
    // a home the system refuses (a read-only or virtual file system, a file on the path) is the
    // operator's choice of path: one line, not a stack
    throw new UserError(`cannot create the node home ${p.root}: ${err.code ?? 'error'} at ${err.path ?? p.root}`, { code: 'HOME_UNUSABLE', cause: err })
  })
  // the umask may have cleared bits of the mode given to mkdir; a new home is exactly 0700
  if (created != null) await chmod(p.root, DIR_MODE)
  return p
}

/**
 * HOME_UNUSABLE when `home` is there but is no directory (a file, or a path through a file): every
 * file of the home would otherwise read as missing (no keystore, ENOTDIR on config.json), which names
 * the wrong cause. A home that is not there passes (the caller says what is missing), and so does
 * one the system will not stat (the read that follows says why).
 */
export async function checkHomeIsDirectory (home: string): Promise<void> {
  const root = path.resolve(home)
  let isDir: boolean
  try {
    isDir = (await stat(root)).isDirectory()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') return
    throw new UserError(`the node home ${root} is not a directory: a file is on its path`, { code: 'HOME_UNUSABLE' })
  }
  if (!isDir) throw new UserError(`the node home ${root} is not a directory`, { code: 'HOME_UNUSABLE' })
}

function nonEmpty (s: string | undefined): string | undefined {
  return s == null || s === '' ? undefined : s
}
