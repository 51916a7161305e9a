/**
 * The daemon's checks before anything opens, and its embedded ledger's genesis. The daemon itself
 * is a BazaarNode built with its roles (src/node/bazaar-node.ts); its role services live in
 * src/node/services.
 */
export { checkGpuProvider, checkSupplierGpus, checkTeeProvider } from './services/supplier-setup.js'
export { EMBEDDED_GENESIS_RAO } from './services/chain.js'
