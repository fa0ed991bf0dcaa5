export type {
  ExtensionInfo,
  SubmitCode,
  Task,
  TaskEvent,
  TaskListQuery,
  TaskPage,
  TaskStatus,
  TaskSummary,
  TerminalStatus,
} from '../../server/protocol/index.js';
export { isTerminal } from '../../server/protocol/index.js';
export type {
  PluginInfo,
  PluginTaskResult,
  ResourceInput,
} from '../../server/protocol/plugins.js';
export { type ClientErrorCode, SwitchboardError, type SwitchboardErrorCode } from '../core/errors.js';
export {
  type RunTool,
  SwitchboardClient,
  type SwitchboardClientOptions,
  type WaitForOptions,
} from './client.js';
export type { AckData, MonitorSocket, SocketTuning } from './connection.js';
export {
  type FlowNodeInfo,
  type FlowNodeProgress,
  type FlowNodeState,
  FlowProgress,
  type FlowStep,
  flowNodesOf,
} from './flow-progress.js';
export {
  FlowgramApi,
  type FlowInputs,
  type FlowReport,
  type FlowRunAnswer,
  type FlowSchema,
  type FlowValidation,
} from './flowgram.js';
export { type FollowOptions, TaskStream } from './follow.js';
export { type FlowUpdate, flowNodesOfTask } from './follow-flow.js';
export { HttpApi, type HttpApiOptions } from './http.js';
