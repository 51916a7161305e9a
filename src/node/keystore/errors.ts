import { UserError } from '../../util/errors.js'

export enum KeystoreErrorCode {
  /** the passphrase does not open the file (AES-GCM authentication failed) */
  WRONG_PASSPHRASE = 'WRONG_PASSPHRASE',
  /** no passphrase from the flag, the environment or a terminal */
  NO_PASSPHRASE = 'NO_PASSPHRASE',
  /** the passphrase file (`--passphrase-file`, BAZAAR_PASSPHRASE_FILE) is missing, unreadable, too long or empty */
  PASSPHRASE_FILE = 'PASSPHRASE_FILE',
  /** the interactive prompt was interrupted (Ctrl-C, Ctrl-D, abort signal) */
  CANCELLED = 'CANCELLED',
  /** the two entries of a new passphrase differ, or it is empty */
  PASSPHRASE_MISMATCH = 'PASSPHRASE_MISMATCH',
  /** the home already holds keys and `force` was not given */
  ALREADY_INITIALIZED = 'ALREADY_INITIALIZED',
  /** the home holds no keystore (run `bazaar init`) */
  NOT_INITIALIZED = 'NOT_INITIALIZED',
  /** a key file is not valid JSON, has a bad shape, or out-of-bounds parameters */
  CORRUPT = 'CORRUPT',
  /** a key file of a format version this build does not read */
  UNSUPPORTED_VERSION = 'UNSUPPORTED_VERSION',
  /** a restore mnemonic that is not a valid BIP-39 phrase */
  INVALID_MNEMONIC = 'INVALID_MNEMONIC',
  /** a `--dev` name that is not a plain word like `alice` */
  INVALID_DEV_NAME = 'INVALID_DEV_NAME',
  /** contradictory options, e.g. both a mnemonic and a dev name */
  INVALID_OPTIONS = 'INVALID_OPTIONS',
  /** the API token file is missing or malformed */
  INVALID_API_TOKEN = 'INVALID_API_TOKEN',
  /** a secret file could not be written (disk full, read-only or unwritable folder) */
  WRITE_FAILED = 'WRITE_FAILED'
}

/**
 * Any failure of the keystore. It is a UserError: the CLI prints its one-line message (which never
 * contains a secret) and exits with 1.
 */
export class KeystoreError extends UserError {
  declare readonly code: KeystoreErrorCode
  constructor (code: KeystoreErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { code, exitCode: 1, cause: options.cause })
  }
}
