import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtensionInfo, Task } from '../../server/protocol/index.js';
import { http, until } from '../helpers/clients.js';
import { type Cluster, type HubProcess, startCluster } from '../helpers/cluster.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';
import { type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';

// Two hub processes when their Redis is killed (-9) and started again, empty: they answer clear errors
// meanwhile, do not crash, and once it is back the cluster rebuilds its registry and dispatches again.
let redis: RedisServer;
let cluster: Cluster;
let ext: ScriptedExtension | undefined;

beforeAll(async () => {
  redis = await startRedis();
  cluster = await startCluster(2, redis.url);
}, 400_000);

afterAll(async () => {
  ext?.close();
  await cluster?.close();
  await redis?.stop();
}, 60_000);

const hub = (i: number): HubProcess => cluster.hubs[i] as HubProcess;

async function submitOn(on: HubProcess) {
  return http<Task & { error?: { code: string; message: string } }>(
    on.url,
    cluster.tokens.operator,
    'POST',
    '/api/v1/tasks',
    { code: 'print(1)', target: { label: 'r' } },
  );
}

async function succeeded(on: HubProcess, id: string) {
  return until(
    async () => {
      const t = (await http<Task>(on.url, cluster.tokens.viewer, 'GET', `/api/v1/tasks/${id}`)).body;
      return t.status === 'succeeded' && t;
    },
    30_000,
    `task ${id} to succeed`,
  );
}

const listedOn = async (on: HubProcess, id: string) =>
  until(
    async () =>
      (await http<ExtensionInfo[]>(on.url, cluster.tokens.viewer, 'GET', '/api/v1/extensions')).body.some(
        (x) => x.id === id,
      ),
    30_000,
    `extension ${id} listed on ${on.url}`,
  );

describe('cluster across a Redis crash', () => {
  it('refuses new work with store_unavailable while Redis is down, then dispatches across processes again', async () => {
    ext = await scriptedExtension(hub(0).url, cluster.tokens.extension, { name: 'kit-r', labels: ['r'] });
    await listedOn(hub(1), ext.extensionId);
    const before = await submitOn(hub(1));
    expect(before.status).toBe(201);
    await succeeded(hub(1), before.body.id);

    redis.kill();
    // A submission that reaches the hub before it notices the outage is accepted and held until its commit
    // lands (it is not refused after the fact): don't wait on it here, collect it and check it after the restart.
    const held: Array<ReturnType<typeof submitOn>> = [];
    const refused = await until(
      async () => {
        const attempt = submitOn(hub(1));
        held.push(attempt);
        const res = await Promise.race([attempt, new Promise<null>((r) => setTimeout(() => r(null), 2_000))]);
        return res !== null && res.status !== 201 && res;
      },
      30_000,
      'a refusal',
    );
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('store_unavailable');

    await redis.restart();
    // The restarted Redis is empty: each process writes its lease and its hosts again.
    await listedOn(hub(1), ext.extensionId);
    const after = await until(
      async () => {
        const res = await submitOn(hub(1));
        return res.status === 201 && res;
      },
      30_000,
      'a submission accepted again',
    );
    const done = await succeeded(hub(0), after.body.id);
    expect(done.extensionId).toBe(ext.extensionId);
    // Nothing accepted is lost: every submission answered 201 during the outage runs once Redis is back.
    for (const res of await Promise.all(held)) {
      expect([201, 503]).toContain(res.status);
      if (res.status === 201) await succeeded(hub(0), res.body.id);
      else expect(res.body.error?.code).toBe('store_unavailable');
    }
    for (const h of cluster.hubs) expect(h.proc.exitCode).toBeNull();
  }, 180_000);
});
