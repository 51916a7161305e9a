import type { Command } from '../command.js'
import { attestCommand } from './attest.js'
import { initCommand } from './init.js'
import { keysCommand } from './keys.js'
import { nodeCommand } from './node.js'
import { offerCommand } from './offer.js'
import { bidCommand } from './bid.js'
import { bookCommand } from './book.js'
import { peersCommand, statusCommand } from './peers.js'
import { devnetCommand } from './devnet.js'
import { supplyCommand } from './supply.js'
import { rentCommand } from './rent.js'
import { jobsCommand } from './jobs.js'
import { escrowCommand } from './escrow.js'
import { arbiterCommand } from './arbiter.js'
import { configCommand } from './config.js'
import { walletCommand } from './wallet.js'
import { chainCommand } from './chain.js'

/**
 * Every `bazaar` command, in the order `bazaar --help` lists them. Each lives in its own file.
 */
export const commands: Command[] = [
  initCommand,
  keysCommand,
  walletCommand,
  nodeCommand,
  statusCommand,
  peersCommand,
  offerCommand,
  bidCommand,
  bookCommand,
  supplyCommand,
  rentCommand,
  jobsCommand,
  escrowCommand,
  arbiterCommand,
  chainCommand,
  attestCommand,
  configCommand,
  devnetCommand,
]
