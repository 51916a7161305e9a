import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Multi-node tests open many sockets; two cores run them best a few files at a time.
    maxWorkers: 2,
    reporters: ['default']
  }
})
