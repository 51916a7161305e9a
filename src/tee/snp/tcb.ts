/**
 * SEV-SNP TCB_VERSION (SEV-SNP ABI spec, "TCB_VERSION Structure"): a 64-bit little-endian value of
 * per-component security patch levels. Milan and Genoa: byte 0 boot loader, 1 TEE, 6 SNP, 7 microcode.
 * Turin (family 1Ah) adds the FMC: byte 0 FMC, 1 boot loader, 2 TEE, 3 SNP, 7 microcode.
 */
export interface SnpTcb {
  fmc?: number
  bootloader: number
  tee: number
  snp: number
  microcode: number
}

export function decodeSnpTcb (raw: bigint, turin = false): SnpTcb {
  const b = (i: number): number => Number((raw >> BigInt(8 * i)) & 0xffn)
  if (turin) return { fmc: b(0), bootloader: b(1), tee: b(2), snp: b(3), microcode: b(7) }
  return { bootloader: b(0), tee: b(1), snp: b(6), microcode: b(7) }
}

/** True when every component of `have` is at least that of `min`. */
export function snpTcbAtLeast (have: SnpTcb, min: Partial<SnpTcb>): boolean {
  return (['fmc', 'bootloader', 'tee', 'snp', 'microcode'] as const)
    .every((k) => min[k] == null || (have[k] ?? 0) >= (min[k] ?? 0))
}
