import { z } from 'zod';
import { ackOf, Empty, ErrorBody, Id } from './common.js';
import { ExtensionInfo, HostLogEntry } from './extension.js';
import { RunGraph, TaskWaiting } from './graph.js';
import { SubmitCode, Task, TaskEvent, TaskListQuery, TaskPage, TaskSummary } from './tasks.js';
import { StartWorkflow, WorkflowInfo } from './workflows.js';

export const TaskRef = z.object({ taskId: Id }).strict();

/** Subscribe to a task's room. Events with seq > `afterSeq` are replayed, then live ones follow. */
export const Subscribe = z.object({ taskId: Id, afterSeq: z.number().int().min(0).default(0) }).strict();
export type Subscribe = z.input<typeof Subscribe>;

export const Presence = z.object({ extension: ExtensionInfo, online: z.boolean() });
export type Presence = z.infer<typeof Presence>;

/** Follow an extension's host log: lines with seq > `afterSeq` still kept come in the ack, then live ones. */
export const ExtensionLogsSubscribe = z
  .object({ extensionId: Id, afterSeq: z.number().int().min(0).default(0) })
  .strict();
export const ExtensionLogsRef = z.object({ extensionId: Id }).strict();
/** An extension's kept host log: the lines, and how many older ones the bounded buffer no longer holds. */
export const ExtensionLogs = z.object({
  extensionId: Id,
  lines: z.array(HostLogEntry),
  dropped: z.number().int(),
});
export type ExtensionLogs = z.infer<typeof ExtensionLogs>;

export const Hello = z.object({ role: z.string(), hubVersion: z.string() });

/** Socket.IO namespace `/monitor`: events the client sends, with their ack schemas. */
export const MonitorClientEvents = {
  'task:submit': { payload: SubmitCode, ack: ackOf(Task) },
  'task:get': { payload: TaskRef, ack: ackOf(Task) },
  'task:list': { payload: TaskListQuery, ack: ackOf(TaskPage) },
  'task:cancel': { payload: TaskRef, ack: ackOf(Task) },
  'task:subscribe': { payload: Subscribe, ack: ackOf(Task) },
  'task:unsubscribe': { payload: TaskRef, ack: ackOf(Empty) },
  /** A workflow or FlowGram task's graph (nodes and edges); colour it from the task's node events. */
  'task:graph': { payload: TaskRef, ack: ackOf(RunGraph) },
  'feed:subscribe': { payload: Empty, ack: ackOf(z.object({ extensions: z.array(ExtensionInfo) })) },
  'feed:unsubscribe': { payload: Empty, ack: ackOf(Empty) },
  'extensions:list': { payload: Empty, ack: ackOf(z.array(ExtensionInfo)) },
  /** Registered workflows with their input schemas. */
  'workflows:list': { payload: Empty, ack: ackOf(z.array(WorkflowInfo)) },
  /** Starts a workflow task; follow it with `task:subscribe`. */
  'workflow:start': { payload: StartWorkflow, ack: ackOf(Task) },
  /** Follow an extension's host log (Kit's log, when its bridge forwards it); live lines come as `extension:log`. */
  'extension:logs:subscribe': { payload: ExtensionLogsSubscribe, ack: ackOf(ExtensionLogs) },
  'extension:logs:unsubscribe': { payload: ExtensionLogsRef, ack: ackOf(Empty) },
} as const;

/** Socket.IO namespace `/monitor`: events the hub sends. */
export const MonitorServerEvents = {
  /** One event of a subscribed task, in seq order. */
  'task:event': { payload: TaskEvent },
  /** Status feed for list views (after feed:subscribe). */
  'task:summary': { payload: TaskSummary },
  /** Why a queued task waits, each time the reason changes (after feed:subscribe). */
  'task:waiting': { payload: TaskWaiting },
  /** An extension came online, changed, or went offline (after feed:subscribe). */
  'extension:presence': { payload: Presence },
  /** One line of a followed extension's host log (after extension:logs:subscribe). */
  'extension:log': { payload: HostLogEntry },
  /** The hub is dropping this client (e.g. it reads too slowly); resume by seq after reconnecting. */
  'hub:error': { payload: ErrorBody },
} as const;
