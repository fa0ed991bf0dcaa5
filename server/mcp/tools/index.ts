import type { HubContext } from '../../context.js';
import type { McpTool, McpToolSource } from '../types.js';
import { executePythonTool } from './execute.js';
import { sceneTools } from './scene.js';
import { cancelTaskTool, getTaskTool, listExtensionsTool, listTasksTool } from './tasks.js';
import { runWorkflowTool } from './workflow.js';

/** The hub's own tools, in the order tools/list shows them. */
export function coreTools(hub: HubContext): McpTool[] {
  return [
    listExtensionsTool(hub),
    executePythonTool(hub),
    ...sceneTools(hub),
    runWorkflowTool(hub),
    listTasksTool(hub),
    getTaskTool(hub),
    cancelTaskTool(hub),
  ];
}

/** The hub's tools plus whatever the sources contribute now; a contributed name that clashes is dropped. */
export class ToolCatalog {
  private readonly core: McpTool[];

  constructor(
    private readonly hub: HubContext,
    private readonly sources: readonly McpToolSource[] = [],
  ) {
    this.core = coreTools(hub);
  }

  async all(): Promise<McpTool[]> {
    const tools = [...this.core];
    const names = new Set(tools.map((t) => t.name));
    for (const source of this.sources) {
      let extra: readonly McpTool[];
      try {
        extra = await source(this.hub);
      } catch (err) {
        // One broken contributor must not take tools/list down with it.
        this.hub.logger.warn({ err }, 'mcp tool source failed');
        continue;
      }
      for (const tool of extra) {
        if (names.has(tool.name)) {
          this.hub.logger.warn({ tool: tool.name }, 'mcp tool name taken; contributed tool dropped');
          continue;
        }
        names.add(tool.name);
        tools.push(tool);
      }
    }
    return tools;
  }

  async find(name: string): Promise<McpTool | undefined> {
    return this.core.find((t) => t.name === name) ?? (await this.all()).find((t) => t.name === name);
  }
}
