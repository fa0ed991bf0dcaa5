import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    pool: 'forks',
    // isolated-vm (the code-node sandbox) needs V8's startup snapshot off on Node 20+, or isolates can crash.
    poolOptions: { forks: { execArgv: ['--no-node-snapshot'] } },
    // Two cores: two files at a time keeps real hubs, Python hosts and Chromium from starving each other.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
