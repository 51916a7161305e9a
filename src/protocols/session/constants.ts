/** Protocol id of the attested session (DESIGN.md, "Protocol identifiers"). */
export const SESSION_PROTOCOL = '/bazaar/session/1.0.0'
/** Version field of every handshake message. */
export const SESSION_VERSION = 1

/** Size caps of the handshake messages (bytes, after the length prefix). */
export const MAX_HELLO_SIZE = 256
export const MAX_VERDICT_SIZE = 256
/**
 * A TDX quote with its chain is about 5 KiB, an SNP report with a certificate table about 6 KiB; GPU
 * evidence adds about 4 KiB of report, 5 KiB of chain and 20 KiB per RIM, and each further GPU of
 * the agreement about 9 KiB (its RIMs are GPU 0's), and stapled OCSP answers about 1 KiB each (nine
 * for GPU 0, three for each further GPU): 16 GPUs with two RIMs and their answers come to about
 * 250 KiB, and the cap leaves room for responders whose answers carry more certificates.
 */
export const MAX_EVIDENCE_MESSAGE_SIZE = 384 * 1024
/** Certificate blobs accepted beside one piece of evidence. */
export const MAX_EVIDENCE_CERTS = 8
/** GPU device certificate blobs and RIMs accepted beside GPU evidence (a chain, a driver and a VBIOS RIM). */
export const MAX_GPU_CERTS = 8
export const MAX_GPU_RIMS = 4
/**
 * OCSP answers accepted beside one GPU's evidence: NVIDIA's device chain has three links with a
 * status and each RIM signer chain three, so a GPU with two RIMs needs nine.
 */
export const MAX_GPU_OCSP = 12
/** Default largest job frame on the attested channel. */
export const DEFAULT_MAX_FRAME = 1 << 20

/** Default wait for each handshake message; the enclave's attestation (a firmware call) is inside it. */
export const DEFAULT_MESSAGE_TIMEOUT_MS = 10_000
/** Concurrent inbound session streams per connection. */
export const DEFAULT_MAX_INBOUND_STREAMS = 8
/** Nonces remembered by the enclave to refuse replays; the oldest are forgotten first. */
export const DEFAULT_SEEN_NONCES = 4096

/** Channel frame types after the handshake. */
export const FRAME_DATA = 0
export const FRAME_ABORT = 1
