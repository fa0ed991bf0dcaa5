import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buildHub, type Hub } from '../../server/app.js';
import type { TokenSet } from '../../server/auth/tokens.js';
import type { HubConfig } from '../../server/config.js';
import type { McpToolSource } from '../../server/mcp/index.js';

export interface TestHub {
  url: string;
  hub: Hub;
  tokens: TokenSet;
  dataDir: string;
  close(): Promise<void>;
  /** Closes the hub but keeps the data dir, for restart tests. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A real hub on port 0 with a fresh data dir (or the given one), silent logs unless SB_TEST_LOG is set. */
export async function startTestHub(
  config: Partial<HubConfig> = {},
  opts: { mcpTools?: readonly McpToolSource[] } = {},
): Promise<TestHub> {
  const dataDir = config.dataDir ?? mkdtempSync(join(tmpdir(), 'sb-test-'));
  // The `redis` test project: the store in Redis, one key space per data dir (a restart finds its tasks).
  const redisUrl = process.env['SWITCHBOARD_REDIS_URL'];
  const hub = await buildHub(
    {
      port: 0,
      host: '127.0.0.1',
      logLevel: (process.env['SB_TEST_LOG'] as HubConfig['logLevel'] | undefined) ?? 'silent',
      ...(redisUrl ? { redisUrl, redisPrefix: `sb:${basename(dataDir)}:` } : {}),
      ...config,
      dataDir,
    },
    opts,
  );
  const url = await hub.listen();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await hub.close();
  };
  const close = async () => {
    await stop();
    if (!config.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, hub, tokens: hub.ctx.auth.tokens, dataDir, close, stop, [Symbol.asyncDispose]: close };
}
