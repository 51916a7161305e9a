import { AttestationErrorCode, fail } from '../errors.js'
import { bytesEqual } from '../../util/bytes.js'
import { fromHex } from '../../util/hex.js'
import type { QeReport } from './parse.js'

/**
 * Identity of Intel's TD Quoting Enclave, as published by Intel PCS (`/tdx/certification/v4/qe/identity`,
 * id TD_QE; unchanged between the 2023 and 2025 issues in the fixtures). Only this enclave may certify
 * a TDX attestation key: a QE report from another enclave, even one signed by the platform's PCK,
 * proves nothing about the TD. The QE's ISVSVN is a TCB matter (collateral) and is not judged here.
 */
export const TD_QE_IDENTITY = {
  mrSigner: 'dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5',
  isvProdId: 2,
  miscSelect: 0x00000000,
  miscSelectMask: 0xffffffff,
  attributes: '11000000000000000000000000000000',
  attributesMask: 'fbffffffffffffff0000000000000000'
} as const

/** Throws QE_IDENTITY_INVALID unless the QE report comes from Intel's TD Quoting Enclave. */
export function checkTdQeIdentity (qe: QeReport): void {
  const id = TD_QE_IDENTITY
  if (!bytesEqual(qe.mrSigner, fromHex(id.mrSigner))) fail(AttestationErrorCode.QE_IDENTITY_INVALID, 'QE is not signed by Intel (MRSIGNER)')
  if (qe.isvProdId !== id.isvProdId) fail(AttestationErrorCode.QE_IDENTITY_INVALID, `QE ISVPRODID ${qe.isvProdId}, not the TD QE's ${id.isvProdId}`)
  if (((qe.miscSelect & id.miscSelectMask) >>> 0) !== id.miscSelect) fail(AttestationErrorCode.QE_IDENTITY_INVALID, 'QE MISCSELECT')
  const want = fromHex(id.attributes)
  const mask = fromHex(id.attributesMask)
  for (let i = 0; i < 16; i++) {
    if ((qe.attributes[i] & mask[i]) !== (want[i] & mask[i])) fail(AttestationErrorCode.QE_IDENTITY_INVALID, 'QE ATTRIBUTES')
  }
}
