import type { z } from 'zod';
import type { HostLog, HostLogEntry } from '../protocol/extension.js';
import { isTerminal } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import type { ExtensionRecord } from './registry.js';

/** Lines kept per extension; older ones are dropped (and counted), so a chatty host cannot grow the hub. */
export const HOST_LOG_LINES = 1000;
/** Extensions whose log is kept (also after they left, to read why); the least recently written goes first. */
const MAX_EXTENSIONS = 256;

type Listener = (entry: HostLogEntry) => void;
type TaskLogLevel = 'debug' | 'info' | 'warn' | 'error';

interface Stream {
  seq: number;
  lines: HostLogEntry[];
  listeners: Set<Listener>;
}

/** The host log stream the hub keeps per extension: bounded, numbered, followable. */
export class HostLogs {
  private readonly streams = new Map<string, Stream>();

  constructor(private readonly maxLines = HOST_LOG_LINES) {}

  append(extensionId: string, lines: z.output<typeof HostLog>['lines'], dropped = 0): HostLogEntry[] {
    const stream = this.stream(extensionId);
    // Lines the host lost count in seq too, so a follower sees the gap.
    stream.seq += dropped;
    const added = lines.map((line) => ({ extensionId, ...line, seq: ++stream.seq }));
    stream.lines.push(...added);
    if (stream.lines.length > this.maxLines) stream.lines.splice(0, stream.lines.length - this.maxLines);
    for (const entry of added) for (const fn of stream.listeners) fn(entry);
    return added;
  }

  /** The kept lines after `afterSeq`, and how many lines after it are no longer kept. */
  read(extensionId: string, afterSeq = 0): { lines: HostLogEntry[]; dropped: number } {
    const stream = this.streams.get(extensionId);
    if (!stream) return { lines: [], dropped: 0 };
    const lines = stream.lines.filter((l) => l.seq > afterSeq);
    const first = lines[0]?.seq ?? stream.seq + 1;
    return { lines, dropped: Math.max(0, first - afterSeq - 1) };
  }

  follow(extensionId: string, fn: Listener): () => void {
    const stream = this.stream(extensionId);
    stream.listeners.add(fn);
    return () => stream.listeners.delete(fn);
  }

  private stream(extensionId: string): Stream {
    let stream = this.streams.get(extensionId);
    if (stream) {
      // Most recently used last: Map keeps insertion order.
      this.streams.delete(extensionId);
      this.streams.set(extensionId, stream);
      return stream;
    }
    stream = { seq: 0, lines: [], listeners: new Set() };
    this.streams.set(extensionId, stream);
    for (const [id, s] of this.streams) {
      if (this.streams.size <= MAX_EXTENSIONS) break;
      if (s.listeners.size === 0) this.streams.delete(id);
    }
    return stream;
  }
}

const TASK_LEVEL: Record<HostLogEntry['level'], TaskLogLevel> = {
  verbose: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'error',
};

/**
 * A host's `host:log`: kept on its stream; a line logged for a job this host runs also goes to that task's
 * room as a `log` event (a line naming another host's task, or an ended one, stays on the host stream only).
 */
export function receiveHostLog(
  logs: HostLogs,
  tasks: TaskService,
  record: ExtensionRecord,
  msg: z.output<typeof HostLog>,
): void {
  for (const entry of logs.append(record.info.id, msg.lines, msg.dropped ?? 0)) {
    if (!entry.taskId) continue;
    const task = tasks.live(entry.taskId);
    if (!task || task.extensionId !== record.info.id || isTerminal(task.status)) continue;
    const where = entry.source ? `[${entry.source}] ` : '';
    tasks.append(task.id, 'log', { level: TASK_LEVEL[entry.level], message: `${where}${entry.message}` });
  }
}
