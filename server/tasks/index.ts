import type { HubConfig } from '../config.js';
import { MemoryTaskStore } from './memory-store.js';
import { SqliteTaskStore } from './sqlite-store.js';
import type { TaskStore } from './store.js';

export type { TaskStore } from './store.js';

/** Picks the store driver from config: SQLite under the data dir by default. */
export function createTaskStore(config: HubConfig): TaskStore {
  switch (config.store) {
    case 'memory':
      return new MemoryTaskStore();
    case 'sqlite':
      return new SqliteTaskStore(config.dataDir);
  }
}
