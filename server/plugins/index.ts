import path from 'node:path';
import type { HubConfig } from '../config.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Logger } from '../log.js';
import type { PluginInfo } from '../protocol/plugins.js';
import type { Task } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import { waitForEnd } from '../tasks/wait.js';
import { PluginHost, type PluginToolInfo } from './host.js';
import type { ManifestProblem } from './manifest.js';
import { ResourceResolver } from './resources.js';
import { PluginRunner, type StartToolTask } from './runner.js';

export type { PluginToolInfo } from './host.js';
export type { ManifestProblem } from './manifest.js';
export type { PluginTaskOutcome, StartToolTask } from './runner.js';

export interface PluginDeps {
  config: HubConfig;
  logger: Logger;
  tasks: TaskService;
  dispatcher: Dispatcher;
}

/**
 * The plugin facade (`ctx.plugins`): what HTTP routes, workflow tools and the hub's own MCP server use.
 * Plugins are MCP servers the hub runs; each tool call is a task of kind `plugin` with a room.
 */
export class PluginService {
  readonly host: PluginHost;
  readonly resources: ResourceResolver;
  private readonly runner: PluginRunner;

  constructor(private readonly deps: PluginDeps) {
    const outputsDir = path.resolve(deps.config.dataDir, 'plugin-outputs');
    this.resources = new ResourceResolver(deps.config, outputsDir);
    this.host = new PluginHost(deps.config, deps.logger, (plugin, log) => this.runner.onLog(plugin, log));
    this.runner = new PluginRunner(deps, this.host, this.resources);
    deps.dispatcher.registerCanceller('plugin', (id) => this.runner.cancel(id));
  }

  get outputsDir(): string {
    return this.resources.outputsDir;
  }

  /** Starts the `eager` plugins (buildHub awaits it; failures stay in each plugin's state). */
  init(): Promise<void> {
    return this.host.startEager();
  }

  /** Every tool of every plugin (starts plugins whose tools are only known once they run). */
  listTools(): Promise<PluginToolInfo[]> {
    return this.host.listTools();
  }

  /** Tools known now without starting anything (declared, or listed by a plugin that has run). */
  knownTools(): PluginToolInfo[] {
    return this.host.knownTools();
  }

  /**
   * Starts the plugins behind these tool references (`tool` or `plugin__tool`), so their schemas are known;
   * failures are left for the call to report.
   */
  async prepare(refs: readonly string[]): Promise<void> {
    const names = new Set<string>();
    for (const ref of refs) {
      const cut = ref.indexOf('__');
      if (cut > 0) names.add(ref.slice(0, cut));
      else for (const t of this.host.knownTools()) if (t.name === ref) names.add(t.plugin);
    }
    await Promise.allSettled(
      [...names]
        .map((n) => this.host.sessions.get(n))
        .filter((s) => s !== undefined)
        .map((s) => s.ensure()),
    );
  }

  plugins(): PluginInfo[] {
    return this.host.info();
  }

  manifestProblems(): ManifestProblem[] {
    return this.host.problems;
  }

  /** Creates and starts a plugin task; 4xx HubError (naming the field) before any task exists for bad input. */
  startToolTask(req: StartToolTask): Promise<Task> {
    return this.runner.start(req);
  }

  /** Starts a tool task and waits for it to end (or `waitMs`): the task as it then stands. */
  async runToolTask(req: StartToolTask, opts: { waitMs?: number; signal?: AbortSignal } = {}): Promise<Task> {
    const task = await this.runner.start(req);
    return waitForEnd(this.deps.tasks, task.id, opts.waitMs ?? task.timeoutMs + 5_000, opts.signal);
  }

  cancel(taskId: string): Task {
    return this.runner.cancel(taskId);
  }

  /** Hub shutdown: running calls end failed, then every plugin process is stopped. */
  async close(): Promise<void> {
    this.runner.close();
    await this.host.close();
  }
}
