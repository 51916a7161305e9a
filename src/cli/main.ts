import { commands } from './commands/index.js'
import { parseCommandArgs, type CommandContext } from './command.js'
import { UserError } from '../util/errors.js'
import { guardStdio, writeLine } from './stdio.js'
import { packageVersion } from '../util/version.js'

function topHelp (): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4)
  return [
    'bazaar — a peer-to-peer GPU compute marketplace node',
    '',
    'usage: bazaar <command> [options]       bazaar --version',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `bazaar <command> --help` for the options of one command.'
  ].join('\n')
}

/**
 * `bazaar --home ~/n status` as `bazaar status --home ~/n`: options written before the command, as
 * git, docker and kubectl take their global ones, go to the command, whose own parser then judges
 * them. The command is the first command name not right after a `--flag` (which may be that flag's
 * value: `--role arbiter node start`), else the first command name at all (`--json book`).
 */
export function commandFirst (argv: readonly string[]): string[] {
  const first = argv[0]
  if (first == null || !first.startsWith('-') || first === '--version' || first === '-V' || first === '--help' || first === '-h') return [...argv]
  const isCommand = (i: number): boolean => commands.some((c) => c.name === argv[i])
  const valueSlot = (i: number): boolean => /^--?[^=]+$/.test(argv[i - 1] ?? '')
  let at = -1
  for (let i = 1; i < argv.length && argv[i] !== '--'; i++) {
    if (isCommand(i) && !valueSlot(i)) { at = i; break }
  }
  if (at < 0) {
    for (let i = 1; i < argv.length && argv[i] !== '--'; i++) {
      if (isCommand(i)) { at = i; break }
    }
  }
  if (at < 0) return [...argv]
  return [argv[at]!, ...argv.slice(0, at), ...argv.slice(at + 1)]
}

/**
 * Entry point of the CLI. Returns the exit code: 0 success, 1 failure (one-line reason),
 * 2 usage error. A UserError prints one line; anything else is a bug and prints its stack.
 */
export async function main (argv: string[], ctx?: Partial<CommandContext>): Promise<number> {
  const controller = new AbortController()
  if (ctx?.out == null || ctx.err == null) guardStdio()
  const c: CommandContext = {
    out: ctx?.out ?? ((l) => { writeLine(process.stdout, l) }),
    err: ctx?.err ?? ((l) => { writeLine(process.stderr, l) }),
    env: ctx?.env ?? process.env,
    signal: ctx?.signal ?? controller.signal
  }
  let [name, ...rest] = commandFirst(argv)
  // `bazaar help rent` is `bazaar rent --help`
  if (name === 'help' && rest.length > 0 && commands.some((x) => x.name === rest[0])) [name, rest] = [rest[0], ['--help']]
  // `bazaar help srve` asks about a command there is not: say so, not the help of all of them
  else if (name === 'help' && rest.length > 0 && rest[0] !== 'help') name = rest[0]
  if (name == null) {
    // no command is a usage error: the help goes where errors go
    c.err(topHelp())
    return 2
  }
  if (name === '--version' || name === '-V') {
    c.out(`bazaar ${packageVersion()} (node ${process.versions.node})`)
    return 0
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    c.out(topHelp())
    return 0
  }
  const entry = commands.find((x) => x.name === name)
  if (entry == null) {
    c.err(`bazaar: unknown command '${name}' (see bazaar --help)`)
    return 2
  }
  const cmd = await entry.load()
  try {
    const args = parseCommandArgs(cmd, rest)
    if (args.values.help === true) {
      c.out(cmd.usage)
      return 0
    }
    return await cmd.run(args, c)
  } catch (err) {
    if (err instanceof UserError) {
      c.err(`bazaar ${cmd.name}: ${err.message}`)
      return err.exitCode
    }
    c.err(`bazaar ${cmd.name}: internal error`)
    c.err((err as Error)?.stack ?? String(err))
    return 1
  }
}
