export { encodeMetering, decodeMetering, MeteringCodecError, MAX_METERING_FRAME, type MeteringMessage, type MeteringCodecErrorCode } from './codec.js'
export {
  supplierMeteringHooks, renterMeteringHook,
  type SupplierMeteringControl, type SupplierMeteringHooks, type SupplierMeteringOptions, type RenterMeteringOptions
} from './session.js'
