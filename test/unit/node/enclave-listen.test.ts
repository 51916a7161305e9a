import { describe, expect, it } from 'vitest'
import { defaultConfig, enclaveListenAddrs, loadConfig } from '../../../src/node/config/index.js'
import { ConfigError } from '../../../src/node/config/errors.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

describe('tee.enclaveListen', () => {
  it('defaults to the IPs of listen with a free port, so the enclave is reachable where the node is', async () => {
    const base = await defaultConfig()
    expect(enclaveListenAddrs(base)).toEqual(['/ip4/0.0.0.0/tcp/0'])
    expect(enclaveListenAddrs({ ...base, listen: ['/ip4/127.0.0.1/tcp/4101', '/ip6/::1/tcp/4101', '/ip4/127.0.0.1/tcp/4102'] })).toEqual(['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/0'])
  })

  it('takes the configured list from the environment or a flag, validated like listen', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'bazaar-enclave-'))
    const fromEnv = await loadConfig({ home, env: { BAZAAR_ENCLAVE_LISTEN: '/ip4/0.0.0.0/tcp/4002' } })
    expect(enclaveListenAddrs(fromEnv)).toEqual(['/ip4/0.0.0.0/tcp/4002'])
    const fromFlag = await loadConfig({ home, env: {}, flags: { tee: { enclaveListen: ['/ip4/10.0.0.5/tcp/4002'] } } as never })
    expect(fromFlag.tee.enclaveListen).toEqual(['/ip4/10.0.0.5/tcp/4002'])
    const bad = await loadConfig({ home, env: { BAZAAR_ENCLAVE_LISTEN: '/ip4/0.0.0.0/udp/4002' } }).catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(ConfigError)
    expect((bad as ConfigError).field).toBe('tee.enclaveListen[0]')
    rmSync(home, { recursive: true, force: true })
  })
})
