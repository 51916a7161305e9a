import { promptHidden, type PassphraseTty } from '../node/keystore/index.js'
import { decodeBtcliPasswordVariable, WalletError, WalletErrorCode, type PasswordSource } from '../node/wallet/index.js'

/**
 * The password of a btcli keyfile as btcli itself finds it: its `BT_PW_...` variable (base64 of the
 * password XOR the variable's name), else a prompt without echo on a terminal. With neither it is
 * NO_PASSWORD, one line naming the variable, instead of a prompt nobody sees.
 */
export function btcliPasswordSource (env: NodeJS.ProcessEnv, opts: { tty?: PassphraseTty | boolean, signal?: AbortSignal } = {}): PasswordSource {
  return async ({ file, variable }) => {
    const v = env[variable]
    if (v != null && v !== '') return decodeBtcliPasswordVariable(variable, v)
    const tty = terminal(opts.tty)
    if (tty == null) {
      throw new WalletError(WalletErrorCode.NO_PASSWORD, `${file} is encrypted: run on a terminal to type its password, or set ${variable} as btcli does`)
    }
    return await promptHidden(tty, `Password of ${file}: `, opts.signal)
  }
}

/** A new password for an exported coldkey: its `BT_PW_...` variable, else typed twice on a terminal. */
export async function newBtcliPassword (env: NodeJS.ProcessEnv, file: string, variable: string, opts: { tty?: PassphraseTty | boolean, signal?: AbortSignal } = {}): Promise<string> {
  const v = env[variable]
  if (v != null && v !== '') return decodeBtcliPasswordVariable(variable, v)
  const tty = terminal(opts.tty)
  if (tty == null) {
    throw new WalletError(WalletErrorCode.NO_PASSWORD, `a password for the new coldkey ${file} is needed: run on a terminal, or set ${variable} as btcli does`)
  }
  const first = await promptHidden(tty, `New password for ${file}: `, opts.signal)
  if (first === '') throw new WalletError(WalletErrorCode.NO_PASSWORD, 'the password must not be empty')
  const second = await promptHidden(tty, 'Repeat the password: ', opts.signal)
  if (second !== first) throw new WalletError(WalletErrorCode.NO_PASSWORD, 'the two passwords differ')
  return first
}

function terminal (t: PassphraseTty | boolean | undefined): PassphraseTty | undefined {
  if (t === false) return undefined
  if (t === true || t == null) return process.stdin.isTTY ? { input: process.stdin, output: process.stderr } : undefined
  return t
}
