export { encodeMetering, decodeMetering, MeteringCodecError, MAX_METERING_FRAME, type MeteringMessage, type MeteringCodecErrorCode } from './codec.js'
