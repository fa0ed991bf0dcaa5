import type { ExtensionInfo } from '../protocol.js';
import { Emitter } from './emitter.js';

export interface ExtensionView {
  info: ExtensionInfo;
  online: boolean;
  /** When this page last heard of it (presence, list): offline hosts keep the time they left. */
  seenAt: number;
}

/**
 * Extensions online now, and those seen online during this session that have since left (the hub forgets
 * offline hosts; the page keeps them, marked offline, so a host dropping out stays visible).
 */
export class ExtensionStore {
  private readonly byId = new Map<string, ExtensionView>();
  readonly changed = new Emitter<void>();

  /** The full list of who is online now: anyone missing from it has gone offline. */
  setOnline(list: readonly ExtensionInfo[]): void {
    const now = Date.now();
    const ids = new Set(list.map((e) => e.id));
    for (const view of this.byId.values()) {
      if (view.online && !ids.has(view.info.id)) Object.assign(view, { online: false, seenAt: now });
    }
    for (const info of list) this.byId.set(info.id, { info, online: true, seenAt: now });
    this.changed.emit();
  }

  presence(info: ExtensionInfo, online: boolean): void {
    this.byId.set(info.id, { info, online, seenAt: Date.now() });
    this.changed.emit();
  }

  /** Online first, then by name. */
  all(): ExtensionView[] {
    return [...this.byId.values()].sort((a, b) =>
      a.online === b.online ? a.info.name.localeCompare(b.info.name) : a.online ? -1 : 1,
    );
  }

  online(): ExtensionInfo[] {
    return this.all()
      .filter((v) => v.online)
      .map((v) => v.info);
  }

  get(id: string): ExtensionView | undefined {
    return this.byId.get(id);
  }
}
