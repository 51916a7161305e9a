import { open } from 'node:fs/promises'
import { StringDecoder } from 'node:string_decoder'
import { KeystoreError, KeystoreErrorCode } from './errors.js'
import { UsageError } from '../../util/errors.js'

/** The terminal a passphrase prompt reads from (no echo) and writes its prompt to. */
export interface PassphraseTty {
  input: NodeJS.ReadableStream & { isTTY?: boolean, setRawMode?: (raw: boolean) => unknown }
  output: NodeJS.WritableStream
}

export interface ResolvePassphraseOptions {
  /** `--passphrase` (visible to other local users in the process list: prefer the env or the prompt) */
  flag?: string
  /**
   * `--passphrase-file`: a file holding the passphrase (a systemd credential, a secret mounted by an
   * orchestrator). One trailing newline is not part of it.
   */
  file?: string
  /** environment; `BAZAAR_PASSPHRASE`, then `BAZAAR_PASSPHRASE_FILE`, are read from it */
  env?: NodeJS.ProcessEnv
  /**
   * Where to prompt when neither the flag nor the environment gives a passphrase. `true` means the
   * process's stdin (prompt on stderr) if stdin is a terminal; `false` or absent never prompts.
   */
  tty?: boolean | PassphraseTty
  /** ask twice and require the same answer (when a new keystore is created) */
  confirm?: boolean
  /** the prompt text, default `Passphrase: ` */
  prompt?: string
  signal?: AbortSignal
}

/**
 * The passphrase of a node home, from (in order) `--passphrase`, `--passphrase-file`,
 * `BAZAAR_PASSPHRASE`, `BAZAAR_PASSPHRASE_FILE`, or an interactive prompt without echo. With none
 * of them available it throws NO_PASSPHRASE, so scripts fail with one clear line instead of hanging
 * on a prompt nobody sees. An empty passphrase is refused.
 */
export async function resolvePassphrase (opts: ResolvePassphraseOptions): Promise<string> {
  if (opts.flag != null) return nonEmpty(opts.flag, '--passphrase')
  // [usage] `--passphrase-file ""` is an unset variable, not a file named ""
  if (opts.file != null && opts.file.trim() === '') throw new UsageError('--passphrase-file is empty: name the file that holds the passphrase')
  if (opts.file != null) return await readPassphraseFile(opts.file, '--passphrase-file', opts.signal)
  const fromEnv = opts.env?.BAZAAR_PASSPHRASE
  if (fromEnv != null) return nonEmpty(fromEnv, 'BAZAAR_PASSPHRASE')
  const envFile = opts.env?.BAZAAR_PASSPHRASE_FILE
  if (envFile != null && envFile !== '') return await readPassphraseFile(envFile, 'BAZAAR_PASSPHRASE_FILE', opts.signal)
  const tty = opts.tty === true
    ? (process.stdin.isTTY ? { input: process.stdin, output: process.stderr } : undefined)
    : opts.tty === false ? undefined : opts.tty
  if (tty == null) {
    throw new KeystoreError(KeystoreErrorCode.NO_PASSPHRASE, 'a passphrase is required: pass --passphrase or --passphrase-file, set BAZAAR_PASSPHRASE or BAZAAR_PASSPHRASE_FILE, or run on a terminal')
  }
  const first = await promptHidden(tty, opts.prompt ?? 'Passphrase: ', opts.signal)
  if (first === '') throw new KeystoreError(KeystoreErrorCode.PASSPHRASE_MISMATCH, 'the passphrase must not be empty')
  if (opts.confirm === true) {
    const second = await promptHidden(tty, 'Repeat passphrase: ', opts.signal)
    if (second !== first) throw new KeystoreError(KeystoreErrorCode.PASSPHRASE_MISMATCH, 'the two passphrases differ')
  }
  return first
}

/**
 * Reads a passphrase file: at most MAX_PASSPHRASE_CHARS characters (a larger file is refused
 * unread beyond the bound), one trailing `\n` or `\r\n` dropped, nothing else trimmed (spaces may
 * be part of a passphrase). The message names the file, never its content.
 */
