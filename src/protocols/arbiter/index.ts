export { registerArbiterHandler, type ArbiterHandler, type ArbiterHandlerInit } from './handler.js'
export { RemoteArbiter } from './client.js'
export { ArbiterProtocolError, type ArbiterProtocolErrorCode } from './errors.js'
export * from './constants.js'
