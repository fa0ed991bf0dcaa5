import { z } from 'zod';
import { Target } from './tasks.js';

/** Names the model sees for tools: the OpenAI function-name alphabet. */
export const ToolName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'tool names use 1-64 letters, digits, _ and -');

/** Which model to call. Every field falls back to the hub's defaults (SWITCHBOARD_LLM_*). */
export const ModelConfig = z
  .object({
    model_name: z.string().min(1).max(200).optional(),
    base_url: z.url().optional(),
    /** Never stored, logged or streamed: the task keeps "[redacted]". */
    api_key: z.string().min(1).max(4096).optional(),
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.number().int().positive().max(1_000_000).optional(),
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfig>;

/** A JSON Schema for a tool's arguments: an object schema, as OpenAI function calling requires. */
export const ParameterSchema = z
  .object({
    type: z.literal('object', { error: 'parameter_schema.type must be "object"' }),
    properties: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    required: z.array(z.string()).optional(),
  })
  .loose();

/** An HTTP tool declared in the payload. Strings may hold `{{vault.KEY}}` and `{{args.NAME}}`. */
export const HttpToolSpec = z
  .object({
    name: ToolName,
    description: z.string().max(4096).default(''),
    parameter_schema: ParameterSchema.default({ type: 'object', properties: {} }),
    execution_config: z
      .object({
        url: z.string().min(1).max(4096),
        method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
        headers: z.record(z.string(), z.string()).default({}),
        query: z.record(z.string(), z.string()).default({}),
        body: z.unknown().optional(),
        /** Seconds; the hub's HTTP_TOOL_TIMEOUT when absent. */
        timeout: z.number().positive().max(3600).optional(),
      })
      .strict(),
  })
  .strict();
export type HttpToolSpec = z.infer<typeof HttpToolSpec>;

/** A tool offered to the model: a native tool by name (`get_time`, `kit_execute`, ...) or an HTTP tool. */
export const ToolRef = z.union([ToolName, HttpToolSpec]);
export type ToolRef = z.infer<typeof ToolRef>;

export const ChatMessage = z
  .object({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string().max(1_000_000),
    name: z.string().max(64).optional(),
    tool_call_id: z.string().max(256).optional(),
  })
  .strict();
export type ChatMessage = z.infer<typeof ChatMessage>;

/** Where `kit_execute` runs code, and how often the omniverse agent may try. */
export const KitConfig = z
  .object({
    target: Target.default({}),
    /** Runs of kit_execute allowed in one workflow (the agent's fix-and-retry budget). */
    max_attempts: z.number().int().min(1).max(20).default(3),
    /** Timeout of each code run in milliseconds (the hub default when absent). */
    timeout_ms: z.number().int().positive().optional(),
  })
  .strict();

export const RuntimeConfig = z
  .object({
    model: ModelConfig.default({}),
    tools: z.array(ToolRef).max(64).default([]),
    /** Secrets for HTTP tools, used as `{{vault.KEY}}`; never stored, logged or streamed. */
    vault: z.record(z.string(), z.string()).default({}),
    kit: KitConfig.default({ target: {}, max_attempts: 3 }),
    /** Model turns allowed before the run stops (the hub default when absent). */
    max_iterations: z.number().int().min(1).max(100).optional(),
    /** Whole-run timeout in milliseconds (the hub default when absent). */
    timeout_ms: z.number().int().positive().optional(),
  })
  .strict();
export type RuntimeConfig = z.infer<typeof RuntimeConfig>;

/** Metadata of the execution plane: kept on the task; `trace_id` becomes the task's trace id. */
export const TaskMeta = z
  .object({
    workflow_id: z.string().max(256).optional(),
    trace_id: z.string().min(1).max(128).optional(),
    user_id: z.string().max(256).optional(),
  })
  .strict();

/** The payload every built-in workflow takes (the execution plane's `agent_chat` shape). */
export const WorkflowPayload = z
  .object({
    task_meta: TaskMeta.default({}),
    input: z
      .object({
        messages: z.array(ChatMessage).min(1, 'at least one message is required'),
        variables: z.record(z.string(), z.unknown()).default({}),
      })
      .strict(),
    runtime_config: RuntimeConfig.default(() => RuntimeConfig.parse({})),
  })
  .strict();
export type WorkflowPayload = z.infer<typeof WorkflowPayload>;

/**
 * A request to run a workflow, as `POST /api/v1/workflows/{name}/runs` and `workflow:start` take it:
 * the payload, or just a `message` (one user message) and optionally a `model` name.
 */
export const WorkflowRequest = z
  .object({
    task_meta: z.unknown().optional(),
    input: z.unknown().optional(),
    runtime_config: z.unknown().optional(),
    message: z.string().min(1).max(1_000_000).optional(),
    /** Shorthand for `runtime_config.model.model_name`. */
    model: z.string().min(1).max(200).optional(),
  })
  .strict();
export type WorkflowRequest = z.input<typeof WorkflowRequest>;

/** `workflow:start` on `/monitor`. */
export const StartWorkflow = WorkflowRequest.extend({ workflow: z.string().min(1).max(128) }).strict();
export type StartWorkflow = z.input<typeof StartWorkflow>;

/** `POST /v1/run_workflow`: the execution plane's payload; `workflow` picks the graph (default agent_chat). */
export const RunWorkflowBody = WorkflowRequest.extend({
  workflow: z.string().min(1).max(128).default('agent_chat'),
  /**
   * What a hang-up of the stream does (LangGraph's `on_disconnect`): `cancel` ends the run and aborts its model
   * call and tools; `continue` lets it run on, to be resumed at /v1/run_workflow/{task_id}/events. Default:
   * SWITCHBOARD_WORKFLOW_ON_DISCONNECT.
   */
  on_disconnect: z.enum(['cancel', 'continue']).optional(),
}).strict();

export const WorkflowInfo = z.object({
  name: z.string(),
  description: z.string(),
  /** JSON Schema of the workflow's input payload. */
  inputSchema: z.record(z.string(), z.unknown()),
});
export type WorkflowInfo = z.infer<typeof WorkflowInfo>;

export const WorkflowNameParams = z.object({ name: z.string().min(1).max(128) }).strict();
