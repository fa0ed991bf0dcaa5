import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchboardClient, SwitchboardError, type TaskEvent } from '../../client/sdk/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import {
  codeDrivenScript,
  type ScriptedExtension,
  scriptedExtension,
} from '../helpers/scripted-extension.js';

const _sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A seq list with no gap and no repeat, starting right after `after`. */
function expectContiguous(events: TaskEvent[], after = 0): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => after + i + 1));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('SwitchboardClient against a real hub', () => {
  let hub: TestHub;
  let ext: ScriptedExtension;
  const clients: SwitchboardClient[] = [];
  const client = (token = hub.tokens.admin, url = hub.url) => {
    const c = new SwitchboardClient({
      url,
      token,
      requestTimeoutMs: 5_000,
      socket: { reconnectionDelay: 50 },
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    hub = await startTestHub();
    ext = await scriptedExtension(
      hub.url,
      hub.tokens.extension,
      { name: 'sdk-ext', labels: ['sdk'], concurrency: 4 },
      codeDrivenScript,
    );
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    ext?.close();
    await hub?.close();
  });

  it('submits over HTTP, follows the whole stream in seq order and waits for the result', async () => {
    const sb = client();
    const task = await sb.submit({ code: "print('hello')", target: { label: 'sdk' } });
    expect(sb.connected).toBe(false);
    expect(task.status).toBe('queued');

    const seen: TaskEvent[] = [];
    const events: TaskEvent[] = [];
    for await (const event of sb.follow(task.id, { onEvent: (e) => seen.push(e) })) events.push(event);

    expectContiguous(events);
    expect(seen).toEqual(events);
    expect(events[0]).toMatchObject({ type: 'status', data: { status: 'queued' } });
    const statuses = events.flatMap((e) => (e.type === 'status' ? [e.data.status] : []));
    expect(statuses).toEqual(['queued', 'dispatched', 'running', 'succeeded']);
    expect(events.find((e) => e.type === 'output')?.data).toEqual({
      stream: 'stdout',
      text: "ran: print('hello')\n",
    });
    expect(events.some((e) => e.type === 'done')).toBe(true);

    const done = await sb.waitFor(task.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      result: { echo: "print('hello')" },
      extensionId: ext.extensionId,
    });
    expect(done.lastSeq).toBe(events.at(-1)?.seq);
  });

  it('uses the socket once connected: submit, get, list, extensions', async () => {
    const sb = client();
    await sb.connect();
    expect(sb.connected).toBe(true);
    const task = await sb.submit({ code: 'x = 1' });
    const done = await sb.waitFor(task.id);
    expect(done.status).toBe('succeeded');
    expect((await sb.get(task.id)).id).toBe(task.id);
    const page = await sb.list({ status: 'succeeded', limit: 50 });
    expect(page.tasks.map((t) => t.id)).toContain(task.id);
    const extensions = await sb.extensions();
    expect(extensions.find((e) => e.id === ext.extensionId)).toMatchObject({ name: 'sdk-ext', online: true });
    // The same answers over HTTP.
    expect((await sb.http.get(task.id)).status).toBe('succeeded');
    expect((await sb.http.extensions()).map((e) => e.id)).toContain(ext.extensionId);
  });

  it('resumes after the socket drops mid-stream with no gap and no duplicate', async () => {
    const sb = client();
    await sb.connect();
    const socket = sb.socket!;
    const firstId = socket.id;
    let connects = 0;
    socket.on('connect', () => connects++);
    const task = await sb.submit({ code: 'emit(40)' });

    const events: TaskEvent[] = [];
    let dropped = false;
    for await (const event of sb.follow(task.id)) {
      events.push(event);
      const outputs = events.filter((e) => e.type === 'output').length;
      if (!dropped && outputs === 5) {
        dropped = true;
        socket.io.engine.close(); // transport loss: Socket.IO redials, the stream must resubscribe by seq
      }
    }

    expect(dropped).toBe(true);
    expect(connects).toBeGreaterThanOrEqual(1);
    expect(socket.id).toBeDefined();
    expect(socket.id).not.toBe(firstId);
    expectContiguous(events);
    const texts = events.flatMap((e) => (e.type === 'output' ? [e.data.text] : []));
    expect(texts).toEqual(Array.from({ length: 40 }, (_, i) => `chunk ${i}\n`));
    expect(events.at(-1)).toMatchObject({ type: 'status', data: { status: 'succeeded' } });
  });

  it('comes back and resumes when the hub drops the socket on purpose (slow-reader eviction)', async () => {
    const sb = client();
    await sb.connect();
    const task = await sb.submit({ code: 'emit(30)' });
    const events: TaskEvent[] = [];
    let evicted = false;
    for await (const event of sb.follow(task.id)) {
      events.push(event);
      if (!evicted && events.filter((e) => e.type === 'output').length === 3) {
        evicted = true;
        // What the hub's slow-consumer sweep does: a server-side disconnect, which Socket.IO never redials.
        hub.hub.io.of('/monitor').sockets.get(sb.socket!.id!)?.disconnect(true);
      }
    }
    expect(evicted).toBe(true);
    expectContiguous(events);
    expect(events.filter((e) => e.type === 'output')).toHaveLength(30);
    expect(events.at(-1)).toMatchObject({ type: 'status', data: { status: 'succeeded' } });
  });

  it('follows from afterSeq, and a finished stream followed from its end yields nothing', async () => {
    const sb = client();
    const task = await sb.submit({ code: 'emit(3)' });
    const done = await sb.waitFor(task.id);

    const tail: TaskEvent[] = [];
    for await (const event of sb.follow(task.id, { afterSeq: 3 })) tail.push(event);
    expectContiguous(tail, 3);
    expect(tail.at(-1)?.seq).toBe(done.lastSeq);

    const none: TaskEvent[] = [];
    for await (const event of sb.follow(task.id, { afterSeq: done.lastSeq })) none.push(event);
    expect(none).toEqual([]);
  });

  it('reports failed and cancelled outcomes', async () => {
    const sb = client();
    const failed = await sb.waitFor((await sb.submit({ code: 'fail()' })).id);
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toContain('ValueError: boom');

    const hanging = await sb.submit({ code: 'hang()' });
    const running = sb.follow(hanging.id);
    for await (const event of running) {
      if (event.type === 'status' && event.data.status === 'running') break;
    }
    // A wait given up on rejects with the signal's reason instead of returning an unfinished task.
    await expect(sb.waitFor(hanging.id, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    await sb.cancel(hanging.id);
    const cancelled = await sb.waitFor(hanging.id);
    expect(cancelled.status).toBe('cancelled');
  });

  it('turns hub refusals into SwitchboardError with code, status and field', async () => {
    const sb = client();
    const notFound = await sb.get('no-such-task').catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(SwitchboardError);
    expect(notFound).toMatchObject({ code: 'not_found', status: 404 });

    const denied = await sb
      .submit({ code: 'import subprocess\nsubprocess.run(["ls"])' })
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: 'policy_denied', status: 422, field: 'code' });

    const forbidden = await client(hub.tokens.viewer)
      .submit({ code: 'x = 1' })
      .catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ code: 'forbidden', status: 403 });

    await sb.connect();
    const overSocket = await sb.get('no-such-task').catch((e: unknown) => e);
    expect(overSocket).toMatchObject({ code: 'not_found', status: undefined });
    const bad = await sb.submit({ code: '' }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'bad_request', field: 'code' });

    const stream = sb.follow('no-such-task');
    await expect(stream.next()).rejects.toMatchObject({ code: 'not_found' });
  });

  it('close() ends open streams with client_closed after what they already received', async () => {
    const sb = client();
    const task = await sb.submit({ code: 'hang()' });
    const stream = sb.follow(task.id);
    const first = await stream.next();
    expect(first.value).toMatchObject({ seq: 1, type: 'status' });
    await sb.close();
    const rest: TaskEvent[] = [];
    await expect(
      (async () => {
        for await (const e of stream) rest.push(e);
      })(),
    ).rejects.toMatchObject({ code: 'client_closed' });
    expectContiguous(rest, 1);
    await client().cancel(task.id);
  });

  it('reports a refused token and an unreachable hub', async () => {
    const wrong = client('sb_not_a_real_token_at_all');
    await expect(wrong.connect()).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(wrong.list()).rejects.toMatchObject({ code: 'unauthorized', status: 401 });

    const gone = client(hub.tokens.admin, `http://127.0.0.1:${await closedPort()}`);
    await expect(gone.list()).rejects.toMatchObject({ code: 'hub_unreachable' });
    await expect(gone.connect()).rejects.toMatchObject({ code: 'hub_unreachable' });
    await expect(gone.follow('any').next()).rejects.toBeInstanceOf(SwitchboardError);
  });
});

describe('SDK workflows', () => {
  it('lists workflows and starts one, then follows its tokens to the end', async () => {
    const hub = await startTestHub();
    const client = new SwitchboardClient({ url: hub.url, token: hub.tokens.operator });
    try {
      const names = (await client.workflows()).map((w) => w.name);
      expect(names).toEqual(expect.arrayContaining(['agent_chat', 'omniverse_agent']));
      const task = await client.startWorkflow({ workflow: 'agent_chat', message: 'hello sdk' });
      expect(task.kind).toBe('workflow');
      let text = '';
      for await (const e of client.follow(task.id)) if (e.type === 'token') text += e.data.text;
      expect(text).toContain('hello sdk');
      expect((await client.get(task.id)).status).toBe('succeeded');
      const bad = await client
        .startWorkflow({ workflow: 'no_such_flow', message: 'x' })
        .catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(SwitchboardError);
      expect((bad as SwitchboardError).code).toBe('not_found');
    } finally {
      await client.close();
      await hub.close();
    }
  });
});
