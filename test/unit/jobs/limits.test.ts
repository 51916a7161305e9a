import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { prlimitArgs, readHardLimits, withinHardLimits } from '../../../src/jobs/runtime/process.js'
import { jobLimits } from '../../../src/node/services/supplier.js'

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max file size             unlimited            unlimited            bytes
Max processes             96362                96362                processes
Max open files            1024                 20000                files
Max address space         unlimited            unlimited            bytes
`

describe('job limits within the supplier\'s own', () => {
  it('reads the hard limits of /proc/self/limits, unlimited as none', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bazaar-limits-'))
    try {
      await writeFile(path.join(dir, 'limits'), LIMITS)
      expect(await readHardLimits(path.join(dir, 'limits'))).toEqual({ processes: 96362, openFiles: 20000 })
      // a system without the file: no bound known, the config's limits stand
      expect(await readHardLimits(path.join(dir, 'absent'))).toEqual({})
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('lowers a limit to the supplier\'s hard limit (prlimit could not raise it, and the job would not start), and leaves the others', () => {
    const hard = { processes: 96362, openFiles: 20000 }
    expect(withinHardLimits({ openFiles: 65536, processes: 4096, fileSizeBytes: 1 << 20 }, hard)).toEqual({ openFiles: 20000, processes: 4096, fileSizeBytes: 1 << 20 })
    expect(withinHardLimits({ openFiles: 64 }, hard)).toEqual({ openFiles: 64 })
  })

  it('maps the jobs config to prlimit\'s options, 0 leaving a limit off', () => {
    expect(prlimitArgs(jobLimits({ processes: 4096, openFiles: 65536, fileMib: 2 }))).toEqual(['--core=0', '--nofile=65536', '--nproc=4096', '--fsize=2097152'])
    expect(prlimitArgs(jobLimits({ processes: 0, openFiles: 64, fileMib: 0 }))).toEqual(['--core=0', '--nofile=64'])
  })
})
