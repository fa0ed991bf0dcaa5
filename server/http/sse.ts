import type { FastifyReply, FastifyRequest } from 'fastify';
import { isTerminal, type TaskEvent } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import { onClientGone } from './client-gone.js';

/** Default keep-alive period; routes pass the hub's SSE_KEEPALIVE_INTERVAL instead where they have it. */
export const KEEPALIVE_MS = 15_000;

function isEnd(e: TaskEvent): boolean {
  return e.type === 'status' && isTerminal(e.data.status);
}

/** Where to resume: `Last-Event-ID` (what a reconnecting EventSource sends) wins over `?afterSeq`. */
export function resumeSeq(req: FastifyRequest, afterSeq: number | undefined): number {
  const header = req.headers['last-event-id'];
  const n = typeof header === 'string' ? Number.parseInt(header, 10) : Number.NaN;
  return Number.isFinite(n) && n >= 0 ? n : (afterSeq ?? 0);
}

/** Takes the reply over as an SSE stream (no proxy buffering, no caching); extra headers are added as given. */
export function openSse(reply: FastifyReply, headers: Record<string, string> = {}): FastifyReply['raw'] {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...headers,
  });
  return res;
}

/**
 * Streams a task's events as SSE: replay after `afterSeq`, then live, ending after the terminal status event.
 * `format` lets compatibility APIs rename events; ids are always the task seq so Last-Event-ID resumes.
 */
export function streamTaskEvents(
  tasks: TaskService,
  taskId: string,
  afterSeq: number,
  reply: FastifyReply,
  format: (e: TaskEvent) => { event: string; data: unknown } | null = (e) => ({ event: e.type, data: e }),
  opts: { keepaliveMs?: number } = {},
): void {
  const res = openSse(reply);
  res.write(': stream open\n\n');
  let closed = false;
  const write = (e: TaskEvent) => {
    if (closed) return;
    const out = format(e);
    if (out) res.write(`id: ${e.seq}\nevent: ${out.event}\ndata: ${JSON.stringify(out.data)}\n\n`);
    if (isEnd(e)) finish();
  };
  const keepalive = setInterval(() => res.write(': keep-alive\n\n'), opts.keepaliveMs ?? KEEPALIVE_MS);
  let unsubscribe = () => {};
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    unsubscribe();
    res.end();
  };
  onClientGone(reply, finish);
  // Replay then live, once what the task did so far is on disk: nothing missed or sent twice (`follow`).
  tasks.afterCommit(() => {
    if (closed) return;
    tasks.follow(taskId, afterSeq, write).then(
      async (stop) => {
        unsubscribe = stop;
        if (closed) return stop();
        // Ended before afterSeq: no end event is coming. One still held for its commit (or, in a cluster, on
        // its way from another process) goes out first.
        const task = await tasks.get(taskId);
        tasks.afterTold(taskId, () => {
          if (task && isTerminal(task.status)) finish();
        });
      },
      () => finish(),
    );
  });
}
