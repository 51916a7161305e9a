import type { Command } from '../command.js'

/** One `bazaar` command as `bazaar --help` lists it; its module is imported only when it runs. */
export interface CommandEntry {
  name: string
  summary: string
  load: () => Promise<Command>
}

/**
 * Every `bazaar` command, in the order `bazaar --help` lists them. Each lives in its own file, loaded
 * on use: `bazaar peers` starts without importing libp2p, the chain client or the TEE verifiers that
 * the daemon and `attest` need (seconds of start-up and about 150 MiB on a small machine).
 */
export const commands: CommandEntry[] = [
  { name: 'init', summary: 'create a node home: peer key, coldkey and hotkey (encrypted), API token, config', load: async () => (await import('./init.js')).initCommand },
  { name: 'keys', summary: 'show the peer id and account addresses of a node home (needs the passphrase)', load: async () => (await import('./keys.js')).keysCommand },
  { name: 'wallet', summary: 'btcli wallets (import, export), TAO and alpha balances, buy alpha (stake), the escrow funds of a renter (fund, withdraw)', load: async () => (await import('./wallet.js')).walletCommand },
  { name: 'node', summary: 'run a headless node (bazaar node start)', load: async () => (await import('./node.js')).nodeCommand },
  { name: 'status', summary: 'show the status of a running node', load: async () => (await import('./peers.js')).statusCommand },
  { name: 'peers', summary: 'show the connected peers of a running node', load: async () => (await import('./peers.js')).peersCommand },
  { name: 'offer', summary: 'publish, replace, cancel or list signed GPU offers (through a running node)', load: async () => (await import('./offer.js')).offerCommand },
  { name: 'bid', summary: 'publish, replace, cancel or list signed job bids (through a running node)', load: async () => (await import('./bid.js')).bidCommand },
  { name: 'book', summary: 'show the order book of a running node', load: async () => (await import('./book.js')).bookCommand },
  { name: 'supply', summary: 'run a supplier daemon (node start --role supplier)', load: async () => (await import('./supply.js')).supplyCommand },
  { name: 'rent', summary: 'rent GPUs and run a command on them (through a running node)', load: async () => (await import('./rent.js')).rentCommand },
  { name: 'jobs', summary: 'list the jobs of a running node (supplied and rented)', load: async () => (await import('./jobs.js')).jobsCommand },
  { name: 'escrow', summary: 'list, show, close or refund escrows (through a running node)', load: async () => (await import('./escrow.js')).escrowCommand },
  { name: 'arbiter', summary: 'run an arbiter daemon (node start --role arbiter)', load: async () => (await import('./arbiter.js')).arbiterCommand },
  { name: 'chain', summary: 'run a local Bittensor chain (chain start)', load: async () => (await import('./chain.js')).chainCommand },
  { name: 'attest', summary: 'verify SEV-SNP reports, TDX quotes and NVIDIA GPU reports (attest verify <file> --kind ...); fetch AMD and Intel CRLs (attest fetch-crls --dir <dir>) and Intel TDX TCB info (attest fetch-tdx-collateral --fmspc <hex> --dir <dir>)', load: async () => (await import('./attest.js')).attestCommand },
  { name: 'config', summary: 'describe every config field, its environment variable and default', load: async () => (await import('./config.js')).configCommand },
  { name: 'devnet', summary: 'run a local network and one job end to end in this process', load: async () => (await import('./devnet.js')).devnetCommand }
]
