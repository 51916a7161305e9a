import { describe, expect, it } from 'vitest'
import { InventoryError, loadInventory, normaliseGpuModel, parseNvidiaSmi } from '../../../src/jobs/index.js'
import type { NvidiaSmiRunner } from '../../../src/jobs/index.js'
import { MAX_CLASS_LENGTH } from '../../../src/jobs/inventory/normalise.js'
import { MAX_MODEL_LENGTH, MODEL_PATTERN } from '../../../src/market/validation/constants.js'

describe('normaliseGpuModel', () => {
  // names as nvidia-smi prints them, with the memory.total (MiB) those boards report
  it.each([
    ['NVIDIA H100 80GB HBM3', 81559, 'h100-80gb'],
    ['NVIDIA H100 PCIe', 81559, 'h100-80gb'],
    ['NVIDIA H100 NVL', 95830, 'h100-nvl-94gb'],
    ['NVIDIA H200', 143771, 'h200-141gb'],
    ['NVIDIA GH200 480GB', 97871, 'gh200-96gb'],
    ['NVIDIA A100-SXM4-40GB', 40960, 'a100-40gb'],
    ['NVIDIA A100-SXM4-80GB', 81920, 'a100-80gb'],
    ['NVIDIA A100 80GB PCIe', 81920, 'a100-80gb'],
    ['NVIDIA A10G', 23028, 'a10g-24gb'],
    ['NVIDIA L4', 23034, 'l4-24gb'],
    ['NVIDIA L40S', 46068, 'l40s-48gb'],
    ['NVIDIA GeForce RTX 4090', 24564, 'rtx-4090-24gb'],
    ['NVIDIA GeForce RTX 3090', 24576, 'rtx-3090-24gb'],
    ['NVIDIA RTX A6000', 49140, 'rtx-a6000-48gb'],
    ['NVIDIA RTX 6000 Ada Generation', 49140, 'rtx-6000-ada-48gb'],
    ['Quadro RTX 8000', 46080, 'rtx-8000-48gb'],
    ['Tesla T4', 15360, 't4-16gb'],
    ['Tesla V100-SXM2-16GB', 16160, 'v100-16gb'],
    ['Tesla V100-SXM2-32GB', 32510, 'v100-32gb'],
    ['NVIDIA B200', 183359, 'b200-180gb'],
    // already a class: unchanged (config files may use classes)
    ['h100-80gb', 81559, 'h100-80gb'],
    ['RTX-4090-24GB', 24564, 'rtx-4090-24gb']
  ])('%s (%i MiB) → %s', (name, mib, expected) => {
    expect(normaliseGpuModel(name, mib)).toBe(expected)
  })

  it('fits a class to what an offer carries (48 characters), keeping its size and whole tokens where it can', () => {
    expect(MAX_CLASS_LENGTH).toBe(MAX_MODEL_LENGTH)
    const long = normaliseGpuModel(`NVIDIA ${'Alpha Beta Gamma Delta '.repeat(4)}X`, 81559)
    expect(long).toBe('alpha-beta-gamma-delta-alpha-beta-gamma-80gb')
    // one token longer than the room: cut
    const one = normaliseGpuModel('A'.repeat(120), 81559)
    expect(one).toBe(`${'a'.repeat(43)}-80gb`)
    expect(normaliseGpuModel(`${'b'.repeat(60)}-80gb`, 1)).toBe(`${'b'.repeat(43)}-80gb`)
    for (const m of [long, one]) expect(m).toMatch(MODEL_PATTERN)
  })
})

const H100_LINE = '0, GPU-6f9a3b2c-1d4e-5f60-7a8b-9c0d1e2f3a4b, NVIDIA H100 80GB HBM3, 81559, 3, 0'

