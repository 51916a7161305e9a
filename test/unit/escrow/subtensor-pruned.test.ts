import { describe, expect, it } from 'vitest'
import { isStatePruned, SubtensorError } from '../../../src/escrow/chain/subtensor/errors.js'

describe('a node\'s answer that it pruned the state asked about', () => {
  it('is told from the texts Substrate nodes give, as polkadot/api reports them', () => {
    expect(isStatePruned(new Error('4003: Client error: UnknownBlock: State already discarded for 0x4ef068b61a80c76fd88d85dde6f3b2dd60eb29c431b63ebcc287c616d7b2534d'))).toBe(true)
    expect(isStatePruned(new Error('-32603: Unknown error occurred: Client error: UnknownBlock: State already discarded for 0xab'))).toBe(true)
    expect(isStatePruned(new Error('-32000: Api called for an unknown Block: State already discarded'))).toBe(true)
    expect(isStatePruned('State already discarded for 0xab')).toBe(true)
    expect(isStatePruned(new SubtensorError('STATE_PRUNED', 'no state at block #9'))).toBe(true)
  })

  it('and from any other failure', () => {
    expect(isStatePruned(new Error('4003: Client error: UnknownBlock: Header was not found in the database: 0xab'))).toBe(false)
    expect(isStatePruned(new Error('1010: Invalid Transaction: Inability to pay some fees'))).toBe(false)
    // a SubtensorError says what it is by its code, whatever its message quotes
    expect(isStatePruned(new SubtensorError('CHAIN_TIMEOUT', 'State already discarded? no answer in 30 s'))).toBe(false)
    expect(isStatePruned(undefined)).toBe(false)
    expect(isStatePruned({ message: 'State already discarded' })).toBe(false)
  })
})
