import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HubConfig } from '../config.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { ExtensionRegistry } from '../dispatch/registry.js';
import type { Logger } from '../log.js';
import type { Task } from '../protocol/tasks.js';
import { RedisTaskStore } from '../tasks/redis-store.js';
import type { TaskService } from '../tasks/service.js';
import { ClusterBus } from './bus.js';
import { ClusterHosts } from './hosts.js';
import { SharedQueue } from './queue.js';
import { Reclaims } from './reclaim.js';
import { Takeover } from './takeover.js';

/** In the data dir: the node id this process runs as, for the next start to adopt its former self at once. */
export const NODE_FILE = 'cluster-node';

export interface ClusterDeps {
  config: HubConfig;
  logger: Logger;
  tasks: TaskService;
  registry: ExtensionRegistry;
  dispatcher: Dispatcher;
}

/** One process of a cluster: what `buildHub` starts when SWITCHBOARD_REDIS_URL is set. */
export interface ClusterNode {
  readonly nodeId: string;
  /** Joins (first heartbeat, adopts processes found dead); call once listening. */
  start(): Promise<void>;
  /** Stops taking work (timers, claims): first thing on shutdown. */
  stop(): void;
  /** Leaves: withdraws its hosts and its lease, so what it leaves behind is adopted at once. */
  close(): Promise<void>;
}

/**
 * Joins the cluster on the task store's Redis: the shared registry and queue are wired into the registry and
 * the dispatcher (their `remote` and `cluster` hooks); nothing of it exists in the embedded hub.
 */
export async function joinCluster(deps: ClusterDeps): Promise<ClusterNode> {
  const { config, logger, tasks, registry, dispatcher } = deps;
  const store = tasks.store;
  if (!(store instanceof RedisTaskStore)) throw new Error('cluster mode needs the Redis task store');
  const bus = await ClusterBus.connect(store.redis, store.prefix, config.nodeId, logger);
  const hosts = new ClusterHosts(bus, registry, logger, () => dispatcher.schedulePump());
  const queue = new SharedQueue(bus, tasks, dispatcher, registry, logger);
  const reclaims = new Reclaims(bus, tasks, dispatcher, config.nodeLeaseMs, logger);
  const takeover = new Takeover(bus, tasks, dispatcher, hosts, config.nodeLeaseMs, logger, () =>
    queue.sweep(),
  );
  dispatcher.cluster = {
    placeableElsewhere: (task: Task) => hosts.reserveFor(task.target),
    offer: (task, waiting) => queue.offer(task, waiting),
    capacity: () => queue.capacity(),
    cancel: (taskId) => queue.cancel(taskId),
    reclaim: (record, taskId) => reclaims.reclaim(record, taskId),
    defer: (record, taskId, again) => reclaims.defer(record, taskId, again),
  };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    takeover.stop();
    queue.close();
    hosts.close();
    dispatcher.cluster = undefined;
  };
  return {
    nodeId: config.nodeId,
    async start() {
      // The node this data dir ran as last time (the data dir lock, taken before this, proves it is gone).
      const file = join(config.dataDir, NODE_FILE);
      let former: string | undefined;
      try {
        former = readFileSync(file, 'utf8').trim() || undefined;
      } catch {
        former = undefined;
      }
      mkdirSync(config.dataDir, { recursive: true });
      writeFileSync(file, `${config.nodeId}\n`);
      await takeover.start(former);
      logger.info({ node: config.nodeId }, 'cluster: joined');
    },
    stop,
    async close() {
      stop();
      await hosts.withdraw();
      await takeover.resign();
      await bus.close();
    },
  };
}
