import { UserError } from '../../util/errors.js'

export enum WalletErrorCode {
  /** a wallet file (coldkey, coldkeypub.txt, hotkey) does not exist */
  NOT_FOUND = 'NOT_FOUND',
  /** the password does not open the coldkey (secretbox or HMAC authentication failed) */
  WRONG_PASSWORD = 'WRONG_PASSWORD',
  /** no password from the btcli variable, a flag or a terminal */
  NO_PASSWORD = 'NO_PASSWORD',
  /** the BT_PW_ variable is set but is not base64 of a UTF-8 password */
  BAD_PASSWORD_VARIABLE = 'BAD_PASSWORD_VARIABLE',
  /** a keyfile that is truncated, not JSON, or has fields of the wrong shape */
  CORRUPT = 'CORRUPT',
  /** a keyfile of a format this build does not read (Fernet legacy, another key type, ansible 1.2) */
  UNSUPPORTED_FORMAT = 'UNSUPPORTED_FORMAT',
  /** the keys do not match the address in coldkeypub.txt or in their own file */
  ADDRESS_MISMATCH = 'ADDRESS_MISMATCH',
  /** a wallet or hotkey name that is not a plain file name */
  INVALID_NAME = 'INVALID_NAME',
  /** an export target that already holds a wallet (nothing is overwritten) */
  EXISTS = 'EXISTS',
  /** an export target whose folder cannot be made or written in (a file in its place, no permission, read-only) */
  WRITE_FAILED = 'WRITE_FAILED',
  /** the node's chain is not a subtensor endpoint (balance and stake need one) */
  NO_CHAIN = 'NO_CHAIN',
  /** the chain would refuse the stake (no alpha in the runtime, subnet or hotkey unknown, token not enabled) */
  STAKE_REFUSED = 'STAKE_REFUSED',
  /** the coldkey's free TAO does not cover the amount and the fee */
  INSUFFICIENT_FUNDS = 'INSUFFICIENT_FUNDS',
  /** a transaction the chain refused, or whose inclusion was not seen (a dropped connection, a stop) */
  SUBMIT_FAILED = 'SUBMIT_FAILED',
  /** the user answered no to the confirmation */
  DECLINED = 'DECLINED'
}

/**
 * Any failure to read or write a btcli wallet. It is a UserError: the CLI prints its one-line
 * message (never a secret) and exits with 1.
 */
export class WalletError extends UserError {
  declare readonly code: WalletErrorCode
  constructor (code: WalletErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { code, exitCode: 1, cause: options.cause })
  }
}
