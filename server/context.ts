import type { AuthService } from './auth/index.js';
import type { HubConfig } from './config.js';
import type { CodeTasks } from './dispatch/code-tasks.js';
import type { Dispatcher } from './dispatch/dispatcher.js';
import type { HostSecrets } from './dispatch/host-secrets.js';
import type { PollingHosts } from './dispatch/polling-hosts.js';
import type { ExtensionRegistry } from './dispatch/registry.js';
import type { Logger } from './log.js';
import type { PluginService } from './plugins/index.js';
import type { ChangeFeed } from './realtime/change-feed.js';
import type { CodePolicy } from './safety/index.js';
import type { TaskService } from './tasks/service.js';
import type { FlowgramService } from './workflows/flowgram/service.js';
import type { WorkflowService } from './workflows/service.js';

/** Everything a transport needs, built once by buildHub. */
export interface HubContext {
  config: HubConfig;
  logger: Logger;
  auth: AuthService;
  tasks: TaskService;
  registry: ExtensionRegistry;
  dispatcher: Dispatcher;
  codeTasks: CodeTasks;
  policy: CodePolicy;
  polling: PollingHosts;
  workflows: WorkflowService;
  flowgram: FlowgramService;
  plugins: PluginService;
  hostSecrets: HostSecrets;
  startedAt: number;
  /** Cluster mode (SWITCHBOARD_REDIS_URL): what the other hub processes commit and which hosts they hold. */
  changeFeed?: ChangeFeed;
}
