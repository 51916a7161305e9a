import { WalletError, WalletErrorCode } from '../node/wallet/index.js'

/** Where a yes/no question is read from and asked on. */
export interface ConfirmTty {
  input: NodeJS.ReadableStream
  output: NodeJS.WritableStream
}

/** Longest answer read; anything past it is ignored (input is bounded). */
const MAX_ANSWER = 64

/**
 * Asks `question [y/N]` and resolves true only for `y` or `yes`. Without a terminal (and without
 * `--yes`, which callers check first) it is DECLINED with a line saying how to answer in a script.
 */
export async function confirm (question: string, opts: { tty?: ConfirmTty, signal?: AbortSignal } = {}): Promise<boolean> {
  const tty: ConfirmTty | undefined = opts.tty ?? (process.stdin.isTTY ? { input: process.stdin as NodeJS.ReadableStream, output: process.stderr } : undefined)
  if (tty == null) throw new WalletError(WalletErrorCode.DECLINED, 'not a terminal: nothing was signed (pass --yes to sign without the question)')
  opts.signal?.throwIfAborted()
  tty.output.write(`${question} [y/N] `)
  const answer = await new Promise<string>((resolve) => {
    let buf = ''
    const done = (s: string): void => { tty.input.off('data', onData); tty.input.off('end', onEnd); opts.signal?.removeEventListener('abort', onEnd); tty.input.pause(); resolve(s) }
    const onData = (chunk: Buffer | string): void => {
      buf += chunk.toString()
      const nl = buf.indexOf('\n')
      if (nl >= 0 || buf.length > MAX_ANSWER) done(buf.slice(0, nl >= 0 ? nl : MAX_ANSWER))
    }
    const onEnd = (): void => { done('') }
    tty.input.on('data', onData)
    tty.input.once('end', onEnd)
    opts.signal?.addEventListener('abort', onEnd, { once: true })
    tty.input.resume()
  })
  return /^\s*y(es)?\s*$/i.test(answer)
}
