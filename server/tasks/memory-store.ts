import type { Task, TaskEvent, TaskStatus } from '../protocol/tasks.js';
import type { CommitBatch, TaskFilter, TaskStore } from './store.js';

/** Keeps everything in process memory: for tests and throwaway hubs (`SWITCHBOARD_STORE=memory`). */
export class MemoryTaskStore implements TaskStore {
  private readonly tasks = new Map<string, Task>();
  private readonly events = new Map<string, TaskEvent[]>();

  commit(batch: CommitBatch): void {
    for (const t of batch.inserts) this.insertTask(t);
    this.appendEvents(batch.events);
    for (const t of batch.updates) this.updateTask(t);
  }

  insertTask(task: Task): void {
    this.tasks.set(task.id, structuredClone(task));
  }

  updateTask(task: Task): void {
    this.tasks.set(task.id, structuredClone(task));
  }

  getTask(id: string): Task | null {
    const t = this.tasks.get(id);
    return t ? structuredClone(t) : null;
  }

  getTaskSync(id: string): Task | null {
    return this.getTask(id);
  }

  listTasks(f: TaskFilter): Task[] {
    const all = [...this.tasks.values()]
      .filter(
        (t) =>
          (!f.status || t.status === f.status) &&
          (!f.kind || t.kind === f.kind) &&
          (!f.extensionId || t.extensionId === f.extensionId) &&
          (!f.parentId || t.parentId === f.parentId) &&
          (!f.before ||
            t.createdAt < f.before.createdAt ||
            (t.createdAt === f.before.createdAt && t.id < f.before.id)),
      )
      .sort((a, b) =>
        a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt),
      );
    return all.slice(0, f.limit).map((t) => structuredClone(t));
  }

  tasksWithStatus(statuses: readonly TaskStatus[]): Task[] {
    return [...this.tasks.values()]
      .filter((t) => statuses.includes(t.status))
      .sort((a, b) =>
        a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt.localeCompare(b.createdAt),
      )
      .map((t) => structuredClone(t));
  }

  appendEvents(events: readonly TaskEvent[]): void {
    for (const e of events) {
      const list = this.events.get(e.taskId) ?? [];
      if (list.length === 0 || (list.at(-1)?.seq ?? 0) < e.seq) list.push(e);
      this.events.set(e.taskId, list);
    }
  }

  readEvents(
    taskId: string,
    afterSeq: number,
    limit = Number.MAX_SAFE_INTEGER,
    maxBytes?: number,
  ): TaskEvent[] {
    const page = (this.events.get(taskId) ?? []).filter((e) => e.seq > afterSeq).slice(0, limit);
    if (maxBytes === undefined) return page;
    let bytes = 0;
    const cut = page.findIndex((e) => {
      bytes += JSON.stringify(e).length;
      return bytes >= maxBytes;
    });
    return cut < 0 ? page : page.slice(0, cut + 1);
  }

  countByStatus(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.tasks.values()) out[t.status] = (out[t.status] ?? 0) + 1;
    return out;
  }

  close(): void {}
}