export async function readPassphraseFile (file: string, source: string, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted()
  // UTF-8 takes at most 4 bytes a character; one more byte than that tells a file over the bound
  const max = MAX_PASSPHRASE_CHARS * 4 + 2
  let text: string
  try {
    const fh = await open(file, 'r')
    try {
      // sequential reads (position null) until EOF, so a pipe (`--passphrase-file /dev/stdin`) works too
      const buf = Buffer.alloc(max + 1)
      let n = 0
      for (;;) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, null)
        if (bytesRead === 0) break
        n += bytesRead
        if (n > max) throw new KeystoreError(KeystoreErrorCode.PASSPHRASE_FILE, `${source} ${file} is longer than a passphrase can be`)
      }
      text = buf.subarray(0, n).toString('utf8')
    } finally {
      await fh.close()
    }
  } catch (err) {
    if (err instanceof KeystoreError) throw err
    throw new KeystoreError(KeystoreErrorCode.PASSPHRASE_FILE, `cannot read ${source} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err })
  }
  const passphrase = text.replace(/\r?\n$/, '')
  if (passphrase === '') throw new KeystoreError(KeystoreErrorCode.PASSPHRASE_FILE, `${source} ${file} is empty`)
  if ([...passphrase].length > MAX_PASSPHRASE_CHARS) throw new KeystoreError(KeystoreErrorCode.PASSPHRASE_FILE, `${source} ${file} is longer than ${MAX_PASSPHRASE_CHARS} characters`)
  return passphrase
}

function nonEmpty (s: string, source: string): string {
  if (s === '') throw new KeystoreError(KeystoreErrorCode.NO_PASSPHRASE, `${source} is empty`)
  return s
}

/** Longest passphrase the prompt accepts; further keys are ignored (input is bounded). */
export const MAX_PASSPHRASE_CHARS = 1024

/**
 * Reads one line from `tty` with echo off (raw mode): Enter ends it, Backspace erases, Ctrl-C or
 * Ctrl-D on an empty line or the abort signal cancel (CANCELLED).
 */
export async function promptHidden (tty: PassphraseTty, prompt: string, signal?: AbortSignal): Promise<string> {
  const { input, output } = tty
  signal?.throwIfAborted()
  output.write(prompt)
  const raw = typeof input.setRawMode === 'function'
  if (raw) input.setRawMode?.(true)
  const chars: string[] = []
  let resolve!: (s: string) => void
  let reject!: (e: Error) => void
  const promise = new Promise<string>((res, rej) => { resolve = res; reject = rej })
  const cancel = (): void => { reject(new KeystoreError(KeystoreErrorCode.CANCELLED, 'passphrase prompt cancelled')) }
  // a read may end inside a multi-byte UTF-8 character: the decoder keeps its first bytes for the next
  const decoder = new StringDecoder('utf8')
  const onData = (chunk: Buffer | string): void => {
    for (const ch of typeof chunk === 'string' ? chunk : decoder.write(chunk)) {
      if (ch === '\r' || ch === '\n') { resolve(chars.join('')); return }
      if (ch === '\u0003') { cancel(); return }
      if (ch === '\u0004') { if (chars.length === 0) cancel(); else resolve(chars.join('')); return }
      if (ch === '\u007f' || ch === '\b') { chars.pop(); continue }
      if (ch < ' ' || chars.length >= MAX_PASSPHRASE_CHARS) continue
      chars.push(ch)
    }
  }
  input.on('data', onData)
  input.once('end', cancel)
  signal?.addEventListener('abort', cancel, { once: true })
  input.resume()
  try {
    return await promise
  } finally {
    input.off('data', onData)
    input.off('end', cancel)
    signal?.removeEventListener('abort', cancel)
    if (raw) input.setRawMode?.(false)
    input.pause()
    output.write('\n')
  }
}
