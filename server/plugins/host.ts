import { fileURLToPath } from 'node:url';
import type { HubConfig } from '../config.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PluginInfo } from '../protocol/plugins.js';
import { declaredTools, discoverPlugins, type ManifestProblem } from './manifest.js';
import { PluginDown, type PluginLog, PluginSession } from './session.js';

/** The built-in plugins ship in the server's tree. */
export const BUILTIN_PLUGINS_DIR = fileURLToPath(new URL('./builtin', import.meta.url));

/** One tool a plugin serves, as clients (HTTP, workflows, the hub's MCP server) see it. */
export interface PluginToolInfo {
  /** The tool type clients ask for (text2image, echo, ...). */
  name: string;
  plugin: string;
  /** The MCP tool that serves it. */
  mcpTool: string;
  description: string;
  /** JSON Schema of the arguments (from the server once it has started; an open object before). */
  inputSchema: Record<string, unknown>;
}

const OPEN_OBJECT = { type: 'object', additionalProperties: true };

/**
 * Every plugin the hub knows: manifests discovered at start (problems kept, by file and field), one session
 * per plugin, and the catalogue of tools they serve.
 */
export class PluginHost {
  readonly sessions = new Map<string, PluginSession>();
  readonly problems: ManifestProblem[];

  constructor(config: HubConfig, logger: Logger, onLog: (plugin: string, log: PluginLog) => void) {
    const dirs = [
      { dir: BUILTIN_PLUGINS_DIR, builtin: true },
      ...config.pluginsDirs.map((dir) => ({ dir, builtin: false })),
    ];
    const { plugins, problems } = discoverPlugins(dirs);
    this.problems = problems;
    for (const p of problems)
      logger.warn({ file: p.file, field: p.field }, `plugin manifest error: ${p.message}`);
    for (const spec of plugins) {
      this.sessions.set(
        spec.name,
        new PluginSession(spec, logger, {
          onLog: (log) => onLog(spec.name, log),
        }),
      );
    }
  }

  /** Starts the `eager` plugins; a failure is logged and kept as the plugin's state, not thrown. */
  async startEager(): Promise<void> {
    await Promise.allSettled(
      [...this.sessions.values()].filter((s) => s.spec.start === 'eager').map((s) => s.ensure()),
    );
  }

  require(name: string, field = 'plugin_name'): PluginSession {
    const s = this.sessions.get(name);
    if (!s) {
      throw new HubError(
        'not_found',
        `${field}: no plugin named "${name}"; plugins are ${[...this.sessions.keys()].join(', ') || '(none)'}`,
        { field },
      );
    }
    return s;
  }

  /** The tools of one plugin: declared ones (with the server's schema when known), else what it listed. */
  toolsOf(session: PluginSession): PluginToolInfo[] {
    const listed = new Map(session.tools.map((t) => [t.name, t]));
    const declared = declaredTools(session.spec);
    const entries = declared.length
      ? declared
      : session.tools.map((t) => ({ name: t.name, mcpTool: t.name, description: undefined }));
    return entries.map((d) => {
      const mcp = listed.get(d.mcpTool);
      return {
        name: d.name,
        plugin: session.spec.name,
        mcpTool: d.mcpTool,
        description: d.description ?? mcp?.description ?? session.spec.description,
        inputSchema: (mcp?.inputSchema as Record<string, unknown> | undefined) ?? OPEN_OBJECT,
      };
    });
  }

  /** Tools known without starting anything: declared ones and those of plugins that have run. */
  knownTools(): PluginToolInfo[] {
    return [...this.sessions.values()].flatMap((s) => this.toolsOf(s));
  }

  /** Every tool, starting plugins whose tools are only known once they run (failures leave them out). */
  async listTools(): Promise<PluginToolInfo[]> {
    await Promise.allSettled(
      [...this.sessions.values()].filter((s) => !s.spec.tools && s.state !== 'ready').map((s) => s.ensure()),
    );
    return this.knownTools();
  }

  /** The plugin and MCP tool for a tool type (and optional plugin name); 404 naming the field otherwise. */
  async resolve(tool: string, plugin?: string): Promise<{ session: PluginSession; tool: PluginToolInfo }> {
    const candidates = plugin ? [this.require(plugin)] : [...this.sessions.values()];
    const find = () => {
      for (const s of candidates) {
        const t = this.toolsOf(s).find((x) => x.name === tool);
        if (t) return { session: s, tool: t };
      }
      return null;
    };
    const hit = find();
    if (hit) return hit;
    // Plugins that declare no tools must run before they can be asked.
    const unknown = candidates.filter((s) => !s.spec.tools && s.state !== 'ready');
    const started = await Promise.allSettled(unknown.map((s) => s.ensure()));
    const again = find();
    if (again) return again;
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (plugin && failed) {
      throw new HubError('plugin_unavailable', (failed.reason as Error).message, { field: 'plugin_name' });
    }
    const where = plugin ? `plugin "${plugin}"` : 'any plugin';
    throw new HubError('not_found', `tool_name: "${tool}" is not served by ${where}`, { field: 'tool_name' });
  }

  info(): PluginInfo[] {
    return [...this.sessions.values()].map((s) => {
      const types = this.toolsOf(s).map((t) => t.name);
      return {
        name: s.spec.name,
        version: s.spec.version,
        description: s.spec.description,
        tool_type: types[0] ?? '',
        engine: s.spec.engine,
        author: s.spec.author,
        tool_types: types,
        builtin: s.spec.builtin,
        transport: s.spec.url ? 'streamable_http' : 'stdio',
        state: s.state,
        pid: s.pid,
        restarts: s.restarts,
        last_error: s.lastError,
      };
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.sessions.values()].map((s) => s.close()));
  }
}

export { PluginDown };