describe('parseNvidiaSmi', () => {
  it('parses several GPUs, [N/A] columns and commas in names', () => {
    const out = [
      H100_LINE,
      '1, GPU-11111111-2222-3333-4444-555555555555, NVIDIA H100 80GB HBM3, 81559, [N/A], [Not Supported]',
      '2, GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee, Some, Odd, Name, 1024, 10, 5',
      ''
    ].join('\n')
    expect(parseNvidiaSmi(out)).toEqual([
      { index: 0, uuid: 'GPU-6f9a3b2c-1d4e-5f60-7a8b-9c0d1e2f3a4b', name: 'NVIDIA H100 80GB HBM3', memoryTotalMib: 81559, memoryUsedMib: 3, utilizationPct: 0 },
      { index: 1, uuid: 'GPU-11111111-2222-3333-4444-555555555555', name: 'NVIDIA H100 80GB HBM3', memoryTotalMib: 81559 },
      { index: 2, uuid: 'GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', name: 'Some, Odd, Name', memoryTotalMib: 1024, memoryUsedMib: 10, utilizationPct: 5 }
    ])
  })

  it('reads Windows line endings and an empty output', () => {
    expect(parseNvidiaSmi(`${H100_LINE}\r\n`)).toHaveLength(1)
    expect(parseNvidiaSmi('')).toEqual([])
  })

  it.each([
    ['an error message', 'NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.'],
    ['too few columns', '0, GPU-6f9a3b2c-1d4e-5f60-7a8b-9c0d1e2f3a4b, NVIDIA H100'],
    ['a bad index', 'x, GPU-6f9a3b2c-1d4e-5f60-7a8b-9c0d1e2f3a4b, NVIDIA H100 80GB HBM3, 81559, 0, 0'],
    ['a bad uuid', '0, not-a-uuid, NVIDIA H100 80GB HBM3, 81559, 0, 0'],
    ['units left in', '0, GPU-6f9a3b2c-1d4e-5f60-7a8b-9c0d1e2f3a4b, NVIDIA H100 80GB HBM3, 81559 MiB, 0 MiB, 0 %'],
    ['a missing total', '0, GPU-6f9a3b2c-1d4e-5f60-7a8b-9c0d1e2f3a4b, NVIDIA H100 80GB HBM3, [N/A], 0, 0'],
    ['zero memory', '0, GPU-6f9a3b2c-1d4e-5f60-7a8b-9c0d1e2f3a4b, NVIDIA H100 80GB HBM3, 0, 0, 0'],
    ['a huge number', '0, GPU-6f9a3b2c-1d4e-5f60-7a8b-9c0d1e2f3a4b, NVIDIA H100 80GB HBM3, 99999999999999, 0, 0'],
    ['a duplicate index', `${H100_LINE}\n${H100_LINE}`],
    ['control characters in the name', '0, GPU-6f9a3b2c-1d4e-5f60-7a8b-9c0d1e2f3a4b, NVIDIA\u0007H100, 81559, 0, 0'],
    ['too many lines', Array.from({ length: 300 }, (_, i) => H100_LINE.replace(/^0/, String(i))).join('\n')],
    ['too much output', 'x'.repeat(70 * 1024)]
  ])('rejects %s with NVIDIA_SMI_INVALID_OUTPUT', (_what, out) => {
    expect(() => parseNvidiaSmi(out)).toThrow(expect.objectContaining({ code: 'NVIDIA_SMI_INVALID_OUTPUT' }))
  })
})

const smi = (stdout: string, exitCode = 0): NvidiaSmiRunner => async () => ({ absent: false, exitCode, stdout })
const absent: NvidiaSmiRunner = async () => ({ absent: true })
const FOUR = [0, 1, 2, 3].map((i) => `${i}, GPU-${i}0000000-0000-0000-0000-00000000000${i}, NVIDIA H100 80GB HBM3, 81559, 0, 0`).join('\n') +
  '\n4, GPU-40000000-0000-0000-0000-000000000004, NVIDIA GeForce RTX 4090, 24564, 0, 0\n'

