import { HubError } from '../errors.js';
import type { ToolRef } from '../protocol/workflows.js';
import { HttpTool, type HttpToolLimits } from './http-tool.js';
import { type KitExecuteDeps, KitExecuteTool } from './kit-execute.js';
import { CalculatorTool } from './native/calculator.js';
import { GetTimeTool } from './native/get-time.js';
import { isPluginToolRef, PluginTool, type PluginToolDeps } from './plugin-tool.js';
import type { Tool } from './types.js';

export { type Tool, type ToolContext, type ToolOutput, toLlmTool } from './types.js';

export interface ToolDeps {
  vault: Readonly<Record<string, string>>;
  http: HttpToolLimits;
  kit: KitExecuteDeps;
  /** Plugin tools (absent: only native and HTTP tools). */
  plugins?: PluginToolDeps | undefined;
}

/** Every native tool, by the name a payload uses: the one place to register a new one. */
const NATIVE_TOOLS: Record<string, (deps: ToolDeps) => Tool> = {
  get_time: () => new GetTimeTool(),
  calculator: () => new CalculatorTool(),
  kit_execute: (deps) => new KitExecuteTool(deps.kit),
};

export const NATIVE_TOOL_NAMES = Object.keys(NATIVE_TOOLS);

/** Checks tool references before a run starts, so a bad one is a 400 naming it, not a failed task. */
export function checkToolRefs(
  refs: readonly ToolRef[],
  field = 'runtime_config.tools',
  plugins?: PluginToolDeps['plugins'],
): void {
  const seen = new Set<string>();
  refs.forEach((ref, i) => {
    const name = typeof ref === 'string' ? ref : ref.name;
    if (typeof ref === 'string' && !Object.hasOwn(NATIVE_TOOLS, ref) && !isPluginToolRef(plugins, ref)) {
      throw new HubError(
        'bad_request',
        `${field}.${i}: unknown tool "${ref}"; native tools are ${NATIVE_TOOL_NAMES.join(', ')} (plugin tools: GET /api/v1/tools)`,
        { field: `${field}.${i}` },
      );
    }
    if (seen.has(name)) {
      throw new HubError('bad_request', `${field}.${i}: tool "${name}" is listed twice`, {
        field: `${field}.${i}`,
      });
    }
    seen.add(name);
  });
}

/** The tools of one run, from the payload's references (checked with checkToolRefs first). */
export function buildTools(refs: readonly ToolRef[], deps: ToolDeps): Tool[] {
  return refs.map((ref) => {
    if (typeof ref !== 'string') return new HttpTool(ref, deps.vault, deps.http);
    const make = NATIVE_TOOLS[ref];
    if (!make && deps.plugins) return new PluginTool(ref, deps.plugins);
    if (!make) throw new HubError('bad_request', `unknown tool "${ref}"`);
    return make(deps);
  });
}
