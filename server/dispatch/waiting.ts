import type { Task, WaitReason } from '../protocol/tasks.js';
import type { ExtensionRegistry } from './registry.js';

export interface Waiting {
  reason: WaitReason;
  message: string;
}

interface HostView {
  id: string;
  labels: readonly string[];
  busy: number;
  concurrency: number;
}

/** The hosts a queued task could go to: this process's, and in a cluster the other processes' too. */
function hostsOf(registry: ExtensionRegistry): HostView[] {
  const out: HostView[] = registry.all().map((r) => ({
    id: r.info.id,
    labels: r.info.labels,
    busy: r.running.size,
    concurrency: r.info.concurrency,
  }));
  const remote = registry.remote?.();
  if (remote?.length) {
    const here = new Set(out.map((h) => h.id));
    for (const i of remote)
      if (!here.has(i.id))
        out.push({ id: i.id, labels: i.labels, busy: i.running.length, concurrency: i.concurrency });
  }
  return out;
}

/** Why a queued task has no host right now, in the words a user following it needs. */
export function whyWaiting(task: Task, registry: ExtensionRegistry): Waiting {
  const { extensionId, label } = task.target;
  const hosts = hostsOf(registry);
  if (extensionId) {
    const host = hosts.find((h) => h.id === extensionId);
    if (!host) return { reason: 'no_match', message: `extension ${extensionId} is not connected` };
    if (label && !host.labels.includes(label))
      return { reason: 'no_match', message: `extension ${extensionId} does not have the label ${label}` };
    return {
      reason: 'all_busy',
      message: `extension ${extensionId} is busy (${host.busy} of ${host.concurrency} slots in use)`,
    };
  }
  if (hosts.length === 0) {
    const needs = label ? ` (the task needs the label ${label})` : '';
    return { reason: 'no_extension', message: `no extension is connected${needs}` };
  }
  const matching = label ? hosts.filter((h) => h.labels.includes(label)) : hosts;
  if (matching.length === 0) return { reason: 'no_match', message: `no extension has the label ${label}` };
  const n = matching.length;
  return {
    reason: 'all_busy',
    message: `${n === 1 ? 'the one' : `all ${n}`} ${label ? `extension${n === 1 ? '' : 's'} with the label ${label}` : `extension${n === 1 ? '' : 's'}`} ${n === 1 ? 'is' : 'are'} busy`,
  };
}
