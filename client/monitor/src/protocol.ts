/**
 * The hub's contract as the monitor sees it: types only, so the zod schemas stay on the server and out of the
 * bundle. Values the page needs at run time come from the contract's zod-free modules (task-states.ts).
 */

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

export { isTerminal, TASK_KINDS, TASK_STATUSES } from '../../../server/protocol/task-states.js';
