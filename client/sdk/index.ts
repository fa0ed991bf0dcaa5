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
export {
  type RunTool,
  SwitchboardClient,
  type SwitchboardClientOptions,
  type WaitForOptions,
} from './client.js';
export type { AckData, MonitorSocket, SocketTuning } from './connection.js';
export { type ClientErrorCode, SwitchboardError, type SwitchboardErrorCode } from './errors.js';
export { type FollowOptions, TaskStream } from './follow.js';
export { HttpApi, type HttpApiOptions } from './http.js';
