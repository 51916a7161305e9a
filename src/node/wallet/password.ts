import { WalletError, WalletErrorCode } from './errors.js'

/**
 * The environment variable btcli reads a coldkey's password from (`Keyfile::env_var_name`):
 * `BT_PW_` and the keyfile's path with every `/` and `.` replaced by `_`, upper-cased. btcli builds
 * the path from the expanded wallets folder, so `~/.bittensor/wallets/default/coldkey` of user `ann`
 * gives `BT_PW__HOME_ANN__BITTENSOR_WALLETS_DEFAULT_COLDKEY`.
 */
export function btcliPasswordVariable (keyfilePath: string): string {
  return `BT_PW_${keyfilePath.replaceAll('/', '_').replaceAll('.', '_').toUpperCase()}`
}

/**
 * The password held in a btcli password variable. btcli stores base64 of the password's UTF-8 bytes
 * XOR the variable's name (repeated), not the password itself (`save_password_to_env`).
 * BAD_PASSWORD_VARIABLE when the value is not base64 or the result is not UTF-8.
 */
export function decodeBtcliPasswordVariable (name: string, value: string): string {
  const v = value.trim()
  if (v.length === 0 || v.length > 4096 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
    throw new WalletError(WalletErrorCode.BAD_PASSWORD_VARIABLE, `${name} is not base64 (btcli stores the password XOR the variable's name, base64-encoded)`)
  }
  const bytes = xorWithName(Buffer.from(v, 'base64'), name)
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new WalletError(WalletErrorCode.BAD_PASSWORD_VARIABLE, `${name} does not decode to a UTF-8 password`)
  } finally {
    bytes.fill(0)
  }
}

/** The value btcli would put in `name` for `password` (what `save_password_to_env` writes). */
export function encodeBtcliPasswordVariable (name: string, password: string): string {
  return Buffer.from(xorWithName(Buffer.from(password, 'utf8'), name)).toString('base64')
}

function xorWithName (data: Uint8Array, name: string): Uint8Array {
  const key = Buffer.from(name, 'utf8')
  const out = new Uint8Array(data.length)
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[i % key.length]
  return out
}
