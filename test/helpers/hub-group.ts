import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { HubConfig } from '../../server/config.js';
import { startTestHub, type TestHub } from './hub.js';

/**
 * Hubs of one scaled-out deployment, in this process: each its own data dir, all on one Redis and one key
 * prefix, with the same tokens (as processes configured from one environment are).
 */
export async function startHubGroup(
  n: number,
  redisUrl: string,
  config: Partial<HubConfig> = {},
): Promise<TestHub[]> {
  const t = () => `sb_${randomBytes(18).toString('base64url')}`;
  const shared: Partial<HubConfig> = {
    redisUrl,
    redisPrefix: `sb:group-${randomBytes(4).toString('hex')}:`,
    adminToken: t(),
    operatorToken: t(),
    viewerToken: t(),
    extensionToken: t(),
    ...config,
  };
  const hubs: TestHub[] = [];
  try {
    for (let i = 0; i < n; i++) hubs.push(await startTestHub(shared));
  } catch (err) {
    await Promise.allSettled(hubs.map((h) => h.close()));
    throw err;
  }
  return hubs;
}

/** A URL on which nothing listens (the port was free a moment ago): a hub that is down. */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}
