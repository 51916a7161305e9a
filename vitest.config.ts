import { configDefaults, defineConfig } from 'vitest/config'

/**
 * The gossip scale test runs 30 nodes in three processes and needs both cores: it runs alone, after
 * every other file (a later `groupOrder`). Run beside other files, a starved event loop makes it
 * measure the machine, not the gossip.
 */
const SCALE = 'test/integration/gossip-scale.test.ts'

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Multi-node tests open many sockets; two cores run them best a few files at a time.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, SCALE], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'scale', include: [SCALE], sequence: { groupOrder: 1 } } }
    ]
  }
})
