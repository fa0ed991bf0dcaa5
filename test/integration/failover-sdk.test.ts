import { type AddressInfo, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchboardClient, type TaskEvent } from '../../client/sdk/index.js';
import { runCli } from '../helpers/cli.js';
import { until } from '../helpers/clients.js';
import type { TestHub } from '../helpers/hub.js';
import { deadUrl, startHubGroup } from '../helpers/hub-group.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';
import { gatedTask, type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';

const CHUNKS = 60;

/**
 * Clients given several hub URLs (processes of one hub on one Redis): they connect to the first that answers,
 * move on when theirs goes, and a followed task resumes from its last seq on the other process, read from the
 * shared store.
 */
describe('SDK and CLI over several hub processes', () => {
  let redis: RedisServer;
  let a: TestHub;
  let b: TestHub;
  let dead: string;
  let ext: ScriptedExtension;
  const clients: SwitchboardClient[] = [];
  const client = (url: string[]) => {
    const c = new SwitchboardClient({
      url,
      token: a.tokens.operator,
      requestTimeoutMs: 10_000,
      socket: { reconnectionDelay: 50, reconnectionDelayMax: 200 },
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    redis = await startRedis();
    // Small send budgets: a replay goes out 9 events a page, so a connection lost mid-replay really is.
    [a, b] = (await startHubGroup(2, redis.url, { subscriberQueueLimit: 20 })) as [TestHub, TestHub];
    dead = await deadUrl();
    ext = await scriptedExtension(a.url, a.tokens.extension, { name: 'failover-ext' }, async (api) => {
      await api.started();
      for (let i = 0; i < CHUNKS; i++) await api.output(`chunk ${i}\n`);
      await api.result({ status: 'succeeded', result: { chunks: CHUNKS } });
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    ext?.close();
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('skips a dead hub: the socket and HTTP (even a POST that never reached it) go to the next', async () => {
    const sb = client([dead, a.url, b.url]);
    const task = await sb.submit({ code: 'print(1)' });
    expect(task.status).toBe('queued');
    expect(sb.http.url).toBe(a.url);
    await sb.connect();
    expect(sb.url).toBe(a.url);
    expect((await sb.extensions()).map((e) => e.id)).toContain(ext.extensionId);
    const done = await sb.waitFor(task.id);
    expect(done.status).toBe('succeeded');
  });

  it('sends a POST that may have reached a hub nowhere else, but moves a GET on', async () => {
    // A "hub" that accepts the connection and drops it: the request may have been read.
    let connections = 0;
    const dropper = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
    const dropUrl = `http://127.0.0.1:${(dropper.address() as AddressInfo).port}`;
    try {
      const before = (await client([b.url]).list({ limit: 200 })).tasks.length;
      const sb = client([dropUrl, b.url]);
      const err = await sb.submit({ code: 'print("once")' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'hub_unreachable' });
      expect(String((err as Error).message)).toContain(dropUrl);
      expect((await client([b.url]).list({ limit: 200 })).tasks.length).toBe(before);
      expect(connections).toBeGreaterThan(0);
      const page = await sb.list();
      expect(page.tasks.length).toBe(before);
      expect(sb.http.url).toBe(b.url);
    } finally {
      dropper.close();
    }
  });

  it('reports hub_unreachable naming every hub when none answers', async () => {
    const other = await deadUrl();
    const sb = client([dead, other]);
    const err = await sb.list().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'hub_unreachable' });
    expect(String((err as Error).message)).toContain(dead);
    expect(String((err as Error).message)).toContain(other);
    await expect(sb.connect()).rejects.toMatchObject({ code: 'hub_unreachable' });
  });

  it('a running task followed across two moves between live hubs: no gap, no duplicate', async () => {
    const gated = await gatedTask(a, 'failover-gated');
    try {
      const sb = client([a.url, b.url]);
      await sb.connect();
      const seen: Array<{ event: TaskEvent; hub: string }> = [];
      const watching = (hub: TestHub) =>
        [...hub.hub.io.of('/monitor').sockets.values()].some((s) => s.rooms.has(`task:${gated.taskId}`));
      const drop = (hub: TestHub) =>
        hub.hub.io
          .of('/monitor')
          .sockets.get(sb.socket?.id ?? '')
          ?.conn.close();
      const stream = sb.follow(gated.taskId, {
        onEvent: (event) => {
          seen.push({ event, hub: sb.url });
          // The connection to hub A is lost (hub A stays up): the client moves on to hub B.
          if (event.type === 'output' && event.data.text === 'before\n') drop(a);
        },
      });
      const drained = (async () => {
        for await (const _ of stream) {
          // Drained: the stream ends after the terminal status event.
        }
      })();
      await until(() => sb.url === b.url && watching(b), 20_000, 'the stream to resubscribe on hub B');
      gated.release();
      await until(
        async () => (await a.hub.ctx.tasks.get(gated.taskId))?.status === 'succeeded',
        20_000,
        'the task to end on hub A',
      );
      // Hub B delivers hub A's live events once rooms span processes (c12-rooms); until then the stream is
      // completed by moving once more (back to hub A) and resuming from its last seq there.
      if (stream.isOpen) drop(b);
      await drained;
      const task = await sb.get(gated.taskId);
      expect(seen.map((x) => x.event.seq)).toEqual(Array.from({ length: task.lastSeq }, (_, i) => i + 1));
      const texts = seen.flatMap((x) => (x.event.type === 'output' ? [x.event.data.text] : []));
      expect(texts).toEqual(['before\n', 'after\n']);
      expect(seen.at(-1)?.event).toMatchObject({ type: 'status', data: { status: 'succeeded' } });
    } finally {
      gated.ext.close();
    }
  });

  it('resumes a stream on hub B from its last seq when hub A goes mid-replay: no gap, no duplicate', async () => {
    const sb = client([dead, a.url, b.url]);
    const task = await sb.submit({ code: 'print(2)' });
    const finished = await sb.waitFor(task.id);
    expect(finished.status).toBe('succeeded');
    await sb.connect();
    expect(sb.url).toBe(a.url);

    const seen: Array<{ event: TaskEvent; hub: string }> = [];
    let stopping: Promise<void> | undefined;
    let lostAt = 0;
    const stream = sb.follow(task.id, {
      onEvent: (event) => {
        seen.push({ event, hub: sb.url });
        if (stopping || event.seq < 12) return;
        lostAt = event.seq;
        // Hub A goes: its end of the socket closes now (no further page can be sent), then it shuts down.
        a.hub.io
          .of('/monitor')
          .sockets.get(sb.socket?.id ?? '')
          ?.conn.close();
        stopping = a.stop();
      },
    });
    for await (const _ of stream) {
      // Drained: the stream ends after the terminal status event.
    }
    await stopping;

    expect(lostAt).toBeGreaterThan(0);
    expect(seen.map((s) => s.event.seq)).toEqual(Array.from({ length: finished.lastSeq }, (_, i) => i + 1));
    const outputs = seen.flatMap((s) => (s.event.type === 'output' ? [s.event.data.text] : []));
    expect(outputs).toEqual(Array.from({ length: CHUNKS }, (_, i) => `chunk ${i}\n`));
    // Everything after the loss (and the page in flight) came from hub B, out of the shared store.
    const fromB = seen.filter((s) => s.hub === b.url);
    expect(fromB.length).toBeGreaterThan(0);
    expect(fromB.at(-1)?.event).toMatchObject({ type: 'status', data: { status: 'succeeded' } });
    expect(sb.url).toBe(b.url);
    expect(sb.connected).toBe(true);
    // HTTP moves on too: hub A refuses connections now.
    expect((await sb.http.get(task.id)).status).toBe('succeeded');
    expect(sb.http.url).toBe(b.url);
  });

  it('CLI: --hub and SWITCHBOARD_URL take a comma-separated list and skip a dead hub', async () => {
    // Hub A is stopped by now: the list leads with two hubs that refuse connections.
    const token = b.tokens.operator;
    const viaEnv = await runCli(['extensions', '--json'], {
      SWITCHBOARD_URL: `${dead},${a.url},${b.url}`,
      SWITCHBOARD_TOKEN: token,
    });
    expect(viaEnv.stderr).toBe('');
    expect(viaEnv.code).toBe(0);
    const task = await client([b.url]).submit({ code: 'print(3)' });
    const viaFlag = await runCli(['status', task.id, '--hub', `${a.url}, ${b.url}/`, '--token', token]);
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    expect(viaFlag.stdout).toContain(task.id);
    const bad = await runCli(['tasks', '--hub', `${b.url},ftp://x`, '--token', token]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("hub address 'ftp://x' must start with http:// or https://");
    const none = await runCli(['tasks', '--hub', `${dead},${a.url}`, '--token', token]);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain('none of the 2 hubs answered');
  });

  it.todo(
    'a running task whose events hub A appends after the client moved to hub B reaches it live (c12-rooms: cross-process delivery)',
  );
});
