import { z } from 'zod';

/**
 * The FlowGram runtime's HTTP contract (`/api/task/*`, `/api/info`), same field names as FlowGram's own
 * server, plus the native `/api/v1/flowgram/*` bodies. The schema travels as a JSON string in FlowGram's API;
 * the hub also takes the object.
 */
const SchemaField = z
  .union([z.string().max(8_000_000), z.record(z.string(), z.unknown())])
  .describe('The WorkflowSchema, as a JSON string (FlowGram) or an object');
const Inputs = z.record(z.string(), z.unknown());

export const FlowTaskRunInput = z.object({ schema: SchemaField, inputs: Inputs.default({}) }).strict();
export const FlowTaskRunOutput = z.object({ taskID: z.string() });
export const FlowTaskQuery = z.object({ taskID: z.string().min(1).max(128) }).strict();
export const FlowTaskCancelInput = z.object({ taskID: z.string().min(1).max(128) }).strict();
export const FlowTaskCancelOutput = z.object({ success: z.boolean() });
export const FlowValidateOutput = z.object({ valid: z.boolean(), errors: z.array(z.string()).optional() });
export const FlowServerInfo = z.object({
  name: z.string(),
  runtime: z.string(),
  version: z.string(),
  time: z.string(),
});

export const FlowStatusName = z.enum(['pending', 'processing', 'succeeded', 'failed', 'canceled']);
export type FlowStatusName = z.infer<typeof FlowStatusName>;

const StatusShape = {
  status: FlowStatusName,
  terminated: z.boolean(),
  startTime: z.number().optional(),
  endTime: z.number().optional(),
  timeCost: z.number(),
};
export const FlowSnapshot = z.object({
  id: z.string(),
  nodeID: z.string(),
  inputs: Inputs,
  outputs: Inputs.optional(),
  data: Inputs,
  branch: z.string().optional(),
  error: z.string().optional(),
});
export type FlowSnapshot = z.infer<typeof FlowSnapshot>;
export const FlowNodeReport = z.object({ id: z.string(), ...StatusShape, snapshots: z.array(FlowSnapshot) });
export type FlowNodeReport = z.infer<typeof FlowNodeReport>;
const MessageType = z.enum(['log', 'info', 'debug', 'error', 'warning']);
export const FlowMessage = z.object({
  id: z.string(),
  type: MessageType,
  message: z.string(),
  nodeID: z.string().optional(),
  timestamp: z.number(),
});
export type FlowMessage = z.infer<typeof FlowMessage>;
export const FlowReport = z.object({
  id: z.string(),
  inputs: Inputs,
  outputs: Inputs,
  workflowStatus: z.object(StatusShape),
  reports: z.record(z.string(), FlowNodeReport),
  messages: z.record(MessageType, z.array(FlowMessage)),
});
export type FlowReport = z.infer<typeof FlowReport>;

/** Native start: `POST /api/v1/flowgram/runs`. */
export const FlowRunBody = z
  .object({
    schema: SchemaField,
    inputs: Inputs.default({}),
    traceId: z.string().min(1).max(128).optional(),
  })
  .strict();
export type FlowRunBody = z.input<typeof FlowRunBody>;
