import { z } from 'zod';

/**
 * The plugin service's HTTP shapes (the seed `plugin-service.md`): snake_case fields, its progress types and
 * result statuses, kept exactly so its clients work unchanged.
 */

export const ResourceType = z.enum(['local_path', 'remote_url', 'base64']);
export type ResourceType = z.infer<typeof ResourceType>;

export const ResourceInput = z
  .object({
    type: ResourceType,
    /** A path, a URL or base64 text, per `type`. */
    data: z.string().min(1, 'data is empty'),
    mime_type: z
      .string()
      .min(1, 'mime_type is required')
      .max(255)
      .regex(/^[\w.+-]+\/[\w.+-]+$/, 'mime_type must look like type/subtype'),
    metadata: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type ResourceInput = z.input<typeof ResourceInput>;

/** A plugin-service task body; `tool_name` (or `plugin_name`, `parameters`, `resources`) marks it as one. */
export const PluginTaskRequest = z
  .object({
    tool_name: z.string().min(1).max(128),
    /** The plugin to run it; absent: the first plugin serving `tool_name`. */
    plugin_name: z.string().min(1).max(64).optional(),
    parameters: z.record(z.string(), z.unknown()).default({}),
    resources: z.array(ResourceInput).max(32).default([]),
    /** Seconds; default the plugin's `task_timeout`. */
    timeout: z.number().positive().max(86_400).optional(),
    metadata: z.record(z.string(), z.unknown()).default({}),
    /** Sent by clients that serialise a whole task object; the hub assigns its own id. */
    task_id: z.string().max(128).optional(),
    created_at: z.string().max(64).optional(),
  })
  .strict();
export type PluginTaskRequest = z.input<typeof PluginTaskRequest>;

/** Tells a plugin-service body from a native task submission. */
export function isPluginTaskBody(body: unknown): boolean {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return false;
  return ['tool_name', 'plugin_name', 'parameters', 'resources'].some((k) => Object.hasOwn(body, k));
}

export const ProgressType = z.enum(['started', 'progress', 'heartbeat', 'completed', 'failed']);

export const TaskProgressOut = z.object({
  _type: z.literal('progress'),
  task_id: z.string(),
  type: ProgressType,
  percent: z.number(),
  message: z.string(),
  timestamp: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type TaskProgressOut = z.infer<typeof TaskProgressOut>;

export const ResourceOutput = z.object({
  type: z.string(),
  path: z.string(),
  url: z.string().nullable(),
  mime_type: z.string(),
  size: z.number().int(),
  metadata: z.record(z.string(), z.unknown()),
});
export type ResourceOutput = z.infer<typeof ResourceOutput>;

/** The final result; also the `result` of a plugin task in the native API. */
export const PluginTaskResult = z.object({
  task_id: z.string(),
  status: z.enum(['success', 'error']),
  output_files: z.array(z.string()),
  output_resources: z.array(ResourceOutput),
  error_message: z.string(),
  execution_time: z.number(),
  metadata: z.record(z.string(), z.unknown()),
});
export type PluginTaskResult = z.infer<typeof PluginTaskResult>;

export const TaskCreated = z.object({
  task_id: z.string(),
  status: z.literal('created'),
  message: z.string(),
});

export const ToolInfo = z.object({
  name: z.string(),
  display_name: z.string(),
  description: z.string(),
  plugins: z.array(z.string()),
});

export const PluginInfo = z.object({
  name: z.string(),
  version: z.string(),
  description: z.string(),
  /** The first tool type served (the seed has one per plugin); `tool_types` has all. */
  tool_type: z.string(),
  engine: z.string(),
  author: z.string(),
  tool_types: z.array(z.string()),
  builtin: z.boolean(),
  transport: z.enum(['stdio', 'streamable_http']),
  state: z.enum(['stopped', 'starting', 'ready', 'backoff', 'failed']),
  pid: z.number().int().nullable(),
  restarts: z.number().int(),
  last_error: z.string().nullable(),
});
export type PluginInfo = z.infer<typeof PluginInfo>;

export const ManifestProblem = z.object({ file: z.string(), field: z.string(), message: z.string() });

export const PluginHealth = z.object({
  status: z.literal('healthy'),
  version: z.string(),
  plugins: z.number().int(),
  plugins_ready: z.number().int(),
  manifest_errors: z.number().int(),
});

/**
 * Fields added to a plugin task in `GET /api/v1/tasks/{task_id}`: the native Task stays whole (native clients
 * and the SDK read it unchanged) and plugin-service clients find their snake_case fields beside it.
 */
export const PluginStatusFields = z.object({
  task_id: z.string().optional(),
  tool_name: z.string().optional(),
  plugin_name: z.string().optional(),
  percent: z.number().optional(),
  message: z.string().optional(),
});
