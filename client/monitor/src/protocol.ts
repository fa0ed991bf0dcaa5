/**
 * The hub's contract as the monitor sees it: types only, so the zod schemas stay on the server and out of the
 * bundle. Values the page needs at run time are restated here, typed against the contract so a rename there
 * breaks this build.
 */
import type { TaskKind, TaskStatus, TerminalStatus } from '../../../server/protocol/index.js';

export type {
  Ack,
  ErrorBody,
  ErrorCode,
  EventType,
  ExtensionInfo,
  HostLogEntry,
  MonitorClientToServer,
  MonitorServerToClient,
  Presence,
  RunGraph,
  RunGraphNode,
  StartWorkflow,
  SubmitCode,
  Task,
  TaskEvent,
  TaskKind,
  TaskListQuery,
  TaskPage,
  TaskStatus,
  TaskSummary,
  TaskWaiting,
  WorkflowInfo,
} from '../../../server/protocol/index.js';

export const TASK_STATUSES = [
  'queued',
  'dispatched',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
] as const satisfies readonly TaskStatus[];

export const TASK_KINDS = ['code', 'workflow', 'flowgram', 'plugin'] as const satisfies readonly TaskKind[];

const TERMINAL: ReadonlySet<TaskStatus> = new Set<TerminalStatus>([
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
]);

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.has(status);
}
