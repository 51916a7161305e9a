import type { Command } from '../command.js'

/**
 * Every `bazaar` command, in the order `bazaar --help` lists them. Each lives in its own file.
 */
export const commands: Command[] = [
]
