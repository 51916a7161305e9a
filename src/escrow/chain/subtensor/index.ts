/** The `subtensor` chain adapter: the escrow on a Bittensor (Substrate) chain via @polkadot/api. */
export { createSubtensorChain, SubtensorChain, type SubtensorChainInit, type SubtensorOperation } from './adapter.js'
export { checkEndpoints, GENESIS_CHECK_MS, type ChainMark, type EndpointsCheck, type GenesisProvider } from './endpoints.js'
export { SubtensorError, type SubtensorErrorCode } from './errors.js'
export { arbiterEscrowKey, arbiterPath, escrowSignatories, type EscrowSignatories } from './keys.js'
export { recordsInBlock, type FoundRecord, type SubtensorOpenRecord } from './scan.js'
export { answered, submitAndWait, type Inclusion, type WaitOptions } from './submit.js'
