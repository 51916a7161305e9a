/** Limits of the market messages. Peers control every field; each one is bounded. */
export const MESSAGE_VERSION = 1
/** hard cap of an envelope on the wire */
export const MAX_ENVELOPE_BYTES = 8 * 1024
export const MAX_ID_LENGTH = 64
export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/
export const MAX_GPU_ENTRIES = 16
export const MAX_GPU_COUNT = 1024
export const MAX_MODEL_LENGTH = 48
export const MODEL_PATTERN = /^[a-z0-9][a-z0-9.-]{0,47}$/
export const MAX_MEMORY_MIB = 4 * 1024 * 1024
export const MAX_TEE_KINDS = 4
export const TEE_KINDS = ['tdx', 'sev-snp', 'simulated'] as const
export const MAX_REGION_LENGTH = 32
export const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/
export const MAX_REGIONS = 16
export const MAX_ADDRS = 8
/** the one runtime an offer states (absent: jobs run as processes) */
export const CONTAINER_RUNTIME = 'container'
/**
 * an offer's image patterns: as many as fit in an envelope beside the rest of the offer (16 of
 * 256 bytes are 4.2 KiB of the 8 KiB); a supplier's `jobs.images` has the same bounds
 */
export const MAX_IMAGE_PATTERNS = 16
export const MAX_IMAGE_PATTERN_LENGTH = 256
/** a bid's image: as long as a job spec's (jobs MAX_IMAGE_BYTES) */
export const MAX_IMAGE_LENGTH = 512
export const MAX_ADDR_BYTES = 128
/** a message may be dated at most this far in the future (clock skew tolerance) */
export const MAX_CLOCK_SKEW_MS = 30_000
/** the longest life of one message; suppliers re-publish before expiry */
export const MAX_TTL_MS = 24 * 3600_000
export const MAX_DURATION_S = 30 * 24 * 3600
/** 2^63 - 1: the largest 64-bit value the fixed64 wire fields carry (see market.proto) */
export const MAX_U64 = (1n << 63n) - 1n
