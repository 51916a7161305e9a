/**
 * `/bazaar/session/1.0.0`: the attested session between a renter and an enclave peer. The renter
 * opens it with `openAttestedSession`; the enclave serves it with `registerSessionHandler`. Job data
 * flows on the returned channel only after the evidence verified, passed the renter's policy, and
 * was found bound to the noise session's remote key.
 */
export { SESSION_PROTOCOL } from './constants.js'
export { SessionError, SessionErrorCode, type SessionFailureCode } from './errors.js'
export { openAttestedSession, runRenterHandshake, type AttestedSession, type OpenSessionOptions, type SessionRenterNode } from './renter.js'
export { registerSessionHandler, type SessionHandler, type SessionHandlerInit, type SessionInfo, type SessionEnclaveNode } from './enclave.js'
