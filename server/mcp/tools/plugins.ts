import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { HubError } from '../../errors.js';
import type { Task } from '../../protocol/tasks.js';
import { followTask } from '../follow.js';
import type { McpTool, McpToolSource } from '../types.js';
import { mcpContentOf } from './plugin-content.js';

/**
 * What the MCP server needs of the plugin subsystem (issue 10's `PluginService` has this shape): the tools
 * of every plugin, and a way to start one call as a task of kind `plugin`.
 */
export interface PluginToolFacade {
  listTools(): Promise<
    ReadonlyArray<{ name: string; plugin: string; description: string; inputSchema: Record<string, unknown> }>
  >;
  startToolTask(req: {
    tool: string;
    plugin?: string | undefined;
    arguments?: Record<string, unknown> | undefined;
    origin?: string | undefined;
  }): Promise<Task>;
}

/**
 * Every plugin tool as an MCP tool under its own name: arguments go to the plugin as they are (the plugin
 * service validates them against the tool's schema and names the field), the call is a plugin task streamed
 * like execute_python, and the plugin's own MCP content (text, images) is the result. Empty without a facade.
 */
export function pluginToolSource(facade: PluginToolFacade | undefined): McpToolSource {
  if (!facade) return () => [];
  return async () =>
    (await facade.listTools()).map(
      (info): McpTool => ({
        name: info.name,
        description: `${info.description} (plugin ${info.plugin}; runs as a plugin task)`,
        action: 'submit',
        inputSchema: { ...info.inputSchema, type: 'object' },
        annotations: { openWorldHint: true },
        async call(args, call): Promise<CallToolResult> {
          if (call.signal.aborted) throw new HubError('cancelled', 'the call was cancelled');
          const task = await facade.startToolTask({
            tool: info.name,
            plugin: info.plugin,
            arguments: args,
            origin: 'mcp',
          });
          const ended = await followTask(call, task.id, (e) => {
            if (e.type === 'progress') call.notify.progress(e.data.message ?? 'progress');
            else if (e.type === 'log') {
              call.notify.log(e.data.level === 'warn' ? 'warning' : e.data.level, 'plugin', {
                taskId: task.id,
                ...e.data,
              });
            } else if (e.type === 'output') call.notify.output(task.id, e.data.stream, e.data.text);
          });
          await call.notify.flush();
          const summary = {
            taskId: ended.id,
            status: ended.status,
            result: ended.result ?? null,
            error: ended.error,
          };
          const content = await mcpContentOf(ended.result);
          return {
            content: content ?? [{ type: 'text', text: JSON.stringify(summary) }],
            structuredContent: summary,
            ...(ended.status === 'succeeded' ? {} : { isError: true }),
          };
        },
      }),
    );
}
