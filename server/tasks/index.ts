import type { HubConfig } from '../config.js';
import type { Logger } from '../log.js';
import { MemoryTaskStore } from './memory-store.js';
import { SqliteTaskStore } from './sqlite-store.js';
import type { TaskStore } from './store.js';

export type { TaskStore } from './store.js';

/** Picks the store driver from config: Redis when SWITCHBOARD_REDIS_URL is set, else SQLite under the data dir. */
export async function createTaskStore(config: HubConfig, logger?: Logger): Promise<TaskStore> {
  if (config.redisUrl) {
    // Loaded only when asked for: the embedded hub starts without the Redis client.
    const { RedisTaskStore } = await import('./redis-store.js');
    return RedisTaskStore.connect(config.redisUrl, {
      prefix: config.redisPrefix,
      eventsMaxlen: config.redisEventsMaxlen,
      nodeId: config.nodeId,
      ...(logger ? { logger } : {}),
    });
  }
  switch (config.store) {
    case 'memory':
      return new MemoryTaskStore();
    case 'sqlite':
      return new SqliteTaskStore(config.dataDir);
  }
}
