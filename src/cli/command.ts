import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from '../util/errors.js'
import type { Clock } from '../util/clock.js'

export type OptionSpec = NonNullable<ParseArgsConfig['options']>

/** What every command receives. `out` and `err` are injectable so tests can capture output. */
export interface CommandContext {
  out: (line: string) => void
  err: (line: string) => void
  env: NodeJS.ProcessEnv
  signal: AbortSignal
  /** waits and timings of a command (following an escrow after a cancel); the system clock when absent */
  clock?: Clock
}

/** One `bazaar <name>` command. Subcommands (`bazaar escrow ls`) are parsed by the command itself. */
export interface Command {
  name: string
  /** full help text printed by `--help` */
  usage: string
  options: OptionSpec
  allowPositionals?: boolean
  run: (args: ParsedArgs, ctx: CommandContext) => Promise<number>
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>
  positionals: string[]
  /** arguments after `--`, untouched */
  rest: string[]
}

/** Parses argv for a command; unknown flags and bad values become a UsageError (exit 2). */
export function parseCommandArgs (cmd: Command, argv: string[]): ParsedArgs {
  const dd = argv.indexOf('--')
  const head = dd === -1 ? argv : argv.slice(0, dd)
  const rest = dd === -1 ? [] : argv.slice(dd + 1)
  try {
    const { values, positionals } = parseArgs({
      args: head,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: cmd.allowPositionals ?? false,
      strict: true
    })
    return { values: values as ParsedArgs['values'], positionals, rest }
  } catch (err) {
    // main prefixes every error with `bazaar <command>:`; node's parseArgs message is the rest, on
    // one line (its hint for a value that starts with a dash is on a line of its own)
    const lines = (err as Error).message.split('\n')
    const ambiguous = /^Option '(--[a-z0-9-]+)[^']*' argument is ambiguous/.exec(lines[0])
    if (ambiguous != null) throw new UsageError(`${ambiguous[1]} needs a value; one that starts with a dash goes as ${ambiguous[1]}=-…`)
    // a misspelt flag, not a positional argument that starts with a dash: node's hint about `--`
    // (with its quote left open) is not for it
    const unknown = /^(Unknown option '[^']*')\. To specify a positional argument/.exec(lines[0])
    throw new UsageError(unknown != null ? `${unknown[1]} (see bazaar ${cmd.name} --help)` : lines[0])
  }
}

/** Reads a string flag, or undefined. */
export function str (args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name]
  return typeof v === 'string' ? v : undefined
}

/** Reads a repeatable string flag. */
export function strs (args: ParsedArgs, name: string): string[] {
  const v = args.values[name]
  if (v == null) return []
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string')
}

export function flag (args: ParsedArgs, name: string): boolean {
  return args.values[name] === true
}

/**
 * A command's sub-command (`offer publish`) and what follows it: no sub-command, or one not in
 * `subs`, is `expected` (the command's usage line); an argument past those the sub-command takes
 * (`takes`, default none) is named on its own line, not folded into the usage line.
 */
export function subcommand<S extends string> (cmd: string, args: ParsedArgs, subs: readonly S[], expected: string, takes: Partial<Record<S, number>> = {}): { sub: S, operands: string[] } {
  const [sub, ...operands] = args.positionals
  if (sub == null || !(subs as readonly string[]).includes(sub)) throw new UsageError(`expected ${expected} (see bazaar ${cmd} --help)`)
  const most = takes[sub as S] ?? 0
  if (operands.length > most) throw new UsageError(`unexpected argument '${operands[most]!}' after ${cmd} ${sub} (see bazaar ${cmd} --help)`)
  return { sub: sub as S, operands }
}
