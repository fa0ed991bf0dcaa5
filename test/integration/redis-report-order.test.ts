import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowReport } from '../../server/protocol/flowgram.js';
import { http } from '../helpers/clients.js';
import * as fg from '../helpers/flowgram-schemas.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';

/**
 * Commits that take long (Redis busy, far away): a FlowGram task's end and its last node snapshots are still
 * on their way to Redis while reports are read. Redis is made slow for real: the http node's server pauses
 * Redis writes (`CLIENT PAUSE ... WRITE`) as it answers, so everything the run records after it waits.
 */
describe('a report read while the end of a run is being committed to Redis', () => {
  let redis: RedisServer;
  let raw: Redis;
  let hub: TestHub;
  let api: Server;
  let apiHost = '';
  /** Resolved once the test knows the task id: the pause must not hold up the run's own reply. */
  let idKnown: () => void = () => {};
  let other: Promise<unknown> = Promise.resolve();
  const known = new Promise<void>((r) => {
    idKnown = r;
  });

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    hub = await startTestHub({ redisUrl: redis.url, redisPrefix: 'order:' });
    api = createServer(async (_req, res) => {
      await known;
      await raw.call('CLIENT', 'PAUSE', '500', 'WRITE');
      // Other work on the hub (a task submitted) puts a commit in flight, stuck in the pause, before the
      // http node's answer arrives: everything the run records after it waits behind that commit.
      other = http(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'print(1)' });
      await new Promise((r) => setTimeout(r, 50));
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('fine');
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiHost = `127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await hub?.close();
    await new Promise((r) => api?.close(r));
    await raw?.quit();
    await redis?.stop();
  });

  it('never says terminated before every node snapshot it ran is in it', async () => {
    const schema = fg.single(fg.http('http_0', `http://${apiHost}/x`), 'body');
    const run = await http<{ taskID: string }>(hub.url, hub.tokens.operator, 'POST', '/api/task/run', {
      schema: JSON.stringify(schema),
      inputs: {},
    });
    expect(run.status).toBe(200);
    const read = async () =>
      (
        await http<FlowReport>(
          hub.url,
          hub.tokens.operator,
          'GET',
          `/api/task/report?taskID=${run.body.taskID}`,
        )
      ).body;
    // Reads started every few ms, not one after another: some start while the run's end waits on Redis.
    const reads: Array<Promise<FlowReport>> = [];
    let last: FlowReport | undefined;
    const end = Date.now() + 20_000;
    reads.push(read());
    idKnown();
    while (!last && Date.now() < end) {
      const r = read();
      reads.push(r);
      void r.then((body) => {
        if (body.workflowStatus.terminated) last = body;
      });
      await new Promise((r) => setTimeout(r, 10));
    }
    const all = await Promise.all(reads);
    await other;
    if (!last) throw new Error('the run did not end');
    // Every report that says the run ended has every node's snapshot, ended.
    for (const r of all.filter((r) => r.workflowStatus.terminated)) {
      expect(Object.keys(r.reports).sort()).toEqual(['end_0', 'http_0', 'start_0']);
      for (const node of Object.values(r.reports)) expect(node.terminated).toBe(true);
    }
    expect(last.workflowStatus).toMatchObject({ status: 'succeeded', terminated: true });
    expect(Object.keys(last.reports).sort()).toEqual(['end_0', 'http_0', 'start_0']);
    for (const node of Object.values(last.reports)) expect(node.terminated).toBe(true);
    expect(last.reports['http_0']?.snapshots[0]?.outputs).toMatchObject({ statusCode: 200, body: 'fine' });
    expect(last.outputs).toEqual({ out: 'fine' });
    // Reads went on while the http node ran, not only after it all landed.
    expect(all.some((r) => !r.workflowStatus.terminated && r.reports['http_0'])).toBe(true);
  }, 60_000);
});
