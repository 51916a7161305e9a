export { voucherBytes, VOUCHER_BYTES_LENGTH } from './bytes.js'
export { VoucherSigner, ed25519PublicKey } from './keys.js'
export { verifyVoucher } from './verify.js'
