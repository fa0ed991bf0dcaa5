import type { ExtensionRegistry } from '../dispatch/registry.js';
import type { ExtensionLoad } from '../protocol/stats.js';

/** How long an extension that went away is still listed (as offline): the overview's window. */
const OFFLINE_KEEP_MS = 15 * 60_000;
/** Bound on remembered offline hosts, so churning ids cannot grow the metrics without end. */
const OFFLINE_MAX = 200;

/**
 * Per-extension load and state (idle, busy, stuck, paused, offline). The registry forgets a host when it
 * leaves; this remembers it for the overview window so a chart shows it going offline instead of vanishing.
 */
export class ExtensionStates {
  private readonly offline = new Map<string, { name: string; since: number }>();
  private readonly off: () => void;

  constructor(private readonly registry: ExtensionRegistry) {
    this.off = registry.onPresence((info, online) => {
      if (online) this.offline.delete(info.id);
      else {
        this.offline.delete(info.id);
        this.offline.set(info.id, { name: info.name, since: Date.now() });
        if (this.offline.size > OFFLINE_MAX) {
          const oldest = this.offline.keys().next().value;
          if (oldest !== undefined) this.offline.delete(oldest);
        }
      }
    });
  }

  now(at = Date.now()): ExtensionLoad[] {
    const out: ExtensionLoad[] = [];
    for (const record of this.registry.all()) {
      const snap = this.registry.snapshot(record);
      const running = snap.running.length;
      const state =
        (snap.stuck?.length ?? 0) > 0 ? 'stuck' : running > 0 ? 'busy' : snap.paused ? 'paused' : 'idle';
      out.push({ id: snap.id, name: snap.name, running, slots: snap.concurrency, state });
    }
    for (const [id, { name, since }] of this.offline) {
      if (at - since > OFFLINE_KEEP_MS) this.offline.delete(id);
      else if (!this.registry.get(id)) out.push({ id, name, running: 0, slots: 0, state: 'offline' });
    }
    return out;
  }

  close(): void {
    this.off();
  }
}