describe('loadInventory', () => {
  it('uses nvidia-smi when present and groups GPUs by class', async () => {
    const inv = await loadInventory({ runNvidiaSmi: smi(FOUR) })
    expect(inv.source).toBe('nvidia-smi')
    expect(inv.devices.map((d) => d.index)).toEqual([0, 1, 2, 3, 4])
    expect(inv.classes).toEqual([{ model: 'h100-80gb', memoryMib: 81559, count: 4 }, { model: 'rtx-4090-24gb', memoryMib: 24564, count: 1 }])
  })

  it('restricts by index or uuid, prices and caps by config class', async () => {
    const inv = await loadInventory({
      runNvidiaSmi: smi(FOUR),
      config: {
        restrict: [0, 'GPU-20000000-0000-0000-0000-000000000002', 3, 4],
        gpus: [{ model: 'NVIDIA H100 80GB HBM3', memoryMib: 81559, count: 2, pricePerGpuHour: 2_000_000_000n }]
      }
    })
    expect(inv.devices.map((d) => d.index)).toEqual([0, 2, 4])
    expect(inv.classes).toEqual([
      { model: 'h100-80gb', memoryMib: 81559, count: 2, pricePerGpuHour: 2_000_000_000n },
      { model: 'rtx-4090-24gb', memoryMib: 24564, count: 1 }
    ])
  })

  it('falls back to config when nvidia-smi is absent or fails', async () => {
    const config = { gpus: [{ model: 'a100-40gb', memoryMib: 40960, count: 2, pricePerGpuHour: 5n }] }
    for (const runNvidiaSmi of [absent, smi('NVIDIA-SMI has failed', 9), smi('')]) {
      const inv = await loadInventory({ runNvidiaSmi, config })
      expect(inv.source).toBe('config')
      expect(inv.devices.map((d) => [d.index, d.model])).toEqual([[0, 'a100-40gb'], [1, 'a100-40gb']])
      expect(inv.classes).toEqual([{ model: 'a100-40gb', memoryMib: 40960, count: 2, pricePerGpuHour: 5n }])
    }
  })

  it.each([
    ['no nvidia-smi, no config', absent, {}, 'NO_GPUS'],
    ['nvidia-smi lists none, no config', smi(''), {}, 'NO_GPUS'],
    ['every GPU restricted away', smi(FOUR), { restrict: [9] }, 'NO_GPUS'],
    ['nvidia-smi fails, no config', smi('', 9), {}, 'NVIDIA_SMI_FAILED'],
    ['nvidia-smi prints garbage', smi('<html>'), { gpus: [{ model: 'a100-40gb', memoryMib: 40960, count: 1 }] }, 'NVIDIA_SMI_INVALID_OUTPUT'],
    ['a config count of 0', absent, { gpus: [{ model: 'a100-40gb', memoryMib: 40960, count: 0 }] }, 'INVALID_CONFIG'],
    ['a config without memory', absent, { gpus: [{ model: 'a100-40gb', memoryMib: -1, count: 1 }] }, 'INVALID_CONFIG'],
    ['a negative price', absent, { gpus: [{ model: 'a100-40gb', memoryMib: 40960, count: 1, pricePerGpuHour: -1n }] }, 'INVALID_CONFIG'],
    ['a bad restriction', smi(FOUR), { restrict: [-1] }, 'INVALID_CONFIG']
  ])('%s → %s', async (_what, runNvidiaSmi, config, code) => {
    const err = await loadInventory({ runNvidiaSmi, config: config as never }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InventoryError)
    expect((err as InventoryError).code).toBe(code)
  })
})

describe('loadInventory with the real nvidia-smi runner', () => {
  it('lists this host\'s GPUs, or says NO_GPUS where there is no nvidia-smi and no config', async () => {
    const { systemNvidiaSmi } = await import('../../../src/jobs/index.js')
    const smiResult = await systemNvidiaSmi(['--version'], {}).catch((e: unknown) => e)
    const present = !(smiResult as { absent?: boolean }).absent
    const got = await loadInventory().catch((e: unknown) => e)
    if (present) {
      // a GPU host: either GPUs or a typed error (driver not loaded), never an empty offer
      if (got instanceof InventoryError) expect(['NO_GPUS', 'NVIDIA_SMI_FAILED']).toContain(got.code)
      else expect((got as { devices: unknown[] }).devices.length).toBeGreaterThan(0)
    } else {
      expect(got).toBeInstanceOf(InventoryError)
      expect((got as InventoryError).code).toBe('NO_GPUS')
      const fromConfig = await loadInventory({ config: { gpus: [{ model: 'NVIDIA GeForce RTX 4090', memoryMib: 24564, count: 1 }] } })
      expect(fromConfig.classes).toEqual([{ model: 'rtx-4090-24gb', memoryMib: 24564, count: 1 }])
    }
  })
})
