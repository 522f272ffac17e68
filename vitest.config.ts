import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Integration files share one Docker engine and bring whole stacks up: one file at a time
    // keeps them from competing for the 2 cores and makes failures readable.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 240_000,
    // Lists skipped tests after every run; under CI a skipped test fails the run.
    reporters: ['default', './test/helpers/no-skips-reporter.ts'],
  },
});
