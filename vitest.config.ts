import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // raw-socket segfaults inside worker threads: every test file runs in its own process.
    pool: 'forks',
    include: ['src/**/*.test.ts', 'grammar/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // namespace and VM tests share host state (bridges, the VM's CPU): keep files serial
    // where they declare it; unit files run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
    // the JSON results feed tools/skip-guard.mjs (a whole suite skipped fails CI)
    reporters: ['default', 'json'],
    outputFile: { json: '.cache/vitest-results.json' },
  },
});
