import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { ExtensionInfo, Register } from '../protocol/extension.js';
import { HostLogs } from './host-logs.js';
import type { ExtensionLink } from './link.js';

export type RegisterParsed = z.output<typeof Register>;

export interface ExtensionRecord {
  readonly info: ExtensionInfo;
  readonly link: ExtensionLink;
  /** Task ids this host holds a slot for (running, or stopping after a cancel/timeout). */
  readonly running: Set<string>;
  /** Of those, the jobs that will not stop: their slots stay taken until the host confirms they ended. */
  readonly stuck?: Set<string>;
}

type PresenceListener = (info: ExtensionInfo, online: boolean) => void;

/** Extension ids derive from the name when the host gives none, so a restarted host keeps its id. */
export function extensionIdFor(name: string): string {
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'ext';
  return `${slug}-${createHash('sha256').update(name).digest('hex').slice(0, 6)}`;
}

/** Who is online now. Offline hosts are forgotten: tasks keep their history, the registry only presence. */
export class ExtensionRegistry {
  private readonly online = new Map<string, ExtensionRecord>();
  private readonly listeners = new Set<PresenceListener>();
  /** Each extension's host log stream (Kit's log, when its bridge forwards it). */
  readonly logs = new HostLogs();

  /** Adds a host; a host already online under the same id is replaced and returned as `replaced`. */
  register(
    reg: RegisterParsed,
    link: ExtensionLink,
  ): { record: ExtensionRecord; replaced: ExtensionRecord | null } {
    const id = reg.id ?? extensionIdFor(reg.name);
    const now = new Date().toISOString();
    const replaced = this.online.get(id) ?? null;
    const record: ExtensionRecord = {
      info: {
        id,
        name: reg.name,
        labels: [...reg.labels],
        capabilities: reg.capabilities,
        concurrency: reg.concurrency,
        running: [],
        online: true,
        transport: link.transport,
        connectedAt: now,
        lastSeen: now,
      },
      link,
      running: new Set(),
      stuck: new Set(),
    };
    if (reg.paused) record.info.paused = true;
    this.online.set(id, record);
    this.emit(record, true);
    return { record, replaced };
  }

  /** Removes the host if `record` is still the current one for its id; false when it was replaced. */
  remove(record: ExtensionRecord): boolean {
    if (this.online.get(record.info.id) !== record) return false;
    this.online.delete(record.info.id);
    this.emit(record, false);
    return true;
  }

  isCurrent(record: ExtensionRecord): boolean {
    return this.online.get(record.info.id) === record;
  }

  get(id: string): ExtensionRecord | undefined {
    return this.online.get(id);
  }

  all(): ExtensionRecord[] {
    return [...this.online.values()];
  }

  /** Cluster mode: the hosts connected to the other processes (server/cluster keeps this view). */
  remote: (() => readonly ExtensionInfo[]) | undefined;

  /** Every host online: this process's, then (in a cluster) the other processes'. */
  list(): ExtensionInfo[] {
    const out = this.all().map((r) => this.snapshot(r));
    if (!this.remote) return out;
    const here = new Set(out.map((i) => i.id));
    for (const info of this.remote()) if (!here.has(info.id)) out.push(info);
    return out;
  }

  touch(record: ExtensionRecord, patch: { stagePath?: string | null | undefined } = {}): void {
    record.info.lastSeen = new Date().toISOString();
    if (patch.stagePath !== undefined) record.info.capabilities.stagePath = patch.stagePath;
  }

  /** Call after a slot changes so list views see jobs running. */
  changed(record: ExtensionRecord): void {
    if (this.isCurrent(record)) this.emit(record, true);
  }

  onPresence(fn: PresenceListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  snapshot(record: ExtensionRecord): ExtensionInfo {
    const stuck = [...(record.stuck ?? [])].filter((id) => record.running.has(id));
    const state = stuck.length > 0 ? 'stuck' : record.info.paused ? 'paused' : 'ready';
    return { ...record.info, labels: [...record.info.labels], running: [...record.running], stuck, state };
  }

  private emit(record: ExtensionRecord, online: boolean): void {
    const info = { ...this.snapshot(record), online };
    for (const fn of this.listeners) fn(info, online);
  }
}
