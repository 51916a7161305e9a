/**
 * An error code as a peer may send it (abort frames, `error` frames, an enclave's refusal): what
 * passes on to messages, logs and terminals from another party, nothing more.
 */
export const REMOTE_CODE_RE = /^[A-Z][A-Z0-9_]{0,63}$/

/** the peer's code, or UNKNOWN where it is not one (control characters, text meant for a terminal) */
export function remoteCode (code: string): string {
  return REMOTE_CODE_RE.test(code) ? code : 'UNKNOWN'
}
