import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Integration files the `redis` project leaves out: they test the SQLite driver itself (its file on disk,
 * its one-transaction commit), touch no task store at all, or start their own redis-server (so one run
 * covers them).
 */
const SQLITE_ONLY = [
  'test/integration/sqlite-store.test.ts',
  'test/integration/group-commit.test.ts',
  'test/integration/kit-bridge-unit.test.ts',
  // Clusters start their own redis-server and hub processes: one project runs them.
  'test/integration/cluster-rooms.test.ts',
  'test/integration/failover-sdk.test.ts',
  'test/integration/failover-hosts.test.ts',
  'test/integration/cluster-*.test.ts',
];

/**
 * Known defects of the Redis driver, left out of the `redis` project until fixed (each runs in `sqlite`):
 * byte-bounds: the hub's RSS peaks at 170-230 MB (bound 150) while 120 MB of output waits on Redis commits;
 * flowgram-http: a report read right after the run ended can miss the http node's snapshot under load.
 */
const REDIS_KNOWN_DEFECTS = [
  'test/integration/byte-bounds.test.ts',
  'test/integration/flowgram-http.test.ts',
];

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    pool: 'forks',
    // isolated-vm (the code-node sandbox) needs V8's startup snapshot off on Node 20+, or isolates can crash.
    poolOptions: { forks: { execArgv: ['--no-node-snapshot'] } },
    // Two cores: two files at a time keeps real hubs, Python hosts and Chromium from starving each other.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.ts'],
          exclude: [
            'test/bench/**',
            'node_modules/**',
            'test/integration/redis-*.test.ts',
            'test/integration/cluster.test.ts',
          ],
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        // The same integration suite with every hub's task store in a real redis-server (SWITCHBOARD_REDIS_URL).
        extends: true,
        test: {
          name: 'redis',
          include: ['test/integration/**/*.test.ts'],
          exclude: ['node_modules/**', ...SQLITE_ONLY, ...REDIS_KNOWN_DEFECTS],
          setupFiles: ['test/helpers/redis-setup.ts'],
        },
      },
    ],
  },
});
