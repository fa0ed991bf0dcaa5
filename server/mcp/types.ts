import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Action, Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import { fromZodError } from '../errors.js';
import type { Notifier } from './notify.js';

/** What a tool gets for one call: the hub, who called, the call's abort signal and its notification channel. */
export interface ToolCall {
  hub: HubContext;
  principal: Principal;
  /** Aborted by MCP cancellation (notifications/cancelled) or when the session closes. */
  signal: AbortSignal;
  /** Notifications tied to this call: they travel on the call's own stream, before its result. */
  notify: Notifier;
  /** True while the hub shuts down: an aborted call must then leave its task to recovery, not cancel it. */
  shuttingDown: () => boolean;
}

/**
 * One MCP tool as the hub serves it. `inputSchema` is what tools/list advertises; `call` gets the raw
 * arguments and must validate them itself (defineTool does, with zod). `action` is what the caller's role
 * must allow: `read` for a viewer, `submit`/`cancel` for an operator.
 */
export interface McpTool {
  name: string;
  title?: string;
  description: string;
  action: Action;
  inputSchema: { type: 'object'; [key: string]: unknown };
  annotations?: ToolAnnotations;
  call(args: Record<string, unknown>, call: ToolCall): Promise<CallToolResult>;
}

/**
 * A contributor of extra tools, asked on every tools/list and tools/call so tools may come and go (plugins
 * start and stop). The hub's own tools win a name clash. Empty when the subsystem behind it is absent.
 */
export type McpToolSource = (hub: HubContext) => readonly McpTool[] | Promise<readonly McpTool[]>;

export interface ToolSpec<S extends z.ZodObject> {
  name: string;
  title?: string;
  description: string;
  action: Action;
  input: S;
  annotations?: ToolAnnotations;
  run(args: z.output<S>, call: ToolCall): Promise<CallToolResult>;
}

/** A tool typed by a zod object: the JSON Schema is generated from it and arguments are parsed with it. */
export function defineTool<S extends z.ZodObject>(spec: ToolSpec<S>): McpTool {
  const schema = z.toJSONSchema(spec.input, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete schema['$schema'];
  return {
    name: spec.name,
    ...(spec.title ? { title: spec.title } : {}),
    description: spec.description,
    action: spec.action,
    inputSchema: { ...schema, type: 'object' },
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
    async call(args, call) {
      const parsed = spec.input.safeParse(args);
      if (!parsed.success) throw fromZodError(parsed.error);
      return spec.run(parsed.data, call);
    },
  };
}

/** A JSON result: structured content plus the same JSON as text, as the MCP spec asks of structured tools. */
export function jsonResult(value: Record<string, unknown>, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(value) }],
    structuredContent: value,
    ...(isError ? { isError: true } : {}),
  };
}
