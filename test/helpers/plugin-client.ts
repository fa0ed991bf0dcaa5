import { fileURLToPath } from 'node:url';
import { isTerminal, type Task, type TaskStatus } from '../../server/protocol/index.js';
import { openSse } from './sse-client.js';

/** The test plugins (flaky, everything), for `pluginsDirs`. */
export const TEST_PLUGINS_DIR = fileURLToPath(new URL('./plugins', import.meta.url));

export type Seed = Record<string, unknown>;

/** A plugin-service client as the seed's users write one: JSON over fetch, SSE read as `data:` lines. */
export function pluginClient(url: string, token: string) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return {
    /** POST /api/v1/tasks/execute, read to the end: the task id and every message. */
    async execute(body: Seed): Promise<{ status: number; taskId: string; messages: Seed[]; result: Seed }> {
      const stream = await openSse(`${url}/api/v1/tasks/execute`, {
        method: 'POST',
        token,
        body: JSON.stringify(body),
      });
      await stream.ended;
      const messages = stream.events.map((e) => e.data as Seed);
      return {
        status: stream.status,
        taskId: stream.headers.get('x-task-id') ?? '',
        messages,
        result: messages.at(-1) ?? {},
      };
    },
    /** POST /api/v1/tasks with a plugin-service body: the task id. */
    async create(body: Seed): Promise<string> {
      const res = await fetch(`${url}/api/v1/tasks`, { method: 'POST', headers, body: JSON.stringify(body) });
      const json = (await res.json()) as Seed;
      if (res.status !== 200) throw new Error(`create answered ${res.status}: ${JSON.stringify(json)}`);
      return json['task_id'] as string;
    },
    async task(id: string): Promise<Task & Seed> {
      const res = await fetch(`${url}/api/v1/tasks/${id}`, { headers });
      return (await res.json()) as Task & Seed;
    },
    /** Polls until the task reaches a status matching `until` (default: any terminal one). */
    async waitFor(
      id: string,
      until: (s: TaskStatus) => boolean = isTerminal,
      timeoutMs = 30_000,
    ): Promise<Task & Seed> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const t = await this.task(id);
        if (until(t.status)) return t;
        if (Date.now() > deadline) throw new Error(`task ${id} still ${t.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async plugins(): Promise<Seed[]> {
      return (await (await fetch(`${url}/api/v1/plugins`, { headers })).json()) as Seed[];
    },
    async cancel(id: string): Promise<Task> {
      const res = await fetch(`${url}/api/v1/tasks/${id}/cancel`, {
        method: 'POST',
        headers: { authorization: headers.authorization },
      });
      return (await res.json()) as Task;
    },
  };
}

/** Text a tool answered with (kept in the seed result's metadata). */
export function resultText(result: Seed): string {
  return ((result['metadata'] as Seed | undefined)?.['text'] as string | undefined) ?? '';
}
