import { describe, expect, it } from 'vitest'
import { DAEMON_MALLOC_TUNABLES, daemonEnv } from '../../../src/node/daemon-heap.js'

describe('daemonEnv: the environment bin/bazaar.js re-executes a daemon with', () => {
  it('adds glibc\'s malloc tunables, and keeps everything else', () => {
    const env = daemonEnv({ PATH: '/usr/bin', BAZAAR_PASSPHRASE: 'x' })
    expect(env).toEqual({ PATH: '/usr/bin', BAZAAR_PASSPHRASE: 'x', GLIBC_TUNABLES: DAEMON_MALLOC_TUNABLES })
  })

  it('leaves the operator\'s own GLIBC_TUNABLES as they are', () => {
    expect(daemonEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=8' })).toEqual({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=8' })
    // an empty one is no setting
    expect(daemonEnv({ GLIBC_TUNABLES: '' }).GLIBC_TUNABLES).toBe(DAEMON_MALLOC_TUNABLES)
  })
})
