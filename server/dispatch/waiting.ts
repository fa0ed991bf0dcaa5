import type { Task, WaitReason } from '../protocol/tasks.js';
import type { ExtensionRegistry } from './registry.js';

export interface Waiting {
  reason: WaitReason;
  message: string;
}

/** Why a queued task has no host right now, in the words a user following it needs. */
export function whyWaiting(task: Task, registry: ExtensionRegistry): Waiting {
  const { extensionId, label } = task.target;
  const hosts = registry.all();
  if (extensionId) {
    const host = registry.get(extensionId);
    if (!host) return { reason: 'no_match', message: `extension ${extensionId} is not connected` };
    if (label && !host.info.labels.includes(label))
      return { reason: 'no_match', message: `extension ${extensionId} does not have the label ${label}` };
    return {
      reason: 'all_busy',
      message: `extension ${extensionId} is busy (${host.running.size} of ${host.info.concurrency} slots in use)`,
    };
  }
  if (hosts.length === 0) {
    const needs = label ? ` (the task needs the label ${label})` : '';
    return { reason: 'no_extension', message: `no extension is connected${needs}` };
  }
  const matching = label ? hosts.filter((h) => h.info.labels.includes(label)) : hosts;
  if (matching.length === 0) return { reason: 'no_match', message: `no extension has the label ${label}` };
  const n = matching.length;
  return {
    reason: 'all_busy',
    message: `${n === 1 ? 'the one' : `all ${n}`} ${label ? `extension${n === 1 ? '' : 's'} with the label ${label}` : `extension${n === 1 ? '' : 's'}`} ${n === 1 ? 'is' : 'are'} busy`,
  };
}
