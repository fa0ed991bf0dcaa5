import { z } from 'zod';
import { ErrorBody, Id, Label } from './common.js';

export const TaskKind = z.enum(['code', 'workflow', 'flowgram', 'plugin']);
export type TaskKind = z.infer<typeof TaskKind>;

export const TaskStatus = z.enum([
  'queued',
  'dispatched',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
]);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export function isTerminal(status: TaskStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** Where a code task may run: a given extension, any extension carrying a label, or (empty) any idle one. */
export const Target = z
  .object({
    extensionId: Id.optional(),
    label: Label.optional(),
  })
  .strict();
export type Target = z.infer<typeof Target>;

export const TaskError = ErrorBody.extend({ traceback: z.string().optional() });
export type TaskError = z.infer<typeof TaskError>;

/** Why a queued task has no extension yet (on its `log` events while it waits). */
export const WaitReason = z.enum(['no_extension', 'no_match', 'all_busy']);
export type WaitReason = z.infer<typeof WaitReason>;

/** A queued task's current reason for waiting, in codes and in words. */
export const TaskWaitingNow = z.object({ reason: WaitReason, message: z.string() });
export type TaskWaitingNow = z.infer<typeof TaskWaitingNow>;

export const Task = z.object({
  id: Id,
  kind: TaskKind,
  status: TaskStatus,
  target: Target,
  parentId: Id.nullable(),
  /** The parent's tool call this task runs for (a workflow's kit_execute or plugin tool call). */
  parentCallId: z.string().optional(),
  traceId: z.string(),
  /** Dispatch attempts made so far. */
  attempts: z.number().int(),
  /** Attempts allowed in all (1 + retries on extension loss). */
  maxAttempts: z.number().int(),
  timeoutMs: z.number().int(),
  /** Extension currently (or last) running the task. */
  extensionId: Id.nullable(),
  /** Input as stored: secrets redacted. For code tasks `{code}`. */
  input: z.record(z.string(), z.unknown()),
  result: z.unknown().nullable(),
  error: TaskError.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** Seq of the last event; a subscriber starting from here misses nothing. */
  lastSeq: z.number().int(),
  /** While queued with no extension to take it: why (the latest of its `waiting` log notes). */
  waiting: TaskWaitingNow.optional(),
});
export type Task = z.infer<typeof Task>;

/** A task in list views and the status feed: no input, no result. */
export const TaskSummary = Task.pick({
  id: true,
  kind: true,
  status: true,
  target: true,
  parentId: true,
  parentCallId: true,
  attempts: true,
  extensionId: true,
  createdAt: true,
  updatedAt: true,
  startedAt: true,
  endedAt: true,
  lastSeq: true,
  waiting: true,
}).extend({
  /** What ran, for list views: the workflow's name, or the plugin tool's. */
  name: z.string().optional(),
});
export type TaskSummary = z.infer<typeof TaskSummary>;

export const StatusReason = z.enum([
  'submitted',
  'dispatched',
  'started',
  'completed',
  'error',
  'cancelled',
  'timed_out',
  'extension_lost',
  'extension_rejected',
  'hub_restarted',
  'policy_denied',
]);
export type StatusReason = z.infer<typeof StatusReason>;

const Usage = z.object({
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
});

/** The loop (node id) and iteration (0-based) a FlowGram node ran in. */
const LoopIteration = z.object({ nodeId: z.string(), index: z.number().int().min(0) });

/** The closed union of event payloads, keyed by `type`. */
export const EventData = {
  status: z.object({
    status: TaskStatus,
    reason: StatusReason,
    message: z.string().optional(),
    extensionId: Id.optional(),
    attempt: z.number().int().optional(),
  }),
  output: z.object({ stream: z.enum(['stdout', 'stderr']), text: z.string() }),
  token: z.object({ text: z.string(), node: z.string().optional() }),
  tool_thinking: z.object({ text: z.string() }),
  tool_start: z.object({ callId: z.string(), name: z.string(), args: z.unknown() }),
  tool_result: z.object({
    callId: z.string(),
    name: z.string(),
    result: z.unknown(),
    isError: z.boolean(),
  }),
  node_start: z.object({
    node: z.string(),
    nodeType: z.string().optional(),
    /** FlowGram nodes: the node's title, resolved inputs, and the loop iteration it runs in. */
    title: z.string().optional(),
    inputs: z.record(z.string(), z.unknown()).optional(),
    loop: LoopIteration.optional(),
  }),
  node_end: z.object({
    node: z.string(),
    output: z.unknown().optional(),
    /** FlowGram nodes: how the node ended, its outputs, the port it took, its error. */
    nodeType: z.string().optional(),
    status: z.enum(['succeeded', 'failed', 'canceled']).optional(),
    outputs: z.record(z.string(), z.unknown()).optional(),
    /** Replaces the inputs given at node_start (e.g. an http node's resolved request). */
    inputs: z.record(z.string(), z.unknown()).optional(),
    branch: z.string().optional(),
    error: z.string().optional(),
    loop: LoopIteration.optional(),
  }),
  progress: z.object({
    message: z.string().optional(),
    fraction: z.number().min(0).max(1).optional(),
    /** 0-100, what plugin-service clients show; plugin tasks send both. */
    percent: z.number().min(0).max(100).optional(),
  }),
  log: z.object({
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: z.string(),
    /** Set on the note a queued task gets when (and each time) the reason it waits changes. */
    waiting: WaitReason.optional(),
  }),
  error: TaskError,
  done: z.object({
    result: z.unknown(),
    usage: Usage.optional(),
    finishReason: z.string().optional(),
  }),
} as const;
export type EventType = keyof typeof EventData;
export type EventDataOf<T extends EventType> = z.infer<(typeof EventData)[T]>;

const eventBase = { taskId: Id, seq: z.number().int().positive(), ts: z.string() };
function eventOf<T extends EventType>(type: T) {
  return z.object({ ...eventBase, type: z.literal(type), data: EventData[type] });
}

export const TaskEvent = z.discriminatedUnion('type', [
  eventOf('status'),
  eventOf('output'),
  eventOf('token'),
  eventOf('tool_thinking'),
  eventOf('tool_start'),
  eventOf('tool_result'),
  eventOf('node_start'),
  eventOf('node_end'),
  eventOf('progress'),
  eventOf('log'),
  eventOf('error'),
  eventOf('done'),
]);
export type TaskEvent = z.infer<typeof TaskEvent>;
export const EVENT_TYPES = Object.keys(EventData) as EventType[];

/** A submission of Python code. Timeout in milliseconds; `retries` = extra attempts on extension loss. */
export const SubmitCode = z
  .object({
    kind: z.literal('code').default('code'),
    code: z.string().min(1, 'code is empty'),
    target: Target.default({}),
    timeoutMs: z.number().int().positive().optional(),
    retries: z.number().int().min(0).max(10).optional(),
    traceId: z.string().min(1).max(128).optional(),
    parentId: Id.optional(),
  })
  .strict();
export type SubmitCode = z.input<typeof SubmitCode>;
export type SubmitCodeParsed = z.infer<typeof SubmitCode>;

export const TaskListQuery = z
  .object({
    status: TaskStatus.optional(),
    kind: TaskKind.optional(),
    extensionId: Id.optional(),
    parentId: Id.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    /** Opaque cursor from a previous page (`nextCursor`). */
    cursor: z.string().max(256).optional(),
  })
  .strict();
export type TaskListQuery = z.input<typeof TaskListQuery>;

export const TaskPage = z.object({ tasks: z.array(TaskSummary), nextCursor: z.string().nullable() });
export type TaskPage = z.infer<typeof TaskPage>;
